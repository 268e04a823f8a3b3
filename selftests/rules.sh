#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Managing rules: add, del, flush and list, overlapping neighbours, the
# errors each refusal prints and its exit status, write errors on a full
# disk, and -j output against its JSON schema.
#
# Every scenario runs once per backend in $BACKEND ("kmod nft" by default);
# the topology is drawn at the top of lib.sh.
#
#   BACKEND=nft ./rules.sh          one backend
#   ./rules.sh NAME...              only the scenarios named (./rules.sh --list)

source "$(dirname "$0")/lib.sh"

# --- flush -------------------------------------------------------------------

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

list_shows_rule_and_counters() {
	local before after
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
	for _ in 1 2 3; do
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

# name function arguments...
readonly CASES=(
	"flush removes every rule|flush_removes_all"
	"list shows the rule and counts connections|list_shows_rule_and_counters"
	"duplicate add fails|add_duplicate_fails"
	"del of a missing rule fails|del_missing_fails"
	"overlaps and selectors among neighbouring rules|neighbours_overlap_and_del"
	"usage errors exit 2 with one line|usage_errors"
	"a full disk under save, list and status is an error|output_write_errors"
	"-j output matches its JSON schema|json_matches_schema"
)

run_topic "$@"
