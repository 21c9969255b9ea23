/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The local TLS relays of EFS mounts this host runs: TCP listeners on a
 * loopback address, on a port of the relay range, with the process that
 * holds each (stunnel or efs-proxy, as root).
 */
#ifndef NFSGUARD_RELAYS_H
#define NFSGUARD_RELAYS_H

#include <linux/types.h>

#define RELAYS_MAX 64

struct relay {
	char addr[46];		/* INET6_ADDRSTRLEN */
	char comm[16];		/* of a process holding it; "" if none seen */
	__u32 pid;		/* that process, 0 if none seen */
	__u32 uid;		/* the listener's owner */
	__u16 port;
};

/*
 * The listeners of the agent's network namespace on ports lo..hi of a
 * loopback address, at most RELAYS_MAX, into r. Returns their number or
 * -errno (sock_diag could not be asked).
 */
int relays_list(__u32 lo, __u32 hi, struct relay *r);

#endif
