#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
# 'make bench-kernels': the bench's program-cost part (bench/run.py --only
# program: ratios to the null program from bpf_stats) inside each kernel of
# the matrix (tools/kernels/), one guest after another, under KVM only:
# emulated (TCG) timings mean nothing, so where KVM runs no guest (no
# /dev/kvm, or one that runs nothing: tools/kernels/kvm.sh) it says so and
# exits 0.
#   bench/kernels.sh BUILD [KERNEL ...]
# KERNEL as for 'make test-kernels': bullseye, bookworm, trixie (default:
# all three). Each guest's report is printed from its console log.
set -eu

if ! [ -r /dev/kvm ] || ! [ -w /dev/kvm ]; then
	echo "bench-kernels: skipped: no usable /dev/kvm on this machine, and timings under emulation (TCG) mean nothing"
	exit 0
fi
here=$(dirname "$(realpath "$0")")
repo=$(realpath "$here/..")
kernels_dir=$repo/tools/kernels
build=$(realpath "$1")
shift
kernels=${*:-bullseye bookworm trixie}
out=$build/kernels
limit=${KERNEL_TIMEOUT:-900}
mkdir -p "$out"

bad=0
for k in $kernels; do
	case "$k" in
	bullseye | bookworm | trixie) "$kernels_dir/fetch.sh" "$out" "$k" ;;
	*) echo "bench-kernels: unknown kernel '$k': use bullseye, bookworm, trixie" >&2
	   exit 2 ;;
	esac
	dir=$out/$k
	release=$(cat "$dir/release")
	if ! why=$("$kernels_dir/kvm.sh" "$dir/root/boot/vmlinuz-$release"); then
		echo "bench-kernels: skipped: $why, and timings under emulation (TCG) mean nothing"
		exit 0
	fi
	log=$dir/bench-console.log
	"$kernels_dir/initramfs.sh" "$dir" "$dir/bench-initramfs.gz" \
		"$here/guest.sh" "$repo" "$build"
	echo "  BOOT     $k $release (log: ${log#"$PWD"/})"
	rc=0
	"$kernels_dir/boot.sh" "$dir/root/boot/vmlinuz-$release" \
		"$dir/bench-initramfs.gz" "$log" "$limit" || rc=$?
	text=$(tr -d '\r' <"$log")
	status=$(echo "$text" | sed -n 's/^nfsg-guest: exit \([0-9]*\)$/\1/p' | tail -n1)
	echo "$text" | sed -n '/^## Program cost/,/^nfsg-guest: exit/p' | grep -v '^nfsg-guest:' || true
	if [ "$rc" != 0 ] || [ "${status:-x}" != 0 ]; then
		echo "bench-kernels: $k $release: no report (qemu exit $rc, bench exit ${status:-none})"
		bad=1
	fi
done
exit $bad
