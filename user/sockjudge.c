// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The sock_diag path's judge of an existing socket (see sockjudge.h). */
#include <string.h>
#include <sys/socket.h>
#include "sockjudge.h"

static bool in_ranges(const struct nfsg_range *r, __u8 n, __u8 cap, __u32 v)
{
	__u8 i;

	for (i = 0; i < n && i < cap; i++)
		if (v >= r[i].lo && v <= r[i].hi)
			return true;
	return false;
}

static bool id_privileged(const struct nfsg_range *r, __u8 n, __u32 id)
{
	return id != NFSG_ID_UNKNOWN && in_ranges(r, n, NFSG_MAX_RANGES, id);
}

static bool dest_in(const struct policy *p, const __u8 mapped[16])
{
	const struct policy_cidr *c;
	__u32 bits, i;
	size_t k;

	for (k = 0; k < p->n_dests; k++) {
		c = &p->dests[k];
		bits = c->prefixlen > 128 ? 128 : c->prefixlen;
		for (i = 0; i < bits; i++)
			if ((mapped[i / 8] ^ c->addr[i / 8]) & (0x80 >> (i % 8)))
				break;
		if (i == bits)
			return true;
	}
	return false;
}

/* 127.0.0.0/8 (v4-mapped) or ::1, as bpf/policy.h's loopback(). */
static bool loopback(const __u8 m[16])
{
	static const __u8 v4[12] = { [10] = 0xff, [11] = 0xff };
	static const __u8 one[16] = { [15] = 1 };

	return !memcmp(m, v4, sizeof(v4)) ? m[12] == 127
					  : !memcmp(m, one, sizeof(one));
}

/* The policy named for path or its nearest ancestor, else the default. */
static size_t policy_of(const struct policy_set *set, const char *path)
{
	size_t best = 0, best_len = 0, i, j, n;

	if (set->p[0].k.flags & NFSG_POLICY_SOLE)
		return 0;
	for (i = 1; i < set->n; i++)
		for (j = 0; j < set->p[i].n_cgroups; j++) {
			n = strlen(set->p[i].cgroups[j]);
			if (n > best_len && !strncmp(path, set->p[i].cgroups[j], n) &&
			    (path[n] == '\0' || path[n] == '/')) {
				best = i;
				best_len = n;
			}
		}
	return best;
}

void sockjudge(const struct policy_set *set, const struct sockjudge_facts *f,
	       struct nfsg_sock_record *r)
{
	__u8 govern = r->protocol == NFSG_PROTO_UDP ? NFSG_GOVERN_UDP
						    : NFSG_GOVERN_TCP;
	size_t n = strlen(f->root);
	const struct policy *p;
	__u8 mapped[16] = {};
	bool privileged;

	r->verdict = 0;
	r->reason = NFSG_REASON_NONE;
	if (!set->n || (r->uid == 0 && !f->held))
		return;
	/* Outside the attach point no hook of ours governs it (and an
	 * unresolvable path is no proof of being inside). */
	if (n && (strncmp(f->cgroup, f->root, n) ||
		  (f->cgroup[n] && f->cgroup[n] != '/')))
		return;
	r->policy = policy_of(set, f->cgroup);
	p = &set->p[r->policy];
	r->gid = f->held ? f->holder_gid : NFSG_ID_UNKNOWN;
	if (r->family == AF_INET) {
		mapped[10] = mapped[11] = 0xff;
		memcpy(mapped + 12, r->daddr, 4);
	} else {
		memcpy(mapped, r->daddr, 16);
	}
	if (p->k.mode == NFSG_MODE_OFF || !(p->k.protocols & govern))
		return;
	if (!in_ranges(p->k.ports, p->k.n_ports, NFSG_MAX_RANGES, r->dport) &&
	    (!loopback(mapped) ||
	     !in_ranges(p->k.lports, p->k.n_lports, NFSG_MAX_LOCAL_RANGES,
			r->dport)))
		return;
	privileged = id_privileged(p->k.uids, p->k.n_uids, r->uid) ||
		     (p->k.n_gids &&
		      id_privileged(p->k.gids, p->k.n_gids, r->gid));
	if (privileged && (!(p->k.flags & NFSG_POLICY_ALLOWLIST) ||
			   dest_in(p, mapped))) {
		r->verdict = NFSG_VERDICT_ALLOW;
		return;
	}
	r->reason = privileged ? NFSG_REASON_DESTINATION : NFSG_REASON_OWNER;
	r->verdict = p->k.mode == NFSG_MODE_AUDIT ? NFSG_VERDICT_AUDIT
						  : NFSG_VERDICT_REFUSE;
}

bool sockjudge_port(const struct policy_set *set, __u8 govern, __u16 port)
{
	const struct policy *p;
	size_t i;

	for (i = 0; i < set->n; i++) {
		p = &set->p[i];
		if (p->k.mode == NFSG_MODE_OFF || !(p->k.protocols & govern))
			continue;
		if (in_ranges(p->k.ports, p->k.n_ports, NFSG_MAX_RANGES, port) ||
		    in_ranges(p->k.lports, p->k.n_lports, NFSG_MAX_LOCAL_RANGES,
			      port))
			return true;
	}
	return false;
}

bool sockjudge_udp(const struct policy_set *set)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		if (set->p[i].k.mode != NFSG_MODE_OFF &&
		    (set->p[i].k.protocols & NFSG_GOVERN_UDP))
			return true;
	return false;
}
