#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
# Boot one kernel-matrix guest under qemu, its serial console into LOG.
#   tools/kernels/boot.sh VMLINUZ INITRAMFS LOG TIMEOUT_S
# KVM when it runs a guest here (tools/kernels/kvm.sh), TCG otherwise. No
# network device: the suite
# uses loopback and the namespaces it makes. The host's root is shared
# read-only over virtio-9p. Exits 124 when the guest outlives TIMEOUT_S.
set -eu

kernel=$1
initrd=$2
log=$3
limit=$4

here=$(dirname "$(realpath "$0")")
if why=$("$here/kvm.sh" "$kernel"); then
	accel=(-accel kvm -cpu host)
else
	echo "  TCG      $why: emulated"
	accel=(-accel tcg,thread=multi -cpu max)
fi

: >"$log"
qemu=(qemu-system-x86_64 "${accel[@]}" -smp 2 -m 2G
	-nodefaults -no-user-config -display none -no-reboot
	-chardev "file,id=console,path=$log" -serial chardev:console
	-fsdev local,id=root,path=/,readonly=on,security_model=none,multidevs=remap
	-device virtio-9p-pci,fsdev=root,mount_tag=hostroot
	-device virtio-rng-pci
	-kernel "$kernel" -initrd "$initrd"
	-append "console=ttyS0 rdinit=/init panic=-1 quiet loglevel=3 mitigations=off")
timeout --foreground -k 10 "$limit" "${qemu[@]}" </dev/null
