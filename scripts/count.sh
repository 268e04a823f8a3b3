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
	local log=$1 p f s runner_p runner_s runner_f
	p=$(grep -Ec '^(# )*(ok [0-9]+ |PASS: )' "$log" || true)
	s=$(grep -Ec '^(# )*(ok [0-9]+ .*# SKIP|SKIP: )' "$log" || true)
	f=$(grep -Ec '^(# )*(not ok [0-9]+ |FAIL: )' "$log" || true)
	runner_p=$(grep -Ec '^(# )*ok [0-9]+ selftests: ' "$log" || true)
	runner_s=$(grep -Ec '^(# )*ok [0-9]+ selftests: .*# SKIP' "$log" || true)
	runner_f=$(grep -Ec '^(# )*not ok [0-9]+ selftests: ' "$log" || true)
	p=$((p - runner_p - (s - runner_s)))
	s=$((s - runner_s))
	f=$((f - runner_f))
	echo "$p $f $s"
}
