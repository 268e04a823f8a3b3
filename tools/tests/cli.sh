#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The command line contract that needs no kernel support: every usage error
# exits 2 with exactly one line on stderr that starts with "portredir:",
# before any backend is touched. TAP output.
#
# usage: tests/cli.sh [PATH-TO-PORTREDIR]

PORTREDIR=${1:-./portredir}
number=0
passed=0
failed=0
stderr=$(mktemp)
trap 'rm -f "$stderr"' EXIT

# report ok|fail DESCRIPTION; control bytes in the description would break TAP.
report() {
	set -- "$1" "$(printf '%s' "$2" | tr '\001-\037\177' '?')"
	number=$((number + 1))
	if [ "$1" = ok ]; then
		passed=$((passed + 1))
		printf "ok %d - %s\n" "$number" "$2"
	else
		failed=$((failed + 1))
		printf "not ok %d - %s\n" "$number" "$2"
		sed 's/^/# /' "$stderr"
	fi
}

# usage_error EXPECTED-TEXT ARGUMENT...
usage_error() {
	expected=$1
	shift
	"$PORTREDIR" "$@" >/dev/null 2>"$stderr"
	status=$?
	if [ $status -eq 2 ] && [ "$(wc -l <"$stderr")" -eq 1 ] &&
	   grep -q '^portredir: ' "$stderr" && grep -qF -- "$expected" "$stderr"; then
		report ok "portredir $* -> usage error \"$expected\""
	else
		report fail "portredir $* -> exit $status, want 2 and \"$expected\""
	fi
}

usage_error 'missing command (expected add, del'
usage_error 'unknown command "lst" (did you mean "list"?' lst
usage_error 'unknown command "frobnicate"' frobnicate
usage_error 'unknown option "-x"' -x list
usage_error 'unknown backend "bogus"' --backend bogus list
usage_error 'unknown tcp service "htp"' add htp 8080
usage_error 'unknown udp service "htp"' add udp htp 8080
usage_error 'port 0 out of range' add 0 8080
usage_error 'port 65536 out of range' add 80 65536
usage_error 'reversed port range 90-80' add 90-80 8080
usage_error 'has 6 ports but 8000-8010 has 11' add 8000-8010 9000-9005
usage_error 'cannot be combined with --local' add 80 8080 dev lo --local
usage_error 'unknown protocol "icmp"' add icmp 80 8080
usage_error 'missing target port' add 80
usage_error 'unexpected "8080"' del 80 8080
usage_error 'takes no arguments' list extra
usage_error 'unexpected "b"' restore a b
usage_error 'option "--json" takes no value (given "--json=1")' --json=1 list
usage_error 'unknown option "--jsn"' --jsn list

# What is echoed back is escaped: one line always, whatever was typed.
nl='
'
usage_error 'unknown command "ad\nd"' "ad${nl}d"
usage_error 'unknown tcp service "80\n"' add "80${nl}" 8080
usage_error 'unknown tcp service "8\x1b[2J0"' add "$(printf '8\033[2J0')" 8080
usage_error 'unexpected "x\ty" ("list" takes no arguments)' list "$(printf 'x\ty')"

printf '# a comment\n\ntcp 80 to 8080\nudp 53 to htp\n' >"$stderr.rules"
usage_error 'line 4: unknown udp service "htp"' restore "$stderr.rules"
printf 'tcp 70-90 to 9000\n\nadd tcp 80 to 8080 -4\n' >"$stderr.rules"
usage_error 'line 3: "tcp 80 to 8080 -4" overlaps "tcp 70-90 to 9000" on line 1' \
	restore "$stderr.rules"
# Restore input must be text: a NUL or a control byte other than tab, CR
# and LF is refused with the line and column, before any backend is opened.
head -c 4096 /dev/zero >"$stderr.rules"
usage_error 'rules: line 1: not text: byte 0x00 at column 1' restore "$stderr.rules"
usage_error 'stdin: line 1: not text: byte 0x00 at column 1' restore <"$stderr.rules"
printf 'tcp 80 to 8080\ntcp 81 to 8081\0junk\n' >"$stderr.rules"
usage_error 'line 2: not text: byte 0x00 at column 15' restore "$stderr.rules"
printf '# ok\n\ttcp 80 to 8080\r\n\033]0;title\007\n' >"$stderr.rules"
usage_error 'line 3: not text: byte 0x1b at column 1' restore "$stderr.rules"
printf 'tcp 80 to 8080\n\177\n' >"$stderr.rules"
usage_error 'line 2: not text: byte 0x7f at column 1' restore "$stderr.rules"
rm -f "$stderr.rules"

"$PORTREDIR" help >/dev/full 2>"$stderr"
[ $? -eq 1 ] && [ "$(cat "$stderr")" = "portredir: help: cannot write the output: No space left on device" ]
report "$([ $? -eq 0 ] && echo ok)" "help to a full disk exits 1 and says so"

PORTREDIR_BACKEND=bogus "$PORTREDIR" list >/dev/null 2>"$stderr"
[ $? -eq 2 ] && grep -q 'PORTREDIR_BACKEND' "$stderr"
report "$([ $? -eq 0 ] && echo ok)" "PORTREDIR_BACKEND=bogus is a usage error"

"$PORTREDIR" help >"$stderr" 2>&1 && grep -q 'PORT      := { 1..65535 | NAME }' "$stderr"
report "$([ $? -eq 0 ] && echo ok)" "help prints the grammar and exits 0"

echo "1..$number"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
