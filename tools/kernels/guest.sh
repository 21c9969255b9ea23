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
/usr/bin/python3 tests/run.py --build "$build" "$@"
echo "nfsg-guest: exit $?"
