/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Constants that vmlinux.h lacks (it carries types, not macros). */
#ifndef NFSGUARD_BPF_CONSTS_H
#define NFSGUARD_BPF_CONSTS_H

#define AF_UNSPEC 0
#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1
#define SOCK_DGRAM 2

#define IPPROTO_TCP 6
#define RCV_SHUTDOWN 1
#define ETIMEDOUT 110
#define EINPROGRESS 115

/* TCP states (include/net/tcp_states.h). */
#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_CLOSE 7
#define TCP_CLOSE_WAIT 8

/* File types (include/uapi/linux/stat.h). */
#define S_IFMT 00170000
#define S_IFSOCK 0140000

/* Return values of cgroup sock_addr programs. */
#define SK_VERDICT_REFUSE 0	/* the syscall fails with EPERM */
#define SK_VERDICT_PASS 1

#endif
