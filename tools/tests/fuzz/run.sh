#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs one libFuzzer harness for a bounded time from its seed corpus and
# prints one TAP line with the number of executions. New inputs go to a
# scratch corpus (the seeds in the tree stay small); a crashing input is
# kept beside the harness, as crash-*, and its path printed.
#
# usage: tests/fuzz/run.sh HARNESS SEED-DIR SECONDS [TAP-NUMBER]

harness=$1 seeds=$2 seconds=$3 number=${4:-1}
name=$(basename "$harness")
scratch=$(mktemp -d)
trap 'rm -rf "$scratch" "$scratch.log"' EXIT

"$harness" -max_total_time="$seconds" -print_final_stats=1 \
	-artifact_prefix="$(dirname "$harness")/" "$scratch" "$seeds" \
	>"$scratch.log" 2>&1
status=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$scratch.log")
if [ $status -eq 0 ]; then
	echo "ok $number - $name: ${runs:-?} executions in ${seconds} s, no finding"
else
	echo "not ok $number - $name: exit $status after ${runs:-?} executions"
	grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$scratch.log" | sed 's/^/# /'
fi
exit $status
