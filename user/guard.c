// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "guard.skel.h"
#include "log.h"
#include "guard_prog.h"

/* The ABI in include/guard.h: the kernel side writes exactly these. */
_Static_assert(sizeof(struct nfsg_event) == 72, "nfsg_event layout");
_Static_assert(sizeof(struct nfsg_portset) == 8192, "nfsg_portset layout");

int guard_load(struct guard *g, const struct guard_opts *o)
{
	int err;

	memset(g, 0, sizeof(*g));
	g->skel = guard_bpf__open();
	if (!g->skel) {
		err = -errno;
		log_err("cannot open the BPF object: %s", strerror(-err));
		return err;
	}
	g->skel->rodata->wakeup_bytes = o->wakeup_bytes;
	err = bpf_map__set_max_entries(g->skel->maps.nfsg_events,
				       o->ringbuf_bytes);
	if (err) {
		log_err("cannot size the event ring buffer to %u bytes: %s",
			o->ringbuf_bytes, strerror(-err));
		goto fail;
	}
	err = guard_bpf__load(g->skel);
	if (err) {
		log_err("kernel refused to load the programs: %s: rerun with -v to see the verifier log",
			strerror(-err));
		goto fail;
	}
	return 0;
fail:
	guard_destroy(g);
	return err;
}

int guard_apply_policy(struct guard *g, const struct policy *p)
{
	int ports_fd = bpf_map__fd(g->skel->maps.nfsg_ports);
	int uids_fd = bpf_map__fd(g->skel->maps.nfsg_priv_uids);
	__u32 zero = 0, i;
	__u8 one = 1;
	int err;

	/* The uids go in before the ports: a port is never governed
	 * against an empty privileged set while the maps are filled. */
	for (i = 0; i < p->n_priv_uids; i++) {
		err = bpf_map_update_elem(uids_fd, &p->priv_uids[i], &one,
					  BPF_ANY);
		if (err) {
			log_err("cannot write privileged uid %u: %s",
				p->priv_uids[i], strerror(errno));
			return -errno;
		}
	}
	err = bpf_map_update_elem(ports_fd, &zero, &p->ports, BPF_ANY);
	if (err) {
		log_err("cannot write governed ports: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

int guard_attach(struct guard *g, int cgroup_fd)
{
	int err;

	g->link4 = bpf_program__attach_cgroup(g->skel->progs.nfsg_connect4,
					      cgroup_fd);
	if (!g->link4) {
		err = -errno;
		goto fail;
	}
	g->link6 = bpf_program__attach_cgroup(g->skel->progs.nfsg_connect6,
					      cgroup_fd);
	if (!g->link6) {
		err = -errno;
		goto fail;
	}
	return 0;
fail:
	log_err("cannot attach to the cgroup: %s: a kernel with bpf_link support for cgroups (5.7 or later) is needed",
		strerror(-err));
	bpf_link__destroy(g->link4);
	g->link4 = NULL;
	return err;
}

int guard_read_counters(const struct guard *g, __u64 *out)
{
	int fd = bpf_map__fd(g->skel->maps.nfsg_counters);
	int ncpu = libbpf_num_possible_cpus();
	__u64 *vals;
	__u32 slot;
	int cpu, err = 0;

	if (ncpu < 0)
		return ncpu;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (slot = 0; slot < NFSG_CTR_MAX; slot++) {
		out[slot] = 0;
		if (bpf_map_lookup_elem(fd, &slot, vals)) {
			err = -errno;
			break;
		}
		for (cpu = 0; cpu < ncpu; cpu++)
			out[slot] += vals[cpu];
	}
	free(vals);
	return err;
}

int guard_events_fd(const struct guard *g)
{
	return bpf_map__fd(g->skel->maps.nfsg_events);
}

void guard_destroy(struct guard *g)
{
	bpf_link__destroy(g->link6);
	bpf_link__destroy(g->link4);
	guard_bpf__destroy(g->skel);
	memset(g, 0, sizeof(*g));
}
