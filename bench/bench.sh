#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The benchmarks, run inside the test VM by bench/run.sh (`make bench`)
# with portredir.ko loaded. Everything is measured side by side in this one
# boot, and every figure is the median and min-max of BENCH_REPEAT (5)
# repetitions; rates are also given over the median no-module rate of the
# boot, since absolute figures under QEMU's software emulation on a shared machine
# mean little. The results are printed as markdown, each line after "md:",
# and the points of the plot after "plot:", for run.sh to collect.
#
#   new connections/s   local (127.0.0.1) and inbound (from a client
#                       namespace over a veth), for: no module; the module
#                       idle; a namespace whose last rule was deleted; each
#                       backend at every count of COUNTS; nftables anchors
#                       written by hand (one redirect rule, a map of every
#                       TCP port, linear chains); steering. Each
#                       configuration has a namespace of its own, and one
#                       netbench process takes them in turn, a few
#                       connections each, so that a slow spell of the
#                       machine falls on all alike; a repetition is one such
#                       run. "No module" opens each repetition with a run
#                       between rmmod and insmod, along with every
#                       configuration that does not use the module; the
#                       module's tables are then made again.
#   throughput          one established connection through a redirect
#                       against none, local and inbound
#   table loads         `restore` of each count of LOADS per backend, and
#                       `nft -f` of the same nftables table, each in a fresh
#                       namespace
#   one change          `add` and `del` at an empty and at a full table, and
#                       `list` of the full table, per backend
#   kernel memory       slab and vmalloc growth for the module's rules, per
#                       rule and per port of a range
#   namespaces          NAMESPACES namespaces with 10 rules each: the time to
#                       make one and to load its rules, and the kernel memory
#
# BENCH_QUICK=1 runs fewer counts, repetitions and connections (under 5
# minutes with the boot).

set -eu
cd "$(dirname "$0")"
PORTREDIR=$(realpath ../tools/portredir)
export PORTREDIR
NB=$(realpath ./netbench)
KO=${PORTREDIR_KO:?bench.sh runs in the VM, which sets PORTREDIR_KO}

if [[ ${BENCH_QUICK:-0} == 1 ]]; then
	COUNTS=(1 10000) LOADS=(1000 10000) CHAINS=(1000)
	REPEAT=${BENCH_REPEAT:-3} BLOCK=25 TURNS=6
	NAMESPACES=${BENCH_NAMESPACES:-100} MIB=8 MIB_TURNS=3
else
	COUNTS=(1 1000 10000 65535 131070) LOADS=(1000 10000 65535 131070)
	CHAINS=(1000 10000)
	REPEAT=${BENCH_REPEAT:-5} BLOCK=50 TURNS=16
	NAMESPACES=${BENCH_NAMESPACES:-1000} MIB=16 MIB_TURNS=8
fi
FULL=${COUNTS[-1]}
P=pb$$
work=$(mktemp -d)
cleanup() {
	local ns
	for ns in $(ip netns list | grep -o "^${P}[^ ]*"); do ip netns del "$ns"; done
	rm -rf "$work"
}
trap 'note "cleaning up"; cleanup; note "cleaned up"' EXIT

md() { printf 'md:%s\n' "$*"; }
note() { echo "bench: ${SECONDS}s: $*" >&2; }

# rules N [SUFFIX]: N rules, 80 -> 8080 and then every other TCP port and
# every UDP port onto itself, as many as N takes.
rules() {
	awk -v n="$1" -v s="${2:-}" 'BEGIN {
		print "tcp 80 to 8080" s
		for (k = 1; k < n && k < 65535; k++)
			print "tcp " (k < 80 ? k : k + 1) " to " (k < 80 ? k : k + 1) s
		for (p = 1; k < n && p <= 65535; p++) {
			print "udp " p " to " p s
			k++
		} }'
}

# rule_file N: the path of the file of `rules N`, written the first time.
rule_file() {
	[[ -e $work/r$1 ]] || rules "$1" >"$work/r$1"
	echo "$work/r$1"
}

# The nftables anchors, in a table of their own: the same redirect in
# prerouting and output. CHAIN N is N rules of one port each, 80 last, so
# that every connection to 80 walks them all; MAP is one rule and a map of
# every TCP port.
anchor() {
	local body
	case $1 in
	redirect) body='tcp dport 80 redirect to :8080' ;;
	map) body=$(awk 'BEGIN { printf "meta l4proto tcp redirect to :tcp dport map { "
		for (p = 1; p <= 65535; p++) printf "%s%d : %d", (p > 1 ? ", " : ""), p, (p == 80 ? 8080 : p)
		print " }" }') ;;
	chain) body=$(awk -v n="$2" 'BEGIN { for (p = 1; p < n; p++) print "tcp dport " (p + 10000) " redirect to :" (p + 10000)
		print "tcp dport 80 redirect to :8080" }') ;;
	esac
	printf 'table ip anchor {\n'
	printf 'chain %s {\ntype nat hook %s priority -100; policy accept;\n%s\n}\n' \
		pre prerouting "$body" out output "$body"
	printf '}\n'
}

# --- configurations of the rate and throughput runs ------------------------
# NAME|LABEL|SERIES|RULES|SETUP: SETUP is the command that makes the
# namespace's table (run inside it); SERIES and RULES place it in the plot.
configs=("nomod|no module|none|0|"
	"idle|module loaded, no rule in this namespace|none|0|"
	"emptied|module, last rule deleted (hooks and conntrack kept)|none|0|kmod_emptied")
for n in "${COUNTS[@]}"; do
	configs+=("kmod$n|kmod backend, $n rules|kmod backend|$n|$PORTREDIR -b kmod restore $(rule_file "$n")")
done
for n in "${COUNTS[@]}"; do
	configs+=("nft$n|nft backend, $n rules|nft backend|$n|$PORTREDIR -b nft restore $work/r$n")
done
anchor redirect >"$work/a.redirect"
anchor map >"$work/a.map"
configs+=("aredirect|nftables anchor: one redirect rule|nftables anchor: chain|1|nft -f $work/a.redirect"
	"amap|nftables anchor: map of 65535 ports|nftables anchor: map|65535|nft -f $work/a.map")
for n in "${CHAINS[@]}"; do
	anchor chain "$n" >"$work/a.chain$n"
	configs+=("achain$n|nftables anchor: linear chain of $n rules|nftables anchor: chain|$n|nft -f $work/a.chain$n")
done
rules 1 " --steer" >"$work/s1"
rules 65535 " --steer" >"$work/s65535"
configs+=("steer1|kmod --steer, 1 rule|kmod --steer|1|$PORTREDIR -b kmod restore $work/s1"
	"steer65535|kmod --steer, 65535 TCP rules|kmod --steer|65535|$PORTREDIR -b kmod restore $work/s65535")

# field ENTRY K: the Kth field of a configuration, empty ones kept.
field() { local f; IFS='|' read -ra f <<<"$1|"; echo "${f[$2]:-}"; }

# uses_module ENTRY: whether the configuration's table is the module's.
uses_module() {
	local setup
	setup=$(field "$1" 4)
	[[ $setup == *"-b kmod"* || $setup == kmod_* ]]
}

# set_up NAME SETUP...: the namespace's table, again after an insmod.
set_up() {
	local name=$1
	shift
	if [[ ${1:-} == kmod_emptied ]]; then
		# shellcheck disable=SC2016 # expanded by the inner shell
		set -- bash -c '"$PORTREDIR" -b kmod add 80 8080 && "$PORTREDIR" -b kmod del 80'
	fi
	(($# == 0)) || ip netns exec "$P-$name" "$@" >/dev/null 2>&1 ||
		note "$name: $* failed"
}

make_config_namespaces() {
	local i name
	ip netns add "$P-cli"
	ip -n "$P-cli" link set lo up
	for i in "${!configs[@]}"; do
		name=$(field "${configs[i]}" 0)
		ip netns add "$P-$name"
		ip -n "$P-$name" link set lo up
		ip link add "c$i" netns "$P-cli" type veth peer name "s$i" netns "$P-$name"
		ip -n "$P-cli" addr add "10.99.$i.1/24" dev "c$i"
		ip -n "$P-$name" addr add "10.99.$i.2/24" dev "s$i"
		ip -n "$P-cli" link set "c$i" up
		ip -n "$P-$name" link set "s$i" up
		# shellcheck disable=SC2046 # the setup is words
		set_up "$name" $(field "${configs[i]}" 4)
	done
	# Let the veths leave DAD and settle.
	sleep 2
}

reload_module() {
	local entry name setup
	insmod "$KO"
	for entry in "${configs[@]}"; do
		name=$(field "$entry" 0) setup=$(field "$entry" 4)
		# shellcheck disable=SC2086 # the setup is words
		! uses_module "$entry" || set_up "$name" $setup
	done
}

# entries IDS...: netbench's entries for the configurations, local and
# inbound; where no rule is, the client connects to the listener's port.
entries() {
	local i name port
	for i in "$@"; do
		name=$(field "${configs[i]}" 0) port=80
		[[ $(field "${configs[i]}" 2) != none ]] || port=8080
		echo "$name.l,/run/netns/$P-$name,-,127.0.0.1,$port,8080"
		echo "$name.i,/run/netns/$P-$name,/run/netns/$P-cli,10.99.$i.2,$port,8080"
	done
}

# phase TOOL AMOUNT TURNS OUT IDS...: one netbench run over the given
# configurations, TURNS turns of AMOUNT each; appends "local inbound" to
# OUT.NAME for each.
phase() {
	local tool=$1 amount=$2 turns=$3 out=$4 i name
	shift 4
	local -a list
	mapfile -t list < <(entries "$@")
	"$NB" "$tool" "$amount" "$turns" "${list[@]}" >"$work/phase" || note "netbench $tool failed"
	for i in "$@"; do
		name=$(field "${configs[i]}" 0)
		awk -v n="$name" '$1 == n ".l" { l = $2 } $1 == n ".i" { i = $2 }
			END { print l + 0, i + 0 }' "$work/phase" >>"$out.$name"
	done
}

# rounds TOOL AMOUNT TURNS IDS...: REPEAT repetitions, each one netbench
# run in which the configurations take turns, after one short unrecorded
# run; the rates of NAME go to $work/TOOL.NAME, "local inbound" a line per
# repetition. "No module", when among them, opens each repetition with a
# run of its own between rmmod and insmod, and the module's tables are made
# again after it. That run takes in turn, as the others do, every
# configuration the module plays no part in (the nft backend, the anchors,
# and "idle", which without the module is another namespace with no rule),
# so that it serves about as many sockets and namespaces. (With no module
# alone in its run, "idle" came out at 0.955 of it, 0.77-1.05 round by
# round, in a full run.) It takes half the turns: the whole run must fit in
# 20 minutes.
rounds() {
	local tool=$1 amount=$2 turns=$3 rep idx nomod=""
	shift 3
	local -a ids=() alike=()
	for idx in "$@"; do
		if [[ $(field "${configs[idx]}" 0) == nomod ]]; then nomod=$idx; else ids+=("$idx"); fi
		uses_module "${configs[idx]}" || [[ $idx == "$nomod" ]] || alike+=("$idx")
	done
	phase "$tool" "$amount" 2 "$work/warm" "${ids[@]}"
	for ((rep = 0; rep < REPEAT; rep++)); do
		if [[ -n $nomod ]]; then
			rmmod portredir
			phase "$tool" "$amount" 2 "$work/warm" "$nomod" "${alike[@]}"
			phase "$tool" "$amount" "$((turns / 2))" "$work/out" "$nomod" "${alike[@]}"
			cat "$work/out.nomod" >>"$work/$tool.nomod"
			rm -f "$work"/out.*
			reload_module
		fi
		phase "$tool" "$amount" "$turns" "$work/$tool" "${ids[@]}"
	done
}

# summary: "median min max" of the numbers on standard input.
summary() {
	sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)], v[1], v[NR] }'
}

# stats FILE COL: "median min max" of column COL.
stats() { awk -v c="$2" '{ print $c }' "$1" | summary; }

# relative A B COL: the median, min and max of A's column COL, each over
# the median of B's.
relative() {
	local am alo ahi bm
	read -r am alo ahi < <(stats "$1" "$3")
	read -r bm _ < <(stats "$2" "$3")
	awk -v m="$am" -v lo="$alo" -v hi="$ahi" -v b="$bm" 'BEGIN {
		if (b <= 0) b = 1e-9
		printf "%.3f %.3f %.3f\n", m / b, lo / b, hi / b }'
}

# paired A B COL: "median min max" of A over B, round by round.
paired() {
	paste -d' ' "$1" "$2" | awk -v c="$3" '{ h = NF / 2; print ($(h + c) > 0 ? $c / $(h + c) : 0) }' |
		summary
}

# cell FILE BASE COL: "rate | ratio | min-max" of FILE against BASE.
cell() {
	local m lo hi r
	read -r m lo hi < <(relative "$1" "$2" "$3")
	read -r r _ < <(stats "$1" "$3")
	printf '%.0f | %.2f | %.2f-%.2f' "$r" "$m" "$lo" "$hi"
}

rate_table() {
	local entry name series n base=$work/connect.nomod d
	md "### New TCP connections per second"
	md
	md "$((BLOCK * TURNS)) connections per configuration and direction in each of $REPEAT repetitions, $BLOCK at a time in turn with all other configurations (no module: half as many, in a run of its own, the module out, with the configurations that do not use it). The median rate, and the median, min and max over the median with no module."
	md
	md "| configuration | local conn/s | ratio | min-max | inbound conn/s | ratio | min-max |"
	md "|---|---:|---:|---:|---:|---:|---:|"
	for entry in "${configs[@]}"; do
		IFS='|' read -r name label series n _ <<<"$entry"
		md "| $label | $(cell "$work/connect.$name" "$base" 1) | $(cell "$work/connect.$name" "$base" 2) |"
		[[ $series == none ]] && continue
		for d in 1 2; do
			echo "plot:$d|$series|$n|$(relative "$work/connect.$name" "$base" $d)"
		done
	done
}

throughput_table() {
	local name base=$work/stream.idle
	md
	md "### Throughput of one established connection"
	md
	md "$((MIB * MIB_TURNS)) MiB per configuration and direction in each of $REPEAT repetitions, $MIB MiB at a time in turn. The median MB/s, and the median, min and max over the median with no rule."
	md
	md "| configuration | local MB/s | ratio | min-max | inbound MB/s | ratio | min-max |"
	md "|---|---:|---:|---:|---:|---:|---:|"
	for name in idle kmod1 nft1 steer1; do
		md "| $(label_of "$name") | $(cell "$work/stream.$name" "$base" 1) | $(cell "$work/stream.$name" "$base" 2) |"
	done
}

label_of() { field "${configs[$(index_of "$1")]}" 1; }

index_of() {
	local i
	for i in "${!configs[@]}"; do
		[[ $(field "${configs[i]}" 0) != "$1" ]] || { echo "$i"; return; }
	done
}

# --- control plane -----------------------------------------------------------
fresh_ns() {
	ip netns del "$P-x" 2>/dev/null || true
	ip netns add "$P-x"
	ip -n "$P-x" link set lo up
}

# ms CMD...: CMD once in $P-x, in ms, timed from a shell inside it, so that
# no `ip netns exec` is counted; 0 when it fails.
ms() {
	# shellcheck disable=SC2016 # expanded by the inner shell
	ip netns exec "$P-x" bash -c '
		start=${EPOCHREALTIME/[.,]/}
		if "$@" >/dev/null 2>&1; then
			echo $(((${EPOCHREALTIME/[.,]/} - start) / 1000))
		else
			echo "bench: $* failed" >&2; echo 0
		fi' ms "$@"
}

# spread FILE [DIV]: "median min max" of FILE's numbers divided by DIV.
spread() { awk -v d="${2:-1}" '{ print $1 / d }' "$1" | summary; }

fmt() { awk -v m="$1" -v lo="$2" -v hi="$3" -v f="$4" 'BEGIN { printf f " (" f "-" f ")", m, lo, hi }'; }

loads() {
	local n k r f
	for n in "${LOADS[@]}"; do
		f=$(rule_file "$n")
		fresh_ns
		ip netns exec "$P-x" "$PORTREDIR" -b nft restore "$f"
		ip netns exec "$P-x" nft list table inet portredir >"$f.nft"
		: >"$work/load.kmod.$n" && : >"$work/load.nft.$n" && : >"$work/load.nftf.$n"
		for ((r = 0; r < REPEAT; r++)); do
			for ((k = 0; k < 3; k++)); do
				fresh_ns
				case $(((r + k) % 3)) in
				0) ms "$PORTREDIR" -b kmod restore "$f" >>"$work/load.kmod.$n" ;;
				1) ms "$PORTREDIR" -b nft restore "$f" >>"$work/load.nft.$n" ;;
				2) ms nft -f "$f.nft" >>"$work/load.nftf.$n" ;;
				esac
			done
		done
	done
}

load_table() {
	local n k m lo hi
	md
	md "### Loading a whole table"
	md
	md "Seconds, median (min-max) of $REPEAT, each in a fresh namespace; \`nft -f\` loads the nft backend's table as \`nft list\` prints it."
	md
	md "| rules | kmod: restore | nft backend: restore | nft -f | nft -f / kmod | nft backend / kmod |"
	md "|---:|---:|---:|---:|---:|---:|"
	for n in "${LOADS[@]}"; do
		local row="| $n"
		for k in kmod nft nftf; do
			read -r m lo hi < <(spread "$work/load.$k.$n" 1000)
			row+=" | $(fmt "$m" "$lo" "$hi" %.2f)"
		done
		row+=" | $(load_ratio nftf "$n") | $(load_ratio nft "$n") |"
		md "$row"
	done
}

# load_ratio WHAT N: WHAT over the median of kmod.
load_ratio() {
	local m lo hi
	read -r m lo hi < <(relative "$work/load.$1.$2" "$work/load.kmod.$2" 1)
	fmt "$m" "$lo" "$hi" %.1f
}

# repeat_ms UNDO CMD...: REPEAT runs of CMD in $P-x, undoing with UNDO
# (CLI words) after each.
repeat_ms() {
	local undo=$1 r
	shift
	for ((r = 0; r < REPEAT; r++)); do
		ms "$@"
		# shellcheck disable=SC2086 # CLI words
		[[ -z $undo ]] || ip netns exec "$P-x" "$PORTREDIR" $undo >/dev/null 2>&1
	done >"$work/repeat"
	local m lo hi
	read -r m lo hi < <(spread "$work/repeat")
	fmt "$m" "$lo" "$hi" %.0f
}

changes() {
	local b row
	md
	md "### One change, and listing"
	md
	md "Milliseconds for the whole command, median (min-max) of $REPEAT; at $FULL rules for \"full\"."
	md
	fresh_ns
	md "| backend | add, empty | del, empty | add, full | del, full | list, full |"
	md "|---|---:|---:|---:|---:|---:|"
	md "| the CLI doing nothing (\`--version\`) | $(repeat_ms "" "$PORTREDIR" --version) | | | | |"
	for b in kmod nft; do
		fresh_ns
		row="| $b | $(repeat_ms "-b $b del 5000" "$PORTREDIR" -b $b add 5000 6000)"
		ip netns exec "$P-x" "$PORTREDIR" -b $b add 5000 6000
		row+=" | $(repeat_ms "-b $b add 5000 6000" "$PORTREDIR" -b $b del 5000)"
		ip netns exec "$P-x" "$PORTREDIR" -b $b restore "$work/r$FULL"
		# The full table holds port 5000 (tcp 5000 to 5000): del makes room.
		ip netns exec "$P-x" "$PORTREDIR" -b $b del 5000
		row+=" | $(repeat_ms "-b $b del 5000" "$PORTREDIR" -b $b add 5000 5000)"
		ip netns exec "$P-x" "$PORTREDIR" -b $b add 5000 5000
		row+=" | $(repeat_ms "-b $b add 5000 5000" "$PORTREDIR" -b $b del 5000)"
		row+=" | $(repeat_ms "" "$PORTREDIR" -b $b -n list) |"
		md "$row"
	done
}

# --- memory ----------------------------------------------------------------
# kernel_kb: slab plus vmalloc in use, in kB, once the figure settles.
kernel_kb() {
	local last=-1 now
	for _ in $(seq 20); do
		now=$(awk '/^(Slab|VmallocUsed):/ { kb += $2 } END { print kb }' /proc/meminfo)
		((now - last < 64 && last - now < 64)) && break
		last=$now
		sleep 0.5
	done
	echo "$now"
}

settled_kb() { sync; echo 3 >/proc/sys/vm/drop_caches; kernel_kb; }

slab_objects() { awk 'NR > 2 { print $1, $2, $4 }' /proc/slabinfo | sort >"$1"; }

# grown BEFORE AFTER COUNT UNIT: the three caches whose bytes grew most,
# with their new objects per UNIT (at least 0.01). SLUB merges caches of
# the same object size and flags, and names a merged group after one of
# them: boot with slab_nomerge (run.sh does) to see each under its own name.
grown() {
	join "$1" "$2" | awk -v n="$3" '{ d = ($4 - $2) * $5 } d > 0 && $4 - $2 >= n / 100 {
		printf "%d %s %.2f\n", d, $1, ($4 - $2) / n }' | sort -rn | head -n 3 |
		awk -v unit="$4" '{ printf "%s%s %s/%s", (NR > 1 ? ", " : ""), $2, $3, unit }'
}

# memory_row NAME LABEL UNIT COUNT ARGS...: the CLI with ARGS in a new
# namespace, kept to the end so that no free overlaps a measurement, after
# a first rule there has brought in the hooks and conntrack.
memory_row() {
	local ns=$P-$1 label=$2 unit=$3 count=$4 before after kb
	shift 4
	ip netns add "$ns"
	ip netns exec "$ns" "$PORTREDIR" -b kmod add udp 1 1 >/dev/null 2>&1
	slab_objects "$work/slab.before"
	before=$(settled_kb)
	ip netns exec "$ns" "$PORTREDIR" -b kmod "$@" >/dev/null 2>&1 ||
		{ md "| $label | failed: $* | | |"; return; }
	after=$(kernel_kb)
	slab_objects "$work/slab.after"
	kb=$((after - before))
	md "| $label | $kb kB | $(awk -v kb=$kb -v n="$count" 'BEGIN { printf "%.1f B", kb * 1024 / n }') | $(grown "$work/slab.before" "$work/slab.after" "$count" "$unit") |"
}

memory_table() {
	md
	md "### Kernel memory of the module's rules"
	md
	md "Slab plus vmalloc growth (/proc/meminfo), and the caches that grew most (/proc/slabinfo)."
	md
	md "| what | total | each | caches grown most |"
	md "|---|---:|---:|---|"
	memory_row mrules "131070 single-port rules, per rule" rule 131070 restore "$(rule_file 131070)"
	memory_row mrange "one rule 1-65535, per port" port 65535 add 1-65535 1 -4 --local
}

# --- many namespaces -----------------------------------------------------------
# ns_step WORKER STEP: every second namespace from WORKER on, made (`ip netns
# add`) or given its 10 rules (`portredir restore` under nsenter, as a
# container runtime enters a namespace), each timed in us into $work/ns.STEP.
ns_step() {
	local i t0 ns
	for ((i = $1; i < NAMESPACES; i += 2)); do
		ns=$P-n$i t0=${EPOCHREALTIME/[.,]/}
		if [[ $2 == add ]]; then
			ip netns add "$ns"
		else
			nsenter --net="/run/netns/$ns" "$PORTREDIR" -b kmod restore "$work/ten" ||
				note "restore in $ns failed"
		fi
		echo $((${EPOCHREALTIME/[.,]/} - t0)) >>"$work/ns.$2.$1"
	done
}

# ns_all STEP: the step for every namespace, two at a time (the VM has two
# CPUs, as container hosts start many at once); prints the wall seconds.
ns_all() {
	local t0=$SECONDS
	ns_step 0 "$1" &
	ns_step 1 "$1"
	wait
	cat "$work/ns.$1".[01] >"$work/ns.$1"
	echo $((SECONDS - t0))
}

# Memory is read before, after the namespaces and after the rules.
namespaces_table() {
	local base made ruled add_s rules_s m lo hi p
	for p in $(seq 2001 2010); do echo "tcp $p to $((p + 1000))"; done >"$work/ten"
	base=$(settled_kb)
	add_s=$(ns_all add)
	made=$(settled_kb)
	rules_s=$(ns_all rules)
	ruled=$(settled_kb)
	md
	md "### $NAMESPACES namespaces with 10 rules each"
	md
	md "Made two at a time: milliseconds per namespace, median (min-max) over the $NAMESPACES; the wall time for all; kernel memory (slab plus vmalloc) per namespace."
	md
	md "| step | ms per namespace | seconds for all | kernel memory per namespace |"
	md "|---|---:|---:|---:|"
	read -r m lo hi < <(spread "$work/ns.add" 1000)
	md "| \`ip netns add\` | $(fmt "$m" "$lo" "$hi" %.0f) | $add_s | $(((made - base) / NAMESPACES)) kB |"
	read -r m lo hi < <(spread "$work/ns.rules" 1000)
	md "| \`portredir restore\` of 10 rules (hooks, conntrack, rules) | $(fmt "$m" "$lo" "$hi" %.0f) | $rules_s | $(((ruled - made) / NAMESPACES)) kB |"
	for ((p = 0; p < NAMESPACES; p++)); do ip netns del "$P-n$p"; done
}

# --- goals -----------------------------------------------------------------
# goal TEXT A B COL MIN: "met" when A's median over B's is at least MIN,
# with the range of A over B round by round.
goal() {
	local m lo hi
	read -r m _ < <(relative "$2" "$3" "$4")
	read -r _ lo hi < <(paired "$2" "$3" "$4")
	md "- $1: $(awk -v m="$m" -v lo="$lo" -v hi="$hi" -v g="$5" 'BEGIN {
		printf "%s, %.3f (round by round %.3f-%.3f)", (m >= g ? "met" : "missed"), m, lo, hi }')"
}

goals() {
	local d dir n c=$work/connect
	md
	md "### Goals"
	md
	for d in 1 2; do
		dir=$([[ $d == 1 ]] && echo local || echo inbound)
		goal "$dir: module idle / no module at least 0.97" "$c.idle" "$c.nomod" $d 0.97
		goal "$dir: kmod at $FULL rules / at 1 rule at least 0.97" "$c.kmod$FULL" "$c.kmod1" $d 0.97
		for n in "${COUNTS[@]}"; do
			goal "$dir: kmod / nft backend at $n rules at least 1" "$c.kmod$n" "$c.nft$n" $d 1
		done
	done
	n=${LOADS[-1]}
	goal "loading $n rules: \`nft -f\` / kmod \`restore\` at least 5" \
		"$work/load.nftf.$n" "$work/load.kmod.$n" 1 5
}

# --- run ---------------------------------------------------------------------
md "## portredir bench, kernel $(uname -r), $(date -u +%Y-%m-%d)"
md
md "QEMU software emulation; $REPEAT repetitions of each figure."
note "kernel memory"
memory_table
note "namespaces"
namespaces_table
note "setting up ${#configs[@]} configurations"
make_config_namespaces
note "connection rates"
rounds connect "$BLOCK" "$TURNS" "${!configs[@]}"
rate_table
note "throughput"
rounds stream "$MIB" "$MIB_TURNS" "$(index_of idle)" "$(index_of kmod1)" "$(index_of nft1)" "$(index_of steer1)"
throughput_table
note "table loads"
loads
load_table
note "changes"
changes
goals
note "done"
