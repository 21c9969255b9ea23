/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Test-only: forced in front of every source of the 'variant-abi' build
 * (Makefile), which must look like a release with another map layout.
 * guard.h is read here first and its include guard keeps it from being
 * read again, so the version below is the one every user-side file sees
 * (only the agent compares it; the BPF side ignores this header).
 */
#ifndef __bpf__
#include <linux/types.h>
#include "guard.h"
#undef NFSG_ABI_VERSION
#define NFSG_ABI_VERSION 99
#endif
