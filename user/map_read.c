// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "guard.h"
#include "map_read.h"

bool map_sizes_are(int fd, __u32 key_size, __u32 value_size)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return !bpf_obj_get_info_by_fd(fd, &info, &len) &&
	       info.key_size == key_size && info.value_size == value_size;
}

int map_percpu_sum(int fd, __u32 key, __u64 *sum)
{
	int ncpu = libbpf_num_possible_cpus(), cpu, err = 0;
	__u64 *vals;

	if (ncpu < 0)
		return ncpu;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	*sum = 0;
	if (bpf_map_lookup_elem(fd, &key, vals))
		err = -errno;
	for (cpu = 0; !err && cpu < ncpu; cpu++)
		*sum += vals[cpu];
	free(vals);
	return err;
}

int map_inner(int outer, __u32 gen)
{
	__u32 id;
	int fd;

	if (bpf_map_lookup_elem(outer, &gen, &id))
		return -errno;
	fd = bpf_map_get_fd_by_id(id);
	return fd < 0 ? -errno : fd;
}

int counters_total(int counters_fd, int meta_fd, __u64 *out)
{
	struct nfsg_meta meta;
	__u32 zero = 0, slot;
	int err = 0;

	if (bpf_map_lookup_elem(meta_fd, &zero, &meta))
		return -errno;
	for (slot = 0; slot < NFSG_CTR_MAX && !err; slot++) {
		err = map_percpu_sum(counters_fd, slot, &out[slot]);
		out[slot] += meta.base[slot];
	}
	return err;
}
