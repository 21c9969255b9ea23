#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
# PID 1 of a bench guest (bench/kernels.sh), on the host's root: the
# program-cost part of the bench against BUILD, 'nfsg-guest: exit N', and
# power off. Everything goes to the serial console, where the host reads it.
#   guest.sh REPO BUILD
set -u
exec </dev/null >/dev/console 2>&1
poweroff() {
	sync
	echo o >/proc/sysrq-trigger
	sleep 30
}
trap poweroff EXIT

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1
hostname nfsg-guest
ip link set lo up
echo "nfsg-guest: kernel $(uname -r) up $(cut -d" " -f1 /proc/uptime) s, $(nproc) cpus"
cd "$1" || { echo "nfsg-guest: exit 125"; exit; }
/usr/bin/python3 bench/run.py --build "$2" --only program
echo "nfsg-guest: exit $?"
