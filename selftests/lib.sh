# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# Helpers for portredir's shell selftests. Every scenario gets namespaces of
# its own, made by setup_topology and removed when the scenario ends:
#
#    +---------------------+               +------------------------------+
#    | $CLIENT             |     veth      | $SERVER                      |
#    |   veth0 -------------------------------- veth0                     |
#    |   192.0.2.1/24      |               |   192.0.2.2/24               |
#    |   2001:db8::1/64    |               |   2001:db8::2/64             |
#    |   lo                |               |   lo  127.0.0.1  ::1         |
#    +---------------------+               +------------------------------+
#      socat clients                         portredir rules
#                                            listeners answering "srvPORT"
#
# Addresses are from the documentation ranges and exist only inside these
# namespaces; no packet leaves them.
#
# A scenario is a function run in a subshell by run_case: the first failed
# assertion (fail, cmd_ok, cmd_fail, expect_*) prints why and ends it.
# It ends with 0 (PASS), 1 (FAIL) or 4 (SKIP); run_case prints one
# "PASS: ", "FAIL: " or "SKIP: " line for it.

readonly ksft_pass=0
readonly ksft_fail=1
readonly ksft_skip=4

readonly CLIENT_IP4=192.0.2.1 SERVER_IP4=192.0.2.2
readonly CLIENT_IP6=2001:db8::1 SERVER_IP6=2001:db8::2

SELFTEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The topic script that sourced us, for scenarios that re-enter it.
# shellcheck disable=SC2034 # used by the topic scripts
SELFTEST_SCRIPT=$SELFTEST_DIR/${0##*/}
if [[ -z ${PORTREDIR:-} ]]; then
	if [[ -x $SELFTEST_DIR/../tools/portredir ]]; then
		PORTREDIR=$SELFTEST_DIR/../tools/portredir
	else
		PORTREDIR=$(command -v portredir || echo "$SELFTEST_DIR/../tools/portredir")
	fi
fi
PORTREDIR=$(realpath -m "$PORTREDIR")

# Every namespace this run makes carries this prefix, so cleanup and the
# leak check find exactly ours.
NS_PREFIX=prtest-$$-
ns_count=0
cases_pass=0 cases_fail=0 cases_skip=0
TMP_DIR=$(mktemp -d "${TMPDIR:-/tmp}/portredir-selftest.XXXXXX")

log() { echo "# $*"; }

# Inside a scenario: report and end it.
fail() { echo "    FAIL: $*" >&2; exit $ksft_fail; }
skip() { echo "$*" >"$TMP_DIR/skip-reason"; exit $ksft_skip; }

# checktool CMD REASON: skip the scenario (or, outside one, the run) when a
# tool is missing, saying what it was needed for.
checktool() {
	if ! eval "$1" >/dev/null 2>&1; then
		skip "'$1' does not work: $2"
	fi
}

# busywait TIMEOUT_MS CMD...: run CMD until it succeeds, for at most
# TIMEOUT_MS; returns its last status.
# Under emulation every fork and exec costs a tenth of a second, so the
# helpers below keep to shell builtins where they can.
busywait() {
	local timeout_ms=$1 start
	shift
	start=$(now_ms)
	while true; do
		"$@" && return 0
		(($(now_ms) - start < timeout_ms)) || { "$@"; return; }
		nap
	done
}

now_ms() {
	local us=${EPOCHREALTIME/[.,]/}
	echo $((us / 1000))
}

# Sleep a tenth of a second without running sleep(1): wait for a pipe that
# never carries anything.
nap_fd=
nap() {
	[[ -n $nap_fd ]] || exec {nap_fd}<> <(:)
	read -rt 0.1 -u "$nap_fd"
}

# setup_ns VAR...: make a namespace for each name, store its name in VAR,
# with loopback up.
setup_ns() {
	local var name
	for var in "$@"; do
		ns_count=$((ns_count + 1))
		name=$NS_PREFIX$var-$ns_count
		ip netns add "$name" || fail "cannot create namespace $name"
		ip -n "$name" link set lo up
		printf -v "$var" '%s' "$name"
		echo "$name" >>"$TMP_DIR/namespaces"
	done
}

# The picture at the top of this file.
setup_topology() {
	setup_ns CLIENT SERVER
	veth_pair "$CLIENT" veth0 "$SERVER" veth0
	# nodad: no wait for duplicate address detection before IPv6 works.
	ns_batch "$CLIENT" <<-EOF
		addr add $CLIENT_IP4/24 dev veth0
		addr add $CLIENT_IP6/64 dev veth0 nodad
		link set veth0 up
	EOF
	ns_batch "$SERVER" <<-EOF
		addr add $SERVER_IP4/24 dev veth0
		addr add $SERVER_IP6/64 dev veth0 nodad
		link set veth0 up
	EOF
}

# veth_pair NS1 DEV1 NS2 DEV2: a veth link between two namespaces.
veth_pair() {
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$3" ||
		fail "cannot create a veth pair"
}

# ns_batch NS: the `ip` commands on stdin, run in NS.
ns_batch() {
	ip -n "$1" -batch - || fail "cannot set up $1"
}

# Remove what a scenario made: its processes (those in its namespaces and
# those listed in $TMP_DIR/pids), then its namespaces.
teardown_namespaces() {
	local ns pid
	if [[ -r $TMP_DIR/pids ]]; then
		xargs -r kill 2>/dev/null <"$TMP_DIR/pids"
		rm -f "$TMP_DIR/pids"
	fi
	[[ -r $TMP_DIR/namespaces ]] || return 0
	mapfile -t namespaces <"$TMP_DIR/namespaces"
	for pid in /proc/[0-9]*; do
		for ns in "${namespaces[@]}"; do
			[[ $pid/ns/net -ef /run/netns/$ns ]] && kill -9 "${pid#/proc/}" 2>/dev/null
		done
	done
	printf 'netns del %s\n' "${namespaces[@]}" | ip -force -batch - 2>/dev/null
	rm -f "$TMP_DIR/namespaces"
}

in_ns() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# pr NS ARGS...: the CLI, in NS, on the backend under test.
# shellcheck disable=SC2153 # run_topic sets BACKEND for each case
pr() {
	local ns=$1
	shift
	ip netns exec "$ns" "$PORTREDIR" -b "$BACKEND" "$@"
}

# listen NS PORT [PROTO]: a service on every address of NS (IPv4 and IPv6)
# that greets each connection with "srvPORT" and then echoes what it is
# sent; over UDP it answers each datagram with "srvPORT".
listen() {
	local ns=$1 port=$2 proto=${3:-tcp} address opts=(-t 5) reply
	reply="echo srv$port; exec cat"
	case $proto in
	tcp) address=TCP6-LISTEN:$port,fork,reuseaddr,ipv6only=0 ;;
	# SCTP has no half-close: greet and close.
	sctp) address=SCTP6-LISTEN:$port,fork,reuseaddr,ipv6only=0 reply="echo srv$port" ;;
	# A datagram's child would otherwise wait for more forever.
	udp) address=UDP6-RECVFROM:$port,fork,reuseaddr,ipv6only=0 opts+=(-T 5) ;;
	esac
	start_listener "$ns" "$proto" "$port" "the $proto listener on port $port of $ns" \
		"${opts[@]}" "$address" SYSTEM:"$reply"
}

# listen_at NS ADDRESS PORT: a TCP service bound to ADDRESS only, that
# greets each connection with "srvPORT from PEER", PEER being the client
# address it sees as socat writes it (IPv6 in full, in brackets).
listen_at() {
	local ns=$1 addr=$2 port=$3 address proto=tcp4
	if [[ $addr == *:* ]]; then
		address=TCP6-LISTEN:$port,bind=[$addr],fork,reuseaddr proto=tcp
	else
		address=TCP4-LISTEN:$port,bind=$addr,fork,reuseaddr
	fi
	start_listener "$ns" "$proto" "$port" "the listener on $addr port $port of $ns" \
		-t 5 "$address" SYSTEM:"echo srv$port from \$SOCAT_PEERADDR"
}

# start_listener NS KIND PORT WHAT SOCAT-ARGS...: socat in NS, in the
# background, once it listens on PORT (KIND as pid_listens takes it); WHAT
# names it should it not come up. Its pid is left in $listener_pid.
start_listener() {
	local ns=$1 kind=$2 port=$3 what=$4
	shift 4
	(
		close_conn_fds
		exec ip netns exec "$ns" socat "$@" </dev/null >/dev/null 2>&1
	) &
	listener_pid=$!
	disown "$listener_pid"
	busywait 10000 pid_listens "$listener_pid" "$ns" "$kind" "$port" ||
		fail "$what did not come up"
}

# pid_listens PID NS PROTO PORT: PID has entered NS, and there a socket
# listens on PORT (tcp4: an IPv4-only TCP socket). Reads /proc rather than
# running ss.
pid_listens() {
	local pid=$1 ns=$2 proto=$3 port=$4 hex file state local_addr st lport
	[[ /proc/$pid/ns/net -ef /run/netns/$ns ]] || return 1
	if [[ $proto == sctp ]]; then
		[[ -r /proc/$pid/net/sctp/eps ]] || return 1
		while read -r _ _ _ _ _ lport _; do
			[[ $lport == "$port" ]] && return 0
		done <"/proc/$pid/net/sctp/eps"
		return 1
	fi
	printf -v hex '%04X' "$port"
	file=tcp6 state=0A
	[[ $proto == tcp4 ]] && file=tcp
	[[ $proto == udp ]] && file=udp6 state=07
	while read -r _ local_addr _ st _; do
		[[ ${local_addr##*:} == "$hex" && $st == "$state" ]] && return 0
	done <"/proc/$pid/net/$file"
	return 1
}

# is_listening NS tcp|udp|sctp PORT
is_listening() {
	local flag
	case $2 in
	tcp) flag=-t ;;
	udp) flag=-u ;;
	sctp) flag=-S ;;
	esac
	[[ -n $(ip netns exec "$1" ss -Hln "$flag" "sport = :$3" 2>/dev/null) ]]
}

# socat's name for HOST:PORT, brackets around IPv6 addresses.
socat_addr() {
	local proto=$1 host=$2 port=$3
	if [[ $host == *:* ]]; then
		echo "${proto^^}6:[$host]:$port"
	else
		echo "${proto^^}4:$host:$port"
	fi
}

# probe NS HOST PORT [PROTO]: connect from NS and print the greeting, if
# any. Over UDP, send one datagram and wait two seconds for the answer;
# over SCTP, which cannot half-close, only read.
probe() {
	local proto=${4:-tcp} reply
	if [[ $proto == udp ]]; then
		# The listener echoes "ping" after its greeting; head's exit
		# makes socat's write of it end socat at once.
		reply=$(ip netns exec "$1" timeout 5 socat -t 2 - \
			"$(socat_addr udp "$2" "$3")" <<<ping 2>/dev/null | head -n 1)
	elif [[ $proto == sctp ]]; then
		reply=$(ip netns exec "$1" timeout 5 socat -T 4 -u \
			"$(socat_addr sctp "$2" "$3")" - 2>/dev/null)
	else
		reply=$(ip netns exec "$1" timeout 5 socat -T 4 -t 4 - \
			"$(socat_addr "$proto" "$2" "$3")" </dev/null 2>/dev/null)
	fi
	echo "${reply%%$'\n'*}"
}

# expect_answer NS HOST PORT WANT [PROTO]: a new connection is answered by
# WANT ("srv8080"), or is not answered at all when WANT is "none".
expect_answer() {
	local got
	got=$(probe "$1" "$2" "$3" "${5:-tcp}")
	[[ $got == "${4/none/}" ]] ||
		fail "${5:-tcp} from ${1#"$NS_PREFIX"} to $2 port $3: wanted '$4', got '${got:-none}'"
}

# open_conn NAME NS HOST PORT [PROTO]: a connection (a UDP flow with PROTO
# udp: one socket, one source port) kept open in the background;
# conn_send NAME LINE writes to it, conn_expect NAME LINE waits for LINE
# in what it received, conn_close NAME ends it. Its limits (300 s in all,
# 240 s idle) only end a run that hangs: a scenario on the debug kernel
# kept one open past the 60 s there were.
open_conn() {
	local name=$1 dir=$TMP_DIR/conn-$1
	rm -rf "$dir"
	mkdir -p "$dir"
	mkfifo "$dir/in"
	: >"$dir/out"
	(
		close_conn_fds
		exec ip netns exec "$2" timeout 300 socat -T 240 -t 5 - \
			"$(socat_addr "${5:-tcp}" "$3" "$4")" <"$dir/in" >"$dir/out" 2>"$dir/err"
	) &
	echo $! >"$dir/pid"
	disown $!
	exec {fd}>"$dir/in"
	echo "$fd" >"$dir/fd"
	conn_fds+=" $fd"
}

# Background children must not hold the write end of another connection's
# input, or closing it would never reach that connection.
conn_fds=
close_conn_fds() {
	local fd
	for fd in $conn_fds; do
		eval "exec $fd>&-"
	done
}

# A connection that ended makes the write fail, not SIGPIPE end the
# scenario without a word.
conn_send() {
	local fd
	fd=$(cat "$TMP_DIR/conn-$1/fd")
	(
		trap '' PIPE
		echo "$2" >&"$fd"
	) 2>/dev/null || fail "connection $1: cannot send '$2': it has ended ($(cat "$TMP_DIR/conn-$1/err"))"
}

conn_expect() {
	busywait 5000 grep -qx -- "$2" "$TMP_DIR/conn-$1/out" ||
		fail "connection $1: did not receive '$2' (got: $(tr '\n' ' ' <"$TMP_DIR/conn-$1/out"))"
}

conn_close() {
	local fd
	fd=$(cat "$TMP_DIR/conn-$1/fd")
	exec {fd}>&-
	conn_fds=${conn_fds/ $fd/}
	busywait 5000 conn_gone "$1" || fail "connection $1 did not end after its input closed"
}

conn_gone() {
	! kill -0 "$(cat "$TMP_DIR/conn-$1/pid")" 2>/dev/null
}

# cmd_ok CMD...: CMD must succeed; its output lands in $TMP_DIR/out and
# $TMP_DIR/err.
cmd_ok() {
	"$@" >"$TMP_DIR/out" 2>"$TMP_DIR/err"
	local rc=$?
	[[ $rc == 0 ]] || fail "'$*' exited $rc: $(head -n 3 "$TMP_DIR/err")"
}

# cmd_fail RC STDERR CMD...: CMD must exit RC and print exactly the one line
# STDERR on stderr (besides "portredir: warning:" lines). An STDERR starting
# with "~" is a regular expression the line must match instead.
cmd_fail() {
	local want_rc=$1 want_err=$2 rc line all err=()
	shift 2
	"$@" >"$TMP_DIR/out" 2>"$TMP_DIR/err.all"
	rc=$?
	mapfile -t all <"$TMP_DIR/err.all"
	for line in "${all[@]}"; do
		[[ $line == "portredir: warning: "* ]] || err+=("$line")
	done
	[[ $rc == "$want_rc" ]] ||
		fail "'$*' exited $rc, wanted $want_rc (stderr: ${all[*]:0:3})"
	[[ ${#err[@]} == 1 ]] ||
		fail "'$*' printed ${#err[@]} lines on stderr, wanted one: $(printf '%s\n' "${err[@]}")"
	if [[ $want_err == "~"* ]]; then
		[[ ${err[0]} =~ ${want_err#"~"} ]] ||
			fail "'$*' said '${err[0]}', wanted a line matching '${want_err#"~"}'"
	else
		[[ ${err[0]} == "$want_err" ]] ||
			fail "'$*' said '${err[0]}', wanted '$want_err'"
	fi
}

# --- what several topics read: list, conntrack, monitor ---------------------

# Conntrack entries of namespace NS: none at all while nothing in NS has
# asked for connection tracking.
conntrack_count() {
	in_ns "$1" cat /proc/sys/net/netfilter/nf_conntrack_count 2>/dev/null || echo 0
}

# The rule lines of the last `list` (in $TMP_DIR/out): those naming a
# protocol.
rule_lines() {
	grep -E '^ *(tcp|udp|sctp)\b' "$TMP_DIR/out"
}

rule_count_is() {
	local line n=0
	while read -r line; do
		[[ $line =~ ^(tcp|udp|sctp)\  ]] && n=$((n + 1))
	done <"$TMP_DIR/out"
	[[ $n == "$1" ]] || fail "list shows $n rule(s), wanted $1: $(<"$TMP_DIR/out")"
}

# connections_of PORT: the connection counter that `list` shows for the rule
# on PORT (the number after "connections").
connections_of() {
	local line
	pr "$SERVER" list >"$TMP_DIR/out" 2>"$TMP_DIR/err" || fail "list failed: $(cat "$TMP_DIR/err")"
	line=$(rule_lines | grep -E "^ *tcp +$1\b" | head -n 1)
	[[ -n $line ]] || fail "list does not show the rule on port $1: $(cat "$TMP_DIR/out")"
	if [[ $line =~ conn[a-z]*[\ =:]+([0-9]+) ]]; then
		echo "${BASH_REMATCH[1]}"
	fi
}

# How socat's listeners write the client's IPv6 address.
# shellcheck disable=SC2034 # used by the topic scripts
readonly CLIENT_IP6_SEEN='[2001:0db8:0000:0000:0000:0000:0000:0001]'

# The rule lines of `list` without their counters.
list_rules_only() {
	pr "$SERVER" list 2>/dev/null | grep -E '^ *(tcp|udp|sctp)\b' | sed 's/ connections [0-9]*//'
}

# lines FILE: how many lines FILE has, without a fork.
lines() {
	local all=()
	mapfile -t all <"$1"
	echo "${#all[@]}"
}

# monitor prints each change as the command that would make it; a flush
# shows as "flush" or as one "del" per rule it removed.
# start_monitor FILE: `portredir monitor` in $SERVER, printing to FILE,
# returns once it is heard: it printed a probe rule on port 1 being added
# and deleted. The probe may take several tries under a slow emulator, so
# the caller's events are those after the last "del tcp 1" (monitor_events).
start_monitor() {
	local mon=$1 tries
	(
		close_conn_fds
		exec ip netns exec "$SERVER" "$PORTREDIR" -b "$BACKEND" monitor >"$mon" 2>&1
	) &
	echo $! >>"$TMP_DIR/pids"
	for ((tries = 0; tries < 20; tries++)); do
		pr "$SERVER" add 1 1 >/dev/null 2>&1
		busywait 1000 grep -qx "add tcp 1 to 1" "$mon" && break
		pr "$SERVER" del 1 >/dev/null 2>&1
	done
	grep -qx "add tcp 1 to 1" "$mon" || fail "monitor printed nothing: $(cat "$mon")"
	cmd_ok pr "$SERVER" del 1
	busywait 5000 monitor_heard_last_del "$mon" || fail "monitor missed the probe's del: $(cat "$mon")"
}

monitor_heard_last_del() {
	[[ $(tail -n 1 "$1") == "del tcp 1" ]]
}

# monitor_events FILE: what the monitor printed after start_monitor.
monitor_events() {
	tac "$1" | sed '/^del tcp 1$/q' | tac | sed 1d
}

# --- the run -----------------------------------------------------------------

# run_case NAME FUNCTION ARGS...: run one scenario in a subshell, with its
# own namespaces torn down after it, and print its result.
run_case() {
	local name=$1 rc
	shift
	local start=$SECONDS
	rm -f "$TMP_DIR/skip-reason"
	(
		trap 'teardown_namespaces' EXIT
		"$@"
	)
	rc=$?
	case $rc in
	0) echo "PASS: $name ($((SECONDS - start))s)"; cases_pass=$((cases_pass + 1)) ;;
	4) echo "SKIP: $name: $(cat "$TMP_DIR/skip-reason" 2>/dev/null)"; cases_skip=$((cases_skip + 1)) ;;
	*) echo "FAIL: $name"; cases_fail=$((cases_fail + 1)) ;;
	esac
}

# State outside our namespaces that no test may change, checked at the end.
snapshot_host() {
	{
		echo "== links"; ip -o link show | sed 's/^[0-9]*: //; s/ state .*//'
		echo "== nft"; nft list ruleset 2>/dev/null
		echo "== module"; cat /sys/module/portredir/refcnt 2>/dev/null
	} >"$TMP_DIR/host.$1"
}

leak_check() {
	local leaked
	leaked=$(ip netns list | grep -c "^$NS_PREFIX")
	if [[ $leaked != 0 ]]; then
		echo "FAIL: leak check: $leaked namespace(s) left behind"
		cases_fail=$((cases_fail + 1))
	fi
	snapshot_host after
	if ! diff -u "$TMP_DIR/host.before" "$TMP_DIR/host.after" >"$TMP_DIR/host.diff"; then
		echo "FAIL: leak check: the tests changed state outside their namespaces:"
		sed 's/^/#   /' "$TMP_DIR/host.diff"
		cases_fail=$((cases_fail + 1))
	fi
}

cleanup() {
	local ns
	jobs -p | xargs -r kill 2>/dev/null
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$NS_PREFIX"); do
		ip netns pids "$ns" | xargs -r kill -9 2>/dev/null
		ip netns del "$ns"
	done
	rm -rf "$TMP_DIR"
}

# Exit status of the whole run, kselftest style.
summary() {
	echo "# $cases_pass passed, $cases_fail failed, $cases_skip skipped"
	if ((cases_fail > 0)); then
		return $ksft_fail
	elif ((cases_pass == 0)); then
		return $ksft_skip
	fi
	return $ksft_pass
}

# Why BACKEND cannot run here, or nothing when it can.
backend_unavailable() {
	case $1 in
	kmod)
		[[ -d /sys/module/portredir ]] ||
			echo "portredir.ko is not loaded (the VM run loads it: make vmtest)"
		;;
	nft)
		local ns=prtest-$$-probe
		ip netns add "$ns" 2>/dev/null || { echo "cannot create network namespaces"; return; }
		ip netns exec "$ns" nft add table inet prtest_probe 2>/dev/null ||
			echo "nf_tables is not available in this kernel"
		ip netns del "$ns"
		;;
	*)
		echo "unknown backend '$1' (kmod or nft)"
		;;
	esac
}

# The names of the scenario functions in CASES, once each.
case_functions() {
	local entry cmd seen=" "
	for entry in "${CASES[@]}"; do
		cmd=${entry#*|}
		cmd=${cmd%% *}
		[[ $seen == *" $cmd "* ]] || echo "$cmd"
		seen+="$cmd "
	done
}

# run_topic [--list | --inside FUNCTION | NAME...]: the main of every topic
# script. It runs each entry of the script's CASES ("description|function
# arguments"), or only those whose function is named, once per backend in
# $BACKEND ("kmod nft" by default), then the leak check. --list prints the
# functions; --inside runs FUNCTION alone, for a scenario that re-enters
# its script in another namespace.
run_topic() {
	local backend reason entry name cmd tool only=("$@")
	case ${1:-} in
	--list)
		rm -rf "$TMP_DIR"
		case_functions
		return
		;;
	--inside)
		trap 'rm -rf "$TMP_DIR"' EXIT
		"$2"
		exit
		;;
	esac
	trap cleanup EXIT
	for name in "${only[@]}"; do
		if ! case_functions | grep -qx -- "$name"; then
			echo "${0##*/}: no scenario '$name' here (${0##*/} --list)" >&2
			exit 2
		fi
	done
	for tool in ip nft socat ss timeout; do
		if ! command -v "$tool" >/dev/null; then
			echo "SKIP: all: '$tool' is missing"
			exit $ksft_skip
		fi
	done
	if [[ ! -x $PORTREDIR ]]; then
		echo "SKIP: all: the CLI $PORTREDIR is not built (make tools)"
		exit $ksft_skip
	fi
	snapshot_host before
	for backend in ${BACKEND:-kmod nft}; do
		reason=$(backend_unavailable "$backend")
		for entry in "${CASES[@]}"; do
			name="[$backend] ${entry%%|*}"
			cmd=${entry#*|}
			if ((${#only[@]})) && [[ " ${only[*]} " != *" ${cmd%% *} "* ]]; then
				continue
			fi
			if [[ -n $reason ]]; then
				echo "SKIP: $name: $reason"
				cases_skip=$((cases_skip + 1))
				continue
			fi
			# shellcheck disable=SC2086 # cmd is a function and its words
			BACKEND=$backend run_case "$name" $cmd
		done
	done
	leak_check
	summary
}
