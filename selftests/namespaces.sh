#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Rules belong to a network namespace: the permission model (CAP_NET_ADMIN
# over the namespace, so the root of a user namespace manages its own),
# isolation between namespaces, a namespace deleted with rules in it, and
# the per-namespace budget and limits only the host's root sets.
#
# Every scenario runs once per backend in $BACKEND ("kmod nft" by default);
# the topology is drawn at the top of lib.sh.
#
#   BACKEND=nft ./namespaces.sh          one backend
#   ./namespaces.sh NAME...              only the scenarios named (./namespaces.sh --list)

source "$(dirname "$0")/lib.sh"

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
	# shellcheck disable=SC2016 # expanded by that sh
	busywait 5000 sh -c '[ -n "$(ss -Hlnt "sport = :8080")" ] && [ -n "$(ss -Hlnt "sport = :80")" ]' ||
		fail "listeners in the user namespace did not come up"
	"$PORTREDIR" -b "$BACKEND" add 80 8080 || fail "root of the user namespace cannot add a rule"
	got=$(timeout 5 socat -T 4 -t 4 - TCP4:127.0.0.1:80 </dev/null | head -n 1)
	[[ $got == srv8080 ]] || fail "the rule added in the user namespace did not redirect: got '$got'"
	"$PORTREDIR" -b "$BACKEND" list | grep -Eq '^ *tcp +80\b' || fail "list in the user namespace misses the rule"
	"$PORTREDIR" -b "$BACKEND" del 80 || fail "root of the user namespace cannot delete its rule"
	got=$(timeout 5 socat -T 4 -t 4 - 'TCP6:[::1]:80' </dev/null | head -n 1)
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
		bash "$SELFTEST_SCRIPT" --inside userns_body
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
		bash "$SELFTEST_SCRIPT" --inside userns_full_body
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
		bash "$SELFTEST_SCRIPT" --inside userns_budget_body
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
			bash "$SELFTEST_SCRIPT" --inside userns_limits_body
	done
	[[ $(<"$dir/max_rules") == "$old_rules" && $(<"$dir/max_ports") == "$old_ports" ]] ||
		fail "the limits changed: max_rules $(<"$dir/max_rules"), max_ports $(<"$dir/max_ports")"
}

# name function arguments...
readonly CASES=(
	"unprivileged process is refused and changes nothing|unprivileged_refused"
	"user namespace manages the network namespace it owns|userns_owns_its_netns"
	"rules of one namespace do not affect another|namespaces_isolated"
	"namespace deleted with rules and connections|netns_teardown_with_rules"
	"root of a user namespace restores and lists a full TCP table|userns_restore_full"
	"interface-bound 1-65535 rules stop at the budget; deleting one is prompt|budget_bound_ranges"
	"only the host's root sets the limits; restore refused at the first rule beyond|limits_set_by_host_root"
)

run_topic "$@"
