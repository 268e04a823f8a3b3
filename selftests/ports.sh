#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `portredir ports`: listeners of each protocol, family and bind, the rules
# that concern them, in text and JSON; its usage errors, an unprivileged
# user, no backend at all, and SCTP.
#
# Every scenario runs once per backend in $BACKEND ("kmod nft" by default);
# the topology is drawn at the top of lib.sh.
#
#   BACKEND=nft ./ports.sh          one backend
#   ./ports.sh NAME...              only the scenarios named (./ports.sh --list)

source "$(dirname "$0")/lib.sh"

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

# name function arguments...
readonly CASES=(
	"ports: listeners of each protocol, family, class and bind, with rules|ports_map"
	"ports: usage errors|ports_usage_errors"
	"ports: unprivileged user sees the sockets|ports_unprivileged"
	"ports: no backend, sockets still listed|ports_without_backend"
	"ports: sctp listeners and rules|ports_sctp"
)

run_topic "$@"
