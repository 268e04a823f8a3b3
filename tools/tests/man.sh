#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The man pages render without a warning from groff or man, lexgrog finds
# their NAME line, and portredir(8) has an entry for every command and
# option that `portredir help` lists. TAP output.
#
# usage: tests/man.sh [PATH-TO-PORTREDIR [MAN-DIR]]

PORTREDIR=${1:-./portredir}
MAN_DIR=${2:-../man}
number=0
failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

report() {
	number=$((number + 1))
	if [ "$1" = ok ]; then
		printf "ok %d - %s\n" "$number" "$2"
	else
		failed=$((failed + 1))
		printf "not ok %d - %s\n" "$number" "$2"
		sed 's/^/# /' "$log"
	fi
}

if ! command -v man >/dev/null || ! command -v lexgrog >/dev/null; then
	echo "ok 1 - man pages # SKIP man-db is not installed"
	exit 0
fi

for page in "$MAN_DIR/portredir.8" "$MAN_DIR/portredir.rules.5"; do
	MANWIDTH=80 man --warnings -l "$page" 2>"$log" >/dev/null
	if [ $? -eq 0 ] && [ ! -s "$log" ]; then
		report ok "$page renders without warnings"
	else
		report fail "$page renders without warnings"
	fi
	if lexgrog "$page" >"$log" 2>&1; then
		report ok "lexgrog reads the NAME of $page"
	else
		report fail "lexgrog reads the NAME of $page"
	fi
done

# Each command under "Commands:" in the usage is a term of its own in the
# rendered page; each --long word of the usage is on the page.
text=$(MANWIDTH=200 man -l "$MAN_DIR/portredir.8" 2>/dev/null | col -b)
usage=$("$PORTREDIR" help)
commands=$(printf '%s\n' "$usage" | sed -n '/^Commands:/,/^$/s/^  \([a-z]*\) .*/\1/p')
[ -n "$commands" ] || report fail "portredir help lists commands"
for word in $commands; do
	: >"$log"
	printf '%s\n' "$text" | grep -qE "^ {7}$word( |$)"
	report "$([ $? -eq 0 ] && echo ok)" "portredir(8) has an entry for $word"
done
for word in $(printf '%s\n' "$usage" | grep -o -- '--[a-z-]*' | sort -u); do
	: >"$log"
	printf '%s\n' "$text" | grep -qF -- "$word"
	report "$([ $? -eq 0 ] && echo ok)" "portredir(8) names $word"
done
echo "$((number - failed)) passed, $failed failed"
[ $failed -eq 0 ]
