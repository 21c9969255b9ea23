/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Test-only: forced in front of every source of the 'variant-unnamed'
 * build (Makefile). Its mkdir watcher never manages to name a new cgroup
 * in the cgroups map, as when the kernel has no memory for the element:
 * the agent must name it at the cgroup's event.
 */
#ifdef __bpf__
#define NFSG_NAME_CGROUP(map, id, idx) (-12)	/* -ENOMEM */
#endif
