#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Steering (--steer, kmod backend only): a connection goes to the target
# port's listener with its destination port kept and no conntrack, with
# SYN cookies, Fast Open, reuseport groups, TIME_WAIT sockets; established
# connections survive rule changes and rmmod; every view shows the mode;
# what steering refuses.
#
# Every scenario runs once per backend in $BACKEND ("kmod nft" by default);
# the topology is drawn at the top of lib.sh.
#
#   BACKEND=nft ./steer.sh          one backend
#   ./steer.sh NAME...              only the scenarios named (./steer.sh --list)

source "$(dirname "$0")/lib.sh"

steer_needs_kmod() {
	[[ $BACKEND == kmod ]] ||
		skip "steering is the module's (the nft backend refuses --steer: steer_refused)"
	grep -qw nf_tproxy_get_sock_v4 /proc/kallsyms ||
		skip "this kernel has no nf_tproxy (CONFIG_NF_TPROXY_IPV4/6), which steering needs"
}

# greet NS PORT [SOCAT-OPTIONS]: a TCP service, one socket per family, that
# answers each connection with "srvPORT at LOCALPORT from PEER" and closes
# first; LOCALPORT is the port the accepted socket has.
greet() {
	local ns=$1 port=$2 extra=${3:+,$3} address kind
	for address in "TCP4-LISTEN:$port,fork,reuseaddr$extra" \
		"TCP6-LISTEN:$port,fork,reuseaddr,ipv6only=1$extra"; do
		kind=tcp4
		[[ $address == TCP6* ]] && kind=tcp
		start_listener "$ns" "$kind" "$port" "the greeting listener on port $port of $ns" \
			-t 5 "$address" SYSTEM:"echo srv$port at \$SOCAT_SOCKPORT from \$SOCAT_PEERADDR"
		echo "$listener_pid" >>"$TMP_DIR/pids"
	done
}

readonly LOOPBACK6_SEEN='[0000:0000:0000:0000:0000:0000:0000:0001]'
readonly SERVER_IP6_SEEN='[2001:0db8:0000:0000:0000:0000:0000:0002]'

# A steered connection reaches the target's listener with the port it was
# sent to, from the client's own address, and leaves no conntrack entry: a
# namespace that only steers has no conntrack at all. A NAT rule next to
# it brings conntrack in and its connections show the target port.
steer_inbound_and_local() {
	steer_needs_kmod
	setup_topology
	greet "$SERVER" 8080
	cmd_ok pr "$SERVER" add 80 8080 --steer
	expect_answer "$CLIENT" "$SERVER_IP4" 80 "srv8080 at 80 from $CLIENT_IP4"
	expect_answer "$CLIENT" "$SERVER_IP6" 80 "srv8080 at 80 from $CLIENT_IP6_SEEN"
	expect_answer "$SERVER" 127.0.0.1 80 "srv8080 at 80 from 127.0.0.1"
	expect_answer "$SERVER" ::1 80 "srv8080 at 80 from $LOOPBACK6_SEEN"
	expect_answer "$SERVER" "$SERVER_IP4" 80 "srv8080 at 80 from $SERVER_IP4"
	expect_answer "$SERVER" "$SERVER_IP6" 80 "srv8080 at 80 from $SERVER_IP6_SEEN"
	[[ $(connections_of 80) == 6 ]] ||
		fail "the steering rule counts $(connections_of 80) connections, wanted 6"
	[[ $(conntrack_count "$SERVER") == 0 ]] ||
		fail "steering left $(conntrack_count "$SERVER") conntrack entries in a namespace without NAT rules"
	cmd_ok pr "$SERVER" add 81 8080
	expect_answer "$CLIENT" "$SERVER_IP4" 81 "srv8080 at 8080 from $CLIENT_IP4"
	(($(conntrack_count "$SERVER") > 0)) ||
		fail "a NAT rule's connection left no conntrack entry: the check above cannot see any"
}

# Ranges keep their offset or share one target; dev, -4 and --local narrow
# what is steered.
steer_ranges_and_selectors() {
	steer_needs_kmod
	setup_topology
	greet "$SERVER" 9000
	greet "$SERVER" 9003
	cmd_ok pr "$SERVER" add 8000-8009 9000-9009 --steer
	cmd_ok pr "$SERVER" add 7000-7009 9000 --steer
	cmd_ok pr "$SERVER" add 6000 9000 dev veth0 --steer
	cmd_ok pr "$SERVER" add 6001 9000 --local --steer
	cmd_ok pr "$SERVER" add 6002 9000 -4 --steer
	expect_answer "$CLIENT" "$SERVER_IP4" 8003 "srv9003 at 8003 from $CLIENT_IP4"
	expect_answer "$CLIENT" "$SERVER_IP6" 8000 "srv9000 at 8000 from $CLIENT_IP6_SEEN"
	expect_answer "$CLIENT" "$SERVER_IP4" 7005 "srv9000 at 7005 from $CLIENT_IP4"
	expect_answer "$CLIENT" "$SERVER_IP4" 6000 "srv9000 at 6000 from $CLIENT_IP4"
	expect_answer "$SERVER" "$SERVER_IP4" 6000 none
	expect_answer "$SERVER" "$SERVER_IP4" 6001 "srv9000 at 6001 from $SERVER_IP4"
	expect_answer "$CLIENT" "$SERVER_IP4" 6001 none
	expect_answer "$CLIENT" "$SERVER_IP4" 6002 "srv9000 at 6002 from $CLIENT_IP4"
	expect_answer "$CLIENT" "$SERVER_IP6" 6002 none
}

# Nothing on the target: the connection goes on as if there were no rule,
# refused by a closed port, or answered by a listener on the port itself.
steer_without_listener() {
	steer_needs_kmod
	setup_topology
	cmd_ok pr "$SERVER" add 80 8080 --steer
	expect_answer "$CLIENT" "$SERVER_IP4" 80 none
	expect_answer "$SERVER" ::1 80 none
	greet "$SERVER" 80
	expect_answer "$CLIENT" "$SERVER_IP4" 80 "srv80 at 80 from $CLIENT_IP4"
	greet "$SERVER" 8080
	expect_answer "$CLIENT" "$SERVER_IP4" 80 "srv8080 at 80 from $CLIENT_IP4"
}

# tcp_ext NS FIELD: a TcpExt counter of NS (nstat's TcpExtFIELD);
# tcp_ext NS FIELD Tcp /proc/net/snmp: a Tcp one (TcpFIELD).
tcp_ext() {
	# shellcheck disable=SC2016 # an awk program
	in_ns "$1" awk -v field="$2" -v group="${3:-TcpExt}:" '
		$1 == group && !names { for (i = 2; i <= NF; i++) col[$i] = i; names = 1; next }
		$1 == group { print $col[field]; exit }' "${4:-/proc/net/netstat}"
}

# With syncookies always on, the listener answers the SYN with a cookie and
# gets the ACK through the rule again: the cookie names port 80.
steer_syn_cookies() {
	local sent
	steer_needs_kmod
	setup_topology
	greet "$SERVER" 8080
	in_ns "$SERVER" sysctl -qw net.ipv4.tcp_syncookies=2 || fail "cannot turn syncookies on"
	cmd_ok pr "$SERVER" add 80 8080 --steer
	sent=$(tcp_ext "$SERVER" SyncookiesSent)
	expect_answer "$CLIENT" "$SERVER_IP4" 80 "srv8080 at 80 from $CLIENT_IP4"
	expect_answer "$CLIENT" "$SERVER_IP6" 80 "srv8080 at 80 from $CLIENT_IP6_SEEN"
	(($(tcp_ext "$SERVER" SyncookiesSent) >= sent + 2)) ||
		fail "no SYN cookie was sent: the scenario did not test cookies"
}

# Data in the SYN (TCP Fast Open, no cookie needed here) reaches the
# target's listener with the SYN.
steer_fast_open() {
	local passive got
	steer_needs_kmod
	checktool "python3 --version" "the Fast Open client is a python3 one-liner"
	setup_topology
	# Before listen(): that is when a listener takes Fast Open on.
	in_ns "$SERVER" sysctl -qw net.ipv4.tcp_fastopen=0x602 || fail "cannot enable Fast Open on $SERVER"
	listen "$SERVER" 8080
	in_ns "$CLIENT" sysctl -qw net.ipv4.tcp_fastopen=0x5 || fail "cannot enable Fast Open on $CLIENT"
	cmd_ok pr "$SERVER" add 80 8080 --steer
	passive=$(tcp_ext "$SERVER" TCPFastOpenPassive)
	got=$(in_ns "$CLIENT" timeout 10 python3 -c '
import socket, sys
s = socket.socket()
s.settimeout(5)
s.sendto(b"fast\n", socket.MSG_FASTOPEN, (sys.argv[1], 80))
data = b""
while data.count(b"\n") < 2:
    chunk = s.recv(100)
    if not chunk:
        break
    data += chunk
print(data.decode().replace("\n", " ").strip())' "$SERVER_IP4")
	[[ $got == "srv8080 fast" ]] || fail "the Fast Open connection got '$got', wanted 'srv8080 fast'"
	(($(tcp_ext "$SERVER" TCPFastOpenPassive) == passive + 1)) ||
		fail "the listener accepted no Fast Open connection: the data did not come in the SYN"
}

# reuseport_reaches_both NS: connections to port 80 until both members of
# the group have answered, at most 40 (a 2^-39 chance to miss one).
reuseport_reaches_both() {
	local i seen=
	for ((i = 0; i < 40; i++)); do
		seen+=" $(probe "$1" "$SERVER_IP4" 80)"
		[[ $seen == *srv8080a* && $seen == *srv8080b* ]] && return 0
	done
	echo "${seen# }"
	return 1
}

# A SO_REUSEPORT group on the target shares the steered connections.
steer_reuseport_group() {
	local pid who answers
	steer_needs_kmod
	setup_topology
	for who in a b; do
		(
			close_conn_fds
			exec ip netns exec "$SERVER" socat TCP4-LISTEN:8080,fork,reuseport \
				SYSTEM:"echo srv8080$who" </dev/null >/dev/null 2>&1
		) &
		pid=$!
		disown $pid
		echo "$pid" >>"$TMP_DIR/pids"
		busywait 10000 pid_listens "$pid" "$SERVER" tcp4 8080 ||
			fail "reuseport listener $who did not come up"
	done
	cmd_ok pr "$SERVER" add 80 8080 --steer
	answers=$(reuseport_reaches_both "$CLIENT") ||
		fail "40 connections did not reach both members of the reuseport group: $answers"
}

# The server closes first, so its socket of the connection lingers in
# TIME_WAIT on port 80; a new connection from the same client port must
# still reach the target's listener, not be reset by that socket.
steer_reuses_time_wait() {
	local client got resets
	steer_needs_kmod
	setup_topology
	greet "$SERVER" 8080
	cmd_ok pr "$SERVER" add 80 8080 --steer
	client="TCP4:$SERVER_IP4:80,sourceport=40000,reuseaddr"
	# -u: the client only reads, so the server's FIN comes first.
	got=$(in_ns "$CLIENT" timeout 5 socat -T 4 -u "$client" - 2>/dev/null)
	[[ $got == "srv8080 at 80 from $CLIENT_IP4" ]] || fail "first connection got '${got:-none}'"
	busywait 5000 time_wait_on_80 ||
		fail "the server's socket of the first connection is not in TIME_WAIT"
	resets=$(tcp_ext "$CLIENT" OutRsts Tcp /proc/net/snmp)
	got=$(in_ns "$CLIENT" timeout 5 socat -T 4 -u "$client" - 2>/dev/null)
	[[ $got == "srv8080 at 80 from $CLIENT_IP4" ]] ||
		fail "a connection reusing the ports of a TIME_WAIT one got '${got:-none}'"
	# Left to TCP, the SYN would meet the TIME_WAIT socket, get an ACK the
	# client answers with a reset, and get through only when resent.
	(($(tcp_ext "$CLIENT" OutRsts Tcp /proc/net/snmp) == resets)) ||
		fail "the client had to reset the TIME_WAIT socket before its connection got through"
}

time_wait_on_80() {
	[[ -n $(in_ns "$SERVER" ss -Htn state time-wait '( sport = :80 )') ]]
}

# Established steered connections live on through del, flush and rmmod:
# they never depended on the rule.
steer_established_survive() {
	local ko=${PORTREDIR_KO:-$SELFTEST_DIR/../kmod/portredir.ko}
	steer_needs_kmod
	setup_topology
	listen "$SERVER" 8080
	cmd_ok pr "$SERVER" add 80 8080 --steer
	open_conn one "$CLIENT" "$SERVER_IP4" 80
	conn_expect one srv8080
	cmd_ok pr "$SERVER" del 80
	expect_answer "$CLIENT" "$SERVER_IP4" 80 none
	conn_send one "after del"
	conn_expect one "after del"
	cmd_ok pr "$SERVER" add 80 8080 --steer
	open_conn two "$SERVER" ::1 80
	conn_expect two srv8080
	cmd_ok pr "$SERVER" flush
	conn_send two "after flush"
	conn_expect two "after flush"
	cmd_ok pr "$SERVER" add 80 8080 --steer
	open_conn three "$CLIENT" "$SERVER_IP6" 80
	conn_expect three srv8080
	[[ -r $ko ]] || skip "no module file to reinsert after rmmod (set PORTREDIR_KO)"
	cmd_ok rmmod portredir
	conn_send three "after rmmod"
	conn_expect three "after rmmod"
	conn_send one "still"
	conn_expect one "still"
	cmd_ok insmod "$ko"
	cmd_ok pr "$SERVER" list
	rule_count_is 0
}

# list, save, status, JSON and monitor say which rules steer.
steer_shows_mode() {
	local mon=$TMP_DIR/monitor events
	steer_needs_kmod
	setup_topology
	start_monitor "$mon"
	cmd_ok pr "$SERVER" add 80 8080 --steer
	cmd_ok pr "$SERVER" add 81 8080
	cmd_ok pr "$SERVER" list
	grep -qE '^tcp 80 .* -> 8080 .*  steer  connections 0' "$TMP_DIR/out" ||
		fail "list does not show the steering rule as such: $(<"$TMP_DIR/out")"
	grep -E '^tcp 81 ' "$TMP_DIR/out" | grep -q steer && fail "list shows the NAT rule as steering"
	cmd_ok pr "$SERVER" save
	[[ $(<"$TMP_DIR/out") == $'tcp 80 to 8080 --steer\ntcp 81 to 8080' ]] ||
		fail "save printed: $(<"$TMP_DIR/out")"
	cmd_ok pr "$SERVER" -j list
	python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); sys.exit([x["mode"] for x in r] != ["steer", "nat"])' \
		"$TMP_DIR/out" || fail "list -j modes are not [steer, nat]: $(<"$TMP_DIR/out")"
	cmd_ok pr "$SERVER" status
	grep -qx "steering: 1" "$TMP_DIR/out" || fail "status does not count the steering rule: $(<"$TMP_DIR/out")"
	cmd_ok pr "$SERVER" save
	cp "$TMP_DIR/out" "$TMP_DIR/saved"
	cmd_ok pr "$SERVER" flush
	cmd_ok pr "$SERVER" restore "$TMP_DIR/saved"
	cmd_ok pr "$SERVER" save
	cmp -s "$TMP_DIR/out" "$TMP_DIR/saved" || fail "restore of a save gave: $(<"$TMP_DIR/out")"
	busywait 5000 grep -qx "add tcp 81 to 8080" "$mon" || fail "monitor missed changes: $(cat "$mon")"
	events=$(monitor_events "$mon" | head -n 2)
	[[ $events == $'add tcp 80 to 8080 --steer\nadd tcp 81 to 8080' ]] ||
		fail "monitor did not show the mode: $events"
}

# What cannot steer is refused, with the reason, and changes nothing.
steer_refused() {
	setup_topology
	if [[ $BACKEND == nft ]]; then
		cmd_fail 1 "portredir: add tcp 80 to 8080 --steer: the nftables backend cannot steer: --steer needs the portredir kernel module (load it, or leave --steer out)" \
			pr "$SERVER" add 80 8080 --steer
		cmd_ok pr "$SERVER" list
		rule_count_is 0
		return
	fi
	cmd_fail 2 "portredir: --steer works for TCP only: udp keeps NAT (leave --steer out)" \
		pr "$SERVER" add udp 53 5353 --steer
	cmd_fail 2 "portredir: --steer works for TCP only: sctp keeps NAT (leave --steer out)" \
		pr "$SERVER" add sctp 80 8080 --steer
	cmd_ok pr "$SERVER" add 80 8080 --steer
	cmd_fail 1 "~^portredir: add tcp 80 to 8081: .*overlap" pr "$SERVER" add 80 8081
	cmd_ok pr "$SERVER" add 81 8080
	cmd_fail 1 "~^portredir: add tcp 81 to 8081 --steer: .*overlap" pr "$SERVER" add 81 8081 --steer
	cmd_ok pr "$SERVER" list
	rule_count_is 2
}

# name function arguments...
readonly CASES=(
	"steer: to the target's listener, port kept, no conntrack|steer_inbound_and_local"
	"steer: ranges, dev, -4 and --local|steer_ranges_and_selectors"
	"steer: no listener on the target|steer_without_listener"
	"steer: SYN cookies|steer_syn_cookies"
	"steer: TCP Fast Open|steer_fast_open"
	"steer: a reuseport group on the target|steer_reuseport_group"
	"steer: a TIME_WAIT socket on the ports is reused|steer_reuses_time_wait"
	"steer: established connections survive del, flush and rmmod|steer_established_survive"
	"steer: list, save, status, JSON and monitor show the mode|steer_shows_mode"
	"steer: UDP, SCTP, overlaps and the nft backend refused|steer_refused"
)

run_topic "$@"
