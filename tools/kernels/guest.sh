#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
# PID 1 of a kernel-matrix guest, on the host's root (see tools/kernels/init):
# run the suite of the checkout REPO against BUILD with the name filters,
# say 'nfsg-guest: exit N', and power off.
#   guest.sh REPO BUILD [FILTER ...]
# Everything goes to the serial console, where the host reads it.
# Not -e: whatever fails, the host must get a status line and a powered-off
# guest (the trap).
set -u
exec </dev/null >/dev/console 2>&1
poweroff() {
	sync
	echo o >/proc/sysrq-trigger
	sleep 30
}
trap poweroff EXIT

repo=$1
build=$2
shift 2
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1
# The tests' own guard: only a disposable guest may be enforced on as a whole.
export NFSG_GUEST=1

hostname nfsg-guest
ip link set lo up
echo "nfsg-guest: kernel $(uname -r) up $(cut -d" " -f1 /proc/uptime) s, $(nproc) cpus"
cd "$repo" || { echo "nfsg-guest: exit 125"; exit; }
# Under TCG a vCPU's view of the kernel's code is not kept coherent while
# another vCPU patches it (text_poke_bp): a static key flipped while
# packets flow can leave it on a stray int3. The cgroup egress hook's key
# flips whenever the first egress program is attached or the last one
# detached, as every agent start and stop does; it panicked a trixie guest
# in ip_finish_output 2 times in 12. An empty egress program on a cgroup
# of its own (tests/helpers/keepkey.bpf.c) holds that key on all along.
keep=/sys/fs/cgroup/guest-keepkey
if mkdir -p "$keep" &&
	bpftool prog load "$build/tests/keepkey.bpf.o" /sys/fs/bpf/guest-keepkey &&
	bpftool cgroup attach "$keep" egress pinned /sys/fs/bpf/guest-keepkey; then
	echo "nfsg-guest: an empty egress program holds the egress hook's key on"
else
	echo "nfsg-guest: could not hold the egress hook's key on; going on"
fi
/usr/bin/python3 tests/run.py --build "$build" "$@"
echo "nfsg-guest: exit $?"
