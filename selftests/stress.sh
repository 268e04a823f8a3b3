#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Everything at once, for $STRESS_SECONDS (default 60), then rmmod while
# connections still flow:
#
#    +----------------------+    veth    +-----------------------------------+
#    | $CLIENT              |------------| $SERVER                           |
#    |  traffic to the      |            |  stable rules: tcp 80 -> 8080,    |
#    |  stable rules' ports |            |  81 -> 8081 dev veth0,            |
#    +----------------------+            |  7000-7009 -> 8082; listeners on  |
#                                        |  80 81 7005 8080 8081 8082        |
#    +----------------------+            |  local traffic to 127.0.0.1, ::1  |
#    | $CHURN               |            |  writers on ports 20000-20009     |
#    |  big tables: restore |            |  veth pairs made and deleted      |
#    |  add, del, flush     |            |  with rules bound to them         |
#    +----------------------+            |  dumpers, a monitor               |
#      a dumper, a monitor               +-----------------------------------+
#    namespaces made with rules (and a bound rule) and deleted, in a loop
#
# Writers in $SERVER never touch the stable rules: restore replaces the
# table with them in it (atomically), add and del use other ports. Then:
# - every connection that ended before rmmod began reached its rule's
#   target, every one made after rmmod returned the original port, none
#   went unanswered; and each target answered several times;
# - every `save` of $SERVER showed the stable rules; no command exited
#   with anything but 0 or 1, and each kind of worker made progress;
# - the monitors kept running and printed only well-formed events;
# - no rule bound to a deleted link is left;
# - the module unloads, its slab cache (portredir_rule) goes with it, and
#   unreclaimable slab and vmalloc memory come back to where they were
#   before the load, within $STRESS_MEMORY_SLACK_KB (see memory_is_back).
# The kernel log is checked by the VM runner (selftests/vm/run.sh).
#
# kmod backend, as root, in the VM (make vmtest-stress, make vmtest-debug):
#   selftests/vm/run.sh -- selftests/stress.sh
#   selftests/vm/run.sh -- env STRESS_SECONDS=20 selftests/stress.sh
# BACKEND=nft runs the load on nftables, without the unload and the memory
# check (on a host, whose kernel other work shares).

source "$(dirname "$0")/lib.sh"

STRESS_SECONDS=${STRESS_SECONDS:-60}
# See memory_is_back for why this much.
STRESS_MEMORY_SLACK_KB=${STRESS_MEMORY_SLACK_KB:-1536}
SELF=$(realpath "$0")
# Every worker loop stops after this many rounds, whatever the clock says.
readonly MAX_ROUNDS=100000

# "host port" -> "answer before the unload, answer after it".
declare -A CLIENT_TARGETS=(
	["$SERVER_IP4 80"]="srv8080 srv80"
	["$SERVER_IP6 80"]="srv8080 srv80"
	["$SERVER_IP4 81"]="srv8081 srv81"
	["$SERVER_IP6 7005"]="srv8082 srv7005"
)
# Local traffic in $SERVER; the rule on 81 is bound to veth0, so inbound.
declare -A LOCAL_TARGETS=(
	["127.0.0.1 80"]="srv8080 srv80"
	["::1 80"]="srv8080 srv80"
	["127.0.0.1 81"]="srv81 srv81"
)
readonly WORKERS="server_writer server_dumper churn_writer churn_dumper link_churner netns_churner"
readonly STABLE_RULES="tcp 80 to 8080
tcp 81 to 8081 dev veth0
tcp 7000-7009 to 8082"

# --- workers -----------------------------------------------------------------
# Each runs in the background until $W/stop exists (traffic: $W/traffic.stop)
# and appends one line per round to its own file under $W.

# stopped FILE ROUND: time to end a worker's loop.
stopped() {
	[[ -e $1 ]] || (($2 >= MAX_ROUNDS))
}

# run_op WORKER CMD...: one command of a worker; 0 and 1 (the operation was
# refused, e.g. a del racing a restore) are fine, anything else is recorded.
run_op() {
	local worker=$1 rc
	shift
	"$@" >"$W/$worker.out" 2>"$W/$worker.err"
	rc=$?
	if ((rc > 1)); then
		echo "$worker: '$*' exited $rc: $(head -n 2 "$W/$worker.err" | tr '\n' ' ')" >>"$W/errors"
	fi
	echo "$rc $*" >>"$W/$worker.ops"
	return "$rc"
}

# A table for $SERVER: the stable rules and up to 8 others (the table stays
# small enough for one dump message, so every dump shows one whole table).
server_table() {
	local round=$1 k
	echo "$STABLE_RULES"
	for ((k = 0; k < round % 9; k++)); do
		echo "udp $((20000 + k)) to 21000"
	done
}

server_writer() {
	local round=0 port
	while ! stopped "$W/stop" $round; do
		port=$((20000 + round % 10))
		case $((round % 4)) in
		0) run_op server_writer pr "$SERVER" add "$port" 21000 ;;
		1) server_table "$round" | run_op server_writer pr "$SERVER" restore ;;
		2) run_op server_writer pr "$SERVER" del "$((20000 + (round - 2) % 10))" ;;
		3) run_op server_writer pr "$SERVER" add udp "$port" 21000 -4 --local ;;
		esac
		round=$((round + 1))
	done
}

# Every dump of $SERVER holds the stable rules, whatever the writers do.
server_dumper() {
	local round=0 rule
	while ! stopped "$W/stop" $round; do
		case $((round % 3)) in
		0)
			if run_op server_dumper pr "$SERVER" save; then
				while read -r rule; do
					grep -qxF "$rule" "$W/server_dumper.out" ||
						echo "server_dumper: save lacks '$rule': $(tr '\n' ';' <"$W/server_dumper.out")" >>"$W/errors"
				done <<<"$STABLE_RULES"
			fi
			;;
		1) run_op server_dumper pr "$SERVER" list ;;
		2) run_op server_dumper pr "$SERVER" -j list ;;
		esac
		round=$((round + 1))
	done
}

# A table for $CHURN: a rule on each 256th TCP port (the module's index
# has pages of 256 ports, so each rule takes a page: some 600 kB a table)
# and 10,000 UDP ports in ranges.
churn_table() {
	local round=$1 k
	for ((k = round % 2; k < 256; k++)); do
		echo "tcp $((k * 256 + 1)) to 30000"
	done
	for ((k = 0; k < 10; k++)); do
		echo "udp $((10000 + k * 1000))-$((10999 + k * 1000)) to $((40000 + k * 1000))-$((40999 + k * 1000))"
	done
}

churn_writer() {
	local round=0
	while ! stopped "$W/stop" $round; do
		case $((round % 5)) in
		0) churn_table "$round" | run_op churn_writer pr "$CHURN" restore ;;
		1) run_op churn_writer pr "$CHURN" add udp 5000-5999 6000 ;;
		2) run_op churn_writer pr "$CHURN" del udp 5000-5999 ;;
		3) run_op churn_writer pr "$CHURN" del "$((round % 256 * 256 + 1))" ;;
		4) run_op churn_writer pr "$CHURN" flush ;;
		esac
		round=$((round + 1))
	done
}

churn_dumper() {
	local round=0
	while ! stopped "$W/stop" $round; do
		if ((round % 2)); then
			run_op churn_dumper pr "$CHURN" save
		else
			run_op churn_dumper pr "$CHURN" list
		fi
		round=$((round + 1))
	done
}

# veth pairs in $SERVER with rules bound to them; the module deletes a
# bound rule when its link goes, or the rule goes first.
link_churner() {
	local round=0 link
	while ! stopped "$W/stop" $round; do
		link=stress$((round % 4))
		run_op link_churner ip -n "$SERVER" link add "$link" type veth peer name "${link}p"
		run_op link_churner pr "$SERVER" add udp 30000-30099 40000 dev "$link"
		run_op link_churner pr "$SERVER" add 30000 40000 -6 dev "$link"
		((round % 3 == 0)) && run_op link_churner pr "$SERVER" del udp 30000-30099 dev "$link"
		run_op link_churner ip -n "$SERVER" link del "$link"
		round=$((round + 1))
	done
}

# Namespaces made with a table and a rule bound to a link, and deleted
# with all of it in place.
netns_churner() {
	local round=0 ns
	while ! stopped "$W/stop" $round; do
		ns=${NS_PREFIX}churn-$round
		run_op netns_churner ip netns add "$ns"
		churn_table "$round" | run_op netns_churner ip netns exec "$ns" "$PORTREDIR" -b "$BACKEND" restore
		run_op netns_churner ip -n "$ns" link add d0 type veth peer name d1
		run_op netns_churner ip netns exec "$ns" "$PORTREDIR" -b "$BACKEND" add 5000 6000 dev d0
		run_op netns_churner ip netns del "$ns"
		round=$((round + 1))
	done
}

# traffic_worker OUT STOP HOST PORT [HOST PORT...]: run in a namespace by
# `stress.sh --worker`; one line per connection: start and end (ms), host,
# port and the listener's greeting ("none" for none). Forks only socat:
# under emulation each fork counts.
traffic_worker() {
	local out=$1 stop=$2 round=0 n start end got
	shift 2
	local targets=("$@") addresses=()
	n=$((${#targets[@]} / 2))
	for ((round = 0; round < n; round++)); do
		addresses+=("$(socat_addr tcp "${targets[round * 2]}" "${targets[round * 2 + 1]}")")
	done
	round=0
	while ! stopped "$stop" $round; do
		set -- "${targets[@]:$((round % n * 2)):2}"
		start=${EPOCHREALTIME/[.,]/}
		# -t: after its own end of input, socat waits that long for the
		# listener's answer (the default, half a second, is too short here).
		socat -t 20 -T 20 - "${addresses[round % n]},connect-timeout=20" \
			</dev/null >"$out.reply" 2>/dev/null
		end=${EPOCHREALTIME/[.,]/}
		got=
		read -r got <"$out.reply"
		echo "$((start / 1000)) $((end / 1000)) $1 $2 ${got:-none}" >>"$out"
		round=$((round + 1))
	done
}

# start_traffic NAME NS TARGETS-ARRAY-NAME
start_traffic() {
	local -n targets=$3
	local args=() key words
	for key in "${!targets[@]}"; do
		read -ra words <<<"$key"
		args+=("${words[@]}")
	done
	(
		close_conn_fds
		exec ip netns exec "$2" "$SELF" --worker traffic_worker \
			"$W/$1.traffic" "$W/traffic.stop" "${args[@]}"
	) &
	echo $! >>"$W/traffic.pids"
	disown $!
}

start_worker() {
	"$1" &
	echo $! >>"$W/worker.pids"
	echo $! >>"$TMP_DIR/pids"
	disown $!
}

start_monitor_in() {
	(
		exec ip netns exec "$2" "$PORTREDIR" -b "$BACKEND" monitor >"$W/$1.monitor" 2>"$W/$1.monitor.err"
	) &
	echo "$!" >"$W/$1.monitor.pid"
	disown $!
}

# --- checks ------------------------------------------------------------------

gone() {
	! kill -0 "$1" 2>/dev/null
}

# check NAME CMD...: one result line; the counts go through $W/results,
# since the load runs in a subshell.
check() {
	local name=$1 result=PASS
	shift
	"$@" || result=FAIL
	echo "$result: stress: $name" | tee -a "$W/results"
}

# answers_right FILE TARGETS-ARRAY-NAME: each connection of FILE answered
# as its target says, by when it ran against the unload ($W/rmmod.start,
# $W/rmmod.end, in ms); each target answered at least 3 times before it.
answers_right() {
	local -n want=$2
	local unload_start unload_end start end host port got key before after bad=0
	local -A served=()
	unload_start=$(cat "$W/rmmod.start") unload_end=$(cat "$W/rmmod.end")
	while read -r start end host port got; do
		key="$host $port"
		read -r before after <<<"${want[$key]}"
		if ((end < unload_start)); then
			if [[ $got == "$before" ]]; then
				served[$key]=$((${served[$key]:-0} + 1))
				continue
			fi
			echo "    $host port $port answered '$got' before the unload, wanted '$before' (${start}-${end} ms)"
		elif ((start > unload_end)); then
			[[ $got == "$after" ]] && continue
			echo "    $host port $port answered '$got' after the unload, wanted '$after'"
		else
			[[ $got == "$before" || $got == "$after" || $got == none ]] && continue
			echo "    $host port $port answered '$got' during the unload"
		fi
		bad=$((bad + 1))
	done <"$W/$1.traffic"
	for key in "${!want[@]}"; do
		((${served[$key]:-0} >= 3)) && continue
		echo "    $key answered ${served[$key]:-0} times before the unload, wanted 3 or more"
		bad=$((bad + 1))
	done
	log "$1: $(wc -l <"$W/$1.traffic") connections, $bad wrong"
	((bad == 0))
}

no_errors() {
	[[ ! -s $W/errors ]] && return 0
	sed 's/^/    /' "$W/errors" | head -n 20
	return 1
}

# Each worker made some progress: 3 or more commands, one succeeded.
# Counted with builtins, as the waits below: under emulation a fork takes
# a good part of a second.
workers_progressed() {
	local worker ok=0 rc command all succeeded restores
	for worker in $WORKERS; do
		all=0 succeeded=0 restores=0
		while read -r rc command; do
			all=$((all + 1))
			[[ $rc == 0 ]] || continue
			succeeded=$((succeeded + 1))
			[[ $command == *" restore" ]] && restores=$((restores + 1))
		done <"$W/$worker.ops"
		log "$worker: $all commands, $succeeded succeeded, $restores of them restores"
		if ((all < 3 || succeeded == 0)); then
			echo "    $worker made no progress"
			ok=1
		fi
	done
	return $ok
}

# lines_in FILE: the number of lines of FILE, in $lines.
lines_in() {
	local all=()
	[[ -r $1 ]] && mapfile -t all <"$1"
	lines=${#all[@]}
}

# traffic_grew CLIENT LOCAL: the client and the local traffic have made
# that many connections or more.
traffic_grew() {
	local lines
	lines_in "$W/client.traffic"
	((lines >= $1)) || return 1
	lines_in "$W/local.traffic"
	((lines >= $2))
}

# wait_for_traffic: two more connections from the client, and enough of
# them (connections take the targets in turn) for each target to have
# been answered 3 times, however slow the kernel.
wait_for_traffic() {
	local lines client
	lines_in "$W/client.traffic"
	client=$((lines + 2))
	((client >= ${#CLIENT_TARGETS[@]} * 3)) || client=$((${#CLIENT_TARGETS[@]} * 3))
	busywait 180000 traffic_grew "$client" $((${#LOCAL_TARGETS[@]} * 3))
}

# workers_busy: each worker has made 3 commands or more.
workers_busy() {
	local worker lines
	for worker in $WORKERS; do
		lines_in "$W/$worker.ops"
		((lines >= 3)) || return 1
	done
}

# run_load: STRESS_SECONDS, and longer (up to four times that) until every
# worker has made 3 commands, on a kernel slow enough to need it.
run_load() {
	local start=${EPOCHREALTIME/[.,]/} now
	while now=${EPOCHREALTIME/[.,]/}; ((now - start < STRESS_SECONDS * 1000000)); do
		nap
	done
	while ! workers_busy && ((now - start < STRESS_SECONDS * 4000000)); do
		nap
		now=${EPOCHREALTIME/[.,]/}
	done
}

# monitor_sound NAME: the monitor still runs, printed events, and only
# add, del and flush lines, and nothing on stderr but lost events.
monitor_sound() {
	local mon=$W/$1.monitor
	kill -0 "$(cat "$mon.pid")" 2>/dev/null || { echo "    the $1 monitor exited: $(head -n 2 "$mon.err")"; return 1; }
	[[ -s $mon ]] || { echo "    the $1 monitor printed nothing"; return 1; }
	if grep -vE '^(add (tcp|udp|sctp) .* to .*|del (tcp|udp|sctp) .*|flush)$' "$mon" | head -n 3 | grep .; then
		echo "    the $1 monitor printed the lines above"
		return 1
	fi
	if grep -v 'events were lost' "$mon.err" | head -n 3 | grep .; then
		echo "    the $1 monitor said the lines above"
		return 1
	fi
	log "$1 monitor: $(wc -l <"$mon") events, $(grep -c 'events were lost' "$mon.err") overruns"
}

# The writers left $SERVER with its stable rules and, on the module, no
# rule of a link that was deleted (nftables matches the name: they stay).
server_table_sound() {
	local rule
	pr "$SERVER" save >"$W/final" || return 1
	while read -r rule; do
		grep -qxF "$rule" "$W/final" || { echo "    '$rule' is gone"; return 1; }
	done <<<"$STABLE_RULES"
	if [[ $BACKEND == kmod ]] && grep ' dev ' "$W/final" | grep -v ' dev veth0$'; then
		echo "    rules of deleted links are left (above)"
		return 1
	fi
}

# --- memory ------------------------------------------------------------------

# Unreclaimable slab plus vmalloc, in kB, after every cache has given back
# its empty slabs (and, under KASAN, its quarantine).
kernel_memory_kb() {
	local cache name value sum=0
	for cache in /sys/kernel/slab/*/shrink; do
		echo 1 >"$cache" 2>/dev/null
	done
	while read -r name value _; do
		case $name in
		SUnreclaim: | VmallocUsed:) sum=$((sum + value)) ;;
		esac
	done </proc/meminfo
	echo "$sum"
}

# Back to the baseline, within STRESS_MEMORY_SLACK_KB: what the kernel
# itself allocates and frees around us (per-CPU slabs, the conntrack and
# namespace caches warmed up, kmemleak's and KASAN's own bookkeeping) moved
# by 180 to 620 kB in the ten runs made on 6.1, so the slack is 2.5 times
# the most seen; the load makes and frees several MB of rule tables (some
# 600 kB each in $CHURN and the churned namespaces): losing them showed
# as 3.8 MB. A leak of a few rules is left to the slab cache check
# (kmem_cache_destroy) and kmemleak.
memory_is_back() {
	local now
	now=$(kernel_memory_kb)
	echo "$now" >"$W/memory.after"
	((now <= $(cat "$W/memory.before") + STRESS_MEMORY_SLACK_KB))
}

memory_back_to_baseline() {
	busywait 60000 memory_is_back && {
		log "memory: $(cat "$W/memory.before") kB before, $(cat "$W/memory.after") kB after (${SECONDS}s)"
		return 0
	}
	echo "    unreclaimable slab and vmalloc: $(cat "$W/memory.before") kB before the load," \
		"$(cat "$W/memory.after") kB after it (slack $STRESS_MEMORY_SLACK_KB kB)"
	return 1
}

# What netns_churner was making when it stopped, if anything.
delete_churned_namespaces() {
	local ns
	for ns in $(ip netns list | awk '{print $1}' | grep "^${NS_PREFIX}churn-"); do
		ip netns del "$ns"
	done
}

module_gone() {
	[[ ! -d /sys/module/portredir ]] || { echo "    /sys/module/portredir is still there"; return 1; }
	[[ ! -e /sys/kernel/slab/portredir_rule ]] || { echo "    the slab cache portredir_rule outlived the module"; return 1; }
}

# --- the run -----------------------------------------------------------------

# Once what the load does, so that the modules it pulls in (veth, dummy,
# nf_tables for the CLI's checks ...) are loaded before the baseline.
warm_up() {
	setup_topology
	listen "$SERVER" 8080
	ip -n "$SERVER" link add stress0 type veth peer name stress0p || fail "cannot add a veth pair"
	cmd_ok pr "$SERVER" add 80 8080
	cmd_ok pr "$SERVER" add udp 30000 40000 dev stress0
	expect_answer "$CLIENT" "$SERVER_IP4" 80 srv8080
	cmd_ok pr "$SERVER" save
	cmd_ok pr "$SERVER" flush
}

# The load, then rmmod under traffic.
stress() {
	local pid
	setup_topology
	setup_ns CHURN
	for port in 80 81 7005 8080 8081 8082; do
		listen "$SERVER" "$port"
	done
	echo "$STABLE_RULES" | cmd_ok pr "$SERVER" restore
	start_monitor_in server "$SERVER"
	start_monitor_in churn "$CHURN"
	start_traffic client "$CLIENT" CLIENT_TARGETS
	start_traffic local "$SERVER" LOCAL_TARGETS
	for worker in $WORKERS; do
		start_worker "$worker"
	done
	log "load for ${STRESS_SECONDS}s from ${SECONDS}s"
	run_load
	touch "$W/stop"
	while read -r pid; do
		busywait 120000 gone "$pid" || fail "a worker did not stop within 120 s"
	done <"$W/worker.pids"
	log "load stopped at ${SECONDS}s"
	check "no command failed unexpectedly" no_errors
	check "every worker made progress" workers_progressed
	check "the monitors ran through and printed events only" eval "monitor_sound server && monitor_sound churn"
	check "the stable rules stayed, rules of deleted links went" server_table_sound
	# Connections go on through the unload: wait for fresh ones before it.
	wait_for_traffic || fail "no traffic before the unload"
	if [[ $BACKEND == nft ]]; then
		touch "$W/traffic.stop"
		echo "SKIP: stress: rmmod under traffic: the nft backend has no module" | tee -a "$W/results"
		now_ms >"$W/rmmod.start"
		now_ms >"$W/rmmod.end"
	else
		unload_under_traffic
	fi
	log "traffic stopped at ${SECONDS}s"
	while read -r pid; do
		busywait 60000 gone "$pid" || fail "traffic did not stop within 60 s"
	done <"$W/traffic.pids"
	check "every connection reached the listener its rule names (client)" answers_right client CLIENT_TARGETS
	check "every connection reached the listener its rule names (local)" answers_right local LOCAL_TARGETS
	[[ $BACKEND == nft ]] || check "the module and its slab cache are gone" module_gone
}

# rmmod, timed, between connections made before and after it.
unload_under_traffic() {
	log "unloading at ${SECONDS}s"
	now_ms >"$W/rmmod.start"
	rmmod portredir >"$W/rmmod.err" 2>&1
	echo $? >"$W/rmmod.rc"
	now_ms >"$W/rmmod.end"
	check "rmmod under traffic" eval "(($(cat "$W/rmmod.rc") == 0)) || { cat $W/rmmod.err; false; }"
	wait_for_traffic || fail "no traffic after the unload"
	touch "$W/traffic.stop"
}

stress_skip() {
	echo "SKIP: stress: $*"
	exit "$ksft_skip"
}

main() {
	local ko=${PORTREDIR_KO:-$SELFTEST_DIR/../kmod/portredir.ko} tool
	BACKEND=${BACKEND:-kmod}
	W=$TMP_DIR/stress
	mkdir -p "$W"
	: >"$W/errors"
	: >"$W/results"
	for tool in ip socat rmmod insmod; do
		command -v "$tool" >/dev/null || stress_skip "'$tool' is missing"
	done
	[[ -x $PORTREDIR ]] || stress_skip "the CLI $PORTREDIR is not built (make tools)"
	case $BACKEND in
	kmod)
		[[ -d /sys/module/portredir ]] || stress_skip "portredir.ko is not loaded (the VM run loads it)"
		[[ -r $ko ]] || stress_skip "no module file to reinsert (set PORTREDIR_KO)"
		;;
	nft) ;;
	*) stress_skip "unknown backend '$BACKEND' (kmod or nft)" ;;
	esac
	snapshot_host before
	(
		trap teardown_namespaces EXIT
		warm_up
	) || stress_skip "the warm-up failed"
	log "warmed up at ${SECONDS}s"
	kernel_memory_kb >"$W/memory.before"
	log "baseline read at ${SECONDS}s: $(cat "$W/memory.before") kB"
	# In a subshell, so that fail ends the load and the checks go on.
	(
		trap 'teardown_namespaces; delete_churned_namespaces' EXIT
		stress
	) || echo "FAIL: stress: the load ended early" | tee -a "$W/results"
	# The baseline was read with the module loaded (its code is vmalloc).
	if [[ $BACKEND == kmod && ! -d /sys/module/portredir ]]; then
		insmod "$ko" || echo "FAIL: stress: cannot reinsert $ko" | tee -a "$W/results"
	fi
	if [[ $BACKEND == kmod ]]; then
		check "unreclaimable slab and vmalloc back to the baseline" memory_back_to_baseline
	else
		echo "SKIP: stress: memory back to the baseline: measured for the module only" | tee -a "$W/results"
	fi
	cases_pass=$(grep -c '^PASS' "$W/results")
	cases_fail=$(grep -c '^FAIL' "$W/results")
	cases_skip=$(grep -c '^SKIP' "$W/results")
	leak_check
	summary
}

if [[ ${1:-} == --worker ]]; then
	trap 'rm -rf "$TMP_DIR"' EXIT
	"${@:2}"
	exit
fi

trap cleanup EXIT
main "$@"
