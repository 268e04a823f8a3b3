#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# PID 1 of the test VM, started by run.sh's initramfs after switch_root into
# the host's root (read-only over 9p). Loads portredir.ko, runs the command in
# the project directory, checks the kernel log written since boot finished,
# prints "$token status=N reports=M" and powers off.

# params is written by bash's printf %q.
[ -n "$BASH_VERSION" ] || exec /bin/bash "$0" "$@"

job=$(dirname "$0")
. "$job/params"

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/tmp LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=dumb TMPDIR=/tmp

# Lines of a kernel log that mean the kernel found a bug, its own or ours.
report_pattern='WARNING:|BUG[: ]|Oops|KASAN|UBSAN|kmemleak|possible circular locking|possible recursive locking|inconsistent lock state|INFO: lockdep|lockdep|suspicious RCU usage|rcu.*stall|general protection|refcount_t|Kernel panic|soft lockup|hard LOCKUP|hung_task|blocked for more than|Call Trace'

power_off() {
	sync
	echo o >/proc/sysrq-trigger
	# Nothing may be executed from here on: the 9p root goes away.
	while :; do :; done
}

report() {
	echo "$token status=$1 reports=$2"
	power_off
}

mkdir -p /dev/pts /dev/shm /sys/kernel/debug
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
# devtmpfs has no /dev/fd or /dev/std*; the kselftest runner writes to
# /dev/stdout.
ln -sfn /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
hostname portredir-vm 2>/dev/null
ip link set lo up

# What kmemleak suspects of the boot itself (false positives of the kernel,
# before the module is loaded) is not ours: scan once and set it aside.
if [ -w /sys/kernel/debug/kmemleak ]; then
	echo scan >/sys/kernel/debug/kmemleak
	echo clear >/sys/kernel/debug/kmemleak
fi

# Keep what boot printed apart, so only what happens from here on counts.
dmesg >/run/boot.log
dmesg -C

# A checkout under /tmp or /var/tmp lies beneath the guest's own tmpfs.
case $project_dir in
/tmp/* | /var/tmp/*)
	mkdir -p "$project_dir"
	mount -o bind "/run/host$project_dir" "$project_dir"
	;;
esac
cd "$project_dir" || report 1 0
if [ -n "$module" ]; then
	export PORTREDIR_KO="$module"
	for dep in $(modinfo -F depends "$module" | tr ',' ' '); do
		modprobe "$dep" || echo "guest: cannot load $dep, needed by portredir.ko"
	done
	if ! insmod "$module"; then
		echo "guest: FAIL: insmod $module refused; kernel log:"
		dmesg
		report 1 0
	fi
fi

# The firmware's last console line ("Booting from ROM..") has no newline.
echo
timeout -k 10 "$guest_timeout" "$@" </dev/null
status=$?
if [ $status = 124 ] || [ $status = 137 ]; then
	echo "guest: FAIL: '$*' did not finish within ${guest_timeout}s"
	status=1
fi

if [ -n "$module" ] && grep -q '^portredir ' /proc/modules; then
	if ! rmmod portredir; then
		echo "guest: FAIL: rmmod portredir refused after the tests"
		[ $status = 0 ] && status=1
	fi
fi
# kmemleak (the 6.1-debug lane) reports an object only once it is older
# than 5 s at the start of a scan: scan again once what the last test
# (or the rmmod above) freed or leaked is that old.
if [ -w /sys/kernel/debug/kmemleak ]; then
	echo scan >/sys/kernel/debug/kmemleak
	sleep 6
	echo scan >/sys/kernel/debug/kmemleak
	cat /sys/kernel/debug/kmemleak >/run/kmemleak.log
fi

dmesg >/run/test.log
cat /run/kmemleak.log >>/run/test.log 2>/dev/null
reports=$(grep -Ec "$report_pattern" /run/test.log)
if [ "$reports" != 0 ]; then
	echo "guest: FAIL: kernel reports during the test:"
	grep -E "$report_pattern" /run/test.log
fi
if [ "$reports" != 0 ] || [ $status != 0 ]; then
	echo "guest: kernel log since boot:"
	cat /run/test.log
fi
report $status "$reports"
