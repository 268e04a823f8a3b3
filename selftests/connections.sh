#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Rules and the connections they carry: a rule change affects new
# connections only (established ones live on after del and flush, a steady
# UDP flow follows add, del, flush and restore unless --keep-conntrack),
# the counter counts redirected connections exactly, and a namespace
# without rules tracks none.
#
# Every scenario runs once per backend in $BACKEND ("kmod nft" by default);
# the topology is drawn at the top of lib.sh.
#
#   BACKEND=nft ./connections.sh          one backend
#   ./connections.sh NAME...              only the scenarios named (./connections.sh --list)

source "$(dirname "$0")/lib.sh"

# --- a namespace without rules -----------------------------------------------

# A namespace that never had a rule pays nothing: reading the rules sets up
# no hooks, so its connections are not even tracked. The first rule brings
# conntrack in, for every connection of the namespace; that stays after the
# last rule goes (README, "Idle cost").
idle_namespace_costs_nothing() {
	local n
	setup_topology
	listen "$SERVER" 80
	cmd_ok pr "$SERVER" list
	cmd_ok pr "$SERVER" status
	expect_answer "$CLIENT" "$SERVER_IP4" 80 srv80
	expect_answer "$SERVER" 127.0.0.1 80 srv80
	n=$(conntrack_count "$SERVER")
	[[ $n == 0 ]] || fail "a namespace without rules tracks $n connection(s)"
	cmd_ok pr "$SERVER" add 81 8080
	cmd_ok pr "$SERVER" del 81
	expect_answer "$CLIENT" "$SERVER_IP4" 80 srv80
	n=$(conntrack_count "$SERVER")
	((n > 0)) || fail "after its first rule, the namespace tracks no connection"
}

# --- rule changes and established connections ------------------------------

# ACTION ("del" or "flush") removes the only rule while a redirected
# connection to HOST (reached from namespace FROM) is open: new connections
# go to port 80 again, the open one still carries data both ways.
established_survives() {
	local action=$1 from=$2 host=$3
	setup_topology
	listen "$SERVER" 80
	listen "$SERVER" 8080
	cmd_ok pr "$SERVER" add 80 8080
	open_conn est "${!from}" "$host" 80
	conn_expect est srv8080
	conn_send est before
	conn_expect est before
	if [[ $action == del ]]; then
		cmd_ok pr "$SERVER" del 80
	else
		cmd_ok pr "$SERVER" flush
	fi
	expect_answer "${!from}" "$host" 80 srv80
	conn_send est after
	conn_expect est after
	conn_close est
}

# --- exact counters ------------------------------------------------------------

# syns_to_80_at_least N: the server's own counter of SYNs to port 80 that
# reached its input (not redirected) is N or more.
syns_to_80_at_least() {
	local out
	out=$(in_ns "$SERVER" nft list counter inet prtest_ct syn80 2>/dev/null)
	[[ $out =~ packets\ ([0-9]+) ]] && ((BASH_REMATCH[1] >= $1))
}

# The counter counts connections the rule redirected, nothing else. A
# connection attempt older than the rule (conntrack already on, its SYN
# unanswered because the server's reset is dropped) keeps retransmitting
# its SYN after the rule arrives: that entry is confirmed and cannot be
# redirected, so it must not be counted.
counter_is_exact() {
	local client_pid i
	setup_topology
	listen "$SERVER" 8080
	in_ns "$SERVER" nft -f - <<-EOF || fail "cannot load the server's filter table"
		table inet prtest_ct {
			counter syn80 { }
			chain in {
				type filter hook input priority 0;
				tcp dport 80 tcp flags syn ct state new counter name syn80
			}
			chain out {
				type filter hook output priority -400;
				tcp sport 80 tcp flags rst drop
			}
		}
	EOF
	in_ns "$CLIENT" sysctl -qw net.ipv4.tcp_syn_retries=3 ||
		fail "cannot set tcp_syn_retries in the client"
	(
		close_conn_fds
		exec ip netns exec "$CLIENT" timeout 20 socat -u \
			"TCP4:$SERVER_IP4:80" - </dev/null >/dev/null 2>&1
	) &
	client_pid=$!
	echo "$client_pid" >>"$TMP_DIR/pids"
	busywait 5000 syns_to_80_at_least 1 || fail "the first SYN did not reach the server"
	cmd_ok pr "$SERVER" add 80 8080
	busywait 5000 syns_to_80_at_least 2 ||
		fail "no SYN retransmitted to port 80 after the rule was added"
	for i in 1 2 3; do
		expect_answer "$CLIENT" "$SERVER_IP4" 80 srv8080
	done
	expect_answer "$SERVER" 127.0.0.1 80 srv8080
	i=$(connections_of 80)
	[[ $i == 4 ]] || fail "the counter shows $i after 4 redirected connections and a retransmitted SYN"
}

# --- UDP flows and rule changes ------------------------------------------------

# udp_answerer NS PORT: answers every datagram at once with "srvPORT", over
# IPv4 and IPv6 (socat's UDP listener forks one child per peer and would
# answer a steady flow once).
udp_answerer() {
	(
		close_conn_fds
		exec ip netns exec "$1" python3 -c '
import socket, sys
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", port))
while True:
    s.sendto(b"srv%d\n" % port, s.recvfrom(2048)[1])' "$2" </dev/null >/dev/null 2>&1
	) &
	local pid=$!
	disown $pid
	# python3 loads slowly from 9p under emulation on a loaded host.
	busywait 30000 pid_listens "$pid" "$1" udp "$2" ||
		fail "the UDP answerer on port $2 of $1 did not come up"
}

# udp_expect WANT WHEN: the next datagram of the flow opened as "udp" is
# answered by WANT. One datagram at a time, each answered before the next
# leaves, so that no answer is on its way while a rule changes: the old
# service's answer to a datagram it got before the change would make a
# conntrack entry of its own, the other way round, that keeps the flow on
# the old port (README, "Rules apply to new connections").
udp_expect() {
	local out=$TMP_DIR/conn-udp/out n got
	n=$(wc -l <"$out")
	conn_send udp ping
	busywait 10000 more_lines_than "$out" "$n" ||
		fail "the UDP flow got no answer $2"
	got=$(tail -n 1 "$out")
	[[ $got == "$1" ]] || fail "the UDP flow was answered by '$got' $2, not by '$1'"
}

more_lines_than() {
	(($(wc -l <"$1") > $2))
}

# A UDP flow that stays (one socket, its conntrack entry alive) moves to
# the target with the next datagram after a rule is added and back after it
# is deleted (its conntrack entry is deleted with each change); with
# --keep-conntrack it stays where it was. An established TCP connection
# through another rule is never touched, even by flush.
udp_flow_follows_rules() {
	local keep=$1
	setup_topology
	udp_answerer "$SERVER" 80
	udp_answerer "$SERVER" 8080
	listen "$SERVER" 8081
	cmd_ok pr "$SERVER" add 81 8081
	open_conn tcp "$CLIENT" "$SERVER_IP4" 81
	conn_expect tcp srv8081
	open_conn udp "$CLIENT" "$SERVER_IP4" 80 udp
	udp_expect srv80 "before any rule"
	if [[ $keep == keep ]]; then
		cmd_ok pr "$SERVER" --keep-conntrack add udp 80 8080
		udp_expect srv80 "after add --keep-conntrack"
		udp_expect srv80 "after add --keep-conntrack, again"
		expect_answer "$CLIENT" "$SERVER_IP4" 80 srv8080 udp
		cmd_ok pr "$SERVER" --keep-conntrack flush
	else
		cmd_ok pr "$SERVER" add udp 80 8080
		udp_expect srv8080 "after add"
		cmd_ok pr "$SERVER" del udp 80
		udp_expect srv80 "after del"
		cmd_ok pr "$SERVER" add udp 80 8080
		udp_expect srv8080 "after a second add"
		cmd_ok pr "$SERVER" flush
		udp_expect srv80 "after flush"
		echo "udp 80 to 8080" | cmd_ok pr "$SERVER" restore
		udp_expect srv8080 "after restore"
	fi
	conn_send tcp still-there
	conn_expect tcp still-there
}

# name function arguments...
readonly CASES=(
	"a namespace without rules tracks no connection|idle_namespace_costs_nothing"
	"del stops new connections, established IPv4 inbound one lives on|established_survives del CLIENT $SERVER_IP4"
	"del of the last rule, established local ::1 one lives on|established_survives del SERVER ::1"
	"flush of the last rule, established IPv6 inbound one lives on|established_survives flush CLIENT $SERVER_IP6"
	"counter counts redirected connections only, not retransmitted SYNs|counter_is_exact"
	"a steady UDP flow follows add, del, flush and restore|udp_flow_follows_rules"
	"--keep-conntrack leaves a steady UDP flow where it was|udp_flow_follows_rules keep"
)

run_topic "$@"
