/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Reading nfsguard's maps by fd, the agent's own or pinned ones: their
 * sizes checked, per-CPU slots summed, a generation's inner map, the
 * totals.
 */
#ifndef NFSGUARD_MAP_READ_H
#define NFSGUARD_MAP_READ_H

#include <stdbool.h>
#include <linux/types.h>

/* Does map fd have exactly these key and value sizes? */
bool map_sizes_are(int fd, __u32 key_size, __u32 value_size);
/* The sum over CPUs of slot key of a per-CPU array. */
int map_percpu_sum(int fd, __u32 key, __u64 *sum);
/* The fd of generation gen's inner map of outer, or -errno. */
int map_inner(int outer, __u32 gen);
/* The totals (NFSG_CTR_*): the per-CPU counters summed, plus nfsg_meta's
 * bases. */
int counters_total(int counters_fd, int meta_fd, __u64 *out);

#endif
