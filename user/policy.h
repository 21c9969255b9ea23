/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The policy model, as the agent holds it: a default policy and any number
 * of named policies, each applying to a list of cgroup paths. The kernel's
 * form of one policy is struct nfsg_policy (include/guard.h); what the
 * kernel keeps elsewhere (cgroups, allow-list) is here beside it.
 */
#ifndef NFSGUARD_POLICY_H
#define NFSGUARD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "guard.h"

/* The embedded default: the EFS owner rule, TCP 2049, root only. */
#define POLICY_DEFAULT_PORT 2049
#define POLICY_DEFAULT_PRIV_UID 0
#define POLICY_DEFAULT_NAME "default"

struct policy_cidr {
	__u8 addr[16];		/* IPv4 stored v4-mapped */
	__u32 prefixlen;	/* over the 128 bits */
};

struct policy {
	struct nfsg_policy k;	/* what the kernel reads; name included */
	struct policy_cidr *dests;	/* allow-list; none: any destination */
	size_t n_dests;
	char **cgroups;		/* paths relative to the cgroup2 mount */
	size_t n_cgroups;
	int line;		/* where its section starts; 0: embedded */
};

struct policy_set {
	struct policy *p;	/* p[0] is the default policy */
	size_t n;
};

/* The embedded default alone. Returns -ENOMEM or 0. */
int policy_set_default(struct policy_set *s);
void policy_set_free(struct policy_set *s);
/* A new policy at the end of the set, copied from base (or zeroed). */
struct policy *policy_set_add(struct policy_set *s, const struct policy *base,
			      const char *name);
struct policy *policy_set_find(struct policy_set *s, const char *name);

int policy_add_range(struct nfsg_range *r, __u8 *n, __u32 lo, __u32 hi);
/* The same into an array of cap ranges (lports: NFSG_MAX_LOCAL_RANGES). */
int policy_add_range_cap(struct nfsg_range *r, __u8 *n, __u8 cap, __u32 lo,
			 __u32 hi);
/*
 * The local ports the embedded default governs (loopback destinations
 * only): where the TLS relays of EFS mounts listen. 20049-21049 unless
 * set from efs-utils' configuration (user/efs.c) before policies are made.
 */
#define POLICY_RELAY_LO 20049
#define POLICY_RELAY_HI 21049
void policy_set_relay_ports(__u32 lo, __u32 hi);
void policy_relay_ports(__u32 *lo, __u32 *hi);
int policy_add_dest(struct policy *p, const struct policy_cidr *c);
int policy_add_cgroup(struct policy *p, const char *path);

const char *policy_mode_name(__u8 mode);
/* "tcp,udp 2049,20048-20049 uids 0 gids none" into buf, cut to len. */
void policy_describe(const struct policy *p, char *buf, size_t len);
/* A range list as "0,1000-1999" or "none". */
void policy_format_ranges(const struct nfsg_range *r, __u8 n, char *buf,
			  size_t len);
/* A CIDR as text. */
void policy_format_cidr(const struct policy_cidr *c, char *buf, size_t len);

#endif
