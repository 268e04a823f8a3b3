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
	sparse xz-utils python3-jsonschema man-db
	debhelper dh-dkms dkms fakeroot dpkg-dev debootstrap
)

missing=()
for p in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[[ $status == installed ]] || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
	echo "install-deps: all ${#packages[@]} packages present"
	exit 0
fi

if [[ $(id -u) != 0 ]]; then
	echo "install-deps: missing ${missing[*]}; run as root: apt-get install ${missing[*]}" >&2
	exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# A third-party source that fails to refresh must not stop the install; the
# install itself failing must.
apt-get update || echo "install-deps: apt-get update reported errors; trying the install anyway" >&2
apt-get install -y --no-install-recommends "${missing[@]}"
