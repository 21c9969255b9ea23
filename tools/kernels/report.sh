#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
# Read a kernel-matrix guest's console log and print one line:
#   'N passed, N failed, N skipped (boot B s, suite S s)' and exit 0 when the
# guest's suite passed, or the same line (or why there is none) and exit 1.
#   tools/kernels/report.sh LOG QEMU_STATUS SECONDS
set -eu

log=$1
rc=$2
took=$3

text=$(tr -d '\r' <"$log")
summary=$(echo "$text" | grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' | tail -n1) || true
status=$(echo "$text" | sed -n 's/^nfsg-guest: exit \([0-9]*\)$/\1/p' | tail -n1)
# The guest's first line carries its uptime at the start of the script.
boot=$(echo "$text" | sed -n 's/^nfsg-guest: kernel .* up \([0-9]*\)\.[0-9]* s.*/\1/p' | head -n1)
times="boot ${boot:-?} s, suite $((took - ${boot:-0})) s"

if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
	echo "${summary:+$summary, }timed out after $took s: no report ($times)"
	exit 1
fi
if [ -z "$summary" ] || [ -z "$status" ]; then
	why=$(echo "$text" | grep -E '^nfsg-init: |Kernel panic' | head -n1) || true
	echo "no report (qemu exit $rc${why:+; $why}; $times)"
	exit 1
fi
echo "$summary ($times)"
[ "$status" = 0 ]
