#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Rules that outlive the command: save and restore (atomic under traffic),
# the systemd unit that restores them at boot, and monitor, which prints
# every change.
#
# Every scenario runs once per backend in $BACKEND ("kmod nft" by default);
# the topology is drawn at the top of lib.sh.
#
#   BACKEND=nft ./persist.sh          one backend
#   ./persist.sh NAME...              only the scenarios named (./persist.sh --list)

source "$(dirname "$0")/lib.sh"

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
			printf '%s\n' "$(atomic_probe)" >>"$TMP_DIR/answers"
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

# name function arguments...
readonly CASES=(
	"save and restore|save_restore"
	"restore is atomic under traffic|restore_is_atomic"
	"systemd unit restores, reloads and flushes|boot_unit"
	"monitor prints every change|monitor_changes"
)

run_topic "$@"
