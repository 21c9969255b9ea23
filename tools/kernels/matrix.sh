#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
# The kernel matrix ('make test-kernels'): boot each kernel under qemu on
# the host's root and run the suite's real cases inside, one guest after
# another. One line per kernel, then the sum: 'N passed, N failed, N skipped'.
#   tools/kernels/matrix.sh BUILD [KERNEL ...]
# KERNEL is bullseye (5.10), bookworm (6.1), trixie (6.12) or running (the
# host's own kernel, when /boot has it); the default is all four.
# Environment: KERNEL_TESTS, the suite's name filters (default below);
# KERNEL_TIMEOUT, seconds a guest may take (default 1500: the slowest,
# Debian 12's 6.1 under TCG, has taken 900 to 1,005 s on a 2-CPU machine).
# Everything it makes goes to BUILD/kernels/: apt state and packages, the
# unpacked kernels, an initramfs and console.log per kernel.
set -eu

here=$(dirname "$(realpath "$0")")
repo=$(realpath "$here/../..")
build=$(realpath "$1")
shift
kernels=${*:-bullseye bookworm trixie running}
tests=${KERNEL_TESTS:-unit test_cli test_enforce test_policy
	sigkill_keeps_enforcing_and_restart_adopts
	upgrade_swaps_programs_atomically_under_load
	test_nfs test_trace test_kernel_nfs test_backstop test_sockets}
limit=${KERNEL_TIMEOUT:-1500}
out=$build/kernels

# The guest mounts fresh tmpfs on these: a checkout there would vanish.
for p in "$repo" "$build"; do
	case "$p/" in
	/tmp/* | /var/tmp/* | /run/* | /dev/* | /proc/* | /sys/*)
		echo "kernels: $p is hidden in the guests (a tmpfs there): use a checkout elsewhere" >&2
		exit 2 ;;
	esac
done
case "$tests" in
*/* | *\'*) echo "kernels: KERNEL_TESTS: names only, no / or '" >&2; exit 2 ;;
esac
[ -x "$build/nfsguard" ] && [ -x "$build/tests/unit_tests" ] || {
	echo "kernels: build $build first: make all helpers $build/tests/unit_tests" >&2
	exit 2
}
mkdir -p "$out"

# The host's kernel, when it is readable: its modules from /lib/modules.
running_dir() {
	local r dir
	r=$(uname -r)
	dir=$out/running
	[ -r "/boot/vmlinuz-$r" ] && [ -d "/lib/modules/$r" ] || return 1
	mkdir -p "$dir/root/boot" "$dir/root/lib/modules"
	ln -sfn "/boot/vmlinuz-$r" "$dir/root/boot/vmlinuz-$r"
	ln -sfn "/lib/modules/$r" "$dir/root/lib/modules/$r"
	echo "$r" >"$dir/release"
}

total_p=0 total_f=0 total_s=0 bad=0
for k in $kernels; do
	case "$k" in
	bullseye | bookworm | trixie)
		"$here/fetch.sh" "$out" "$k" ;;
	running)
		if ! running_dir; then
			echo "kernels: running $(uname -r): no readable /boot/vmlinuz-$(uname -r) and modules; 'make test' covers it on the host"
			continue
		fi ;;
	*)
		echo "kernels: unknown kernel '$k': use bullseye, bookworm, trixie, running" >&2
		exit 2 ;;
	esac
	dir=$out/$k
	release=$(cat "$dir/release")
	log=$dir/console.log
	# shellcheck disable=SC2086
	"$here/initramfs.sh" "$dir" "$dir/initramfs.gz" "$here/guest.sh" \
		"$repo" "$build" $tests
	for try in 1 2; do
		echo "  BOOT     $k $release (log: ${log#"$PWD"/})"
		t0=$(date +%s)
		rc=0 failed=0
		"$here/boot.sh" "$dir/root/boot/vmlinuz-$release" \
			"$dir/initramfs.gz" "$log" "$limit" || rc=$?
		took=$(($(date +%s) - t0))
		line=$("$here/report.sh" "$log" "$rc" "$took") || failed=1
		# Once only, and only for the trap of a breakpoint left in code
		# the kernel was patching (jump labels, BPF trampolines): TCG
		# runs such stale code now and then (README, "kernel matrix").
		[ "$failed" = 1 ] && [ "$try" = 1 ] && grep -aq 'Oops: int3' "$log" || break
		cp "$log" "$dir/console-int3.log"
		echo "kernels: $k $release: $line; an int3 oops of live patching under emulation (log: ${dir#"$PWD"/}/console-int3.log): booting it once more"
	done
	[ "$failed" = 0 ] || bad=1
	echo "kernels: $k $release: $line"
	set -- $(echo "$line" | awk '/^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped/ { print $1, $3, $5 }')
	if [ $# = 3 ]; then
		total_p=$((total_p + $1)) total_f=$((total_f + $2)) total_s=$((total_s + $3))
	fi
done
echo "$total_p passed, $total_f failed, $total_s skipped"
[ "$bad" = 0 ] && [ "$total_f" = 0 ]
