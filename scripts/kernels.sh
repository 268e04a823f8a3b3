#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The kernels portredir is held to, one lane each:
#   6.1     bookworm's kernel, installed on the host by install-deps.sh
#   6.1-rt  its PREEMPT_RT flavour (linux-image-rt-amd64)
#   6.12    bookworm-backports, built with gcc-12 like the host
#   7.3     trixie-backports; its headers need gcc-14 and glibc 2.38, so its
#           modules are built in a trixie root made with debootstrap
#   6.1-debug  Debian's linux-source-6.1 built here with KASAN, lockdep,
#           PROVE_RCU, DEBUG_ATOMIC_SLEEP and kmemleak (scripts/debug.config);
#           53 minutes of CPU to build (42 on two cores next to one test
#           VM), and the suite runs several times slower under it. Not part
#           of `matrix` by default.
# Lanes other than 6.1 come from Debian's archive by package name, through
# the mirror the host's debian.sources already names, and are unpacked (not
# installed) into $PORTREDIR_CACHE/kernels, outside the clone: once a lane is
# there, nothing is fetched or unpacked again.
#
#   scripts/kernels.sh list
#   scripts/kernels.sh env LANE               prepare LANE, print its KVER,
#                                             KERNEL_IMAGE, MODULES_DIR, KDIR
#                                             and BUILD_ROOT (KDIR lies inside
#                                             BUILD_ROOT when that is set)
#   scripts/kernels.sh build LANE [VAR=VAL]   build kmod/ with W=1 into
#                                             .build/kernels/LANE; any compiler
#                                             or modpost warning fails
#   scripts/kernels.sh run LANE [ARGS]        selftests/vm/run.sh ARGS, booting
#                                             LANE with the module built for it
#   scripts/kernels.sh cached 6.1-debug       exit 0 if the debug kernel of
#                                             the current configuration is built
#   scripts/kernels.sh build-all              build every lane, with sparse
#                                             where Debian's sparse can parse
#                                             the headers (not 7.3's)
#   scripts/kernels.sh matrix [LANE...]       `make vmtest KVER=LANE` for each
#                                             lane (default all), then one line
#                                             per kernel: counts and wall time

set -euo pipefail

self_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
project_dir=$(cd "$self_dir/.." && pwd)
cache_dir=${PORTREDIR_CACHE:-${XDG_CACHE_HOME:-/var/cache}/portredir}
kernels_dir=$cache_dir/kernels
lanes=(6.1 6.1-rt 6.12 7.3)
extra_lanes=(6.1-debug)

# Half-made downloads and trees, removed if the script stops early.
scratch=
trap '[[ -z $scratch ]] || rm -rf $scratch' EXIT

die() { echo "kernels.sh: $*" >&2; exit 1; }
say() { echo "kernels.sh: $*" >&2; }

need_root() {
	[[ $(id -u) == 0 ]] || die "$1 needs root"
}

apt_opts=(-o DPkg::Lock::Timeout=600 -o APT::Sandbox::User=root)

# The host's Debian mirror, as its bookworm sources name it.
debian_mirror() {
	local mirror
	mirror=$(sed -n 's|^URIs:[[:space:]]*\([^[:space:]]*/debian\)/\?[[:space:]]*$|\1|p' \
		/etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
	[[ -n $mirror ]] || mirror=$(sed -n 's|^deb[[:space:]]\+\([^[:space:]]*/debian\)/\?[[:space:]]\+bookworm[[:space:]].*|\1|p' \
		/etc/apt/sources.list 2>/dev/null | head -n 1)
	[[ -n $mirror ]] || die "no Debian mirror in /etc/apt/sources.list.d/debian.sources"
	echo "$mirror"
}

# deb822 sources for SUITE of the host's mirror.
sources_entry() {
	printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
		"$(debian_mirror)" "$1"
}

# Makes the host's apt know SUITE, refreshing only that suite's lists.
ensure_host_suite() {
	local suite=$1 file=/etc/apt/sources.list.d/portredir-$1.sources
	apt-cache policy | grep -q "n=$suite," && return 0
	need_root "adding $suite to apt's sources"
	[[ -e $file ]] || sources_entry "$suite" >"$file"
	say "fetching the package lists of $suite"
	apt-get "${apt_opts[@]}" update -o Dir::Etc::sourcelist="$file" \
		-o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0 >&2
}

ensure_host_packages() {
	local p missing=()
	for p in "$@"; do
		[[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) == installed ]] ||
			missing+=("$p")
	done
	((${#missing[@]})) || return 0
	need_root "installing ${missing[*]}"
	say "installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install -y \
		--no-install-recommends "${missing[@]}" >&2
}

# Package that metapackage META depends on, e.g. linux-image-amd64 ->
# linux-image-6.1.0-56-amd64; RELEASE picks among the suites that have META.
# CHROOT runs apt-cache in that root instead of on the host.
resolve_meta() {
	local chroot=$1 release=$2 meta=$3 opts=()
	[[ -z $release ]] || opts=(-o APT::Default-Release="$release")
	${chroot:+chroot "$chroot"} apt-cache "${opts[@]}" show --no-all-versions "$meta" |
		sed -n 's/^Depends: //p' | tr ',' '\n' |
		sed -n 's/^ *\(linux-[a-z]*-[0-9][^ ]*\).*/\1/p' | head -n 1
}

# PKG and the linux-headers-*/linux-kbuild-* packages it needs, recursively.
header_packages() {
	local pkg=$1 dep
	echo "$pkg"
	for dep in $(apt-cache show --no-all-versions "$pkg" |
		sed -n 's/^Depends: //p' | tr '|,' '\n' | sed 's/^ *\([^ ]*\).*/\1/' |
		grep -E '^linux-(headers|kbuild)-'); do
		header_packages "$dep"
	done
}

# IMAGE and the packages of the same kernel it depends on: newer kernels
# split the image into linux-binary-*, linux-modules-* and linux-base-*
# (modules.builtin and modules.order).
image_packages() {
	local chroot=$1 image=$2 kver=$3
	echo "$image"
	${chroot:+chroot "$chroot"} apt-cache show --no-all-versions "$image" |
		sed -n 's/^Depends: //p' | tr '|,' '\n' | sed 's/^ *\([^ ]*\).*/\1/' |
		awk -v suffix="-$kver" 'substr($0, length($0) - length(suffix) + 1) == suffix'
}

# Where run.sh and kbuild want them: boot/, lib/modules/, usr/src/.
finish_tree() {
	local tree=$1 final=$2 kver=$3 image makefile
	[[ -e $tree/lib ]] || ln -s usr/lib "$tree/lib"
	[[ -d $tree/lib/modules/$kver/kernel ]] || die "no modules for $kver in the packages"
	image=$(find "$tree/boot" "$tree/lib/modules/$kver" -maxdepth 1 -name "vmlinuz*" 2>/dev/null | head -n 1 || true)
	[[ -n $image ]] || die "no vmlinuz for $kver in the packages"
	mkdir -p "$tree/boot"
	[[ $image == "$tree/boot/vmlinuz-$kver" ]] || ln -sf "../${image#"$tree"/}" "$tree/boot/vmlinuz-$kver"
	# The flavour's Makefile includes the common tree by absolute path.
	for makefile in "$tree"/usr/src/linux-headers-*/Makefile; do
		[[ -e $makefile ]] || continue
		sed -i "s|^include /usr/src/|include $final/usr/src/|" "$makefile"
	done
	depmod -b "$tree" "$kver"
}

# Unpacks DEB... into $kernels_dir/KVER, atomically.
unpack_lane() {
	local kver=$1 tree deb
	shift
	tree=$kernels_dir/$kver.tmp
	scratch+=" $tree"
	rm -rf "$tree"
	mkdir -p "$tree"
	for deb in "$@"; do
		dpkg-deb -x "$deb" "$tree"
	done
	finish_tree "$tree" "$kernels_dir/$kver" "$kver"
	mv "$tree" "$kernels_dir/$kver"
	scratch=${scratch% "$tree"}
}

# 6.1-rt and 6.12: image and headers from the host's apt, built with its gcc.
prepare_bookworm_lane() {
	local suite=$1 meta=$2 release=$3 image kver debs pkgs
	[[ -z $release ]] || ensure_host_suite "$release"
	image=$(resolve_meta "" "$release" "linux-image-$meta")
	[[ -n $image ]] || die "linux-image-$meta unknown to apt"
	kver=${image#linux-image-}
	lane_kver=$kver
	[[ -e $kernels_dir/$kver/.done ]] && return 0
	# 6.12's headers come with a vmlinux, so module builds run pahole.
	ensure_host_packages dwarves
	mapfile -t pkgs < <(image_packages "" "$image" "$kver"
		header_packages "linux-headers-$kver" | sort -u)
	debs=$(mktemp -d "$kernels_dir/debs.XXXXXX")
	scratch=$debs
	say "fetching ${pkgs[*]}"
	(cd "$debs" && apt-get "${apt_opts[@]}" download -q "${pkgs[@]}" >&2)
	unpack_lane "$kver" "$debs"/*.deb
	rm -rf "$debs"
	scratch=
	touch "$kernels_dir/$kver/.done"
	say "$suite: $kver unpacked in $kernels_dir/$kver"
}

trixie_root() {
	local root=$kernels_dir/trixie-root tmp mirror
	[[ -e $root/.done ]] && { echo "$root"; return 0; }
	need_root "debootstrap"
	ensure_host_packages debootstrap
	mirror=$(debian_mirror)
	tmp=$root.tmp
	rm -rf "$tmp" "$root"
	say "debootstrapping a trixie build root"
	debootstrap --variant=minbase \
		--include=gcc-14,make,libc6-dev,libelf1t64,bc,kmod,sparse,ca-certificates \
		trixie "$tmp" "$mirror" >&2
	sources_entry trixie-backports >"$tmp/etc/apt/sources.list.d/trixie-backports.sources"
	cp /etc/resolv.conf "$tmp/etc/resolv.conf"
	chroot "$tmp" apt-get "${apt_opts[@]}" update >&2
	chroot "$tmp" apt-get clean
	mv "$tmp" "$root"
	touch "$root/.done"
	echo "$root"
}

# 7.3: headers installed in the trixie root, image and modules unpacked.
prepare_trixie_lane() {
	local root image kver pkgs=() debs
	root=$(trixie_root)
	image=$(resolve_meta "$root" trixie-backports linux-image-amd64)
	[[ -n $image ]] || die "linux-image-amd64 unknown to the trixie root's apt"
	kver=${image#linux-image-}
	lane_kver=$kver
	lane_root=$root
	[[ -e $kernels_dir/$kver/.done ]] && return 0
	need_root "installing into the trixie root"
	cp /etc/resolv.conf "$root/etc/resolv.conf"
	say "installing linux-headers-$kver in the trixie root"
	chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" \
		install -y --no-install-recommends "linux-headers-$kver" >&2
	chroot "$root" apt-get clean
	mapfile -t pkgs < <(image_packages "$root" "$image" "$kver")
	debs=$(mktemp -d "$root/tmp/debs.XXXXXX")
	scratch=$debs
	say "fetching ${pkgs[*]}"
	chroot "$root" sh -c "cd '${debs#"$root"}' && apt-get $(printf '%q ' "${apt_opts[@]}") download -q $(printf '%q ' "${pkgs[@]}")" >&2
	unpack_lane "$kver" "$debs"/*.deb
	rm -rf "$debs"
	scratch=
	touch "$kernels_dir/$kver/.done"
	say "7.3: $kver unpacked in $kernels_dir/$kver"
}

# 6.1-debug: built from the kernel source package, in place under the
# cache (a kernel tree does not survive being moved); .done marks a tree
# that is whole. The tree's name follows the configuration it was made from.
debug_src=/usr/src/linux-source-6.1.tar.xz

debug_tree() {
	local key
	key=$(cat "$project_dir/selftests/config" "$self_dir/debug.config" \
		<(stat -c '%s %Y' "$debug_src") | sha256sum | cut -c1-12)
	echo "$kernels_dir/6.1-debug-$key"
}

prepare_debug_lane() {
	local src=$debug_src tree
	[[ -r $src ]] || die "6.1-debug: no $src (run 'make deps')"
	tree=$(debug_tree)
	if [[ ! -e $tree/.done ]]; then
		need_root "building the debug kernel"
		ensure_host_packages flex bison libelf-dev bc
		rm -rf "$tree"
		mkdir -p "$tree"
		scratch=$tree
		say "6.1-debug: unpacking and building $src (about half an hour on two idle cores)"
		tar -xJf "$src" -C "$tree"
		(
			cd "$tree/linux-source-6.1"
			make -s x86_64_defconfig kvm_guest.config
			scripts/kconfig/merge_config.sh -m .config \
				"$project_dir/selftests/config" "$self_dir/debug.config" >/dev/null
			make -s olddefconfig
			make -s -j"$(nproc)" bzImage modules
			make -s modules_install INSTALL_MOD_PATH="$tree" INSTALL_MOD_STRIP=1
			make -s kernelrelease >"$tree/kernelrelease"
		) >&2
		scratch=
		touch "$tree/.done"
	fi
	lane_kver=$(cat "$tree/kernelrelease")
	lane_image=$tree/linux-source-6.1/arch/x86/boot/bzImage
	lane_modules=$tree/lib/modules/$lane_kver
	lane_kdir=$tree/linux-source-6.1
}

# Sets lane_kver, lane_image, lane_modules, lane_kdir, lane_root.
prepare_lane() {
	local lane=$1 lock_fd
	lane_kver='' lane_root=''
	if [[ $lane == 6.1 ]]; then
		lane_kver=$(dpkg-query -W -f='${Depends}' linux-headers-amd64 2>/dev/null |
			sed -n 's/.*linux-headers-\([^ ,]*\).*/\1/p')
		[[ -n $lane_kver && -r /boot/vmlinuz-$lane_kver ]] ||
			die "6.1: no host kernel and headers (run 'make deps')"
		lane_image=/boot/vmlinuz-$lane_kver
		lane_modules=/lib/modules/$lane_kver
		lane_kdir=/lib/modules/$lane_kver/build
		return 0
	fi
	mkdir -p "$kernels_dir"
	# One lock per lane: building the debug kernel takes long and must not
	# hold back a lane that is ready.
	exec {lock_fd}>"$kernels_dir/.lock-$lane"
	flock "$lock_fd"
	if [[ $lane == 6.1-debug ]]; then
		prepare_debug_lane
		exec {lock_fd}>&-
		return 0
	fi
	case $lane in
	6.1-rt) prepare_bookworm_lane "$lane" rt-amd64 "" ;;
	6.12) prepare_bookworm_lane "$lane" amd64 bookworm-backports ;;
	7.3) prepare_trixie_lane ;;
	*) die "unknown lane '$lane' (lanes: ${lanes[*]} ${extra_lanes[*]})" ;;
	esac
	exec {lock_fd}>&-
	local tree=$kernels_dir/$lane_kver
	lane_image=$tree/boot/vmlinuz-$lane_kver
	lane_modules=$tree/lib/modules/$lane_kver
	if [[ -n $lane_root ]]; then
		lane_kdir=/usr/src/linux-headers-$lane_kver
	else
		lane_kdir=$tree/usr/src/linux-headers-$lane_kver
	fi
}

# The files the module is built from, copied with their times so that make
# rebuilds only what changed.
copy_sources() {
	local dst=$1 files=(Kbuild dkms.conf kmod/Kbuild include) f
	for f in "$project_dir"/kmod/*.[ch]; do
		[[ $f == *.mod.c ]] || files+=("kmod/${f##*/}")
	done
	mkdir -p "$dst"
	(cd "$project_dir" && cp -a --parents "${files[@]}" "$dst/")
}

# Runs a command in the lane's build root, if it has one; objtool reads
# /proc, mounted there for the command's lifetime only.
in_lane_root() {
	if [[ -z $lane_root ]]; then
		"$@"
		return
	fi
	unshare --mount --pid --fork --mount-proc="$lane_root/proc" chroot "$lane_root" "$@"
}

build_lane() {
	local lane=$1 out=$project_dir/.build/kernels/$1 build log rc arg args=()
	shift
	prepare_lane "$lane"
	for arg in "$@"; do
		if [[ $arg == C=* && $lane == 7.3 ]]; then
			# Its headers use __typeof_unqual__, which sparse 0.6.4 (the
			# newest Debian has) cannot parse.
			say "7.3: no sparse: Debian's sparse cannot parse its headers"
			continue
		fi
		args+=("$arg")
	done
	set -- "${args[@]}"
	if [[ -n $lane_root ]]; then
		# Kept per clone inside the root, so that builds stay incremental.
		build=/build/$(echo "$project_dir" | sha256sum | cut -c1-12)
		copy_sources "$lane_root$build"
	else
		build=$out
		copy_sources "$build"
	fi
	log=$(mktemp)
	set +e
	in_lane_root make -C "$lane_kdir" M="$build" W=1 "$@" modules 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	set -e
	if [[ $rc == 0 ]] && grep -qiE '(^|[^a-z])warning:' "$log"; then
		say "FAIL: building for $lane ($lane_kver) warned; W=1 must stay clean"
		rc=1
	fi
	rm -f "$log"
	((rc == 0)) || exit "$rc"
	if [[ -n $lane_root ]]; then
		mkdir -p "$out/kmod"
		cp "$lane_root$build/kmod/portredir.ko" "$out/kmod/portredir.ko"
	fi
	say "$lane: $out/kmod/portredir.ko for $lane_kver"
}

# One `make vmtest KVER=LANE` per lane; the summary comes last, with the
# counts of scripts/count.sh.
run_matrix() {
	local lane log start rc p f s secs summary=() status=0 total_start
	# shellcheck source=SCRIPTDIR/count.sh
	. "$self_dir/count.sh"
	log=$(mktemp -d)
	scratch+=" $log"
	total_start=$(date +%s)
	for lane in "$@"; do
		echo "=== kernel $lane: make vmtest KVER=$lane"
		start=$(date +%s)
		set +e
		${MAKE:-make} -s -C "$project_dir" vmtest KVER="$lane" 2>&1 | tee "$log/$lane"
		rc=${PIPESTATUS[0]}
		set -e
		secs=$(($(date +%s) - start))
		read -r p f s < <(count "$log/$lane")
		[[ $rc == 0 || $f != 0 ]] || f=1
		[[ $rc == 0 && $f == 0 ]] || status=1
		summary+=("$(printf '%-7s %-22s %3d passed, %d failed, %d skipped  %4ds' \
			"$lane" "$(sed -n 's/^run.sh: kernel \([^ ,]*\),.*/\1/p' "$log/$lane" | tail -n 1)" \
			"$p" "$f" "$s" "$secs")")
	done
	echo "=== kernels: $(($(date +%s) - total_start))s"
	printf '%s\n' "${summary[@]}"
	return "$status"
}

cmd=${1:-}
shift || true
case $cmd in
list)
	printf '%s\n' "${lanes[@]}" "${extra_lanes[@]}"
	;;
env)
	[[ $# == 1 ]] || die "usage: kernels.sh env LANE"
	prepare_lane "$1"
	printf 'KVER=%q\nKERNEL_IMAGE=%q\nMODULES_DIR=%q\nKDIR=%q\nBUILD_ROOT=%q\n' \
		"$lane_kver" "$lane_image" "$lane_modules" "$lane_kdir" "$lane_root"
	;;
build)
	[[ $# -ge 1 ]] || die "usage: kernels.sh build LANE [VAR=VALUE...]"
	build_lane "$@"
	;;
run)
	[[ $# -ge 1 ]] || die "usage: kernels.sh run LANE [run.sh arguments]"
	lane=$1
	shift
	prepare_lane "$lane"
	# KASAN's shadow memory comes on top of the guest's own.
	[[ $lane != 6.1-debug ]] || export VM_MEMORY=${VM_MEMORY:-2048}
	KERNEL_IMAGE=$lane_image MODULES_DIR=$lane_modules \
		PORTREDIR_KO=${PORTREDIR_KO:-$project_dir/.build/kernels/$lane/kmod/portredir.ko} \
		exec "$project_dir/selftests/vm/run.sh" --kver "$lane_kver" "$@"
	;;
cached)
	# Whether the debug kernel of the current configuration is built.
	[[ $# == 1 && $1 == 6.1-debug ]] || die "usage: kernels.sh cached 6.1-debug"
	[[ -r $debug_src && -e $(debug_tree)/.done ]]
	;;
build-all)
	for lane in "${lanes[@]}"; do
		build_lane "$lane" C=2
	done
	;;
matrix)
	(($#)) || set -- "${lanes[@]}"
	run_matrix "$@"
	;;
*)
	die "usage: kernels.sh list | env LANE | build LANE [VAR=VALUE...] | run LANE [ARGS...] | cached 6.1-debug | build-all | matrix [LANE...]"
	;;
esac
