// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include "filter.h"
#include "parse.h"

static const char *const key_names[FILTER_KEYS] = {
	[FILTER_UID] = "uid", [FILTER_PID] = "pid", [FILTER_COMM] = "comm",
	[FILTER_CGROUP] = "cgroup", [FILTER_PORT] = "port",
	[FILTER_DADDR] = "daddr",
};

int filter_key_of(const char *name)
{
	int k;

	for (k = 0; k < FILTER_KEYS; k++)
		if (!strcmp(name, key_names[k]))
			return k;
	return -1;
}

const char *filter_key_name(enum filter_key k)
{
	return key_names[k];
}

/* One value (no comma in it) of key k into f. */
static int add_one(struct event_filter *f, enum filter_key k, const char *v,
		   char *why, size_t why_len)
{
	__u8 i = f->n[k];
	size_t len = strlen(v);
	__u32 num;

	if (i >= FILTER_MAX) {
		snprintf(why, why_len, "at most %d values of --%s", FILTER_MAX,
			 key_names[k]);
		return -E2BIG;
	}
	switch (k) {
	case FILTER_UID:
		if (!parse_u32(v, 0, 0xfffffffe, &f->uid[i]))
			goto bad;
		break;
	case FILTER_PID:
		if (!parse_u32(v, 1, 0x7fffffff, &f->pid[i]))
			goto bad;
		break;
	case FILTER_PORT:
		if (!parse_u32(v, 1, 65535, &num))
			goto bad;
		f->port[i] = num;
		break;
	case FILTER_COMM:
		if (!len || len >= NFSG_COMM_LEN)
			goto bad;
		memcpy(f->comm[i], v, len + 1);
		break;
	case FILTER_CGROUP:
		/* Relative to the cgroup2 mount; "/" or "" is all of it. */
		while (len > 1 && v[len - 1] == '/')
			len--;
		if (!len || len >= NFSG_PATH_LEN - 1)
			goto bad;
		f->cgroup[i][0] = '/';
		memcpy(f->cgroup[i] + (v[0] != '/'), v, len);
		f->cgroup[i][len + (v[0] != '/')] = '\0';
		break;
	case FILTER_DADDR:
		if (!parse_cidr(v, &f->daddr[i]))
			goto bad;
		break;
	default:
		goto bad;
	}
	f->n[k]++;
	return 0;
bad:
	snprintf(why, why_len, "invalid --%s value", key_names[k]);
	return -EINVAL;
}

int filter_add(struct event_filter *f, enum filter_key k, const char *value,
	       char *why, size_t why_len)
{
	char one[NFSG_PATH_LEN];
	const char *s = value, *e;
	int err = 0;

	if (!*value) {
		snprintf(why, why_len, "--%s needs a value", key_names[k]);
		return -EINVAL;
	}
	while (!err && *s) {
		e = s + strcspn(s, ",");
		if ((size_t)(e - s) >= sizeof(one)) {
			snprintf(why, why_len, "invalid --%s value", key_names[k]);
			return -EINVAL;
		}
		memcpy(one, s, e - s);
		one[e - s] = '\0';
		err = add_one(f, k, one, why, why_len);
		s = *e ? e + 1 : e;
	}
	return err;
}

bool filter_empty(const struct event_filter *f)
{
	int k;

	for (k = 0; k < FILTER_KEYS; k++)
		if (f->n[k])
			return false;
	return true;
}

static bool in_u32(const __u32 *v, __u8 n, __u32 x)
{
	__u8 i;

	for (i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return !n;
}

static bool under(const char *path, const char *top)
{
	size_t n = strlen(top);

	if (!strcmp(top, "/"))
		return true;
	return !strncmp(path, top, n) && (path[n] == '\0' || path[n] == '/');
}

static bool in_cidr(const struct policy_cidr *c, const struct nfsg_event *e)
{
	__u8 addr[16] = { [10] = 0xff, [11] = 0xff };
	__u32 bits = c->prefixlen, i;

	if (e->family == AF_INET)
		memcpy(addr + 12, e->daddr, 4);
	else if (e->family == AF_INET6)
		memcpy(addr, e->daddr, 16);
	else
		return false;
	for (i = 0; i < 16 && bits; i++) {
		__u8 mask = bits >= 8 ? 0xff : (__u8)(0xff << (8 - bits));

		if ((addr[i] & mask) != (c->addr[i] & mask))
			return false;
		bits -= bits >= 8 ? 8 : bits;
	}
	return true;
}

bool filter_match(const struct event_filter *f, const struct nfsg_event *e,
		  const char *cgroup)
{
	bool ok;
	__u8 i;

	if (e->kind == NFSG_EV_CGROUP_ADDED || e->kind == NFSG_EV_CGROUP_REMOVED)
		return true;
	if (!in_u32(f->uid, f->n[FILTER_UID], e->uid) ||
	    !in_u32(f->pid, f->n[FILTER_PID], e->pid))
		return false;
	for (i = 0, ok = !f->n[FILTER_PORT]; i < f->n[FILTER_PORT]; i++)
		ok |= f->port[i] == e->dport;
	for (i = 0; ok && f->n[FILTER_COMM]; i++) {
		if (i == f->n[FILTER_COMM])
			return false;
		if (!strncmp(f->comm[i], e->comm, NFSG_COMM_LEN))
			break;
	}
	for (i = 0; ok && f->n[FILTER_CGROUP]; i++) {
		if (i == f->n[FILTER_CGROUP])
			return false;
		if (under(cgroup, f->cgroup[i]))
			break;
	}
	for (i = 0; ok && f->n[FILTER_DADDR]; i++) {
		if (i == f->n[FILTER_DADDR])
			return false;
		if (in_cidr(&f->daddr[i], e))
			break;
	}
	return ok;
}

void filter_to_kernel(const struct event_filter *f, struct trace_filters *t)
{
	memset(t, 0, sizeof(*t));
	if (f->n[FILTER_UID] == 1) {
		t->uid_on = true;
		t->uid = f->uid[0];
	}
	if (f->n[FILTER_PID] == 1) {
		t->pid_on = true;
		t->pid = f->pid[0];
	}
	if (f->n[FILTER_PORT] == 1) {
		t->port_on = true;
		t->port = f->port[0];
	}
	if (f->n[FILTER_COMM] == 1)
		memcpy(t->comm, f->comm[0], sizeof(t->comm));
	if (f->n[FILTER_CGROUP] == 1)
		t->cgroup = f->cgroup[0];
	if (f->n[FILTER_DADDR] == 1) {
		t->daddr_on = true;
		t->daddr = f->daddr[0];
	}
}
