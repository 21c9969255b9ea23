/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Checks run before the agent promises enforcement. Each failing check
 * prints one line naming the cause and the fix, and returns -errno.
 */
#ifndef NFSGUARD_PROBE_H
#define NFSGUARD_PROBE_H

/* Capabilities needed to load, read kernel memory via BTF, and attach. */
int probe_privileges(void);
/* Kernel BTF, needed for CO-RE and the socket-owner reads. */
int probe_btf(void);
/* Program and map types, and the kfunc the kernel side calls. */
int probe_kernel(void);

#endif
