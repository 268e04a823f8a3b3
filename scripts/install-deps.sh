#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install, from Debian's archive, what building and testing portredir needs on
# a fresh Debian bookworm machine. Packages already present are left alone;
# nothing is fetched when all are there.

set -euo pipefail

packages=(
	build-essential pkg-config libmnl-dev libnftnl-dev
	nftables socat iproute2 kmod util-linux procps netbase
	cpio busybox-static qemu-system-x86
	linux-image-amd64 linux-headers-amd64 linux-source-6.1
	sparse xz-utils python3-yaml python3-jsonschema man-db
	clang python3 gnuplot-nox
	debhelper dh-dkms dkms fakeroot dpkg-dev debootstrap
)
# ynl and the kernel's netlink schemas (`make spec`, the ynl selftest) come
# from linux-source-6.12, which bookworm has in bookworm-backports only.
backports=(linux-source-6.12)

not_installed() {
	local p status
	for p in "$@"; do
		status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
		[[ $status == installed ]] || echo "$p"
	done
}
mapfile -t missing < <(not_installed "${packages[@]}")
mapfile -t missing_backports < <(not_installed "${backports[@]}")

if [[ ${#missing[@]} -eq 0 && ${#missing_backports[@]} -eq 0 ]]; then
	echo "install-deps: all $((${#packages[@]} + ${#backports[@]})) packages present"
	exit 0
fi

if [[ $(id -u) != 0 ]]; then
	echo "install-deps: missing ${missing[*]} ${missing_backports[*]}; run as root" >&2
	exit 1
fi

# The same entry scripts/kernels.sh writes for the 6.12 lane.
backports_sources=/etc/apt/sources.list.d/portredir-bookworm-backports.sources
if [[ ${#missing_backports[@]} -gt 0 && ! -e $backports_sources ]]; then
	mirror=$(sed -n 's|^URIs:[[:space:]]*\([^[:space:]]*/debian\)/\?[[:space:]]*$|\1|p' \
		/etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
	if [[ -z $mirror ]]; then
		echo "install-deps: no Debian mirror in /etc/apt/sources.list.d/debian.sources" >&2
		exit 1
	fi
	printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
		"$mirror" >"$backports_sources"
fi

echo "install-deps: installing ${missing[*]} ${missing_backports[*]}"
export DEBIAN_FRONTEND=noninteractive
# A third-party source that fails to refresh must not stop the install; the
# install itself failing must.
apt-get update || echo "install-deps: apt-get update reported errors; trying the install anyway" >&2
if [[ ${#missing[@]} -gt 0 ]]; then
	apt-get install -y --no-install-recommends "${missing[@]}"
fi
if [[ ${#missing_backports[@]} -gt 0 ]]; then
	apt-get install -y --no-install-recommends -t bookworm-backports "${missing_backports[@]}"
fi
