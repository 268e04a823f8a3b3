#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The module behind the kmod backend: the CLI picks a backend (auto,
# PORTREDIR_BACKEND, -b), rmmod with rules and traffic, and the kernel's
# ynl speaking the generic netlink family from its YAML spec.
#
# Every scenario runs once per backend in $BACKEND ("kmod nft" by default);
# the topology is drawn at the top of lib.sh.
#
#   BACKEND=nft ./module.sh          one backend
#   ./module.sh NAME...              only the scenarios named (./module.sh --list)

source "$(dirname "$0")/lib.sh"

# --- backend choice ----------------------------------------------------------

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
	local ko=${PORTREDIR_KO:-$SELFTEST_DIR/../kmod/portredir.ko} traffic traffic_pid count got resets
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
		for _ in $(seq 1 200); do
			[[ -e $traffic.stop ]] && break
			printf '%s\n' "$(probe "$CLIENT" "$SERVER_IP4" 80)" >>"$traffic.answers"
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

# name function arguments...
readonly CASES=(
	"auto backend, PORTREDIR_BACKEND and -b|auto_backend"
	"rmmod with rules and traffic, then reinsert|rmmod_with_rules_and_traffic"
	"the kernel's ynl speaks the family from its YAML spec|ynl_speaks_the_spec"
)

run_topic "$@"
