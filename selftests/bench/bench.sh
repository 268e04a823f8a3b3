#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Benchmarks, run by `make bench` inside the test VM with portredir.ko
# loaded. Every configuration runs in a fresh network namespace in the same
# boot, one after another, and is reported as a ratio to the first one, since
# absolute figures under QEMU's software emulation on a shared machine mean
# little.
#
#   new connections/s   through no redirect, one rule, and a full table
#                       (every TCP and UDP port: 131070 rules), per backend,
#                       and steering (--steer) at one rule and at every TCP
#                       port; each configuration keeps a namespace of its own
#                       and they are measured in turn, $BENCH_REPEAT rounds,
#                       each rate a ratio to the round's no-redirect rate:
#                       median and min-max of those ratios
#   full table load     `portredir restore` of those 131070 rules, per backend
#   one change          `add` and `del` of one rule at an empty and at a full
#                       table, per backend (milliseconds, whole command)
#   full TCP map load   `portredir restore` of 65535 TCP rules on the module
#                       against `nft -f` of the same 65535-element map (the
#                       nft backend's table as `nft list` prints it), run in
#                       turn $BENCH_REPEAT times: median, min-max, ratio
#   kernel memory       slab and vmalloc growth (/proc/meminfo, and the
#                       caches that grew most from /proc/slabinfo) for the
#                       full table on the module, per rule, and for one
#                       1-65535 rule, per port

set -eu
cd "$(dirname "$0")"
export PORTREDIR=$(realpath ../../tools/portredir)
RATE=$(realpath ./connect_rate)
COUNT=${BENCH_CONNECTIONS:-3000}
REPEAT=${BENCH_REPEAT:-5}
NS=prbench-$$
work=$(mktemp -d)
trap 'for ns in $(ip netns list | grep -o "^$NS[^ ]*"); do ip netns del $ns; done; rm -rf "$work"' EXIT

# Every TCP and UDP port, each onto itself but 80, which goes to 8080.
for p in $(seq 1 65535); do
	if ((p == 80)); then echo "tcp 80 to 8080"; else echo "tcp $p to $p"; fi
	echo "udp $p to $p"
done > "$work/full.rules"
grep '^tcp' "$work/full.rules" > "$work/tcp.rules"
grep '^tcp' "$work/full.rules" | sed 's/$/ --steer/' > "$work/steer.rules"

fresh_ns() {
	ip netns del $NS 2>/dev/null || true
	ip netns add $NS
	ip -n $NS link set lo up
}

in_ns() { ip netns exec $NS "$@"; }

seconds() {
	local start end
	start=$(date +%s.%N)
	"$@" >/dev/null 2>&1
	end=$(date +%s.%N)
	awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }'
}

# median_ms UNDO CMD...: median of 5 runs of CMD in the namespace, in ms,
# timed from a shell inside it, so that no `ip netns exec` is counted;
# UNDO (words for the CLI, or nothing) runs after each.
median_ms() {
	local undo=$1
	shift
	# shellcheck disable=SC2016 # expanded by the inner shell
	in_ns bash -c '
		undo=$1
		shift
		for i in 1 2 3 4 5; do
			start=${EPOCHREALTIME/[.,]/}
			"$@" >/dev/null 2>&1
			echo $((${EPOCHREALTIME/[.,]/} - start))
			[[ -z $undo ]] || "$PORTREDIR" $undo >/dev/null 2>&1
		done' median "$undo" "$@" | sort -n | awk 'NR == 3 { printf "%.0f", $1 / 1000 }'
}

# change_ms BACKEND VERB ARGS...: one add or del, undone before the next.
change_ms() {
	local backend=$1 verb=$2 undo
	shift 2
	if [[ $verb == add ]]; then undo="-b $backend del $1"; else undo="-b $backend add $1 to $1"; fi
	median_ms "$undo" "$PORTREDIR" -b "$backend" "$verb" "$@"
}

lines_of() { wc -l <"$1"; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# load_ms CMD...: CMD once in a fresh namespace, in ms, timed from a shell
# inside it.
load_ms() {
	fresh_ns
	# shellcheck disable=SC2016 # expanded by the inner shell
	in_ns bash -c '
		start=${EPOCHREALTIME/[.,]/}
		if "$@" >/dev/null 2>&1; then
			echo $(((${EPOCHREALTIME/[.,]/} - start) / 1000))
		else
			echo "bench: $* failed" >&2
		fi' load "$@"
}

# spread FILE: "median min-max" of the numbers in FILE, ms in, seconds out.
spread() {
	sort -n "$1" | awk '{ v[NR] = $1 / 1000 }
		END { printf "%.2f %.2f-%.2f\n", v[int((NR + 1) / 2)], v[1], v[NR] }'
}

# kernel_kb: slab plus vmalloc in use, in kB, once the figure settles (an
# rhashtable grows in a worker after the inserts that filled it).
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

# slab_objects FILE: "cache active_objects object_size" per cache.
slab_objects() { awk 'NR > 2 { print $1, $2, $4 }' /proc/slabinfo | sort >"$1"; }

# grown BEFORE AFTER COUNT UNIT: the three caches whose bytes grew most,
# with their new objects per UNIT (at least 0.01). SLUB merges caches of
# the same object size and flags, and /proc/slabinfo names a merged group
# after one of them (the module's rules may show as pde_opener): boot with
# slab_nomerge (VM_APPEND) to see each under its own name.
grown() {
	join "$1" "$2" | awk -v n="$3" '{ d = ($4 - $2) * $5 } d > 0 && $4 - $2 >= n / 100 {
		printf "%d %s %.2f\n", d, $1, ($4 - $2) / n }' | sort -rn | head -n 3 |
		awk -v unit="$4" '{ printf "%s%s %s/%s", (NR > 1 ? ", " : ""), $2, $3, unit }'
}

# memory_delta NAME LABEL UNIT COUNT ARGS...: the CLI with ARGS in a new
# namespace $NS-NAME, kept until the end so that no free overlaps a
# measurement; prints the kernel memory it left, in all and per UNIT
# (COUNT of them), with the caches that grew most.
memory_delta() {
	local ns=$NS-$1 label=$2 unit=$3 count=$4 before after kb
	shift 4
	ip netns add "$ns"
	ip netns exec "$ns" "$PORTREDIR" -b kmod add udp 1 1 >/dev/null 2>&1
	sync
	echo 3 >/proc/sys/vm/drop_caches
	slab_objects "$work/slab.before"
	before=$(kernel_kb)
	ip netns exec "$ns" "$PORTREDIR" -b kmod "$@" >/dev/null 2>&1 ||
		{ echo "$label: failed: $*"; return; }
	after=$(kernel_kb)
	slab_objects "$work/slab.after"
	kb=$((after - before))
	printf '%-34s %10s %10s   %s\n' "$label" "$kb kB" \
		"$(awk -v kb=$kb -v n="$count" 'BEGIN { printf "%.1f B", kb * 1024 / n }')" \
		"$(grown "$work/slab.before" "$work/slab.after" "$count" "$unit")"
}

# Kernel memory first, while nothing else has run. A first rule in each
# namespace has brought in the hooks and conntrack before the measure.
memory=$(
	memory_delta rules "131070 rules, per rule" rule 131070 restore "$work/full.rules"
	memory_delta range "one rule 1-65535, per port" port 65535 add 1-65535 1 -4 --local
)

# The same 65535-element map for nft -f as the nft backend builds.
fresh_ns
in_ns "$PORTREDIR" -b nft restore "$work/tcp.rules"
in_ns nft list table inet portredir >"$work/tcp.nft"
: >"$work/load.kmod"
: >"$work/load.nft"
for _ in $(seq "$REPEAT"); do
	load_ms "$PORTREDIR" -b kmod restore "$work/tcp.rules" >>"$work/load.kmod"
	load_ms nft -f "$work/tcp.nft" >>"$work/load.nft"
done

# Rate configurations, NAME|LABEL|PORT|CLI ARGS: each gets a namespace,
# $NS-NAME, set up once; the rounds then measure them in turn, so that a
# slow spell of the machine hits every configuration alike.
rate_configs=(
	"none|direct to 8080, no rules|8080|"
	"kmod1|kmod: 80 -> 8080, 1 rule|80|-b kmod add 80 8080"
	"steer1|kmod --steer: 1 rule|80|-b kmod add 80 8080 --steer"
	"nft1|nft: 80 -> 8080, 1 rule|80|-b nft add 80 8080"
	"kmodfull|kmod: 131070 rules|80|-b kmod restore $work/full.rules"
	"steerfull|kmod --steer: 65535 TCP rules|80|-b kmod restore $work/steer.rules"
	"nftfull|nft: 131070 rules|80|-b nft restore $work/full.rules"
)

setup_rate_configs() {
	local entry name args ns
	for entry in "${rate_configs[@]}"; do
		IFS='|' read -r name _ _ args <<<"$entry"
		ns=$NS-$name
		ip netns add "$ns"
		ip -n "$ns" link set lo up
		# shellcheck disable=SC2086 # args are words for the CLI
		[[ -z $args ]] || ip netns exec "$ns" "$PORTREDIR" $args >/dev/null 2>&1 ||
			echo "bench: $name: portredir $args failed" >&2
	done
}

# rate_of NAME PORT COUNT: connections/s of COUNT connections in $NS-NAME.
rate_of() {
	ip netns exec "$NS-$1" "$RATE" 127.0.0.1 "$2" 8080 "$3" | awk '{ print $2 }'
}

# Appends each configuration's rate to $work/rate.NAME, one line a round.
# A first, unrecorded pass warms every configuration up, and each round
# starts one configuration further on: in a trial with a fixed order and
# no warm-up, rates rose along the order of every round, up to 2.7 times
# the first configuration's, which was always the no-redirect baseline.
measure_rates() {
	local round i n=${#rate_configs[@]} name port
	for ((i = 0; i < n; i++)); do
		IFS='|' read -r name _ port _ <<<"${rate_configs[i]}"
		rate_of "$name" "$port" $((COUNT / 10 + 1)) >/dev/null
	done
	for ((round = 0; round < REPEAT; round++)); do
		for ((i = 0; i < n; i++)); do
			IFS='|' read -r name _ port _ <<<"${rate_configs[(round + i) % n]}"
			rate_of "$name" "$port" "$COUNT" >>"$work/rate.$name"
		done
	done
}

# "median min-max" of the ratios NAME/none, round by round; median rate.
rate_line() {
	paste "$work/rate.$1" "$work/rate.none" |
		awk '{ print $1 / $2, $1 }' | sort -n |
		awk '{ r[NR] = $1; v[NR] = $2 } END {
			m = int((NR + 1) / 2)
			printf "%10.0f %8.2f %11s\n", v[m], r[m], sprintf("%.2f-%.2f", r[1], r[NR]) }'
}

print_rates() {
	local entry name label
	printf '%-34s %10s %8s %11s\n' "new connections ($COUNT a run, $REPEAT rounds)" \
		"conn/s" "ratio" "min-max"
	for entry in "${rate_configs[@]}"; do
		IFS='|' read -r name label _ _ <<<"$entry"
		printf '%-34s %s\n' "$label" "$(rate_line "$name")"
	done
}

setup_rate_configs
measure_rates
print_rates

fresh_ns
startup=$(median_ms "" "$PORTREDIR" --version)
declare -A load change
for backend in kmod nft; do
	fresh_ns
	change[$backend,add,empty]=$(change_ms $backend add 5000 to 6000)
	in_ns "$PORTREDIR" -b $backend add 5000 to 6000 2>/dev/null
	change[$backend,del,empty]=$(change_ms $backend del 5000)

	fresh_ns
	load[$backend]=$(seconds in_ns "$PORTREDIR" -b $backend restore "$work/full.rules")
	# The full table holds every port: a del makes room for the add.
	change[$backend,del,full]=$(change_ms $backend del 5000)
	in_ns "$PORTREDIR" -b $backend del 5000 2>/dev/null
	change[$backend,add,full]=$(change_ms $backend add 5000 to 5000)
done

echo
printf '%-34s %10s %8s\n' "full table load (131070 rules)" "seconds" "ratio"
printf '%-34s %10.2f %8s\n' "kmod: restore" "${load[kmod]}" "1.00"
printf '%-34s %10.2f %8s\n' "nft: restore" "${load[nft]}" "$(ratio "${load[nft]}" "${load[kmod]}")"

echo
printf '%-34s %10s %8s\n' "one change (ms, median of 5)" "empty" "full"
printf '%-34s %10s %8s\n' "the CLI doing nothing (--version)" "$startup" "$startup"
for backend in kmod nft; do
	for verb in add del; do
		printf '%-34s %10s %8s\n' "$backend: $verb" \
			"${change[$backend,$verb,empty]}" "${change[$backend,$verb,full]}"
	done
done

echo
read -r kmod_median kmod_range < <(spread "$work/load.kmod")
read -r nft_median nft_range < <(spread "$work/load.nft")
printf '%-34s %10s %11s %8s\n' "full TCP map (65535 rules, $(lines_of "$work/load.kmod")+$(lines_of "$work/load.nft") runs)" \
	"median s" "min-max" "ratio"
printf '%-34s %10s %11s %8s\n' "kmod: portredir restore" "$kmod_median" "$kmod_range" "1.00"
printf '%-34s %10s %11s %8s\n' "nft -f of the same map" "$nft_median" "$nft_range" \
	"$(ratio "$nft_median" "$kmod_median")"

echo
printf '%-34s %10s %10s   %s\n' "kernel memory, kmod (slab+vmalloc)" "total" "each" "caches grown most"
echo "$memory"
