// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "policy.h"

static void policy_free(struct policy *p)
{
	size_t i;

	for (i = 0; i < p->n_cgroups; i++)
		free(p->cgroups[i]);
	free(p->cgroups);
	free(p->dests);
	memset(p, 0, sizeof(*p));
}

void policy_set_free(struct policy_set *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		policy_free(&s->p[i]);
	free(s->p);
	s->p = NULL;
	s->n = 0;
}

struct policy *policy_set_add(struct policy_set *s, const struct policy *base,
			      const char *name)
{
	struct policy *p, *grown, copy;
	size_t i;

	/* base may live in s->p, which realloc can move. */
	if (base) {
		copy = *base;
		base = &copy;
	}
	if (s->n >= NFSG_MAX_POLICIES) {
		errno = ENOSPC;
		return NULL;
	}
	grown = realloc(s->p, (s->n + 1) * sizeof(*s->p));
	if (!grown)
		return NULL;
	s->p = grown;
	p = &s->p[s->n];
	memset(p, 0, sizeof(*p));
	if (base) {
		/* Scalars and ranges are inherited; cgroups are not. */
		p->k = base->k;
		for (i = 0; i < base->n_dests; i++)
			if (policy_add_dest(p, &base->dests[i])) {
				policy_free(p);
				return NULL;
			}
	}
	snprintf(p->k.name, sizeof(p->k.name), "%s", name);
	s->n++;
	return p;
}

struct policy *policy_set_find(struct policy_set *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->p[i].k.name, name))
			return &s->p[i];
	return NULL;
}

/* The embedded default's local ports (see policy.h). */
static __u32 relay_lo = POLICY_RELAY_LO, relay_hi = POLICY_RELAY_HI;

int policy_set_default(struct policy_set *s)
{
	struct policy *p;

	memset(s, 0, sizeof(*s));
	p = policy_set_add(s, NULL, POLICY_DEFAULT_NAME);
	if (!p)
		return -ENOMEM;
	p->k.mode = NFSG_MODE_ENFORCE;
	p->k.protocols = NFSG_GOVERN_TCP;
	policy_add_range(p->k.ports, &p->k.n_ports, POLICY_DEFAULT_PORT,
			 POLICY_DEFAULT_PORT);
	policy_add_range(p->k.uids, &p->k.n_uids, POLICY_DEFAULT_PRIV_UID,
			 POLICY_DEFAULT_PRIV_UID);
	policy_add_range_cap(p->k.lports, &p->k.n_lports, NFSG_MAX_LOCAL_RANGES,
			     relay_lo, relay_hi);
	return 0;
}

void policy_set_relay_ports(__u32 lo, __u32 hi)
{
	relay_lo = lo;
	relay_hi = hi;
}

void policy_relay_ports(__u32 *lo, __u32 *hi)
{
	*lo = relay_lo;
	*hi = relay_hi;
}

int policy_add_range(struct nfsg_range *r, __u8 *n, __u32 lo, __u32 hi)
{
	return policy_add_range_cap(r, n, NFSG_MAX_RANGES, lo, hi);
}

int policy_add_range_cap(struct nfsg_range *r, __u8 *n, __u8 cap, __u32 lo,
			 __u32 hi)
{
	if (lo > hi)
		return -EINVAL;
	if (*n >= cap)
		return -ENOSPC;
	r[*n].lo = lo;
	r[*n].hi = hi;
	(*n)++;
	return 0;
}

int policy_add_dest(struct policy *p, const struct policy_cidr *c)
{
	struct policy_cidr *grown;

	grown = realloc(p->dests, (p->n_dests + 1) * sizeof(*p->dests));
	if (!grown)
		return -ENOMEM;
	p->dests = grown;
	p->dests[p->n_dests++] = *c;
	p->k.flags |= NFSG_POLICY_ALLOWLIST;
	return 0;
}

int policy_add_cgroup(struct policy *p, const char *path)
{
	char **grown, *copy = strdup(path);

	if (!copy)
		return -ENOMEM;
	grown = realloc(p->cgroups, (p->n_cgroups + 1) * sizeof(*p->cgroups));
	if (!grown) {
		free(copy);
		return -ENOMEM;
	}
	p->cgroups = grown;
	p->cgroups[p->n_cgroups++] = copy;
	return 0;
}

const char *policy_mode_name(__u8 mode)
{
	switch (mode) {
	case NFSG_MODE_OFF:
		return "off";
	case NFSG_MODE_AUDIT:
		return "audit";
	case NFSG_MODE_ENFORCE:
		return "enforce";
	}
	return "?";
}

/* Append to buf at *off, never past len; keeps *off <= len - 1. */
static void __attribute__((format(printf, 4, 5)))
append(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*off >= len - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	*off += (size_t)n < len - *off ? (size_t)n : len - 1 - *off;
}

void policy_format_ranges(const struct nfsg_range *r, __u8 n, char *buf,
			  size_t len)
{
	size_t off = 0;
	__u8 i;

	if (!len)
		return;
	buf[0] = '\0';
	if (!n)
		append(buf, len, &off, "none");
	for (i = 0; i < n; i++) {
		append(buf, len, &off, "%s%u", i ? "," : "", r[i].lo);
		if (r[i].hi != r[i].lo)
			append(buf, len, &off, "-%u", r[i].hi);
	}
}

void policy_format_cidr(const struct policy_cidr *c, char *buf, size_t len)
{
	static const __u8 mapped[12] = { [10] = 0xff, [11] = 0xff };
	char addr[INET6_ADDRSTRLEN] = "?";

	if (!memcmp(c->addr, mapped, sizeof(mapped)) && c->prefixlen >= 96) {
		inet_ntop(AF_INET, c->addr + 12, addr, sizeof(addr));
		snprintf(buf, len, "%s/%u", addr, c->prefixlen - 96);
		return;
	}
	inet_ntop(AF_INET6, c->addr, addr, sizeof(addr));
	snprintf(buf, len, "%s/%u", addr, c->prefixlen);
}

void policy_describe(const struct policy *p, char *buf, size_t len)
{
	char ports[160], uids[160], gids[160], lports[80];
	size_t off = 0;

	if (!len)
		return;
	buf[0] = '\0';
	policy_format_ranges(p->k.ports, p->k.n_ports, ports, sizeof(ports));
	policy_format_ranges(p->k.uids, p->k.n_uids, uids, sizeof(uids));
	policy_format_ranges(p->k.gids, p->k.n_gids, gids, sizeof(gids));
	append(buf, len, &off, "%s: %s%s%s ports %s, privileged uids %s gids %s",
	       policy_mode_name(p->k.mode),
	       p->k.protocols & NFSG_GOVERN_TCP ? "tcp" : "",
	       p->k.protocols == (NFSG_GOVERN_TCP | NFSG_GOVERN_UDP) ? "," : "",
	       p->k.protocols & NFSG_GOVERN_UDP ? "udp" : "", ports, uids, gids);
	if (p->k.n_lports) {
		policy_format_ranges(p->k.lports, p->k.n_lports, lports,
				     sizeof(lports));
		append(buf, len, &off, ", local ports %s (loopback destinations)",
		       lports);
	}
	if (p->n_dests)
		append(buf, len, &off, ", %zu allowed destination%s",
		       p->n_dests, p->n_dests == 1 ? "" : "s");
	if (p->k.flags & NFSG_POLICY_NO_BACKSTOP)
		append(buf, len, &off, ", backstop off");
	if (p->k.flags & NFSG_POLICY_DESTROY_EXISTING)
		append(buf, len, &off, ", existing connections destroyed");
}
