#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot a stock distribution kernel under QEMU, load the freshly built
# portredir.ko, run one command in the project directory and return its
# status.
#
#   selftests/vm/run.sh [--kver VER] [--timeout SECS] [--no-module] [--] CMD...
#
# The guest has no disk: a small busybox initramfs (built once per kernel and
# cached outside the clone) loads the virtio and 9p modules, mounts the host's
# root read-only over 9p and switch_roots into it, so every tool of the host
# (ip, nft, socat, kmod) runs in the guest as is and module autoloading works.
# selftests/vm/guest.sh then runs CMD there and reports through one marker
# line on the serial console; anything else (no marker, a timeout, a kernel
# WARNING, BUG, lockdep or RCU report in the guest's log) is a failure.
#
# Environment:
#   VM_KVER        kernel version to boot (default: Debian's linux-headers-amd64)
#   KERNEL_IMAGE   kernel to boot (default /boot/vmlinuz-VER)
#   MODULES_DIR    its modules tree (default /lib/modules/VER)
#   PORTREDIR_KO   module to load (default kmod/portredir.ko of this clone)
#   VM_TIMEOUT     seconds before the VM is killed (default 3600)
#   VM_MEMORY, VM_CPUS  guest size (default 1024 MiB, 2 CPUs)
#   VM_APPEND      more kernel command line
#   PORTREDIR_CACHE     cache directory (default ${XDG_CACHE_HOME:-/var/cache}/portredir)
# Variables named BACKEND, V, KSFT_*, PORTREDIR and PORTREDIR_* are passed to CMD.

set -euo pipefail

self_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
project_dir=$(cd "$self_dir/../.." && pwd)

die() { echo "run.sh: $*" >&2; exit 1; }

kver=${VM_KVER:-}
timeout_secs=${VM_TIMEOUT:-3600}
load_module=1
while [[ $# -gt 0 ]]; do
	case $1 in
	--kver) kver=${2:?--kver needs a version}; shift 2 ;;
	--kver=*) kver=${1#--kver=}; shift ;;
	--timeout) timeout_secs=${2:?--timeout needs seconds}; shift 2 ;;
	--no-module) load_module=0; shift ;;
	--) shift; break ;;
	-*) die "unknown option '$1'; usage: run.sh [--kver VER] [--timeout SECS] [--no-module] [--] CMD..." ;;
	*) break ;;
	esac
done
[[ $# -gt 0 ]] || die "no command given; usage: run.sh [--kver VER] [--] CMD..."

if [[ -z $kver ]]; then
	kver=$(dpkg-query -W -f='${Depends}' linux-headers-amd64 2>/dev/null |
		sed -n 's/.*linux-headers-\([^ ,]*\).*/\1/p')
	[[ -n $kver ]] || die "cannot tell the kernel version: set VM_KVER or --kver (is linux-headers-amd64 installed?)"
fi
kernel_image=${KERNEL_IMAGE:-/boot/vmlinuz-$kver}
modules_dir=${MODULES_DIR:-/lib/modules/$kver}
[[ -r $kernel_image ]] || die "no kernel image $kernel_image (install linux-image-$kver or set KERNEL_IMAGE)"
[[ -r $modules_dir/modules.dep ]] || die "no modules tree at $modules_dir (set MODULES_DIR)"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing (apt-get install qemu-system-x86)"
[[ -x /bin/busybox ]] || die "/bin/busybox missing (apt-get install busybox-static)"

ko=${PORTREDIR_KO:-$project_dir/kmod/portredir.ko}
if [[ $load_module == 1 ]]; then
	[[ -r $ko ]] || die "module $ko not built: run 'make module' first (or pass --no-module)"
	ko=$(realpath "$ko")
	modinfo -F vermagic "$ko" | grep -q "^$kver " ||
		die "module $ko was built for '$(modinfo -F vermagic "$ko" | cut -d' ' -f1)', not for $kver"
else
	ko=
fi

cache_dir=${PORTREDIR_CACHE:-${XDG_CACHE_HOME:-/var/cache}/portredir}
mkdir -p "$cache_dir/jobs"

# Modules the initramfs needs, in load order: every dependency first.
declare -A dep_line=() loaded=()
load_order=()
while IFS= read -r line; do
	path=${line%%:*}
	name=${path##*/}
	name=${name%%.ko*}
	dep_line[${name//-/_}]=$line
done <"$modules_dir/modules.dep"

resolve_module() {
	local name=${1//-/_} line dep
	[[ -z ${loaded[$name]:-} ]] || return 0
	loaded[$name]=1
	if [[ -z ${dep_line[$name]:-} ]]; then
		grep -qE "/${1}\.ko$|/${name}\.ko$" "$modules_dir/modules.builtin" 2>/dev/null && return 0
		die "module $1 is neither in $modules_dir/modules.dep nor built in"
	fi
	line=${dep_line[$name]}
	for dep in ${line#*:}; do
		dep=${dep##*/}
		resolve_module "${dep%%.ko*}"
	done
	load_order+=("${line%%:*}")
}
for m in virtio_pci 9pnet_virtio 9p; do
	resolve_module "$m"
done

# The initramfs depends on the kernel, its modules and this script's /init.
init_script=$(cat <<'INIT'
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /modules.order); do
	insmod "/modules/$m" || echo "initramfs: cannot load $m"
done
job=
moddir=
for arg in $(cat /proc/cmdline); do
	case $arg in
	prvm.job=*) job=${arg#prvm.job=} ;;
	prvm.modules=*) moddir=${arg#prvm.modules=} ;;
	esac
done
fail() {
	echo "initramfs: $*"
	echo o >/proc/sysrq-trigger
	sleep 10
}
mkdir -p /newroot
mount -t 9p -o ro,trans=virtio,version=9p2000.L,msize=512000,cache=loose hostroot /newroot ||
	fail "cannot mount the host root over 9p"
# A modules tree outside /lib/modules appears where kmod looks for it.
if [ -n "$moddir" ] && [ "$moddir" != "/lib/modules/$(uname -r)" ]; then
	mount -t tmpfs -o mode=0755 tmpfs /newroot/lib/modules
	mkdir -p "/newroot/lib/modules/$(uname -r)"
	mount -o bind "/newroot$moddir" "/newroot/lib/modules/$(uname -r)"
fi
# Writable scratch for the guest; the host's own /tmp and /var/tmp stay
# reachable under /run/host, for a project checked out there.
mount -t tmpfs -o mode=1777 tmpfs /newroot/run
for d in tmp var/tmp; do
	mkdir -p "/newroot/run/host/$d"
	mount -o bind "/newroot/$d" "/newroot/run/host/$d"
	mount -t tmpfs -o mode=1777 tmpfs "/newroot/$d"
done
mount --move /proc /newroot/proc
mount --move /sys /newroot/sys
mount --move /dev /newroot/dev
[ -r "/newroot$job/guest.sh" ] || fail "no job at $job"
exec switch_root /newroot /bin/sh "$job/guest.sh"
INIT
)
key=$(printf '%s\n' "$init_script" "${load_order[@]}" "$(stat -c '%n %s %Y' "$kernel_image" "$modules_dir/modules.dep")" |
	sha256sum | cut -c1-16)
initramfs=$cache_dir/initramfs-$kver-$key.cpio.gz

build_initramfs() {
	local root m dst
	root=$(mktemp -d "$cache_dir/initramfs.XXXXXX")
	mkdir -p "$root"/{bin,dev,proc,sys,modules,newroot}
	cp /bin/busybox "$root/bin/busybox"
	for applet in sh mount insmod mkdir cat uname sleep switch_root; do
		ln -s busybox "$root/bin/$applet"
	done
	: >"$root/modules.order"
	for m in "${load_order[@]}"; do
		dst=${m##*/}
		case $dst in
		*.ko.xz) xz -dc "$modules_dir/$m" >"$root/modules/${dst%.xz}" ;;
		*.ko.zst) zstd -qdc "$modules_dir/$m" >"$root/modules/${dst%.zst}" ;;
		*.ko.gz) gzip -dc "$modules_dir/$m" >"$root/modules/${dst%.gz}" ;;
		*) cp "$modules_dir/$m" "$root/modules/$dst" ;;
		esac
		echo "${dst%.ko*}.ko" >>"$root/modules.order"
	done
	printf '%s\n' "$init_script" >"$root/init"
	chmod 755 "$root/init"
	(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -1 >"$initramfs.tmp.$$"
	mv "$initramfs.tmp.$$" "$initramfs"
	rm -rf "$root"
}
[[ -s $initramfs ]] || build_initramfs

# The job directory is on the host's root, which the guest sees read-only.
job=$(mktemp -d "$cache_dir/jobs/job.XXXXXX")
console=$job/console.log
cleanup() { rm -rf "$job"; }
trap cleanup EXIT

token=PORTREDIR-VM-$RANDOM$RANDOM
{
	printf 'token=%q\n' "$token"
	printf 'project_dir=%q\n' "$project_dir"
	printf 'module=%q\n' "$ko"
	printf 'guest_timeout=%q\n' "$((timeout_secs > 60 ? timeout_secs - 30 : timeout_secs))"
	printf 'set --'
	printf ' %q' "$@"
	printf '\n'
	while IFS='=' read -r name _; do
		case $name in
		BACKEND | V | KSFT_* | PORTREDIR | PORTREDIR_*) printf 'export %s=%q\n' "$name" "${!name}" ;;
		esac
	done < <(env)
} >"$job/params"
cp "$self_dir/guest.sh" "$job/guest.sh"

cmdline="console=ttyS0 panic=-1 quiet prvm.job=$job prvm.modules=$modules_dir ${VM_APPEND:-}"
start=$(date +%s)
set +e
timeout --foreground -k 5 "$timeout_secs" qemu-system-x86_64 \
	-accel tcg -m "${VM_MEMORY:-1024}" -smp "${VM_CPUS:-2}" -nographic -no-reboot \
	-kernel "$kernel_image" -initrd "$initramfs" -append "$cmdline" \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	-nic none </dev/null 2>&1 | tee "$console" | sed -u "s/\r$//; s/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\x1bc//g; /^$token /d"
qemu_status=${PIPESTATUS[0]}
set -e
# The console's last line ("reboot: Power down") has no newline.
echo
elapsed=$(($(date +%s) - start))

marker=$(tr -d '\r' <"$console" | sed -n "s/^$token //p" | tail -n 1)
if [[ -z $marker ]]; then
	if [[ $qemu_status == 124 || $qemu_status == 137 ]]; then
		echo "run.sh: FAIL: the VM did not finish within ${timeout_secs}s" >&2
	else
		echo "run.sh: FAIL: the VM stopped without reporting a result (qemu exit $qemu_status)" >&2
	fi
	exit 1
fi
status=$(sed -n 's/.*status=\([0-9]*\).*/\1/p' <<<"$marker")
reports=$(sed -n 's/.*reports=\([0-9]*\).*/\1/p' <<<"$marker")
echo "run.sh: kernel $kver, ${elapsed}s, command status $status, kernel reports $reports" >&2
if [[ ${reports:-1} != 0 ]]; then
	echo "run.sh: FAIL: the guest kernel log holds $reports report(s), shown above" >&2
	exit 1
fi
exit "${status:-1}"
