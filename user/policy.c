// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "policy.h"

void policy_default(struct policy *p)
{
	memset(p, 0, sizeof(*p));
	policy_add_port(p, POLICY_DEFAULT_PORT);
	policy_add_priv_uid(p, POLICY_DEFAULT_PRIV_UID);
}

void policy_add_port(struct policy *p, __u16 port)
{
	p->ports.bits[port / 64] |= 1ULL << (port % 64);
}

bool policy_has_port(const struct policy *p, __u16 port)
{
	return p->ports.bits[port / 64] & (1ULL << (port % 64));
}

int policy_add_priv_uid(struct policy *p, __u32 uid)
{
	__u32 i;

	for (i = 0; i < p->n_priv_uids; i++)
		if (p->priv_uids[i] == uid)
			return 0;
	if (p->n_priv_uids >= NFSG_MAX_PRIV_UIDS)
		return -ENOSPC;
	p->priv_uids[p->n_priv_uids++] = uid;
	return 0;
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

void policy_describe(const struct policy *p, char *buf, size_t len)
{
	size_t off = 0;
	unsigned int port, i;
	bool first = true;

	if (!len)
		return;
	buf[0] = '\0';
	append(buf, len, &off, "tcp ports");
	for (port = 0; port < 65536; port++) {
		if (!policy_has_port(p, port))
			continue;
		append(buf, len, &off, first ? " %u" : ",%u", port);
		first = false;
	}
	if (first)
		append(buf, len, &off, " none");
	append(buf, len, &off, "; privileged uids");
	for (i = 0; i < p->n_priv_uids; i++)
		append(buf, len, &off, i ? ",%u" : " %u", p->priv_uids[i]);
	if (!p->n_priv_uids)
		append(buf, len, &off, " none");
}
