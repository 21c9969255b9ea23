#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
# Does KVM run a guest here? /dev/kvm can be there, open to root, and run
# nothing: a nested hypervisor's (seen under PVM) takes the guest and never
# lets it print. Boots VMLINUZ with no root for at most 20 s and waits for
# its first console line.
#   tools/kernels/kvm.sh VMLINUZ
# Exits 0 if it came; else 1, after one line on stdout saying why.
set -eu

kernel=$1
if ! [ -r /dev/kvm ] || ! [ -w /dev/kvm ]; then
	echo "no usable /dev/kvm"
	exit 1
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
qemu-system-x86_64 -accel kvm -cpu host -smp 1 -m 256M \
	-nodefaults -no-user-config -display none -no-reboot \
	-serial "file:$log" -kernel "$kernel" \
	-append "console=ttyS0 panic=-1" </dev/null >/dev/null 2>&1 &
pid=$!
for _ in $(seq 40); do
	if grep -q "Linux version" "$log" 2>/dev/null; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		exit 0
	fi
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.5
done
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
echo "/dev/kvm is there, but a guest under it printed nothing in 20 s"
exit 1
