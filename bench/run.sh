#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`: boots the test VM once (selftests/vm/run.sh), runs
# bench/bench.sh in it and writes, under bench/results/DATE-KERNEL/,
#   console.log   the VM's whole console
#   table.md      the results as markdown (what README's Benchmarks quotes)
#   rates.png     new connections/s against rule count, per backend and
#                 anchor, local and inbound, as ratios to no module
#   rates-local.dat, rates-inbound.dat   the plotted points
# QUICK=1 (BENCH_QUICK=1) takes the short run.
#
#   bench/run.sh [--kver VER]

set -euo pipefail
cd "$(dirname "$0")/.."

kver=${VM_KVER:-}
[[ ${1:-} != --kver ]] || kver=${2:?--kver needs a version}
quick=${QUICK:-${BENCH_QUICK:-0}}
[[ $quick == 1 ]] || quick=0
out=bench/results/$(date -u +%Y%m%d-%H%M%S)-${kver:-default}$([[ $quick == 0 ]] || echo -quick)
mkdir -p "$out"

start=$SECONDS
# slab_nomerge names each slab cache apart in the memory table; the 1,000
# namespaces want more than the tests' 1 GiB.
VM_MEMORY=${VM_MEMORY:-2048} VM_TIMEOUT=${VM_TIMEOUT:-2400} \
VM_APPEND="slab_nomerge ${VM_APPEND:-}" \
	selftests/vm/run.sh ${kver:+--kver "$kver"} -- \
	env BENCH_QUICK="$quick" ${BENCH_REPEAT:+BENCH_REPEAT=$BENCH_REPEAT} \
	${BENCH_CONNECTIONS:+BENCH_CONNECTIONS=$BENCH_CONNECTIONS} \
	${BENCH_NAMESPACES:+BENCH_NAMESPACES=$BENCH_NAMESPACES} bench/bench.sh |
	tee "$out/console.log"
status=${PIPESTATUS[0]}

tr -d '\r' <"$out/console.log" | sed -n 's/^md://p' >"$out/table.md"
# "DIR|SERIES|COUNT|MEDIAN MIN MAX" lines, a block per series and direction,
# each block headed by its title, for gnuplot's index and columnheader.
for d in 1 2; do
	tr -d '\r' <"$out/console.log" | sed -n "s/^plot:$d|//p" | sort -t'|' -k1,1 -k2,2n |
		awk -F'|' '$1 != last { if (NR > 1) printf "\n\n"; printf "\"%s\"\n", $1; last = $1 }
			{ print $2, $3 }' >"$out/rates-$([[ $d == 1 ]] && echo local || echo inbound).dat"
done
if [[ -s $out/rates-local.dat ]]; then
	gnuplot -e "dir='$out'; kernel='${kver:-$(sed -n 's/^run.sh: kernel \([^,]*\),.*/\1/p' "$out/console.log" | tail -n 1)}'" \
		bench/plot.gp || echo "bench: gnuplot failed; the table is in $out/table.md" >&2
fi

echo
cat "$out/table.md"
echo
echo "bench: $((SECONDS - start)) s; results in $out/"
exit "$status"
