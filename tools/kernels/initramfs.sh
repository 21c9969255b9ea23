#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
# Build the initramfs of one kernel-matrix guest: busybox, tools/kernels/init,
# and the modules that mount the host root (decompressed, in load order).
#   tools/kernels/initramfs.sh KDIR OUTPUT GUEST [ARG ...]
# KDIR holds root/ (an unpacked linux-image) and release; the guest's /init
# ends by running GUEST ARG ... (paths as the host sees them) on the
# host's root. ARGs must not contain spaces.
set -eu

kdir=$(realpath "$1")
out=$2
guest=$(realpath "$3")
shift 3
here=$(dirname "$(realpath "$0")")
release=$(cat "$kdir/release")
busybox=/bin/busybox
[ -x $busybox ] && $busybox --list | grep -qx switch_root || {
	echo "kernels: no static busybox at $busybox: install busybox-static" >&2
	exit 1
}

tmp=$(mktemp -d)
cleanup() { rm -rf "$tmp" "$out.tmp"; }
trap cleanup EXIT

mkdir -p "$tmp"/{bin,dev,proc,sys,modules}
cp $busybox "$tmp/bin/busybox"
for applet in sh mount insmod mkdir ln sleep switch_root; do
	ln -s busybox "$tmp/bin/$applet"
done
cp "$here/init" "$tmp/init"
chmod 755 "$tmp/init"
cat >"$tmp/config" <<CONFIG
RELEASE='$release'
MODDIR='$(realpath "$kdir/root/lib/modules/$release")'
GUEST='$guest'
ARGS='$*'
CONFIG

# Each wanted module with its dependencies, in order, once; built-ins are
# skipped ('builtin NAME' lines).
: >"$tmp/modules/order"
n=0
for want in virtio_pci 9pnet_virtio 9p overlay; do
	modprobe -d "$kdir/root" -S "$release" --show-depends "$want" |
		awk '$1 == "insmod" { print $2 }' >"$tmp/deps"
	while read -r ko; do
		name=$(basename "$ko")
		name=${name%.xz}
		name=${name%.zst}
		grep -qx "[0-9]*-$name" "$tmp/modules/order" && continue
		n=$((n + 1))
		dst=$(printf '%02d-%s' $n "$name")
		case "$ko" in
		*.ko.xz) xz -dc "$ko" >"$tmp/modules/$dst" ;;
		*.ko.zst) zstd -qdc "$ko" >"$tmp/modules/$dst" ;;
		*.ko) cp "$ko" "$tmp/modules/$dst" ;;
		*) echo "kernels: unknown module format: $ko" >&2; exit 1 ;;
		esac
		echo "$dst" >>"$tmp/modules/order"
	done <"$tmp/deps"
done
rm "$tmp/deps"

(cd "$tmp" && find . | cpio -o -H newc --quiet -R 0:0) | gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
