#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The Debian packages on a fresh bookworm system for the VM's kernel:
# install portredir and portredir-dkms (from `make deb`) into a clean root
# with apt, check that DKMS built portredir.ko for that kernel, boot the VM
# and there `modprobe portredir` (the DKMS build, from that root) and
# redirect 80 to 8080 with the packaged CLI, then purge both and check that
# nothing of them is left behind.
#
# The root is debootstrap's bookworm minbase with dkms and the kernel's
# headers, made once and cached outside the clone
# ($PORTREDIR_CACHE/deb-root, default /var/cache/portredir); every run
# mounts a fresh overlay on it, so the files a run leaves are exactly the
# overlay's upper layer.
#
#   VM_KVER=... scripts/deb-test.sh     host part (root); make deb-test
#   scripts/deb-test.sh --in-vm ROOT    the VM part, run by the above
#
# Prints PASS:/FAIL:/SKIP: lines, one per check; logs in .build/deb/.

set -uo pipefail

cd "$(dirname "$0")/.."
CACHE=${PORTREDIR_CACHE:-/var/cache/portredir}
BASE=$CACHE/deb-root/bookworm
DEB_DIR=$PWD/.build/deb
failed=0

pass() { echo "PASS: deb: $*"; }
fail() { echo "FAIL: deb: $*"; failed=1; }
check() {
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}

# --- in the VM: load the DKMS build and redirect ----------------------------

answer() {
	ip netns exec pkgtest timeout 5 socat -T 4 -u TCP4:127.0.0.1:80 - 2>/dev/null
}

in_vm() {
	local root=$1 kver want server
	kver=$(uname -r)
	mount -t proc proc "$root/proc" && mount -t sysfs sysfs "$root/sys"
	check "modprobe portredir loads the DKMS build" \
		chroot "$root" modprobe portredir
	want=$(modinfo -F srcversion "$root/lib/modules/$kver/updates/dkms/portredir.ko")
	check "the module loaded is the one DKMS built" \
		test -n "$want" -a "$(cat /sys/module/portredir/srcversion 2>/dev/null)" = "$want"
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
	umount "$root/proc" "$root/sys"
	return $failed
}

# --- on the host -------------------------------------------------------------

make_base() {
	local tmp=$BASE.tmp mirror
	[[ -e $BASE/.done ]] && return 0
	mirror=$(sed -n 's|^URIs:[[:space:]]*\([^[:space:]]*/debian\)/\?[[:space:]]*$|\1|p' \
		/etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
	echo "# deb: debootstrapping a bookworm root with dkms and linux-headers-$KVER (once)"
	rm -rf "$tmp" && mkdir -p "$(dirname "$BASE")"
	debootstrap --variant=minbase --include=dkms,kmod \
		bookworm "$tmp" "${mirror:-http://deb.debian.org/debian}" >"$tmp.log" 2>&1 ||
		{ tail -n 20 "$tmp.log"; return 1; }
	# The VM's kernel may come from bookworm-security: the host's sources.
	cp /etc/apt/sources.list.d/*.sources "$tmp/etc/apt/sources.list.d/" 2>/dev/null &&
		rm -f "$tmp/etc/apt/sources.list"
	cp /etc/resolv.conf "$tmp/etc/resolv.conf"
	{ chroot "$tmp" apt-get update &&
	  chroot "$tmp" env DEBIAN_FRONTEND=noninteractive apt-get install -y \
		--no-install-recommends "linux-headers-$KVER"; } >>"$tmp.log" 2>&1 ||
		{ tail -n 20 "$tmp.log"; return 1; }
	chroot "$tmp" apt-get clean
	# Where the VM's kernel modules are bound, for modprobe's dependencies.
	mkdir -p "$tmp/lib/modules/$KVER/kernel"
	rm -rf "$BASE" && mv "$tmp" "$BASE" && touch "$BASE/.done"
}

in_root() { chroot "$root" env DEBIAN_FRONTEND=noninteractive "$@"; }

# apt, as an administrator would: libmnl and libnftnl come from the archive.
install_packages() {
	in_root apt-get install -y --no-install-recommends \
		"/tmp/${debs[0]##*/}" "/tmp/${debs[1]##*/}" >"$DEB_DIR/install.log" 2>&1 ||
		{ tail -n 20 "$DEB_DIR/install.log"; return 1; }
}

purge_packages() {
	in_root apt-get purge -y portredir portredir-dkms >"$DEB_DIR/purge.log" 2>&1 ||
		{ tail -n 20 "$DEB_DIR/purge.log"; return 1; }
}

cleanup() {
	umount -R "$root" 2>/dev/null
	rm -rf "$work"
}

host() {
	local rc left
	debs=("$DEB_DIR"/portredir_*.deb "$DEB_DIR"/portredir-dkms_*.deb)
	[[ -r ${debs[0]} && -r ${debs[1]} ]] || { fail "no packages in $DEB_DIR (make deb)"; return 1; }
	command -v debootstrap >/dev/null || { fail "debootstrap is not installed (make deps)"; return 1; }
	make_base || { fail "cannot make the bookworm root"; return 1; }

	# Not under /tmp or /var/tmp: the VM mounts its own there.
	work=$(mktemp -d "$CACHE/deb-root/run.XXXXXX")
	root=$work/root
	trap cleanup EXIT
	mkdir -p "$work/upper" "$work/work" "$root"
	mount -t overlay overlay -o "lowerdir=$BASE,upperdir=$work/upper,workdir=$work/work" "$root" ||
		{ fail "cannot mount an overlay on $BASE"; return 1; }
	mount --bind "/lib/modules/$KVER/kernel" "$root/lib/modules/$KVER/kernel"
	mount -t proc proc "$root/proc"
	mount --bind /dev "$root/dev"
	cp "${debs[@]}" "$root/tmp/"
	cp /etc/resolv.conf "$root/etc/resolv.conf"

	check "both packages install with apt" install_packages
	check "dkms status shows portredir installed for $KVER" \
		grep -q "portredir/.*, $KVER, .*: installed" <(in_root dkms status 2>&1)
	check "DKMS put portredir.ko in /lib/modules/$KVER" \
		test -r "$root/lib/modules/$KVER/updates/dkms/portredir.ko"
	check "the man pages and completion are installed" \
		test -r "$root/usr/share/man/man8/portredir.8.gz" -a \
		-r "$root/usr/share/bash-completion/completions/portredir"
	rm -f "$root/tmp/"*.deb

	selftests/vm/run.sh --kver "$KVER" --no-module -- \
		scripts/deb-test.sh --in-vm "$root" >"$DEB_DIR/vm.log" 2>&1
	rc=$?
	grep -E '^(PASS|FAIL|SKIP): ' "$DEB_DIR/vm.log"
	[[ $rc == 0 ]] || fail "the VM part failed (log: $DEB_DIR/vm.log)"

	check "both packages purge" purge_packages
	umount "$root/proc" "$root/dev" "$root/lib/modules/$KVER/kernel"
	left=$(cd "$work/upper" && find . -iname '*portredir*' ! -path './var/log/*' ! -path './tmp/*')
	check "nothing of the packages is left behind${left:+: $left}" test -z "$left"
	check "dpkg knows neither package any more" \
		test -z "$(in_root dpkg-query -W -f='${Package}\n' 'portredir*' 2>/dev/null)"
	return $failed
}

if [[ ${1:-} == --in-vm ]]; then
	in_vm "$2"
	exit
fi
if [[ $(id -u) != 0 ]]; then
	echo "SKIP: deb: the package test needs root (chroot, mounts)"
	exit 0
fi
KVER=${VM_KVER:?set VM_KVER (make deb-test does)}
host
