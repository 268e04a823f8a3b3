#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Every read-only verb, and a restore of nothing, against an empty table of
# the nft backend, in a network namespace of its own. Run on the sanitized
# build, this is where empty arrays meet qsort() and friends. TAP output;
# needs root (unshare -n) and nf_tables, else it skips.
#
# usage: tests/empty_table.sh [PATH-TO-PORTREDIR]

PORTREDIR=${1:-./portredir}
number=0
failed=0

if [ "$(id -u)" != 0 ] || ! unshare -n true 2>/dev/null; then
	echo "1..0 # SKIP needs root to create a network namespace"
	exit 0
fi
if ! unshare -n nft list tables >/dev/null 2>&1; then
	echo "1..0 # SKIP nf_tables is not available (CONFIG_NF_TABLES)"
	exit 0
fi

# check DESCRIPTION ARGUMENT...: the command exits 0 in a fresh namespace.
check() {
	description=$1
	shift
	number=$((number + 1))
	if unshare -n sh -c '"$@" </dev/null >/dev/null' sh "$PORTREDIR" -b nft "$@"; then
		echo "ok $number - $description"
	else
		echo "not ok $number - $description"
		failed=$((failed + 1))
	fi
}

check "list of an empty table" list
check "list -j of an empty table" -j list
check "save of an empty table" save
check "status of an empty table" status
check "ports with no rule" ports
check "restore of an empty file" restore
check "flush of an empty table" flush

echo "1..$number"
echo "$((number - failed)) passed, $failed failed"
[ $failed -eq 0 ]
