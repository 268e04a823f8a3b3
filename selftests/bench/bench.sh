#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Benchmarks, run by `make bench` inside the test VM with portredir.ko
# loaded. Every configuration runs in a fresh network namespace in the same
# boot, one after another, and is reported as a ratio to the first one, since
# absolute figures under QEMU's software emulation on a shared machine mean
# little.
#
#   new connections/s   through no redirect, one rule, and a full table
#                       (every TCP and UDP port: 131070 rules), per backend
#   full table load     `portredir restore` of those 131070 rules, per backend
#   one change          `add` and `del` of one rule at an empty and at a full
#                       table, per backend (milliseconds, whole command)

set -eu
cd "$(dirname "$0")"
export PORTREDIR=$(realpath ../../tools/portredir)
RATE=$(realpath ./connect_rate)
COUNT=${BENCH_CONNECTIONS:-3000}
NS=prbench-$$
work=$(mktemp -d)
trap 'ip netns del $NS 2>/dev/null; rm -rf "$work"' EXIT

# Every TCP and UDP port, each onto itself but 80, which goes to 8080.
for p in $(seq 1 65535); do
	if ((p == 80)); then echo "tcp 80 to 8080"; else echo "tcp $p to $p"; fi
	echo "udp $p to $p"
done > "$work/full.rules"

fresh_ns() {
	ip netns del $NS 2>/dev/null || true
	ip netns add $NS
	ip -n $NS link set lo up
}

in_ns() { ip netns exec $NS "$@"; }

# rate PORT: connections/s to PORT, accepted on 8080
rate() { in_ns "$RATE" 127.0.0.1 "$1" 8080 "$COUNT" | awk '{print $2}'; }

seconds() {
	local start end
	start=$(date +%s.%N)
	"$@" >/dev/null 2>&1
	end=$(date +%s.%N)
	awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }'
}

# median_ms UNDO CMD...: median of 5 runs of CMD in the namespace, in ms,
# timed from a shell inside it, so that no `ip netns exec` is counted;
# UNDO (words for the CLI, or nothing) runs after each.
median_ms() {
	local undo=$1
	shift
	# shellcheck disable=SC2016 # expanded by the inner shell
	in_ns bash -c '
		undo=$1
		shift
		for i in 1 2 3 4 5; do
			start=${EPOCHREALTIME/[.,]/}
			"$@" >/dev/null 2>&1
			echo $((${EPOCHREALTIME/[.,]/} - start))
			[[ -z $undo ]] || "$PORTREDIR" $undo >/dev/null 2>&1
		done' median "$undo" "$@" | sort -n | awk 'NR == 3 { printf "%.0f", $1 / 1000 }'
}

# change_ms BACKEND VERB ARGS...: one add or del, undone before the next.
change_ms() {
	local backend=$1 verb=$2 undo
	shift 2
	if [[ $verb == add ]]; then undo="-b $backend del $1"; else undo="-b $backend add $1 to $1"; fi
	median_ms "$undo" "$PORTREDIR" -b "$backend" "$verb" "$@"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

fresh_ns
startup=$(median_ms "" "$PORTREDIR" --version)
base=$(rate 8080)
printf '%-34s %10s %8s\n' "new connections (count $COUNT)" "conn/s" "ratio"
printf '%-34s %10s %8s\n' "direct to 8080, no rules" "$base" "1.00"

declare -A load change
for backend in kmod nft; do
	fresh_ns
	change[$backend,add,empty]=$(change_ms $backend add 5000 to 6000)
	in_ns "$PORTREDIR" -b $backend add 5000 to 6000 2>/dev/null
	change[$backend,del,empty]=$(change_ms $backend del 5000)
	in_ns "$PORTREDIR" -b $backend del 5000 2>/dev/null
	in_ns "$PORTREDIR" -b $backend add 80 8080 2>/dev/null
	r=$(rate 80)
	printf '%-34s %10s %8s\n' "$backend: 80 -> 8080, 1 rule" "$r" "$(ratio "$r" "$base")"

	fresh_ns
	load[$backend]=$(seconds in_ns "$PORTREDIR" -b $backend restore "$work/full.rules")
	count=$(in_ns "$PORTREDIR" -b $backend save | wc -l)
	r=$(rate 80)
	printf '%-34s %10s %8s\n' "$backend: 80 -> 8080, $count rules" "$r" "$(ratio "$r" "$base")"
	# The full table holds every port: a del makes room for the add.
	change[$backend,del,full]=$(change_ms $backend del 5000)
	in_ns "$PORTREDIR" -b $backend del 5000 2>/dev/null
	change[$backend,add,full]=$(change_ms $backend add 5000 to 5000)
done

echo
printf '%-34s %10s %8s\n' "full table load (131070 rules)" "seconds" "ratio"
printf '%-34s %10.2f %8s\n' "kmod: restore" "${load[kmod]}" "1.00"
printf '%-34s %10.2f %8s\n' "nft: restore" "${load[nft]}" "$(ratio "${load[nft]}" "${load[kmod]}")"

echo
printf '%-34s %10s %8s\n' "one change (ms, median of 5)" "empty" "full"
printf '%-34s %10s %8s\n' "the CLI doing nothing (--version)" "$startup" "$startup"
for backend in kmod nft; do
	for verb in add del; do
		printf '%-34s %10s %8s\n' "$backend: $verb" \
			"${change[$backend,$verb,empty]}" "${change[$backend,$verb,full]}"
	done
done
