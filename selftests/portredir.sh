#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The scenarios live in topic scripts, one per subject, each sourcing
# lib.sh and each runnable alone (the kselftest runner runs them in turn:
# TEST_PROGS in the Makefile). This one runs the scenarios named, whichever
# script holds them, or every topic script when none is named.
#
#   ./portredir.sh redirect_local steer_fast_open    the scenarios named
#   BACKEND=nft ./portredir.sh                       every topic, one backend
#   ./portredir.sh --list                            every scenario, by script
#
# It exits 1 if any script failed, else 0 if any passed, else 4 (skip).

dir=$(cd "$(dirname "$0")" && pwd)

# A topic script is one with a table of cases.
mapfile -t topics < <(grep -l '^readonly CASES=(' "$dir"/*.sh)

if [[ ${1:-} == --list ]]; then
	for topic in "${topics[@]}"; do
		"$topic" --list | sed "s|^|${topic##*/} |"
	done
	exit 0
fi

# The names each topic holds, before running anything: a name no topic
# holds is a mistake to report at once.
declare -A wanted=() picked=()
for name in "$@"; do
	wanted[$name]=1
done
for topic in "${topics[@]}"; do
	while read -r name; do
		if [[ -n ${wanted[$name]:-} ]]; then
			picked[$topic]+=" $name"
			unset "wanted[$name]"
		fi
	done < <("$topic" --list)
done
if ((${#wanted[@]})); then
	echo "portredir.sh: no scenario named ${!wanted[*]} (portredir.sh --list)" >&2
	exit 2
fi

rc=4
for topic in "${topics[@]}"; do
	if (($#)); then
		[[ -n ${picked[$topic]:-} ]] || continue
		# shellcheck disable=SC2086 # picked holds function names
		"$topic" ${picked[$topic]}
	else
		"$topic"
	fi
	case $? in
	0) ((rc == 4)) && rc=0 ;;
	4) ;;
	*) rc=1 ;;
	esac
done
exit $rc
