# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# Sourced by scripts/check.sh and scripts/kernels.sh: one way to count test
# cases in a log.
#
# count LOG prints "PASSED FAILED SKIPPED" for the TAP case lines ("ok N ...",
# at any "# " nesting, not the kselftest runner's per-program lines) and the
# shell tests' PASS:/FAIL:/SKIP: lines. grep -c exits 1 on no match, which
# must not stop a caller running with set -e.
count() {
	local log=$1 ok tap_skip not_ok pass skip fail
	# Case lines: TAP lines other than the runner's "selftests: " ones.
	ok=$(grep -E '^(# )*ok [0-9]+ ' "$log" | grep -vc ' selftests: ' || true)
	tap_skip=$(grep -E '^(# )*ok [0-9]+ .*# SKIP' "$log" | grep -vc ' selftests: ' || true)
	not_ok=$(grep -E '^(# )*not ok [0-9]+ ' "$log" | grep -vc ' selftests: ' || true)
	pass=$(grep -Ec '^(# )*PASS: ' "$log" || true)
	skip=$(grep -Ec '^(# )*SKIP: ' "$log" || true)
	fail=$(grep -Ec '^(# )*FAIL: ' "$log" || true)
	echo "$((ok - tap_skip + pass)) $((not_ok + fail)) $((tap_skip + skip))"
}
