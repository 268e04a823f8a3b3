#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Everything `make check` runs, in order: build, the CLI's unit tests, the
# nft-backend selftests on this host (in namespaces), the module built with W=1
# for every kernel of scripts/kernels.sh, the Debian packages installed,
# used in the VM and purged (scripts/deb-test.sh), then the whole suite in the VM for
# both backends, once per kernel of CHECK_KERNELS (default "6.1 7.3"; the
# oldest and the newest), and on 6.1 the stress test (make vmtest-stress).
# Each step's output goes to the terminal and to a log; the last line counts
# the test cases of all steps:
#   N passed, N failed, N skipped
# A step that fails without reporting a failed case counts as one failure.

set -uo pipefail

cd "$(dirname "$0")/.."
make=${MAKE:-make}
log_dir=$(mktemp -d "${TMPDIR:-/tmp}/portredir-check.XXXXXX")
trap 'rm -rf "$log_dir"' EXIT

passed=0 failed=0 skipped=0
failed_steps=()

. scripts/count.sh

step() {
	local name=$1 log rc p f s
	shift
	log=$log_dir/${name// /-}.log
	echo "=== $name: $*"
	"$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	read -r p f s < <(count "$log")
	if [[ $rc != 0 && $f == 0 ]]; then
		f=1
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	[[ $rc == 0 && $f == 0 ]] || failed_steps+=("$name")
	echo "=== $name: exit $rc; $p passed, $f failed, $s skipped"
	return "$rc"
}

step build $make all selftests || true
step "unit tests" $make -C tools check || true
# netlink_api speaks to the module, which only the VM can load.
step "host nft selftests" env BACKEND=nft $make -s -C selftests run_tests TEST_GEN_PROGS= || true
step "kernel builds" $make -s module-all || true
step "debian packages" $make -s deb-test || true
for kernel in ${CHECK_KERNELS:-6.1 7.3}; do
	if [[ $kernel == 6.1 ]]; then
		step "vm selftests" $make -s vmtest || true
		step "vm stress" $make -s vmtest-stress || true
	else
		step "vm selftests $kernel" $make -s vmtest KVER="$kernel" || true
	fi
done

((${#failed_steps[@]} == 0)) || echo "failed steps: ${failed_steps[*]}"
echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0))
