/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Constants that vmlinux.h lacks (it carries types, not macros). */
#ifndef NFSGUARD_BPF_CONSTS_H
#define NFSGUARD_BPF_CONSTS_H

#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1
#define SOCK_DGRAM 2

/* Return values of cgroup sock_addr programs. */
#define SK_VERDICT_REFUSE 0	/* the syscall fails with EPERM */
#define SK_VERDICT_PASS 1

#endif
