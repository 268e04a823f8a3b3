#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What a user of portredir sees: redirects that work over IPv4 and IPv6, for
# traffic from another host and from this one, rule changes that affect new
# connections only, errors that say what went wrong, and the permission model.
#
# Every scenario runs once per backend in $BACKEND ("kmod nft" by default):
# the same function drives `portredir -b kmod` and `portredir -b nft`. The
# topology is drawn at the top of lib.sh.
#
#   BACKEND=nft ./portredir.sh              one backend
#   ./portredir.sh redirect_local           only the scenarios named

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

# Conntrack entries of namespace NS: none at all while nothing in NS has
# asked for connection tracking.
conntrack_count() {
	in_ns "$1" cat /proc/sys/net/netfilter/nf_conntrack_count 2>/dev/null || echo 0
}

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

flush_removes_all() {
	setup_topology
	listen "$SERVER" 80
	listen "$SERVER" 81
	listen "$SERVER" 8080
	cmd_ok pr "$SERVER" add 80 8080
	cmd_ok pr "$SERVER" add 81 8080
	expect_answer "$CLIENT" "$SERVER_IP4" 81 srv8080
	cmd_ok pr "$SERVER" flush
	cmd_ok pr "$SERVER" list
	rule_count_is 0
	expect_answer "$CLIENT" "$SERVER_IP4" 80 srv80
	expect_answer "$CLIENT" "$SERVER_IP4" 81 srv81
	# Flushing an empty table is no error.
	cmd_ok pr "$SERVER" flush
}

# --- list --------------------------------------------------------------------

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
# on PORT (the number after "connections" or in a column so headed).
connections_of() {
	local header line
	pr "$SERVER" list >"$TMP_DIR/out" 2>"$TMP_DIR/err" || fail "list failed: $(cat "$TMP_DIR/err")"
	line=$(rule_lines | grep -E "^ *tcp +$1\b" | head -n 1)
	[[ -n $line ]] || fail "list does not show the rule on port $1: $(cat "$TMP_DIR/out")"
	header=$(grep -iE 'conn' "$TMP_DIR/out" | grep -vE '^ *(tcp|udp|sctp)\b' | head -n 1)
	if [[ $line =~ conn[a-z]*[\ =:]+([0-9]+) ]]; then
		echo "${BASH_REMATCH[1]}"
	elif [[ -n $header ]]; then
		# The column whose header starts with "conn".
		local i col=0 words
		read -ra words <<<"$header"
		for i in "${!words[@]}"; do
			[[ ${words[$i],,} == conn* ]] && col=$i
		done
		read -ra words <<<"$line"
		echo "${words[$col]}"
	fi
}

list_shows_rule_and_counters() {
	local before after i
	setup_topology
	listen "$SERVER" 8080
	cmd_ok pr "$SERVER" list
	rule_count_is 0
	cmd_ok pr "$SERVER" add 80 8080
	cmd_ok pr "$SERVER" list
	rule_count_is 1
	rule_lines | grep -Eq '^ *tcp +80\b.*\b8080\b' ||
		fail "list does not show 'tcp 80 ... 8080': $(cat "$TMP_DIR/out")"
	before=$(connections_of 80)
	[[ $before =~ ^[0-9]+$ ]] || fail "list shows no connection counter: $(cat "$TMP_DIR/out")"
	for i in 1 2 3; do
		expect_answer "$CLIENT" "$SERVER_IP4" 80 srv8080
	done
	expect_answer "$SERVER" ::1 80 srv8080
	after=$(connections_of 80)
	((after == before + 4)) ||
		fail "the counter went from $before to $after after 4 connections"
}

# --- errors --------------------------------------------------------------------

add_duplicate_fails() {
	setup_topology
	cmd_ok pr "$SERVER" add 80 8080
	cmd_fail 1 'portredir: add tcp 80 to 8080: overlaps existing rule "tcp 80 to 8080"' \
		pr "$SERVER" add 80 8080
	cmd_fail 1 'portredir: add tcp 80 to 9090: overlaps existing rule "tcp 80 to 8080"' \
		pr "$SERVER" add 80 9090
	cmd_fail 1 'portredir: add tcp 80 to 9090 -6: overlaps existing rule "tcp 80 to 8080"' \
		pr "$SERVER" add 80 9090 -6
	cmd_ok pr "$SERVER" list
	rule_count_is 1
}

del_missing_fails() {
	setup_topology
	cmd_fail 1 "portredir: del tcp 80: no such rule" pr "$SERVER" del 80
	cmd_ok pr "$SERVER" add 80 8080
	cmd_fail 1 "portredir: del tcp 81: no such rule" pr "$SERVER" del 81
	# A selector must match exactly: 80 for IPv4 only is not the rule on 80.
	cmd_fail 1 "portredir: del tcp 80 -4: no such rule" pr "$SERVER" del 80 -4
	cmd_ok pr "$SERVER" list
	rule_count_is 1
}

# Overlaps and selectors among rules side by side, in several maps: an add
# that touches any port of a rule of its class is refused naming the lowest
# such rule, a del must give a rule's selector exactly, and rules that only
# neighbour others add and delete fine.
neighbours_overlap_and_del() {
	local args want
	setup_topology
	for args in "79 7979" "80 8080" "82-90 9000" "100-105 7100-7105" \
		"200-300 8000 -4 --local" "443 8443 dev veth0" "65000-65535 1000"; do
		# shellcheck disable=SC2086 # the rule's words
		cmd_ok pr "$SERVER" add $args
	done
	while IFS='|' read -r args want; do
		# shellcheck disable=SC2086 # the command's words
		cmd_fail 1 "portredir: $want" pr "$SERVER" $args
	done <<-'EOF'
		add 85 1|add tcp 85 to 1: overlaps existing rule "tcp 82-90 to 9000"
		add 80-81 1|add tcp 80-81 to 1: overlaps existing rule "tcp 80 to 8080"
		add 103 1|add tcp 103 to 1: overlaps existing rule "tcp 100-105 to 7100-7105"
		add 250 1 --local|add tcp 250 to 1 --local: overlaps existing rule "tcp 200-300 to 8000 -4 --local"
		add 443 1 --inbound|add tcp 443 to 1 --inbound: overlaps existing rule "tcp 443 to 8443 dev veth0"
		add 65535 1 -6|add tcp 65535 to 1 -6: overlaps existing rule "tcp 65000-65535 to 1000"
		add 64990-65010 1 -4|add tcp 64990-65010 to 1 -4: overlaps existing rule "tcp 65000-65535 to 1000"
		del 82-89|del tcp 82-89: no such rule
		del 83|del tcp 83: no such rule
		del 82-91|del tcp 82-91: no such rule
		del 100-104|del tcp 100-104: no such rule
		del 101|del tcp 101: no such rule
		del 200-300|del tcp 200-300: no such rule
		del 443 --inbound|del tcp 443 --inbound: no such rule
		del 65000-65534|del tcp 65000-65534: no such rule
		del 65001-65535|del tcp 65001-65535: no such rule
	EOF
	cmd_ok pr "$SERVER" list
	rule_count_is 7
	for args in "81 8181" "91-99 1 dev veth0" "250 1 -6" "250 1 -4 --inbound" \
		"udp 80 1" "64999 1"; do
		# shellcheck disable=SC2086
		cmd_ok pr "$SERVER" add $args
	done
	for args in 79 80 81 82-90 100-105 "200-300 -4 --local" "443 dev veth0" \
		65000-65535 "91-99 dev veth0" "250 -6" "250 -4 --inbound" "udp 80" 64999; do
		# shellcheck disable=SC2086
		cmd_ok pr "$SERVER" del $args
	done
	cmd_ok pr "$SERVER" list
	rule_count_is 0
}

usage_errors() {
	local args
	setup_topology
	while IFS= read -r args; do
		# shellcheck disable=SC2086 # each line is a word list
		cmd_fail 2 "~^portredir: " pr "$SERVER" $args
	done <<-EOF
		frobnicate
		add
		add 80
		add 0 8080
		add 80 0
		add 65536 8080
		add 80 8080 extra
		add 90-80 8080
		del
		add nosuchservice 8080
	EOF
	cmd_fail 2 "~^portredir: " in_ns "$SERVER" "$PORTREDIR"
	cmd_fail 2 "~^portredir: " in_ns "$SERVER" "$PORTREDIR" -b nosuchbackend list
	cmd_ok pr "$SERVER" list
	rule_count_is 0
}

# Output goes to a full disk: the verbs that print must say so and exit 1,
# or a save cut short would restore as a different table.
to_full() { "$@" >/dev/full; }

output_write_errors() {
	local verb port
	setup_topology
	cmd_ok pr "$SERVER" add 80 8080
	for verb in save list status "-j save" "-j list" "-j status"; do
		# shellcheck disable=SC2086 # verb is an option and a verb
		cmd_fail 1 "portredir: ${verb#-j }: cannot write the output: No space left on device" \
			to_full pr "$SERVER" $verb
	done
	# More than stdio's buffer: the write fails before the final flush.
	for port in $(seq 1000 2999); do
		echo "tcp $port to $((port + 20000))"
	done >"$TMP_DIR/many.rules"
	cmd_ok pr "$SERVER" restore "$TMP_DIR/many.rules"
	cmd_fail 1 "portredir: save: cannot write the output: No space left on device" \
		to_full pr "$SERVER" save
	cmd_ok pr "$SERVER" list
	rule_count_is 2000
}

# --- permissions and namespaces -----------------------------------------------

unprivileged_refused() {
	local verb
	checktool "setpriv --help" "needed to drop privileges"
	setup_topology
	listen "$SERVER" 80
	listen "$SERVER" 8080
	cmd_ok pr "$SERVER" add 80 8080
	cmd_ok pr "$SERVER" list
	cp "$TMP_DIR/out" "$TMP_DIR/list.before"
	for verb in "add 81 8080" "del 80" "flush"; do
		# shellcheck disable=SC2086
		cmd_fail 1 "~^portredir: .*(Operation not permitted|permission)" \
			in_ns "$SERVER" setpriv --reuid=65534 --regid=65534 --clear-groups \
			--inh-caps=-all --bounding-set=-all "$PORTREDIR" -b "$BACKEND" $verb
	done
	cmd_ok pr "$SERVER" list
	diff -u "$TMP_DIR/list.before" "$TMP_DIR/out" >/dev/null ||
		fail "an unprivileged process changed the rules: $(cat "$TMP_DIR/out")"
	expect_answer "$CLIENT" "$SERVER_IP4" 80 srv8080
}

# Run inside `unshare -U -r -n`: root of a user namespace that owns this
# network namespace, and of nothing else.
userns_body() {
	local got port pids=
	ip link set lo up
	for port in 80 8080; do
		socat -t 5 "TCP6-LISTEN:$port,fork,reuseaddr,ipv6only=0" \
			SYSTEM:"echo srv$port; exec cat" </dev/null >/dev/null 2>&1 &
		pids+=" $!"
	done
	# shellcheck disable=SC2064 # the pids are known now
	trap "kill $pids 2>/dev/null; rm -rf '$TMP_DIR'" EXIT
	busywait 5000 sh -c '[ -n "$(ss -Hlnt "sport = :8080")" ] && [ -n "$(ss -Hlnt "sport = :80")" ]' ||
		fail "listeners in the user namespace did not come up"
	"$PORTREDIR" -b "$BACKEND" add 80 8080 || fail "root of the user namespace cannot add a rule"
	got=$(timeout 5 socat -T 4 -t 4 - TCP4:127.0.0.1:80 </dev/null | head -n 1)
	[[ $got == srv8080 ]] || fail "the rule added in the user namespace did not redirect: got '$got'"
	"$PORTREDIR" -b "$BACKEND" list | grep -Eq '^ *tcp +80\b' || fail "list in the user namespace misses the rule"
	"$PORTREDIR" -b "$BACKEND" del 80 || fail "root of the user namespace cannot delete its rule"
	got=$(timeout 5 socat -T 4 -t 4 - TCP6:[::1]:80 </dev/null | head -n 1)
	[[ $got == srv80 ]] || fail "after del, port 80 answered '$got'"
}

userns_owns_its_netns() {
	checktool "unshare -U -r -n true" "user namespaces are needed"
	setup_topology
	# Root of a new user namespace has no say over a network namespace that
	# the initial user namespace owns.
	cmd_fail 1 "~^portredir: .*(Operation not permitted|permission)" \
		in_ns "$SERVER" unshare -U -r "$PORTREDIR" -b "$BACKEND" add 80 8080
	cmd_ok pr "$SERVER" list
	rule_count_is 0
	# ...but it manages the one it owns.
	cmd_ok unshare -U -r -n env BACKEND="$BACKEND" PORTREDIR="$PORTREDIR" \
		bash "$SELFTEST_DIR/portredir.sh" --inside userns_body
}

namespaces_isolated() {
	setup_topology
	listen "$SERVER" 80
	listen "$SERVER" 8080
	listen "$CLIENT" 80
	listen "$CLIENT" 8080
	cmd_ok pr "$SERVER" add 80 8080
	cmd_ok pr "$CLIENT" list
	rule_count_is 0
	expect_answer "$CLIENT" 127.0.0.1 80 srv80
	expect_answer "$CLIENT" "$CLIENT_IP6" 80 srv80
	expect_answer "$SERVER" 127.0.0.1 80 srv8080
	# The same rule in the client namespace is no duplicate.
	cmd_ok pr "$CLIENT" add 80 8080
	expect_answer "$CLIENT" 127.0.0.1 80 srv8080
	cmd_ok pr "$SERVER" del 80
	expect_answer "$CLIENT" 127.0.0.1 80 srv8080
	expect_answer "$SERVER" 127.0.0.1 80 srv80
}

# Deleting a namespace that still has rules and open redirected
# connections; the kernel log check of the VM run catches what goes wrong.
netns_teardown_with_rules() {
	setup_topology
	listen "$SERVER" 8080
	cmd_ok pr "$SERVER" add 80 8080
	cmd_ok pr "$SERVER" add 81 8080 -6
	open_conn est "$CLIENT" "$SERVER_IP4" 80
	conn_expect est srv8080
	teardown_namespaces
	setup_topology
	cmd_ok pr "$SERVER" list
	rule_count_is 0
}

# --- a container's root: full tables and the budget ------------------------

# userns_listen PORT...: in the current namespace, services greeting with
# "srvPORT", stopped when the calling body ends.
userns_listen() {
	local port pids=
	ip link set lo up
	for port in "$@"; do
		socat -t 5 "TCP6-LISTEN:$port,fork,reuseaddr,ipv6only=0" \
			SYSTEM:"echo srv$port; exec cat" </dev/null >/dev/null 2>&1 &
		pids+=" $!"
	done
	# shellcheck disable=SC2064 # the pids are known now
	trap "kill $pids 2>/dev/null; rm -rf '$TMP_DIR'" EXIT
	for port in "$@"; do
		busywait 10000 is_listening_here "$port" ||
			fail "the listener on port $port did not come up"
	done
}

is_listening_here() { [[ -n $(ss -Hlnt "sport = :$1") ]]; }

# userns_answer HOST PORT: the greeting a connection to HOST:PORT gets.
userns_answer() {
	timeout 10 socat -T 8 -t 8 - "$(socat_addr tcp "$1" "$2")" </dev/null 2>/dev/null |
		head -n 1
}

# Run inside `unshare -U -r -n`: restore the table $FULL_RULES (every TCP
# port, 80 onto 8080, 65535 onto 8081), see all of it listed and saved,
# and use a rule of the first message and one of the last.
userns_full_body() {
	local n got
	userns_listen 8080 8081
	"$PORTREDIR" -b "$BACKEND" restore "$FULL_RULES" >"$TMP_DIR/out" 2>"$TMP_DIR/err" ||
		fail "root of the user namespace cannot restore 65535 rules: $(cat "$TMP_DIR/err")"
	n=$("$PORTREDIR" -b "$BACKEND" list | wc -l)
	[[ $n == 65535 ]] || fail "list | wc -l says $n, wanted 65535"
	"$PORTREDIR" -b "$BACKEND" save >"$TMP_DIR/saved" || fail "save failed"
	cmp -s "$FULL_RULES" "$TMP_DIR/saved" ||
		fail "save does not give back the restored table: $(diff "$FULL_RULES" "$TMP_DIR/saved" | head -n 5)"
	got=$(userns_answer 127.0.0.1 80)
	[[ $got == srv8080 ]] || fail "127.0.0.1 port 80 answered '$got', wanted srv8080"
	got=$(userns_answer ::1 65535)
	[[ $got == srv8081 ]] || fail "::1 port 65535 answered '$got', wanted srv8081"
}

# The root of a user namespace, without any host privilege, restores a full
# TCP table: far more than one netlink message its socket may send. The
# ceiling of that socket's buffer, net.core.wmem_max, is held at Debian's
# default meanwhile: a host may have raised it.
userns_restore_full() {
	local wmem_max
	checktool "unshare -U -r -n true" "user namespaces are needed"
	wmem_max=$(sysctl -n net.core.wmem_max) || fail "cannot read net.core.wmem_max"
	# shellcheck disable=SC2064 # the value now, not at exit
	trap "sysctl -qw net.core.wmem_max=$wmem_max; teardown_namespaces" EXIT
	cmd_ok sysctl -qw net.core.wmem_max=212992
	seq 1 65535 | awk '{ to = $1 == 80 ? 8080 : $1 == 65535 ? 8081 : $1
		print "tcp " $1 " to " to }' >"$TMP_DIR/full.rules"
	cmd_ok unshare -U -r -n env BACKEND="$BACKEND" PORTREDIR="$PORTREDIR" \
		FULL_RULES="$TMP_DIR/full.rules" \
		bash "$SELFTEST_DIR/portredir.sh" --inside userns_full_body
}

# rules_here: how many rules `list` shows in the current namespace.
rules_here() {
	"$PORTREDIR" -b "$BACKEND" list >"$TMP_DIR/out" 2>"$TMP_DIR/err" ||
		fail "list failed: $(cat "$TMP_DIR/err")"
	rule_lines | wc -l
}

# Run inside `unshare -U -r -n`: 64 interfaces, a rule on every port of
# each. The budget (max_ports, 262144 by default) takes 4 such rules; the
# others are refused and change nothing. Deleting an interface deletes
# its rule at once and gives its ports back.
userns_budget_body() {
	local k n start ms
	for k in $(seq 0 63); do echo "link add dummy$k type dummy"; done |
		ip -batch - || fail "cannot create 64 dummy interfaces"
	for k in 0 1 2 3; do
		cmd_ok "$PORTREDIR" -b "$BACKEND" add 1-65535 8080 dev "dummy$k"
	done
	for k in $(seq 4 63); do
		cmd_fail 1 "~^portredir: add tcp 1-65535 to 8080 dev dummy$k: .*max_ports" \
			"$PORTREDIR" -b "$BACKEND" add 1-65535 8080 dev "dummy$k"
		((k > 4)) || [[ $(rules_here) == 4 ]] ||
			fail "after a refused add, list shows $(rules_here) rules, wanted 4"
	done
	n=$(rules_here)
	[[ $n == 4 ]] || fail "after 60 refused adds, list shows $n rules, wanted 4"
	start=$(now_ms)
	ip link del dummy0 || fail "cannot delete dummy0"
	ms=$(($(now_ms) - start))
	log "ip link del of an interface bound to a 1-65535 rule, budget full: $ms ms"
	n=$(rules_here)
	[[ $n == 3 ]] || fail "after deleting dummy0, list shows $n rules, wanted 3"
	grep -q 'dummy0' "$TMP_DIR/out" && fail "dummy0's rule is still listed: $(grep dummy0 "$TMP_DIR/out")"
	cmd_ok "$PORTREDIR" -b "$BACKEND" add 1-65535 8080 dev dummy4
}

budget_bound_ranges() {
	[[ $BACKEND == kmod ]] || skip "the budget is the module's; nftables has none of its own"
	checktool "unshare -U -r -n true" "user namespaces are needed"
	# The root of a user namespace cannot load modules: load dummy here.
	setup_ns PROBE
	in_ns "$PROBE" ip link add dummy0 type dummy ||
		skip "this kernel cannot make dummy interfaces (CONFIG_DUMMY)"
	cmd_ok unshare -U -r -n env BACKEND="$BACKEND" PORTREDIR="$PORTREDIR" \
		bash "$SELFTEST_DIR/portredir.sh" --inside userns_budget_body
	grep '^# ' "$TMP_DIR/out"
}

# Run inside a user namespace: the module's limits cannot be written.
userns_limits_body() {
	local param
	for param in max_rules max_ports; do
		if (echo 7 >"$LIMITS_DIR/$param") 2>/dev/null; then
			fail "root of a user namespace set $param to $(cat "$LIMITS_DIR/$param")"
		fi
	done
}

# The limits are module parameters the host's root sets: a lower max_rules
# refuses a restore at the first rule beyond it, naming that rule (in the
# restore's second message) and the limit, and changes nothing. The root
# of a user namespace can write neither parameter, even one that maps the
# host's root user (as `unshare -r` run by root does).
limits_set_by_host_root() {
	local dir=/sys/module/portredir/parameters old_rules old_ports param
	[[ $BACKEND == kmod ]] || skip "the limits are the module's parameters"
	[[ -w $dir/max_rules && -w $dir/max_ports ]] ||
		fail "the module has no writable $dir/max_rules and max_ports"
	old_rules=$(<"$dir/max_rules") old_ports=$(<"$dir/max_ports")
	# shellcheck disable=SC2064 # restore the values read now
	trap "echo $old_rules >$dir/max_rules; echo $old_ports >$dir/max_ports; teardown_namespaces" EXIT
	setup_topology
	cmd_ok pr "$SERVER" add 80 8080
	seq 1001 2200 | sed 's/.*/tcp & to &/' >"$TMP_DIR/many.rules"
	echo 1000 >"$dir/max_rules" || fail "the host's root cannot set max_rules"
	cmd_fail 1 '~^portredir: restore: rule 1001 "tcp 2001 to 2001": .*max_rules' \
		pr "$SERVER" restore "$TMP_DIR/many.rules"
	cmd_ok pr "$SERVER" save
	[[ $(<"$TMP_DIR/out") == "tcp 80 to 8080" ]] ||
		fail "a refused restore changed the table: $(head -n 3 "$TMP_DIR/out")"
	echo "$old_rules" >"$dir/max_rules"
	cmd_ok pr "$SERVER" restore "$TMP_DIR/many.rules"
	cmd_ok pr "$SERVER" list
	rule_count_is 1200
	checktool "unshare -U -r -n true" "user namespaces are needed"
	checktool "setpriv --help" "needed to enter a user namespace as nobody"
	for param in "" "setpriv --reuid=65534 --regid=65534 --clear-groups"; do
		# shellcheck disable=SC2086 # the words of the command, or none
		cmd_ok $param unshare -U -r -n env LIMITS_DIR="$dir" \
			bash "$SELFTEST_DIR/portredir.sh" --inside userns_limits_body
	done
	[[ $(<"$dir/max_rules") == "$old_rules" && $(<"$dir/max_ports") == "$old_ports" ]] ||
		fail "the limits changed: max_rules $(<"$dir/max_rules"), max_ports $(<"$dir/max_ports")"
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

# How socat's listeners write the client's IPv6 address.
readonly CLIENT_IP6_SEEN=[2001:0db8:0000:0000:0000:0000:0000:0001]

# A service bound to a secondary address only: connections to that
# address's port 80 reach it, and it sees the client's own address.
redirect_secondary_address() {
	setup_topology
	ip -n "$SERVER" -batch - <<-EOF || fail "cannot set up $SERVER"
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
	ip -n "$SERVER" -batch - <<-EOF || fail "cannot set up $SERVER"
		addr add 203.0.113.1/32 dev lo
		addr add 2001:db8:99::1/128 dev lo
	EOF
	ip -n "$CLIENT" -batch - <<-EOF || fail "cannot set up $CLIENT"
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

# --- living with other tools, save and restore, monitor ------------------------

# The namespace's nftables ruleset without the nft backend's own table.
foreign_ruleset() {
	in_ns "$1" nft list ruleset |
		awk '/^table inet portredir \{/ { ours = 1 } !ours { print } ours && /^\}/ { ours = 0 }'
}

expect_foreign_unchanged() {
	foreign_ruleset "$SERVER" >"$TMP_DIR/foreign.now"
	diff -u "$TMP_DIR/foreign.before" "$TMP_DIR/foreign.now" >"$TMP_DIR/foreign.diff" ||
		fail "'$1' changed the administrator's nftables rules: $(cat "$TMP_DIR/foreign.diff")"
}

# An administrator's own tables, NAT included, are the same before and after
# every command, and both redirect side by side.
foreign_rules_untouched() {
	local verb
	setup_topology
	cmd_ok in_ns "$SERVER" nft -f - <<-EOF
		table inet admin {
			chain input {
				type filter hook input priority filter; policy accept;
				tcp dport 22 counter accept
			}
		}
		table ip nat {
			chain prerouting {
				type nat hook prerouting priority dstnat; policy accept;
				tcp dport 2222 redirect to :8081
			}
		}
	EOF
	foreign_ruleset "$SERVER" >"$TMP_DIR/foreign.before"
	listen "$SERVER" 8080
	listen "$SERVER" 8081
	printf 'tcp 80 to 8080\nudp 53 to 5353 -4\n' >"$TMP_DIR/rules"
	while IFS= read -r verb; do
		# shellcheck disable=SC2086
		cmd_ok pr "$SERVER" $verb
		expect_foreign_unchanged "$verb"
	done <<-EOF
		add 80 8080
		add 443 8443 -6 --inbound
		list
		del 443 -6 --inbound
		save
		restore $TMP_DIR/rules
		status
	EOF
	expect_answer "$CLIENT" "$SERVER_IP4" 80 srv8080
	expect_answer "$CLIENT" "$SERVER_IP4" 2222 srv8081
	cmd_ok pr "$SERVER" flush
	expect_foreign_unchanged flush
	expect_answer "$CLIENT" "$SERVER_IP4" 2222 srv8081
}

# Another table's DNAT of a port we redirect decides first (portredir sits
# right after dstnat; at the same priority the hook registered last, ours,
# would run first). add and status name its table and chain, and succeed.
foreign_nat_warned() {
	local warning="tcp 80: table ip nat chain PREROUTING also translates port 80 and runs first"
	setup_topology
	listen "$SERVER" 8080
	listen "$SERVER" 8081
	cmd_ok in_ns "$SERVER" nft -f - <<-EOF
		table ip nat {
			chain PREROUTING {
				type nat hook prerouting priority dstnat; policy accept;
				tcp dport 80 dnat to $SERVER_IP4:8081
			}
		}
	EOF
	cmd_ok pr "$SERVER" add 80 8080
	grep -qxF "portredir: warning: $warning" "$TMP_DIR/err" ||
		fail "add did not warn '$warning': $(cat "$TMP_DIR/err")"
	cmd_ok pr "$SERVER" status
	grep -qxF "warning: $warning" "$TMP_DIR/out" ||
		fail "status did not warn '$warning': $(cat "$TMP_DIR/out")"
	cmd_ok pr "$SERVER" add 81 8080
	grep -q "table ip nat" "$TMP_DIR/err" && fail "add of port 81 warned: $(cat "$TMP_DIR/err")"
	# Theirs takes IPv4 from the network; IPv6 and local traffic are ours.
	expect_answer "$CLIENT" "$SERVER_IP4" 80 srv8081
	expect_answer "$CLIENT" "$SERVER_IP6" 80 srv8080
	expect_answer "$SERVER" 127.0.0.1 80 srv8080
}

# The systemd unit shipped with the CLI, run the way systemd runs it: the
# commands of its Exec lines, with the binary and the rules file at the
# test's paths instead of @SBINDIR@ and /etc.
UNIT_IN=$SELFTEST_DIR/../tools/portredir.service.in

unit_exec() {
	local line
	line=$(sed -n "s/^$1=//p" "$UNIT_IN")
	[[ -n $line ]] || fail "no $1= line in $UNIT_IN"
	line=${line//@SBINDIR@\/portredir/$PORTREDIR}
	line=${line//\/etc\/portredir.rules/$TMP_DIR/portredir.rules}
	# shellcheck disable=SC2086 # the unit's words, split as systemd does
	in_ns "$SERVER" env PORTREDIR_BACKEND="$BACKEND" $line
}

boot_unit() {
	[[ -r $UNIT_IN ]] || skip "$UNIT_IN is not installed with the tests"
	grep -qx 'ConditionFileNotEmpty=/etc/portredir.rules' "$UNIT_IN" ||
		fail "the unit does not wait for the file its ExecStart restores"
	setup_topology
	listen "$SERVER" 8080
	listen "$SERVER" 8081
	printf 'tcp 80 to 8080\nudp 53 to 5353 -4\n' >"$TMP_DIR/portredir.rules"
	cmd_ok unit_exec ExecStart
	cmd_ok pr "$SERVER" list
	rule_count_is 2
	expect_answer "$CLIENT" "$SERVER_IP4" 80 srv8080
	printf 'tcp 80 to 8081\n' >"$TMP_DIR/portredir.rules"
	cmd_ok unit_exec ExecReload
	cmd_ok pr "$SERVER" list
	rule_count_is 1
	expect_answer "$CLIENT" "$SERVER_IP6" 80 srv8081
	cmd_ok unit_exec ExecStop
	cmd_ok pr "$SERVER" list
	rule_count_is 0
}

# `nft flush ruleset` (as in many nftables.conf) takes the nft backend's
# table with it; the tool then shows that and starts over cleanly. The
# module's rules are not nftables objects and stay.
nft_flush_ruleset() {
	setup_topology
	listen "$SERVER" 8080
	cmd_ok pr "$SERVER" add 80 8080
	cmd_ok in_ns "$SERVER" nft flush ruleset
	cmd_ok pr "$SERVER" list
	if [[ $BACKEND == kmod ]]; then
		rule_count_is 1
		expect_answer "$CLIENT" "$SERVER_IP4" 80 srv8080
	else
		rule_count_is 0
		expect_answer "$CLIENT" "$SERVER_IP4" 80 none
	fi
	cmd_ok pr "$SERVER" flush
	cmd_ok pr "$SERVER" add 80 8080
	expect_answer "$CLIENT" "$SERVER_IP4" 80 srv8080
}

# A table inet portredir that the nft backend did not make (dormant, say:
# its chains would see no packet) is refused by every command, with what is
# wrong with it, and left as it was; once it is gone, rules work again.
foreign_table_refused() {
	local table why verb
	[[ $BACKEND == nft ]] || skip "the module keeps no nftables table"
	setup_topology
	listen "$SERVER" 8080
	for table in "flags dormant;" 'comment "mine";'; do
		why="it has a comment or user data other than portredir gives it"
		[[ $table == flags* ]] && why="it has flag dormant, so its chains see no packet"
		cmd_ok in_ns "$SERVER" nft add table inet portredir "{ $table }"
		in_ns "$SERVER" nft list ruleset >"$TMP_DIR/ruleset.before"
		for verb in "add 80 8080" "del 80" list save status flush "restore /dev/null"; do
			# shellcheck disable=SC2086 # the verb and its words
			cmd_fail 1 "~^portredir: .*table inet portredir was made or changed outside portredir: $why; \`nft delete table inet portredir\` starts over$" \
				pr "$SERVER" $verb
		done
		in_ns "$SERVER" nft list ruleset | diff -u "$TMP_DIR/ruleset.before" - >"$TMP_DIR/diff" ||
			fail "a refused command changed table inet portredir: $(cat "$TMP_DIR/diff")"
		expect_answer "$CLIENT" "$SERVER_IP4" 80 none
		cmd_ok in_ns "$SERVER" nft delete table inet portredir
	done
	cmd_ok pr "$SERVER" add 80 8080
	expect_answer "$CLIENT" "$SERVER_IP4" 80 srv8080
}

# The rule lines of `list` without their counters.
list_rules_only() {
	pr "$SERVER" list 2>/dev/null | grep -E '^ *(tcp|udp|sctp)\b' | sed 's/ connections [0-9]*//'
}

# refused_because WHY: list is refused, naming WHY (a regular expression).
refused_because() {
	cmd_fail 1 "~^portredir: list: table inet portredir was made or changed outside portredir: $1; \`nft delete table inet portredir\` starts over$" \
		pr "$SERVER" list
}

# What `nft list ruleset` prints of the table, saved to a file as for
# /etc/nftables.conf, is read back by `nft -f` after `nft flush ruleset`:
# the same rules, the same listing, and the tool goes on with them. The
# loopback guard heads chain prerouting, or the table is refused.
nft_listing_reads_back() {
	local handle
	[[ $BACKEND == nft ]] || skip "the module's rules are not in the nftables ruleset"
	setup_topology
	listen "$SERVER" 8080
	cmd_ok pr "$SERVER" add 80 8080
	cmd_ok pr "$SERVER" add 81-83 8080
	cmd_ok pr "$SERVER" add 8000-8009 to 9000-9009
	cmd_ok pr "$SERVER" add udp 53 5353 -4
	cmd_ok pr "$SERVER" add 443 8443 -6
	cmd_ok pr "$SERVER" add 84 8080 -4 --inbound
	cmd_ok pr "$SERVER" add 85 8080 --local
	cmd_ok pr "$SERVER" add 86 8080 dev veth0
	list_rules_only >"$TMP_DIR/list.before"
	[[ $(lines "$TMP_DIR/list.before") == 8 ]] || fail "list shows: $(cat "$TMP_DIR/list.before")"
	in_ns "$SERVER" nft list ruleset >"$TMP_DIR/ruleset" || fail "nft list ruleset failed"
	cmd_ok in_ns "$SERVER" nft flush ruleset
	cmd_ok in_ns "$SERVER" nft -f "$TMP_DIR/ruleset"
	in_ns "$SERVER" nft list ruleset | diff -u "$TMP_DIR/ruleset" - >"$TMP_DIR/diff" ||
		fail "nft -f of the listing lists differently: $(cat "$TMP_DIR/diff")"
	list_rules_only | diff -u "$TMP_DIR/list.before" - >"$TMP_DIR/diff" ||
		fail "after nft -f of the listing, list shows other rules: $(cat "$TMP_DIR/diff")"
	expect_answer "$CLIENT" "$SERVER_IP4" 80 srv8080
	expect_answer "$CLIENT" "$SERVER_IP6" 82 srv8080
	expect_answer "$CLIENT" "$SERVER_IP4" 84 srv8080
	expect_answer "$CLIENT" "$SERVER_IP6" 86 srv8080
	expect_answer "$SERVER" 127.0.0.1 85 srv8080
	cmd_ok pr "$SERVER" restore <<<"tcp 87 to 8080"
	expect_answer "$CLIENT" "$SERVER_IP4" 87 srv8080
	# Without its guard, or with it after a map rule, the table is refused.
	handle=$(in_ns "$SERVER" nft -a list chain inet portredir prerouting |
		sed -n 's/^[[:space:]]*ip daddr 127.0.0.0\/8 return # handle \([0-9]*\)$/\1/p')
	[[ -n $handle ]] || fail "chain prerouting has no guard: $(in_ns "$SERVER" nft list chain inet portredir prerouting)"
	cmd_ok in_ns "$SERVER" nft delete rule inet portredir prerouting handle "$handle"
	refused_because "chain prerouting does not start with \`ip daddr 127.0.0.0/8 return\`"
	cmd_ok in_ns "$SERVER" nft add rule inet portredir prerouting ip daddr 127.0.0.0/8 return
	refused_because "chain prerouting has its loopback guard \(handle [0-9]+\) after other rules"
}

# An interrupted restore leaves, from its first step, a filled map that no
# chain rule looks up yet (tools/backends/nft/nft_txn.h). Commands go on as
# if it were not there, and the next change deletes it.
nft_restore_leftovers() {
	[[ $BACKEND == nft ]] || skip "the module's table has no maps"
	setup_topology
	listen "$SERVER" 8080
	listen "$SERVER" 8081
	cmd_ok pr "$SERVER" restore <<<"tcp 80 to 8080"
	in_ns "$SERVER" nft list map inet portredir redir_tcp >"$TMP_DIR/map" ||
		fail "no map redir_tcp after restore: $(in_ns "$SERVER" nft list ruleset)"
	sed -e 's/map redir_tcp /map redir_tcp_alt /' \
		-e 's/elements = {.*}/elements = { 80 : 8081, 81 : 8081 }/' \
		"$TMP_DIR/map" >"$TMP_DIR/spare"
	cmd_ok in_ns "$SERVER" nft -f "$TMP_DIR/spare"
	[[ $(list_rules_only | wc -l) == 1 && $(list_rules_only) == *"-> 8080 "* ]] ||
		fail "with a spare map, list shows: $(list_rules_only)"
	expect_answer "$CLIENT" "$SERVER_IP4" 80 srv8080
	expect_answer "$CLIENT" "$SERVER_IP4" 81 none
	cmd_ok pr "$SERVER" add 82 8081
	in_ns "$SERVER" nft list ruleset | grep -q redir_tcp_alt &&
		fail "add left the spare map: $(in_ns "$SERVER" nft list ruleset | grep -E 'map|@')"
	[[ $(list_rules_only | wc -l) == 2 ]] || fail "after add, list shows: $(list_rules_only)"
	# The name a restore's new map takes may still be held by a spare.
	cmd_ok in_ns "$SERVER" nft -f "$TMP_DIR/spare"
	cmd_ok pr "$SERVER" restore <<<"tcp 80 to 8081"
	[[ $(list_rules_only | wc -l) == 1 ]] || fail "after restore, list shows: $(list_rules_only)"
	expect_answer "$CLIENT" "$SERVER_IP4" 80 srv8081
	expect_answer "$CLIENT" "$SERVER_IP4" 82 none
}


save_restore() {
	setup_topology
	listen "$SERVER" 8080
	cmd_ok pr "$SERVER" add 80 8080
	cmd_ok pr "$SERVER" add udp 53 5353 -4
	cmd_ok pr "$SERVER" add 8000-8009 to 9000-9009 --local
	cmd_ok pr "$SERVER" add 443 8443 -6 dev veth0
	cmd_ok pr "$SERVER" save
	cp "$TMP_DIR/out" "$TMP_DIR/saved"
	[[ $(wc -l <"$TMP_DIR/saved") == 4 ]] || fail "save printed: $(cat "$TMP_DIR/saved")"
	list_rules_only >"$TMP_DIR/list.saved"
	cmd_ok pr "$SERVER" flush
	cmd_ok pr "$SERVER" restore "$TMP_DIR/saved"
	list_rules_only | diff -u "$TMP_DIR/list.saved" - >"$TMP_DIR/diff" ||
		fail "restore did not bring back what save printed: $(cat "$TMP_DIR/diff")"
	cmd_ok pr "$SERVER" save
	diff -u "$TMP_DIR/saved" "$TMP_DIR/out" >/dev/null || fail "save after restore differs"
	# restore replaces the whole table, from stdin too.
	printf '# comment\n\nadd tcp 81 to 8080\n' >"$TMP_DIR/stdin"
	cmd_ok pr "$SERVER" restore <"$TMP_DIR/stdin"
	cmd_ok pr "$SERVER" save
	[[ $(cat "$TMP_DIR/out") == "tcp 81 to 8080" ]] || fail "after restore, save printed: $(cat "$TMP_DIR/out")"
	expect_answer "$CLIENT" "$SERVER_IP4" 81 srv8080
	# A bad file changes nothing.
	printf 'tcp 82 to 8080\ntcp 70000 to 1\n' >"$TMP_DIR/bad"
	cmd_fail 2 "~^portredir: $TMP_DIR/bad: line 2: " pr "$SERVER" restore "$TMP_DIR/bad"
	printf 'tcp 82 to 8080\ntcp 80-90 to 8080\n' >"$TMP_DIR/bad"
	cmd_fail 2 "~^portredir: $TMP_DIR/bad: line 2: .*overlaps" pr "$SERVER" restore "$TMP_DIR/bad"
	# Not text: what a crash can leave (zeros), junk after a NUL, an escape.
	head -c 4096 /dev/zero >"$TMP_DIR/bad"
	cmd_fail 2 "portredir: $TMP_DIR/bad: line 1: not text: byte 0x00 at column 1" \
		pr "$SERVER" restore "$TMP_DIR/bad"
	printf 'tcp 82 to 8080\ntcp 83 to 8080\0junk\n' >"$TMP_DIR/bad"
	cmd_fail 2 "portredir: stdin: line 2: not text: byte 0x00 at column 15" \
		pr "$SERVER" restore <"$TMP_DIR/bad"
	printf 'tcp 82 to 8080 \033[2J\n' >"$TMP_DIR/bad"
	cmd_fail 2 "~^portredir: $TMP_DIR/bad: line 1: not text: byte 0x1b " \
		pr "$SERVER" restore "$TMP_DIR/bad"
	cmd_ok pr "$SERVER" save
	[[ $(cat "$TMP_DIR/out") == "tcp 81 to 8080" ]] || fail "a refused restore changed the rules: $(cat "$TMP_DIR/out")"
	# An empty file empties the table.
	cmd_ok pr "$SERVER" restore /dev/null
	cmd_ok pr "$SERVER" list
	rule_count_is 0
}

# lines FILE: how many lines FILE has, without a fork.
lines() {
	local all=()
	mapfile -t all <"$1"
	echo "${#all[@]}"
}

# The first line a connection to port 80 of the server gets, or socat's
# complaint (a refused connection). Generous timeouts: under emulation on a
# loaded machine an answer can take seconds, which says nothing of a rule.
atomic_probe() {
	ip netns exec "$CLIENT" timeout 30 socat -T 20 -t 20 - \
		"$(socat_addr tcp "$SERVER_IP4" 80)" </dev/null 2>&1 | head -n 1
}

# While restore swaps 80 -> 8080 for 80 -> 8081 and back, every new
# connection meets one whole table or the other: none reaches port 80
# itself or finds no rule. Restores go on until enough connections were
# made while they ran, so a pass means that the two did overlap.
restore_is_atomic() {
	local i=0 answers first last overlapped min=30
	setup_topology
	listen "$SERVER" 80
	listen "$SERVER" 8080
	listen "$SERVER" 8081
	printf 'tcp 80 to 8080\ntcp 1000-1999 to 3000-3999\n' >"$TMP_DIR/a"
	printf 'udp 53 to 5353\ntcp 80 to 8081\ntcp 1000-1999 to 4000-4999 -4\n' >"$TMP_DIR/b"
	cmd_ok pr "$SERVER" restore "$TMP_DIR/a"
	: >"$TMP_DIR/answers"
	(
		close_conn_fds
		while [[ ! -e $TMP_DIR/stop ]]; do
			echo "$(atomic_probe)" >>"$TMP_DIR/answers"
		done
	) &
	echo $! >>"$TMP_DIR/pids"
	# As long as one probe may take (atomic_probe).
	busywait 30000 test -s "$TMP_DIR/answers" || fail "no connection was answered before the restores"
	# Probes that end between the first restore's start and the last
	# one's end; the first of them may have begun before.
	first=$(lines "$TMP_DIR/answers")
	overlapped=0
	while ((i < 10 || (overlapped < min && i < 100))); do
		cmd_ok pr "$SERVER" restore "$TMP_DIR/b"
		cmd_ok pr "$SERVER" restore "$TMP_DIR/a"
		i=$((i + 1))
		last=$(lines "$TMP_DIR/answers")
		overlapped=$((last - first - 1))
	done
	touch "$TMP_DIR/stop"
	wait
	answers=$(sort "$TMP_DIR/answers" | uniq -c | tr -s ' \n' ' ')
	grep -qvE '^srv808[01]$' "$TMP_DIR/answers" &&
		fail "during restores, connections to port 80 were answered by: $answers"
	((overlapped >= min)) ||
		fail "only $overlapped connections were made during $((2 * i)) restores, wanted $min"
	log "$((2 * i)) restores, $overlapped connections made meanwhile, answers:$answers"
}

# monitor prints each change as the command that would make it; a flush
# shows as "flush" or as one "del" per rule it removed.
# start_monitor FILE: `portredir monitor` in $SERVER, printing to FILE,
# returns once it is heard: it printed a probe rule on port 1 being added
# and deleted. The probe may take several tries under a slow emulator, so
# the caller's events are those after the last "del tcp 1" (monitor_events).
start_monitor() {
	local mon=$1 i
	(
		close_conn_fds
		exec ip netns exec "$SERVER" "$PORTREDIR" -b "$BACKEND" monitor >"$mon" 2>&1
	) &
	echo $! >>"$TMP_DIR/pids"
	for i in $(seq 1 20); do
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

monitor_changes() {
	local mon=$TMP_DIR/monitor
	setup_topology
	start_monitor "$mon"
	cmd_ok pr "$SERVER" add 80 8080
	cmd_ok pr "$SERVER" add udp 53 5353 -4 --local
	cmd_ok pr "$SERVER" del 80
	cmd_ok pr "$SERVER" flush
	cmd_ok pr "$SERVER" add 81 8081
	busywait 5000 grep -qx "add tcp 81 to 8081" "$mon" || fail "monitor missed changes: $(cat "$mon")"
	monitor_events "$mon" >"$TMP_DIR/events"
	printf '%s\n' "add tcp 80 to 8080" "add udp 53 to 5353 -4 --local" "del tcp 80" \
		"flush" "add tcp 81 to 8081" >"$TMP_DIR/want"
	if ! diff -u "$TMP_DIR/want" "$TMP_DIR/events" >/dev/null; then
		sed -i 's/^flush$/del udp 53 -4 --local/' "$TMP_DIR/want"
		diff -u "$TMP_DIR/want" "$TMP_DIR/events" >"$TMP_DIR/diff" ||
			fail "monitor printed other events: $(cat "$TMP_DIR/diff")"
	fi
}

# auto (the default) takes the module when it is loaded, else nftables;
# PORTREDIR_BACKEND and -b choose.
auto_backend() {
	local want=nft
	[[ -d /sys/module/portredir ]] && want=kmod
	setup_topology
	cmd_ok in_ns "$SERVER" env -u PORTREDIR_BACKEND "$PORTREDIR" status
	grep -qx "backend: $want" "$TMP_DIR/out" || fail "auto chose: $(head -n 1 "$TMP_DIR/out"), wanted $want"
	cmd_ok in_ns "$SERVER" env PORTREDIR_BACKEND="$BACKEND" "$PORTREDIR" status
	grep -qx "backend: $BACKEND" "$TMP_DIR/out" || fail "PORTREDIR_BACKEND=$BACKEND chose: $(head -n 1 "$TMP_DIR/out")"
	cmd_ok pr "$SERVER" status
	grep -qx "backend: $BACKEND" "$TMP_DIR/out" || fail "-b $BACKEND chose: $(head -n 1 "$TMP_DIR/out")"
	cmd_fail 2 '~^portredir: PORTREDIR_BACKEND: unknown backend "bogus"' \
		in_ns "$SERVER" env PORTREDIR_BACKEND=bogus "$PORTREDIR" status
	# Rules added without -b land where status said.
	cmd_ok in_ns "$SERVER" env -u PORTREDIR_BACKEND "$PORTREDIR" add 80 8080
	cmd_ok in_ns "$SERVER" "$PORTREDIR" -b "$want" list
	rule_count_is 1
}

# --- module unload (kmod backend only) ---------------------------------------

# answered_at_least N FILE: FILE holds N or more "srv8080" lines.
answered_at_least() {
	local line n=0
	[[ -r $2 ]] || return 1
	while read -r line; do
		[[ $line == srv8080 ]] && n=$((n + 1))
	done <"$2"
	((n >= $1))
}

# udp_flow_answer: the greeting a datagram from the client's UDP port 40053
# to the server's port 53 gets; the same port each time, so one flow.
udp_flow_answer() {
	in_ns "$CLIENT" timeout 5 socat -t 2 - "UDP4:$SERVER_IP4:53,sourceport=40053,reuseaddr" \
		<<<ping 2>/dev/null | head -n 1
}

# Resets the client has received from the server so far.
resets_from_server() {
	local out
	out=$(in_ns "$CLIENT" nft list counter inet prtest_rst resets 2>/dev/null)
	[[ $out =~ packets\ ([0-9]+) ]] && echo "${BASH_REMATCH[1]}"
}

# Unloading ends the connections the module redirected (README, "Unloading
# the module"): the established TCP one is reset at its next packet, the UDP
# flow goes on to the original port.
rmmod_with_rules_and_traffic() {
	local ko=${PORTREDIR_KO:-$SELFTEST_DIR/../kmod/portredir.ko} traffic traffic_pid i count got resets
	[[ $BACKEND == kmod ]] || skip "module unload concerns the kmod backend only"
	[[ -r $ko ]] || skip "no module file to reinsert (set PORTREDIR_KO)"
	checktool "rmmod --version" "needed to unload the module"
	setup_topology
	listen "$SERVER" 80
	listen "$SERVER" 8080
	listen "$SERVER" 53 udp
	listen "$SERVER" 5353 udp
	cmd_ok pr "$SERVER" add 80 8080
	cmd_ok pr "$SERVER" add 443 8080 -6
	cmd_ok pr "$SERVER" add udp 53 5353
	# Unloading replays the removal of every interface to the module.
	cmd_ok pr "$SERVER" add 81 8080 dev veth0
	cmd_ok pr "$CLIENT" add 80 8080 --inbound
	in_ns "$CLIENT" nft -f - <<-EOF || fail "cannot count resets in $CLIENT"
		table inet prtest_rst {
			counter resets { }
			chain in {
				type filter hook input priority 0;
				ip saddr $SERVER_IP4 tcp flags rst counter name resets
			}
		}
	EOF
	open_conn est "$CLIENT" "$SERVER_IP4" 80
	conn_expect est srv8080
	got=$(udp_flow_answer)
	[[ $got == srv5353 ]] || fail "the UDP flow to port 53 got '${got:-none}' before the unload, wanted srv5353"
	# New connections keep arriving while the module goes.
	traffic=$TMP_DIR/traffic
	(
		close_conn_fds
		for i in $(seq 1 200); do
			[[ -e $traffic.stop ]] && break
			echo "$(probe "$CLIENT" "$SERVER_IP4" 80)" >>"$traffic.answers"
		done
	) &
	traffic_pid=$!
	echo "$traffic_pid" >>"$TMP_DIR/pids"
	busywait 30000 answered_at_least 2 "$traffic.answers" || fail "no traffic before the unload"
	count=$(connections_of 80)
	((count > 1)) ||
		fail "the rule's counter shows $count after $(wc -l <"$traffic.answers") redirected connections" \
			"(the server's conntrack table holds $(in_ns "$SERVER" grep -c 'dport=80 .*sport=8080 ' /proc/net/nf_conntrack) of them)"
	cmd_ok rmmod portredir
	touch "$traffic.stop"
	wait "$traffic_pid"
	[[ ! -d /sys/module/portredir ]] || fail "the module is still there after rmmod"
	resets=$(resets_from_server)
	conn_send est ping
	busywait 5000 conn_gone est ||
		fail "the connection redirected before the unload lived on (got: $(tr '\n' ' ' <"$TMP_DIR/conn-est/out"))"
	grep -qx ping "$TMP_DIR/conn-est/out" && fail "the redirected connection still reached port 8080"
	(($(resets_from_server) > resets)) ||
		fail "the redirected connection ended without a reset from the server"
	got=$(udp_flow_answer)
	[[ $got == srv53 ]] || fail "the UDP flow got '${got:-none}' after the unload, wanted srv53 (the original port)"
	expect_answer "$CLIENT" "$SERVER_IP4" 80 srv80
	cmd_fail 1 "~^portredir: .*modprobe portredir" pr "$SERVER" list
	cmd_ok insmod "$ko"
	cmd_ok pr "$SERVER" list
	rule_count_is 0
	cmd_ok pr "$SERVER" add 80 8080
	expect_answer "$CLIENT" "$SERVER_IP4" 80 srv8080
}

# --- steering ----------------------------------------------------------------

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

readonly LOOPBACK6_SEEN=[0000:0000:0000:0000:0000:0000:0000:0001]
readonly SERVER_IP6_SEEN=[2001:0db8:0000:0000:0000:0000:0000:0002]

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

# --- ports -------------------------------------------------------------------

# serve NS PROTO SOCAT-ADDRESS PORT [USER]: a listener bound exactly as
# SOCAT-ADDRESS says (address, family, v6only), its pid in
# port_pids[PROTO/PORT]; run as USER when given.
declare -A port_pids
serve() {
	local ns=$1 proto=$2 address=$3 port=$4 as=()
	[[ -n ${5:-} ]] && as=(setpriv "--reuid=$5" "--regid=$5" --clear-groups)
	(
		close_conn_fds
		exec ip netns exec "$ns" "${as[@]}" socat "$address,fork" \
			SYSTEM:"echo srv$port" </dev/null >/dev/null 2>&1
	) &
	port_pids[$proto/$port]=$!
	disown $!
	busywait 10000 is_listening "$ns" "$proto" "$port" ||
		fail "the $proto listener $address did not come up"
}

# expect_lines WHAT: $TMP_DIR/out is exactly the lines on stdin.
expect_lines() {
	diff -u - "$TMP_DIR/out" >"$TMP_DIR/diff" ||
		fail "$1 differs from what was set up (- wanted, + got):$(printf '\n%s' "$(tail -n +3 "$TMP_DIR/diff")")"
}

# The objects of the last `ports -j` (in $TMP_DIR/out), one line each:
#   PROTO PORTS ADDRESS BIND FAMILIES OWNER away:RULES from:RULES flags:FLAGS
# ("PROTO PORTS - away:..." where nothing listens), a rule written as
# PORTS>TARGET, with /ipv4 or /ipv6 for a one-family rule.
ports_json_lines() {
	python3 -c '
import json, sys
def ports(p):
    return "%d" % p["min"] if p["min"] == p["max"] else "%d-%d" % (p["min"], p["max"])
def rule(r):
    family = "" if len(r["family"]) == 2 else "/" + r["family"][0]
    return ports(r["port"]) + ">" + ports(r["to"]) + family
for e in json.load(sys.stdin):
    where = ["-"]
    if e["listening"]:
        owner = "%s[%d]" % (e["process"], e["pid"]) if "pid" in e else "uid%d" % e["uid"]
        where = [e["address"], e["bind"], ",".join(e["family"]), owner]
    print(" ".join([e["protocol"], ports(e["port"])] + where + [
        "away:" + ",".join(map(rule, e["redirected_away"])),
        "from:" + ",".join(map(rule, e["target_of"])),
        "flags:" + ",".join(e["flags"])]))
' <"$TMP_DIR/out" >"$TMP_DIR/out.json" || fail "ports -j printed no valid JSON: $(head -c 300 "$TMP_DIR/out")"
	mv "$TMP_DIR/out.json" "$TMP_DIR/out"
}

# Listeners of each protocol, family, class and bind kind in $SERVER.
serve_port_map() {
	serve "$SERVER" tcp TCP4-LISTEN:22,bind=0.0.0.0,reuseaddr 22
	serve "$SERVER" tcp TCP4-LISTEN:631,bind=127.0.0.1,reuseaddr 631
	serve "$SERVER" tcp TCP6-LISTEN:8080,ipv6only=0,reuseaddr 8080
	serve "$SERVER" tcp "TCP6-LISTEN:8443,bind=[$SERVER_IP6],reuseaddr" 8443
	serve "$SERVER" tcp "TCP6-LISTEN:50000,bind=[::1],reuseaddr" 50000
	serve "$SERVER" udp "UDP4-RECVFROM:53,bind=$SERVER_IP4" 53
	serve "$SERVER" udp UDP6-RECVFROM:5353,ipv6only=1 5353
	serve "$SERVER" udp "UDP6-RECVFROM:7001,bind=[::1]" 7001
	serve "$SERVER" udp UDP4-RECVFROM:60000 60000
}

# Text and JSON of `ports`, before and after rules, and its filters.
ports_map() {
	local -A p
	local key
	setup_topology
	serve_port_map
	for key in "${!port_pids[@]}"; do
		p[$key]="socat[${port_pids[$key]}]"
	done

	cmd_ok pr "$SERVER" -n ports
	expect_lines "ports without rules" <<-EOF
		tcp 22 (well-known)  0.0.0.0 (wildcard)  ipv4  ${p[tcp/22]}  flags: well-known-on-wildcard
		tcp 631 (well-known)  127.0.0.1 (loopback)  ipv4  ${p[tcp/631]}
		tcp 8080 (registered)  :: (wildcard)  ipv4,ipv6  ${p[tcp/8080]}
		tcp 8443 (registered)  $SERVER_IP6 (specific)  ipv6  ${p[tcp/8443]}
		tcp 50000 (dynamic)  ::1 (loopback)  ipv6  ${p[tcp/50000]}  flags: dynamic-port
		udp 53 (well-known)  $SERVER_IP4 (specific)  ipv4  ${p[udp/53]}
		udp 5353 (registered)  :: (wildcard)  ipv6  ${p[udp/5353]}
		udp 7001 (registered)  ::1 (loopback)  ipv6  ${p[udp/7001]}
		udp 60000 (dynamic)  0.0.0.0 (wildcard)  ipv4  ${p[udp/60000]}  flags: dynamic-port
	EOF

	cmd_ok pr "$SERVER" add 80 8080
	cmd_ok pr "$SERVER" add 8443 9443 -6
	cmd_ok pr "$SERVER" add 8080 9080 -6
	cmd_ok pr "$SERVER" add udp 9000-9009 7000-7009
	cmd_ok pr "$SERVER" -n ports
	expect_lines "ports with rules" <<-EOF
		tcp 22 (well-known)  0.0.0.0 (wildcard)  ipv4  ${p[tcp/22]}  flags: well-known-on-wildcard
		tcp 80 (well-known)  no listener  -> 8080
		tcp 631 (well-known)  127.0.0.1 (loopback)  ipv4  ${p[tcp/631]}
		tcp 8080 (registered)  :: (wildcard)  ipv4,ipv6  ${p[tcp/8080]}  -> 9080 (-6)  <- 80
		tcp 8443 (registered)  $SERVER_IP6 (specific)  ipv6  ${p[tcp/8443]}  -> 9443 (-6)
		tcp 9080 (registered)  no listener  <- 8080 (-6)  flags: target-without-listener
		tcp 9443 (registered)  no listener  <- 8443 (-6)  flags: target-without-listener
		tcp 50000 (dynamic)  ::1 (loopback)  ipv6  ${p[tcp/50000]}  flags: dynamic-port
		udp 53 (well-known)  $SERVER_IP4 (specific)  ipv4  ${p[udp/53]}
		udp 5353 (registered)  :: (wildcard)  ipv6  ${p[udp/5353]}
		udp 7001 (registered)  ::1 (loopback)  ipv6  ${p[udp/7001]}  <- 9001
		udp 9000-9009 (registered)  no listener  -> 7000-7009
		udp 60000 (dynamic)  0.0.0.0 (wildcard)  ipv4  ${p[udp/60000]}  flags: dynamic-port
	EOF

	cmd_ok pr "$SERVER" -j ports
	ports_json_lines
	expect_lines "ports -j with rules" <<-EOF
		tcp 22 0.0.0.0 wildcard ipv4 ${p[tcp/22]} away: from: flags:well-known-on-wildcard
		tcp 80 - away:80>8080 from: flags:
		tcp 631 127.0.0.1 loopback ipv4 ${p[tcp/631]} away: from: flags:
		tcp 8080 :: wildcard ipv4,ipv6 ${p[tcp/8080]} away:8080>9080/ipv6 from:80>8080 flags:
		tcp 8443 $SERVER_IP6 specific ipv6 ${p[tcp/8443]} away:8443>9443/ipv6 from: flags:
		tcp 9080 - away: from:8080>9080/ipv6 flags:target-without-listener
		tcp 9443 - away: from:8443>9443/ipv6 flags:target-without-listener
		tcp 50000 ::1 loopback ipv6 ${p[tcp/50000]} away: from: flags:dynamic-port
		udp 53 $SERVER_IP4 specific ipv4 ${p[udp/53]} away: from: flags:
		udp 5353 :: wildcard ipv6 ${p[udp/5353]} away: from: flags:
		udp 7001 ::1 loopback ipv6 ${p[udp/7001]} away: from:9000-9009>7000-7009 flags:
		udp 9000-9009 - away:9000-9009>7000-7009 from: flags:
		udp 60000 0.0.0.0 wildcard ipv4 ${p[udp/60000]} away: from: flags:dynamic-port
	EOF

	# Service names unless -n; the JSON names them too.
	cmd_ok pr "$SERVER" ports tcp --class well-known
	expect_lines "ports tcp --class well-known" <<-EOF
		tcp 22 (ssh, well-known)  0.0.0.0 (wildcard)  ipv4  ${p[tcp/22]}  flags: well-known-on-wildcard
		tcp 80 (http, well-known)  no listener  -> 8080
		tcp 631 (ipp, well-known)  127.0.0.1 (loopback)  ipv4  ${p[tcp/631]}
	EOF
	cmd_ok pr "$SERVER" -j ports tcp --class well-known
	python3 -c 'import json, sys; print(*[e["port"].get("service") for e in json.load(sys.stdin)])' \
		<"$TMP_DIR/out" >"$TMP_DIR/names"
	[[ $(<"$TMP_DIR/names") == "ssh http ipp" ]] ||
		fail "ports -j names the services $(<"$TMP_DIR/names"), wanted ssh http ipp"

	# -4 and -6: what answers over that family, and the rules for it
	# (8080 answers IPv4 too, but its -6 rule is not shown).
	cmd_ok pr "$SERVER" -n ports -4
	expect_lines "ports -4" <<-EOF
		tcp 22 (well-known)  0.0.0.0 (wildcard)  ipv4  ${p[tcp/22]}  flags: well-known-on-wildcard
		tcp 80 (well-known)  no listener  -> 8080
		tcp 631 (well-known)  127.0.0.1 (loopback)  ipv4  ${p[tcp/631]}
		tcp 8080 (registered)  :: (wildcard)  ipv4,ipv6  ${p[tcp/8080]}  <- 80
		udp 53 (well-known)  $SERVER_IP4 (specific)  ipv4  ${p[udp/53]}
		udp 9000-9009 (registered)  no listener  -> 7000-7009
		udp 60000 (dynamic)  0.0.0.0 (wildcard)  ipv4  ${p[udp/60000]}  flags: dynamic-port
	EOF
	cmd_ok pr "$SERVER" -n ports udp -6 --class registered
	expect_lines "ports udp -6 --class registered" <<-EOF
		udp 5353 (registered)  :: (wildcard)  ipv6  ${p[udp/5353]}
		udp 7001 (registered)  ::1 (loopback)  ipv6  ${p[udp/7001]}  <- 9001
		udp 9000-9009 (registered)  no listener  -> 7000-7009
	EOF
	cmd_ok pr "$SERVER" -n ports --class dynamic
	expect_lines "ports --class dynamic" <<-EOF
		tcp 50000 (dynamic)  ::1 (loopback)  ipv6  ${p[tcp/50000]}  flags: dynamic-port
		udp 60000 (dynamic)  0.0.0.0 (wildcard)  ipv4  ${p[udp/60000]}  flags: dynamic-port
	EOF
	[[ ! -s $TMP_DIR/err ]] || fail "ports printed on stderr: $(<"$TMP_DIR/err")"

	# Looking must not load a module: an sctp_diag dump would load sctp.
	if [[ ! -d /sys/module/sctp ]]; then
		cmd_ok pr "$SERVER" ports
		[[ ! -d /sys/module/sctp ]] || fail "ports loaded the sctp module"
	fi
}

# Bad arguments: one line, exit 2, nothing listed.
ports_usage_errors() {
	local expected="[tcp|udp|sctp] [-4|-6] [--class well-known|registered|dynamic]"
	setup_ns SERVER
	cmd_fail 2 "portredir: unexpected \"80\" (expected ports $expected)" pr "$SERVER" ports 80
	cmd_fail 2 'portredir: protocol given twice ("udp")' pr "$SERVER" ports tcp udp
	cmd_fail 2 "portredir: -4 and -6 given together (give neither for both)" pr "$SERVER" ports -4 -6
	cmd_fail 2 "portredir: \"--class\" needs a class (expected --class well-known|registered|dynamic)" \
		pr "$SERVER" ports --class
	cmd_fail 2 'portredir: unknown port class "ephemeral" (expected well-known, registered or dynamic)' \
		pr "$SERVER" ports --class ephemeral
	[[ ! -s $TMP_DIR/out ]] || fail "a usage error listed ports: $(<"$TMP_DIR/out")"
}

# Read-only, so no root needed for the sockets; another user's process is
# not named, the caller's own is; the rules need what the backend needs
# to read them (nftables: CAP_NET_ADMIN; the module: nothing).
ports_unprivileged() {
	local root_owned own
	checktool "setpriv --help" "needed to drop privileges"
	setup_topology
	serve "$SERVER" tcp TCP6-LISTEN:8080,ipv6only=0,reuseaddr 8080
	serve "$SERVER" tcp TCP6-LISTEN:8081,ipv6only=0,reuseaddr 8081 65534
	cmd_ok pr "$SERVER" add 80 8080
	cmd_ok in_ns "$SERVER" setpriv --reuid=65534 --regid=65534 --clear-groups \
		--inh-caps=-all --bounding-set=-all "$PORTREDIR" -b "$BACKEND" -n ports tcp
	root_owned="tcp 8080 (registered)  :: (wildcard)  ipv4,ipv6  uid 0 (process not visible)"
	own="tcp 8081 (registered)  :: (wildcard)  ipv4,ipv6  socat[${port_pids[tcp/8081]}]"
	if [[ $BACKEND == nft ]]; then
		[[ $(<"$TMP_DIR/err") == "portredir: warning: rules not shown: no permission: nftables needs CAP_NET_ADMIN over this network namespace, even to read" ]] ||
			fail "unprivileged ports on nftables said: '$(<"$TMP_DIR/err")'"
		expect_lines "unprivileged ports" <<-EOF
			$root_owned
			$own
		EOF
	else
		[[ ! -s $TMP_DIR/err ]] || fail "unprivileged ports said: $(<"$TMP_DIR/err")"
		expect_lines "unprivileged ports" <<-EOF
			tcp 80 (well-known)  no listener  -> 8080
			$root_owned  <- 80
			$own
		EOF
	fi
}

# Without a backend it still lists the sockets, and says why the rules
# are missing, exit 0.
ports_without_backend() {
	[[ ! -d /sys/module/portredir ]] ||
		skip "portredir.ko is loaded here, so the kmod backend is there (the host run covers this)"
	checktool "setpriv --help" "needed to drop privileges"
	setup_topology
	serve "$SERVER" tcp TCP6-LISTEN:8080,ipv6only=0,reuseaddr 8080
	cmd_ok in_ns "$SERVER" "$PORTREDIR" -b kmod -n ports tcp
	[[ $(<"$TMP_DIR/err") == "portredir: warning: rules not shown: kernel module not loaded (try: modprobe portredir)" ]] ||
		fail "ports -b kmod without the module said: '$(<"$TMP_DIR/err")'"
	expect_lines "ports without the module" <<-EOF
		tcp 8080 (registered)  :: (wildcard)  ipv4,ipv6  socat[${port_pids[tcp/8080]}]
	EOF
	# No module and no nftables for this user: no backend at all.
	cmd_ok in_ns "$SERVER" setpriv --reuid=65534 --regid=65534 --clear-groups \
		--inh-caps=-all --bounding-set=-all "$PORTREDIR" -n ports tcp
	[[ $(<"$TMP_DIR/err") == "portredir: warning: rules not shown: no backend available: "* ]] ||
		fail "ports without any backend said: '$(<"$TMP_DIR/err")'"
	expect_lines "ports without any backend" <<-EOF
		tcp 8080 (registered)  :: (wildcard)  ipv4,ipv6  uid 0 (process not visible)
	EOF
}

ports_sctp() {
	local -A p
	setup_topology
	in_ns "$SERVER" python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_STREAM, 132)' \
		2>/dev/null || skip "this kernel cannot open SCTP sockets (CONFIG_IP_SCTP)"
	serve "$SERVER" sctp SCTP6-LISTEN:8080,ipv6only=0,reuseaddr 8080
	serve "$SERVER" sctp SCTP4-LISTEN:5000,bind=127.0.0.1,reuseaddr 5000
	serve "$SERVER" sctp "SCTP6-LISTEN:60001,bind=[$SERVER_IP6],reuseaddr" 60001
	p[8080]="socat[${port_pids[sctp/8080]}]" p[5000]="socat[${port_pids[sctp/5000]}]"
	p[60001]="socat[${port_pids[sctp/60001]}]"
	cmd_ok pr "$SERVER" add sctp 80 8080
	cmd_ok pr "$SERVER" -n ports sctp
	expect_lines "ports sctp" <<-EOF
		sctp 80 (well-known)  no listener  -> 8080
		sctp 5000 (registered)  127.0.0.1 (loopback)  ipv4  ${p[5000]}
		sctp 8080 (registered)  :: (wildcard)  ipv4,ipv6  ${p[8080]}  <- 80
		sctp 60001 (dynamic)  $SERVER_IP6 (specific)  ipv6  ${p[60001]}  flags: dynamic-port
	EOF
	cmd_ok pr "$SERVER" -j ports
	ports_json_lines
	expect_lines "ports -j, sctp" <<-EOF
		sctp 80 - away:80>8080 from: flags:
		sctp 5000 127.0.0.1 loopback ipv4 ${p[5000]} away: from: flags:
		sctp 8080 :: wildcard ipv4,ipv6 ${p[8080]} away: from:80>8080 flags:
		sctp 60001 $SERVER_IP6 specific ipv6 ${p[60001]} away: from: flags:dynamic-port
	EOF
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

# --- the netlink spec, spoken by the kernel's ynl ------------------------------

YNL_TREE=$SELFTEST_DIR/../.build/linux-source-6.12
SPEC=$SELFTEST_DIR/../Documentation/netlink/specs/portredir.yaml

# ynl NS ARGS...: the kernel's generic client, driven by our spec, in NS.
ynl() {
	local ns=$1
	shift
	ip netns exec "$ns" python3 "$YNL_TREE/tools/net/ynl/cli.py" --spec "$SPEC" \
		--schema "$YNL_TREE/Documentation/netlink/genetlink-legacy.yaml" \
		--output-json "$@"
}

# ynl's JSON output (dump replies or notifications, in $TMP_DIR/out) as one
# line per message: "NAME PROTO PORTS TARGETS FAMILIES DIRECTIONS".
ynl_lines() {
	python3 -c '
import json, sys
for line in open(sys.argv[1]):
    try:
        data = json.loads(line)
    except ValueError:
        continue
    if not isinstance(data, list):
        continue
    for msg in data:
        name, attrs = msg.get("name", "reply"), msg.get("msg", msg)
        rules = attrs.get("rule", [None])
        for r in rules if isinstance(rules, list) else [rules]:
            if r is None:
                print(name)
                continue
            print(name, r["proto"], "%d-%d" % (r["port-min"], r["port-max"]),
                  "%d-%d" % (r["to-port-min"], r["to-port-max"]),
                  ",".join(sorted(r["family"])), ",".join(sorted(r["direction"])))
' "$TMP_DIR/out"
}

expect_ynl_lines() {
	local got
	got=$(ynl_lines)
	[[ $got == "$1" ]] || fail "ynl printed '$got', wanted '$1'"
}

# ynl_monitor NS OUT: the monitor group through ynl's library, in NS: one
# JSON line per notification into OUT after a "ready" line, until a flush
# or 300 s. The limit is in time, not in polls: 600 polls of 0.1 s could
# end before the scenario's ynl and CLI commands did on a loaded emulator
# (it failed so once, "heard no flush").
ynl_monitor() {
	ip netns exec "$1" python3 -c '
import json, sys, time
sys.path.insert(0, sys.argv[1] + "/tools/net/ynl")
from lib import YnlFamily
ynl = YnlFamily(sys.argv[2], sys.argv[1] + "/Documentation/netlink/genetlink-legacy.yaml")
ynl.ntf_subscribe("monitor")
print("ready", flush=True)
deadline = time.monotonic() + 300
while time.monotonic() < deadline:
    ynl.check_ntf()
    while ynl.async_msg_queue:
        msg = ynl.async_msg_queue.pop(0)
        print(json.dumps([msg], default=sorted), flush=True)
        if msg["name"] == "flush-ntf":
            sys.exit(0)
    time.sleep(0.1)
' "$YNL_TREE" "$SPEC" >"$2" 2>&1
}

# The spec is the contract: the kernel's ynl, reading nothing but it, adds,
# dumps, deletes, flushes and hears the monitor group, and agrees with the CLI.
ynl_speaks_the_spec() {
	local mon=$TMP_DIR/monitor ynlmon=$TMP_DIR/ynl-monitor ynlmon_pid
	[[ $BACKEND == kmod ]] || skip "ynl speaks the module's generic netlink family"
	[[ -r $YNL_TREE/tools/net/ynl/cli.py ]] ||
		skip "no ynl in $YNL_TREE (make selftests extracts it from linux-source-6.12)"
	checktool "python3 -c 'import yaml, jsonschema'" "ynl needs python3-yaml and python3-jsonschema"
	setup_topology
	start_monitor "$mon"
	( close_conn_fds; ynl_monitor "$SERVER" "$ynlmon" ) &
	ynlmon_pid=$!
	echo "$ynlmon_pid" >>"$TMP_DIR/pids"
	busywait 30000 grep -qx ready "$ynlmon" || fail "ynl did not join the monitor group: $(cat "$ynlmon")"
	# ynl writes, the CLI reads.
	cmd_ok ynl "$SERVER" --do add --json '{"rule": [{"proto": 6, "port-min": 80, "to-port-min": 8080}]}'
	cmd_ok pr "$SERVER" save
	[[ $(<"$TMP_DIR/out") == "tcp 80 to 8080" ]] || fail "save after ynl's add printed '$(<"$TMP_DIR/out")'"
	# The CLI writes, ynl reads.
	cmd_ok pr "$SERVER" add udp 5300-5301 6300-6301 -4 --inbound
	cmd_ok ynl "$SERVER" --dump get
	expect_ynl_lines "reply 6 80-80 8080-8080 ipv4,ipv6 inbound,local
reply 17 5300-5301 6300-6301 ipv4 inbound"
	# ynl deletes by selector alone, then flushes.
	cmd_ok ynl "$SERVER" --do del \
		--json '{"rule": {"proto": 17, "port-min": 5300, "port-max": 5301, "family": "ipv4", "direction": "inbound"}}'
	cmd_ok ynl "$SERVER" --do flush
	cmd_ok pr "$SERVER" list
	rule_count_is 0
	# Both monitors heard the same four changes.
	wait "$ynlmon_pid" || fail "ynl's monitor heard no flush: $(cat "$ynlmon")"
	cp "$ynlmon" "$TMP_DIR/out"
	expect_ynl_lines "add-ntf 6 80-80 8080-8080 ipv4,ipv6 inbound,local
add-ntf 17 5300-5301 6300-6301 ipv4 inbound
del-ntf 17 5300-5301 6300-6301 ipv4 inbound
flush-ntf"
	busywait 5000 grep -qx "flush" "$mon" || fail "the CLI's monitor missed ynl's flush: $(cat "$mon")"
	monitor_events "$mon" >"$TMP_DIR/events"
	printf '%s\n' "add tcp 80 to 8080" "add udp 5300-5301 to 6300-6301 -4 --inbound" \
		"del udp 5300-5301 -4 --inbound" "flush" >"$TMP_DIR/want"
	diff -u "$TMP_DIR/want" "$TMP_DIR/events" >"$TMP_DIR/diff" ||
		fail "the CLI's monitor saw other events than ynl: $(cat "$TMP_DIR/diff")"
}

# --- UDP flows and rule changes ------------------------------------------------

# udp_sender OUT: from the client, one UDP flow (fixed source port) to port 80
# of the server that never pauses for long: a datagram every 100 ms, each
# answer appended to OUT. It keeps its conntrack entry alive throughout.
udp_sender() {
	(
		close_conn_fds
		exec ip netns exec "$CLIENT" sh -c 'while :; do echo ping; sleep 0.1; done |
			exec socat -T 60 - UDP4:'"$SERVER_IP4"':80,sourceport=40000' >"$1" 2>/dev/null
	) &
	echo $! >>"$TMP_DIR/pids"
}

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

# answered_since FILE N WANT: a line WANT in FILE after its first N lines.
answered_since() {
	local line n=0
	[[ -r $1 ]] || return 1
	while read -r line; do
		n=$((n + 1))
		((n > $2)) && [[ $line == "$3" ]] && return 0
	done <"$1"
	return 1
}

lines_of() {
	local n
	n=$(wc -l <"$1")
	echo "${n// /}"
}

# A steady UDP sender moves to the target as soon as a rule is added and
# back when it is deleted (its conntrack entry is deleted with each change);
# with --keep-conntrack it stays where it was. An established TCP connection
# through another rule is never touched, even by flush.
udp_flow_follows_rules() {
	local keep=$1 out=$TMP_DIR/udp n
	setup_topology
	udp_answerer "$SERVER" 80
	udp_answerer "$SERVER" 8080
	listen "$SERVER" 8081
	cmd_ok pr "$SERVER" add 81 8081
	open_conn tcp "$CLIENT" "$SERVER_IP4" 81
	conn_expect tcp srv8081
	udp_sender "$out"
	busywait 10000 answered_since "$out" 0 srv80 || fail "the UDP flow got no answer from port 80"
	n=$(lines_of "$out")
	if [[ $keep == keep ]]; then
		cmd_ok pr "$SERVER" --keep-conntrack add udp 80 8080
		busywait 10000 answered_since "$out" "$((n + 10))" srv80 ||
			fail "the UDP flow stopped after add --keep-conntrack"
		! answered_since "$out" "$n" srv8080 ||
			fail "add --keep-conntrack moved the UDP flow to 8080"
		expect_answer "$CLIENT" "$SERVER_IP4" 80 srv8080 udp
		cmd_ok pr "$SERVER" --keep-conntrack flush
	else
		cmd_ok pr "$SERVER" add udp 80 8080
		busywait 10000 answered_since "$out" "$n" srv8080 ||
			fail "the UDP flow did not move to 8080 after add: $(tail -n 3 "$out" | tr '\n' ' ')"
		n=$(lines_of "$out")
		cmd_ok pr "$SERVER" del udp 80
		busywait 10000 answered_since "$out" "$n" srv80 ||
			fail "the UDP flow did not come back to 80 after del"
		cmd_ok pr "$SERVER" add udp 80 8080
		busywait 10000 answered_since "$out" "$(lines_of "$out")" srv8080 ||
			fail "the UDP flow did not move to 8080 after a second add"
		n=$(lines_of "$out")
		cmd_ok pr "$SERVER" flush
		busywait 10000 answered_since "$out" "$n" srv80 ||
			fail "the UDP flow did not come back to 80 after flush"
		n=$(lines_of "$out")
		echo "udp 80 to 8080" | cmd_ok pr "$SERVER" restore
		busywait 10000 answered_since "$out" "$n" srv8080 ||
			fail "the UDP flow did not move to 8080 after restore"
	fi
	conn_send tcp still-there
	conn_expect tcp still-there
}

# --- JSON output against its schema -------------------------------------------

# json_valid DEFINITION=FILE...: each FILE matches that definition of
# Documentation/portredir.schema.json (one python run for all).
json_valid() {
	"$SELFTEST_DIR/json_check.py" "$@" 2>"$TMP_DIR/err" ||
		fail "-j output does not match the schema: $(head -n 3 "$TMP_DIR/err")"
}

# Every -j output, with each optional member present somewhere (service
# names, ranges across classes, dev, listeners with and without owners,
# warnings), matches the schema that documents it.
json_matches_schema() {
	local mon=$TMP_DIR/monitor verb files=()
	checktool "python3 -c 'import jsonschema'" "validating -j output needs python3-jsonschema"
	setup_topology
	listen "$SERVER" 8080
	cmd_ok pr "$SERVER" add 80 8080
	cmd_ok pr "$SERVER" add udp 1000-1099 60000-60099 -6 --inbound
	cmd_ok pr "$SERVER" add sctp 443 8443 dev veth0
	for verb in list save ports status; do
		cmd_ok pr "$SERVER" -j "$verb"
		mv "$TMP_DIR/out" "$TMP_DIR/$verb.json"
		cmd_ok pr "$SERVER" -j -n "$verb"
		mv "$TMP_DIR/out" "$TMP_DIR/$verb-n.json"
		files+=("$verb=$TMP_DIR/$verb.json" "$verb=$TMP_DIR/$verb-n.json")
	done
	(
		close_conn_fds
		exec ip netns exec "$SERVER" "$PORTREDIR" -b "$BACKEND" -j monitor >"$mon" 2>&1
	) &
	echo $! >>"$TMP_DIR/pids"
	busywait 10000 monitor_sees_probe "$mon" || fail "monitor -j printed nothing: $(cat "$mon")"
	cmd_ok pr "$SERVER" del 80
	cmd_ok pr "$SERVER" add tcp 81 8081 -4 --local
	cmd_ok pr "$SERVER" flush
	cmd_ok pr "$SERVER" add 82 8082
	busywait 5000 grep -q '"min":82,' "$mon" || fail "monitor -j missed changes: $(cat "$mon")"
	json_valid "${files[@]}" "monitor_event=$mon"
	# The schema is strict enough to catch a changed member.
	sed 's/"ipv4"/"ip4"/' "$TMP_DIR/list.json" >"$TMP_DIR/bad.json"
	! "$SELFTEST_DIR/json_check.py" "list=$TMP_DIR/bad.json" 2>/dev/null ||
		fail "the schema took \"ip4\" for a family"
}

# monitor_sees_probe FILE: a rule added and deleted shows in the monitor's
# FILE (it is subscribed once it reports one).
monitor_sees_probe() {
	pr "$SERVER" add 1 1 >/dev/null 2>&1
	pr "$SERVER" del 1 >/dev/null 2>&1
	grep -q '"event":"del"' "$1"
}

# --- the run ---------------------------------------------------------------

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

# name function arguments...
readonly CASES=(
	"redirect inbound IPv4|redirect_inbound $SERVER_IP4"
	"redirect inbound IPv6|redirect_inbound $SERVER_IP6"
	"redirect local to 127.0.0.1, ::1 and own addresses|redirect_local"
	"local rule leaves connections to other hosts alone|local_leaves_other_hosts_alone"
	"routed connections pass through unredirected|forwarded_left_alone"
	"a namespace without rules tracks no connection|idle_namespace_costs_nothing"
	"del stops new connections, established IPv4 inbound one lives on|established_survives del CLIENT $SERVER_IP4"
	"del of the last rule, established local ::1 one lives on|established_survives del SERVER ::1"
	"flush of the last rule, established IPv6 inbound one lives on|established_survives flush CLIENT $SERVER_IP6"
	"flush removes every rule|flush_removes_all"
	"list shows the rule and counts connections|list_shows_rule_and_counters"
	"duplicate add fails|add_duplicate_fails"
	"del of a missing rule fails|del_missing_fails"
	"overlaps and selectors among neighbouring rules|neighbours_overlap_and_del"
	"usage errors exit 2 with one line|usage_errors"
	"a full disk under save, list and status is an error|output_write_errors"
	"unprivileged process is refused and changes nothing|unprivileged_refused"
	"user namespace manages the network namespace it owns|userns_owns_its_netns"
	"rules of one namespace do not affect another|namespaces_isolated"
	"namespace deleted with rules and connections|netns_teardown_with_rules"
	"root of a user namespace restores and lists a full TCP table|userns_restore_full"
	"interface-bound 1-65535 rules stop at the budget; deleting one is prompt|budget_bound_ranges"
	"only the host's root sets the limits; restore refused at the first rule beyond|limits_set_by_host_root"
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
	"administrator's nftables rules untouched|foreign_rules_untouched"
	"another table's DNAT of our port runs first and is warned about|foreign_nat_warned"
	"nft flush ruleset by someone else|nft_flush_ruleset"
	"a table inet portredir made by someone else is refused|foreign_table_refused"
	"nft -f reads back what nft list ruleset prints|nft_listing_reads_back"
	"save and restore|save_restore"
	"restore is atomic under traffic|restore_is_atomic"
	"an interrupted restore's maps are ignored, then deleted|nft_restore_leftovers"
	"systemd unit restores, reloads and flushes|boot_unit"
	"monitor prints every change|monitor_changes"
	"auto backend, PORTREDIR_BACKEND and -b|auto_backend"
	"rmmod with rules and traffic, then reinsert|rmmod_with_rules_and_traffic"
	"ports: listeners of each protocol, family, class and bind, with rules|ports_map"
	"ports: usage errors|ports_usage_errors"
	"ports: unprivileged user sees the sockets|ports_unprivileged"
	"ports: no backend, sockets still listed|ports_without_backend"
	"ports: sctp listeners and rules|ports_sctp"
	"counter counts redirected connections only, not retransmitted SYNs|counter_is_exact"
	"the kernel's ynl speaks the family from its YAML spec|ynl_speaks_the_spec"
	"-j output matches its JSON schema|json_matches_schema"
	"a steady UDP flow follows add, del, flush and restore|udp_flow_follows_rules"
	"--keep-conntrack leaves a steady UDP flow where it was|udp_flow_follows_rules keep"
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

if [[ ${1:-} == --inside ]]; then
	# Re-entered in another namespace by a scenario: run one body there.
	trap 'rm -rf "$TMP_DIR"' EXIT
	"$2"
	exit
fi

trap cleanup EXIT

main() {
	local backend reason entry name cmd only=("$@")
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

main "$@"
