#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Redirects as a user sees them: over IPv4 and IPv6, for traffic from
# another host and from this one, for TCP, UDP and SCTP, with port ranges,
# one family, one direction, one input interface, on secondary addresses
# and VIPs, by service name; and what a rule leaves alone (other hosts,
# routed traffic, 127.0.0.1 from the wire).
#
# Every scenario runs once per backend in $BACKEND ("kmod nft" by default);
# the topology is drawn at the top of lib.sh.
#
#   BACKEND=nft ./redirect.sh          one backend
#   ./redirect.sh NAME...              only the scenarios named (./redirect.sh --list)

source "$(dirname "$0")/lib.sh"

# --- basic redirect ----------------------------------------------------------

# From the client namespace to the server's veth address.
redirect_inbound() {
	local server=$1
	setup_topology
	listen "$SERVER" 80
	listen "$SERVER" 8080
	expect_answer "$CLIENT" "$server" 80 srv80
	cmd_ok pr "$SERVER" add 80 8080
	expect_answer "$CLIENT" "$server" 80 srv8080
	expect_answer "$CLIENT" "$server" 8080 srv8080
	cmd_ok pr "$SERVER" del 80
	expect_answer "$CLIENT" "$server" 80 srv80
}

# Inside the server namespace, to loopback and to its own veth addresses.
redirect_local() {
	local addr
	setup_topology
	listen "$SERVER" 80
	listen "$SERVER" 8080
	for addr in 127.0.0.1 ::1 "$SERVER_IP4" "$SERVER_IP6"; do
		expect_answer "$SERVER" "$addr" 80 srv80
	done
	cmd_ok pr "$SERVER" add 80 8080
	for addr in 127.0.0.1 ::1 "$SERVER_IP4" "$SERVER_IP6"; do
		expect_answer "$SERVER" "$addr" 80 srv8080
	done
}

# A rule covers this host's own addresses, not connections it makes to
# other hosts.
local_leaves_other_hosts_alone() {
	setup_topology
	listen "$SERVER" 8080
	listen "$CLIENT" 80
	cmd_ok pr "$SERVER" add 80 8080
	expect_answer "$SERVER" "$CLIENT_IP4" 80 srv80
	expect_answer "$SERVER" "$CLIENT_IP6" 80 srv80
}

# Nor connections it routes: with $SERVER forwarding between the client and
# a host behind it, a connection to that host's port 80 reaches that host.
#   $CLIENT ---- veth0 $SERVER veth1 ---- veth0 $FAR
#                      198.51.100.1/24    198.51.100.2/24
#                      2001:db8:1::1/64   2001:db8:1::2/64
forwarded_left_alone() {
	setup_topology
	setup_ns FAR
	veth_pair "$SERVER" veth1 "$FAR" veth0
	ns_batch "$SERVER" <<-EOF
		addr add 198.51.100.1/24 dev veth1
		addr add 2001:db8:1::1/64 dev veth1 nodad
		link set veth1 up
	EOF
	ns_batch "$FAR" <<-EOF
		addr add 198.51.100.2/24 dev veth0
		addr add 2001:db8:1::2/64 dev veth0 nodad
		link set veth0 up
		route add default via 198.51.100.1
		route add default via 2001:db8:1::1
	EOF
	ns_batch "$CLIENT" <<-EOF
		route add 198.51.100.0/24 via $SERVER_IP4
		route add 2001:db8:1::/64 via $SERVER_IP6
	EOF
	in_ns "$SERVER" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 ||
		fail "cannot enable forwarding in $SERVER"
	listen "$FAR" 80
	listen "$SERVER" 8080
	cmd_ok pr "$SERVER" add 80 8080
	expect_answer "$CLIENT" "$SERVER_IP4" 80 srv8080
	expect_answer "$CLIENT" 198.51.100.2 80 srv80
	expect_answer "$CLIENT" 2001:db8:1::2 80 srv80
	# The router's own address on the far side is still its own.
	expect_answer "$FAR" 198.51.100.1 80 srv8080
}

# --- the rule model ------------------------------------------------------------

# Any protocol, inbound over both families and local.
redirect_protocol() {
	local proto=$1
	setup_topology
	if [[ $proto == sctp ]]; then
		# The listener is the probe: no SCTP in the kernel, no listener.
		( listen "$SERVER" 8080 sctp ) 2>/dev/null ||
			skip "this kernel cannot open SCTP sockets (CONFIG_IP_SCTP)"
	else
		listen "$SERVER" 8080 "$proto"
	fi
	listen "$SERVER" 80 "$proto"
	expect_answer "$CLIENT" "$SERVER_IP4" 80 srv80 "$proto"
	cmd_ok pr "$SERVER" add "$proto" 80 8080
	expect_answer "$CLIENT" "$SERVER_IP4" 80 srv8080 "$proto"
	expect_answer "$CLIENT" "$SERVER_IP6" 80 srv8080 "$proto"
	expect_answer "$SERVER" 127.0.0.1 80 srv8080 "$proto"
	expect_answer "$SERVER" ::1 80 srv8080 "$proto"
	# A TCP rule does not take another protocol's traffic, nor the reverse.
	if [[ $proto != tcp ]]; then
		listen "$SERVER" 80
		listen "$SERVER" 8080
		expect_answer "$CLIENT" "$SERVER_IP4" 80 srv80
	fi
	cmd_ok pr "$SERVER" del "$proto" 80
	expect_answer "$CLIENT" "$SERVER_IP4" 80 srv80 "$proto"
}

# A range onto a range keeps the offset; a range onto one port sends every
# port there.
redirect_ranges() {
	local port
	setup_topology
	for port in 9000 9003 9009; do
		listen "$SERVER" "$port"
	done
	listen "$SERVER" 8010
	cmd_ok pr "$SERVER" add 8000-8009 to 9000-9009
	expect_answer "$CLIENT" "$SERVER_IP4" 8000 srv9000
	expect_answer "$CLIENT" "$SERVER_IP6" 8003 srv9003
	expect_answer "$SERVER" 127.0.0.1 8009 srv9009
	expect_answer "$CLIENT" "$SERVER_IP4" 8010 srv8010
	cmd_ok pr "$SERVER" add 7000-7099 9000
	expect_answer "$CLIENT" "$SERVER_IP4" 7000 srv9000
	expect_answer "$CLIENT" "$SERVER_IP4" 7055 srv9000
	expect_answer "$SERVER" ::1 7099 srv9000
	cmd_ok pr "$SERVER" list
	rule_count_is 2
	rule_lines | grep -Eq '^ *tcp +8000-8009\b.*\b9000-9009\b' ||
		fail "list does not show the range rule: $(cat "$TMP_DIR/out")"
	# Ranges overlap when any port does.
	cmd_fail 1 'portredir: add tcp 8009-8020 to 9100: overlaps existing rule "tcp 8000-8009 to 9000-9009"' \
		pr "$SERVER" add 8009-8020 9100
	cmd_fail 2 '~^portredir: target range 9000-9001 has 2 ports but 8000-8009 has 10' \
		pr "$SERVER" add 8000-8009 9000-9001
	cmd_ok pr "$SERVER" del 8000-8009
	expect_answer "$CLIENT" "$SERVER_IP4" 8003 none
}

# -4 or -6: one family only, the other one untouched.
redirect_one_family() {
	local flag=$1 yes4=srv8080 yes6=srv8080
	[[ $flag == -4 ]] && yes6=srv80
	[[ $flag == -6 ]] && yes4=srv80
	setup_topology
	listen "$SERVER" 80
	listen "$SERVER" 8080
	cmd_ok pr "$SERVER" add 80 8080 "$flag"
	expect_answer "$CLIENT" "$SERVER_IP4" 80 "$yes4"
	expect_answer "$CLIENT" "$SERVER_IP6" 80 "$yes6"
	expect_answer "$SERVER" 127.0.0.1 80 "$yes4"
	expect_answer "$SERVER" ::1 80 "$yes6"
	# The other family is free for a rule of its own.
	cmd_ok pr "$SERVER" add 80 8081 "$([[ $flag == -4 ]] && echo -6 || echo -4)"
	cmd_ok pr "$SERVER" list
	rule_count_is 2
	cmd_fail 1 "portredir: del tcp 80: no such rule" pr "$SERVER" del 80
	cmd_ok pr "$SERVER" del 80 "$flag"
}

# --inbound or --local: one direction only.
redirect_one_direction() {
	local flag=$1 inbound=srv8080 local=srv8080 addr
	[[ $flag == --inbound ]] && local=srv80
	[[ $flag == --local ]] && inbound=srv80
	setup_topology
	listen "$SERVER" 80
	listen "$SERVER" 8080
	cmd_ok pr "$SERVER" add 80 8080 "$flag"
	expect_answer "$CLIENT" "$SERVER_IP4" 80 "$inbound"
	expect_answer "$CLIENT" "$SERVER_IP6" 80 "$inbound"
	for addr in 127.0.0.1 ::1 "$SERVER_IP4" "$SERVER_IP6"; do
		expect_answer "$SERVER" "$addr" 80 "$local"
	done
	cmd_ok pr "$SERVER" add 80 8081 "$([[ $flag == --local ]] && echo --inbound || echo --local)"
	cmd_ok pr "$SERVER" del 80 "$flag"
	cmd_ok pr "$SERVER" list
	rule_count_is 1
}

# dev IFNAME: traffic arriving on that interface only. A second client
# reaches the server over veth1:
#   $CLIENT2 veth0 198.51.100.1/24 ---- 198.51.100.2/24 veth1 $SERVER
redirect_dev() {
	setup_topology
	setup_ns CLIENT2
	veth_pair "$CLIENT2" veth0 "$SERVER" veth1
	ns_batch "$CLIENT2" <<-EOF
		addr add 198.51.100.1/24 dev veth0
		link set veth0 up
	EOF
	ns_batch "$SERVER" <<-EOF
		addr add 198.51.100.2/24 dev veth1
		link set veth1 up
	EOF
	listen "$SERVER" 80
	listen "$SERVER" 8080
	cmd_ok pr "$SERVER" add 80 8080 dev veth0
	expect_answer "$CLIENT" "$SERVER_IP4" 80 srv8080
	expect_answer "$CLIENT" "$SERVER_IP6" 80 srv8080
	expect_answer "$CLIENT2" 198.51.100.2 80 srv80
	expect_answer "$SERVER" 127.0.0.1 80 srv80
	cmd_ok pr "$SERVER" list
	rule_lines | grep -Eq '\bdev veth0\b' || fail "list does not show 'dev veth0': $(cat "$TMP_DIR/out")"
	# The same port on another interface is another rule.
	cmd_ok pr "$SERVER" add 80 8080 dev veth1
	expect_answer "$CLIENT2" 198.51.100.2 80 srv8080
	cmd_fail 2 "portredir: \"dev veth0\" matches inbound traffic only and cannot be combined with --local" \
		pr "$SERVER" add 81 8080 --local dev veth0
	cmd_fail 2 "portredir: unknown interface \"nosuchdev\" (expected an interface of this network namespace, see ip link)" \
		pr "$SERVER" add 81 8080 dev nosuchdev
	# The module deletes a rule with its interface (uapi header).
	if [[ $BACKEND == kmod ]]; then
		ip -n "$SERVER" link del veth1
		cmd_ok pr "$SERVER" list
		rule_count_is 1
	fi
}

# --- only the port changes ----------------------------------------------------

# A service bound to a secondary address only: connections to that
# address's port 80 reach it, and it sees the client's own address.
redirect_secondary_address() {
	setup_topology
	ns_batch "$SERVER" <<-EOF
		addr add 192.0.2.5/24 dev veth0
		addr add 2001:db8::5/64 dev veth0 nodad
	EOF
	listen_at "$SERVER" 192.0.2.5 8080
	listen_at "$SERVER" 2001:db8::5 8080
	cmd_ok pr "$SERVER" add 80 8080
	expect_answer "$CLIENT" 192.0.2.5 80 "srv8080 from $CLIENT_IP4"
	expect_answer "$CLIENT" 2001:db8::5 80 "srv8080 from $CLIENT_IP6_SEEN"
	expect_answer "$SERVER" 192.0.2.5 80 "srv8080 from $SERVER_IP4"
	# Nothing listens on 8080 at the primary addresses.
	expect_answer "$CLIENT" "$SERVER_IP4" 80 none
	expect_answer "$CLIENT" "$SERVER_IP6" 80 none
}

# A service address on lo (a VIP), reached from the client through the
# server's veth0:
#   $CLIENT -- route 203.0.113.1, 2001:db8:99::1 via veth0 --> $SERVER lo
redirect_vip_on_lo() {
	setup_topology
	ns_batch "$SERVER" <<-EOF
		addr add 203.0.113.1/32 dev lo
		addr add 2001:db8:99::1/128 dev lo
	EOF
	ns_batch "$CLIENT" <<-EOF
		route add 203.0.113.1/32 via $SERVER_IP4
		route add 2001:db8:99::1/128 via $SERVER_IP6
	EOF
	listen_at "$SERVER" 203.0.113.1 8080
	listen_at "$SERVER" 2001:db8:99::1 8080
	cmd_ok pr "$SERVER" add 80 8080
	expect_answer "$CLIENT" 203.0.113.1 80 "srv8080 from $CLIENT_IP4"
	expect_answer "$CLIENT" 2001:db8:99::1 80 "srv8080 from $CLIENT_IP6_SEEN"
}

# The input interface has no IPv4 address: a second client on an IPv6-only
# link reaches the server over IPv6, and over IPv4 to its veth0 address
# (a host route each way):
#   $CLIENT2 veth0 2001:db8:2::1/64 ---- 2001:db8:2::2/64 veth1 $SERVER
#                  198.51.100.1/24        (no IPv4)
redirect_input_without_ipv4() {
	setup_topology
	setup_ns CLIENT2
	veth_pair "$CLIENT2" veth0 "$SERVER" veth1
	ns_batch "$CLIENT2" <<-EOF
		addr add 198.51.100.1/24 dev veth0
		addr add 2001:db8:2::1/64 dev veth0 nodad
		link set veth0 up
		route add $SERVER_IP4/32 dev veth0
	EOF
	ns_batch "$SERVER" <<-EOF
		addr add 2001:db8:2::2/64 dev veth1 nodad
		link set veth1 up
		route add 198.51.100.1/32 dev veth1
	EOF
	listen "$SERVER" 80
	listen "$SERVER" 8080
	# Both ways over the link work before the rule.
	expect_answer "$CLIENT2" 2001:db8:2::2 80 srv80
	expect_answer "$CLIENT2" "$SERVER_IP4" 80 srv80
	cmd_ok pr "$SERVER" add 80 8080
	expect_answer "$CLIENT2" 2001:db8:2::2 80 srv8080
	expect_answer "$CLIENT2" "$SERVER_IP4" 80 srv8080
}

# packets_seen NS TABLE CHAIN: the packet count of the one counter there.
packets_seen() {
	in_ns "$1" nft list chain ip "$2" "$3" | sed -n 's/.*counter packets \([0-9]*\).*/\1/p'
}

seen_some() {
	(($(packets_seen "$SERVER" seen prerouting) > 0))
}

# A SYN for 127.0.0.1:80 arriving from the wire (the client's egress
# rewrites its destination) is not redirected: loopback destinations are
# redirected for traffic on a loopback device only. It does reach the
# server's prerouting, after NAT, where a counter of the test sees it;
# the rule's counter stays at 0. (It is not answered either way: the
# server routes no reply from 127.0.0.1 out of veth0.)
loopback_from_wire_not_redirected() {
	local n
	setup_topology
	listen "$SERVER" 80
	listen "$SERVER" 8080
	cmd_ok pr "$SERVER" add 80 8080
	cmd_ok in_ns "$CLIENT" nft -f - <<-EOF
		table netdev rewrite {
			chain egress {
				type filter hook egress device veth0 priority 0;
				ip daddr $SERVER_IP4 tcp dport 80 ip daddr set 127.0.0.1
			}
		}
	EOF
	cmd_ok in_ns "$SERVER" nft -f - <<-EOF
		table ip seen {
			chain prerouting {
				type filter hook prerouting priority dstnat + 10;
				ip saddr $CLIENT_IP4 tcp dport { 80, 8080 } counter
			}
		}
	EOF
	(
		close_conn_fds
		exec ip netns exec "$CLIENT" timeout 30 socat -u \
			"TCP4:$SERVER_IP4:80,connect-timeout=25" - </dev/null >/dev/null 2>&1
	) &
	echo $! >>"$TMP_DIR/pids"
	# Under emulation starting the client alone can take seconds.
	busywait 20000 seen_some || fail "the SYN for 127.0.0.1 did not reach the server"
	n=$(connections_of 80)
	[[ $n == 0 ]] || fail "a SYN for 127.0.0.1 from the wire was redirected ($n connection(s))"
	# The rule itself counts: a connection to the server's own address.
	expect_answer "$SERVER" "$SERVER_IP4" 80 srv8080
	n=$(connections_of 80)
	[[ $n == 1 ]] || fail "the rule counted $n connection(s), wanted 1"
}

# Service names from /etc/services wherever a port goes, and in list.
service_names() {
	checktool "grep -Eq '^http-alt[[:space:]]+8080/tcp' /etc/services" "netbase's /etc/services names port 8080 http-alt"
	setup_topology
	listen "$SERVER" 8080
	cmd_ok pr "$SERVER" add http http-alt
	expect_answer "$CLIENT" "$SERVER_IP4" 80 srv8080
	cmd_ok pr "$SERVER" list
	rule_lines | grep -Eq '^ *tcp +80 \(http\b.*8080 \(http-alt\b' ||
		fail "list does not name the services: $(cat "$TMP_DIR/out")"
	cmd_ok pr "$SERVER" -n list
	rule_lines | grep -q 'http' && fail "list -n still names services: $(cat "$TMP_DIR/out")"
	cmd_ok pr "$SERVER" del http
	cmd_ok pr "$SERVER" list
	rule_count_is 0
}

# name function arguments...
readonly CASES=(
	"redirect inbound IPv4|redirect_inbound $SERVER_IP4"
	"redirect inbound IPv6|redirect_inbound $SERVER_IP6"
	"redirect local to 127.0.0.1, ::1 and own addresses|redirect_local"
	"local rule leaves connections to other hosts alone|local_leaves_other_hosts_alone"
	"routed connections pass through unredirected|forwarded_left_alone"
	"udp redirect|redirect_protocol udp"
	"sctp redirect|redirect_protocol sctp"
	"port ranges, offset and many-to-one|redirect_ranges"
	"-4 redirects IPv4 only|redirect_one_family -4"
	"-6 redirects IPv6 only|redirect_one_family -6"
	"--inbound leaves local traffic alone|redirect_one_direction --inbound"
	"--local leaves inbound traffic alone|redirect_one_direction --local"
	"dev matches one input interface|redirect_dev"
	"a service on a secondary address, IPv4 and IPv6|redirect_secondary_address"
	"a VIP on lo reached from another namespace|redirect_vip_on_lo"
	"an input interface without an IPv4 address|redirect_input_without_ipv4"
	"127.0.0.1 from the wire is not redirected|loopback_from_wire_not_redirected"
	"service names for ports|service_names"
)

run_topic "$@"
