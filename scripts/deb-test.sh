#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The Debian packages on a fresh bookworm system for the VM's kernel:
# install portredir and portredir-dkms (from `make deb`) into a clean root,
# check that DKMS built portredir.ko for that kernel, boot the VM and there
# `modprobe portredir` (the DKMS build, from that root) and redirect 80 to
# 8080 with the packaged CLI, then purge both and check that nothing of them
# is left behind.
#
# The root is debootstrap's bookworm minbase with dkms and the kernel's
# headers, made once and cached outside the clone
# ($PORTREDIR_CACHE/deb-root, default /var/cache/portredir); every run
# mounts a fresh overlay on it, so the files a run leaves are exactly the
# overlay's upper layer.
#
#   scripts/deb-test.sh              host part (root), boots the VM itself
#   scripts/deb-test.sh --in-vm ROOT the VM part, run by the above
#
# Prints PASS:/FAIL:/SKIP: lines, one per check.

set -uo pipefail

cd "$(dirname "$0")/.."
KVER=${VM_KVER:?set VM_KVER (make deb-test does)}
CACHE=${PORTREDIR_CACHE:-/var/cache/portredir}
BASE=$CACHE/deb-root/bookworm
DEB_DIR=.build/deb
failed=0

pass() { echo "PASS: deb: $*"; }
fail() { echo "FAIL: deb: $*"; failed=1; }
check() {
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}

# --- in the VM: load the DKMS build and redirect ----------------------------
if [[ ${1:-} == --in-vm ]]; then
	root=$2
	answer() {
		ip netns exec pkgtest timeout 5 socat -T 4 -u TCP4:127.0.0.1:80 - 2>/dev/null
	}
	check "modprobe portredir loads the DKMS build" \
		chroot "$root" modprobe portredir
	want=$(modinfo -F srcversion "$root/lib/modules/$KVER/updates/dkms/portredir.ko")
	check "the module loaded is the one DKMS built" \
		test "$(cat /sys/module/portredir/srcversion 2>/dev/null)" = "$want"
	ip netns add pkgtest && ip -n pkgtest link set lo up
	ip netns exec pkgtest socat TCP4-LISTEN:8080,fork,reuseaddr SYSTEM:'echo srv8080' &
	server=$!
	for _ in $(seq 50); do
		ip netns exec pkgtest ss -Hltn 'sport = :8080' | grep -q . && break
		sleep 0.1
	done
	check "the packaged portredir add 80 8080 succeeds on the module" \
		ip netns exec pkgtest chroot "$root" /usr/sbin/portredir -b kmod add 80 8080
	check "a connection to 80 reaches the listener on 8080" \
		test "$(answer)" = srv8080
	kill "$server"
	ip netns del pkgtest
	exit $failed
fi

# --- on the host -------------------------------------------------------------
if [[ $(id -u) != 0 ]]; then
	echo "SKIP: deb: the package test needs root (chroot, mounts)"
	exit 0
fi
debs=("$DEB_DIR"/portredir_*.deb "$DEB_DIR"/portredir-dkms_*.deb)
[[ -r ${debs[0]} && -r ${debs[1]} ]] || { fail "no packages in $DEB_DIR (make deb)"; exit 1; }

make_base() {
	local tmp=$BASE.tmp mirror
	[[ -e $BASE/.done ]] && return 0
	mirror=$(sed -n 's|^URIs:[[:space:]]*\([^[:space:]]*/debian\)/\?[[:space:]]*$|\1|p' \
		/etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
	echo "# deb: debootstrapping a bookworm root with dkms and linux-headers-$KVER (once)"
	rm -rf "$tmp" && mkdir -p "$(dirname "$BASE")"
	debootstrap --variant=minbase --include=dkms,kmod,"linux-headers-$KVER" \
		bookworm "$tmp" "${mirror:-http://deb.debian.org/debian}" >"$tmp.log" 2>&1 ||
		{ tail -n 20 "$tmp.log"; return 1; }
	chroot "$tmp" apt-get clean
	# Where the VM's kernel modules are bound, for modprobe's dependencies.
	mkdir -p "$tmp/lib/modules/$KVER/kernel"
	rm -rf "$BASE" && mv "$tmp" "$BASE" && touch "$BASE/.done"
}

command -v debootstrap >/dev/null || { fail "debootstrap is not installed (make deps)"; exit 1; }
make_base || { fail "cannot make the bookworm root"; exit 1; }

work=$(mktemp -d /var/tmp/portredir-deb.XXXXXX)
root=$work/root
mkdir -p "$work/upper" "$work/work" "$root"
cleanup() {
	umount -R "$root" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
mount -t overlay overlay -o "lowerdir=$BASE,upperdir=$work/upper,workdir=$work/work" "$root" ||
	{ fail "cannot mount an overlay on $BASE"; exit 1; }
mount --bind "/lib/modules/$KVER/kernel" "$root/lib/modules/$KVER/kernel"
mount -t proc proc "$root/proc"
cp "${debs[@]}" "$root/tmp/"

in_root() { chroot "$root" env DEBIAN_FRONTEND=noninteractive "$@"; }

check "both packages install" in_root dpkg -i /tmp/"${debs[0]##*/}" /tmp/"${debs[1]##*/}" >"$work/install.log" 2>&1 ||
	tail -n 20 "$work/install.log"
check "dkms status shows portredir installed for $KVER" \
	grep -q "portredir/.*, $KVER, .*: installed" <(in_root dkms status 2>&1)
check "DKMS put portredir.ko in /lib/modules/$KVER" \
	test -r "$root/lib/modules/$KVER/updates/dkms/portredir.ko"
check "the man page and completion are installed" \
	test -r "$root/usr/share/man/man8/portredir.8.gz" -a -r "$root/usr/share/bash-completion/completions/portredir"
rm -f "$root/tmp/"*.deb

selftests/vm/run.sh --kver "$KVER" --no-module -- scripts/deb-test.sh --in-vm "$root" 2>&1 |
	grep -E '^(PASS|FAIL|SKIP): ' | sed 's/^/  /;s/^  //'
[[ ${PIPESTATUS[0]} == 0 ]] || fail "the VM part failed"

check "both packages purge" in_root dpkg --purge portredir portredir-dkms >"$work/purge.log" 2>&1 ||
	tail -n 20 "$work/purge.log"
umount "$root/proc" "$root/lib/modules/$KVER/kernel"
left=$(cd "$work/upper" && find . -iname '*portredir*' ! -path './var/log/*' ! -path './tmp/*')
check "nothing of the packages is left behind${left:+: $left}" test -z "$left"
check "dpkg knows neither package any more" \
	test -z "$(in_root dpkg-query -W -f='${Package}\n' 'portredir*' 2>/dev/null)"
exit $failed
