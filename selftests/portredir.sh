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
	local n
	n=$(rule_lines | wc -l)
	[[ $n == "$1" ]] || fail "list shows $n rule(s), wanted $1: $(cat "$TMP_DIR/out")"
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
	ip link add veth0 netns "$CLIENT2" type veth peer name veth1 netns "$SERVER"
	ip -n "$CLIENT2" addr add 198.51.100.1/24 dev veth0
	ip -n "$SERVER" addr add 198.51.100.2/24 dev veth1
	ip -n "$CLIENT2" link set veth0 up
	ip -n "$SERVER" link set veth1 up
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

# --- module unload (kmod backend only) ---------------------------------------

rmmod_with_rules_and_traffic() {
	local ko=${PORTREDIR_KO:-$SELFTEST_DIR/../kmod/portredir.ko} traffic traffic_pid i
	[[ $BACKEND == kmod ]] || skip "module unload concerns the kmod backend only"
	[[ -r $ko ]] || skip "no module file to reinsert (set PORTREDIR_KO)"
	checktool "rmmod --version" "needed to unload the module"
	setup_topology
	listen "$SERVER" 80
	listen "$SERVER" 8080
	cmd_ok pr "$SERVER" add 80 8080
	cmd_ok pr "$SERVER" add 443 8080 -6
	cmd_ok pr "$CLIENT" add 80 8080 --inbound
	open_conn est "$CLIENT" "$SERVER_IP4" 80
	conn_expect est srv8080
	# New connections keep arriving while the module goes.
	traffic=$TMP_DIR/traffic
	(
		close_conn_fds
		for i in $(seq 1 200); do
			[[ -e $traffic.stop ]] && break
			probe "$CLIENT" "$SERVER_IP4" 80 >/dev/null
		done
	) &
	traffic_pid=$!
	echo "$traffic_pid" >>"$TMP_DIR/pids"
	busywait 30000 test "$(connections_of 80)" -gt 1 || fail "no traffic before the unload"
	cmd_ok rmmod portredir
	touch "$traffic.stop"
	wait "$traffic_pid"
	[[ ! -d /sys/module/portredir ]] || fail "the module is still there after rmmod"
	expect_answer "$CLIENT" "$SERVER_IP4" 80 srv80
	cmd_fail 1 "~^portredir: .*modprobe portredir" pr "$SERVER" list
	cmd_ok insmod "$ko"
	cmd_ok pr "$SERVER" list
	rule_count_is 0
	cmd_ok pr "$SERVER" add 80 8080
	expect_answer "$CLIENT" "$SERVER_IP4" 80 srv8080
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
	"del stops new connections, established IPv4 inbound one lives on|established_survives del CLIENT $SERVER_IP4"
	"del of the last rule, established local ::1 one lives on|established_survives del SERVER ::1"
	"flush of the last rule, established IPv6 inbound one lives on|established_survives flush CLIENT $SERVER_IP6"
	"flush removes every rule|flush_removes_all"
	"list shows the rule and counts connections|list_shows_rule_and_counters"
	"duplicate add fails|add_duplicate_fails"
	"del of a missing rule fails|del_missing_fails"
	"usage errors exit 2 with one line|usage_errors"
	"unprivileged process is refused and changes nothing|unprivileged_refused"
	"user namespace manages the network namespace it owns|userns_owns_its_netns"
	"rules of one namespace do not affect another|namespaces_isolated"
	"namespace deleted with rules and connections|netns_teardown_with_rules"
	"udp redirect|redirect_protocol udp"
	"sctp redirect|redirect_protocol sctp"
	"port ranges, offset and many-to-one|redirect_ranges"
	"-4 redirects IPv4 only|redirect_one_family -4"
	"-6 redirects IPv6 only|redirect_one_family -6"
	"--inbound leaves local traffic alone|redirect_one_direction --inbound"
	"--local leaves inbound traffic alone|redirect_one_direction --local"
	"dev matches one input interface|redirect_dev"
	"service names for ports|service_names"
	"rmmod with rules and traffic, then reinsert|rmmod_with_rules_and_traffic"
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
