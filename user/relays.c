// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include "relays.h"
#include "sockdiag.h"

#define TCP_LISTEN_STATE 10

struct found {
	struct relay *r;
	__u64 ino[RELAYS_MAX];
	__u32 lo, hi;
	int n;
};

static int loopback(const struct sockdiag_sock *s)
{
	static const __u8 v6_lo[16] = { [15] = 1 };
	static const __u8 mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (s->family == AF_INET)
		return s->saddr[0] == 127;
	return !memcmp(s->saddr, v6_lo, 16) ||
	       (!memcmp(s->saddr, mapped, 12) && s->saddr[12] == 127);
}

static int listener(const struct sockdiag_info *i, void *data)
{
	struct found *f = data;
	struct relay *r;

	if (f->n >= RELAYS_MAX || i->s.sport < f->lo || i->s.sport > f->hi ||
	    !loopback(&i->s))
		return 0;
	r = &f->r[f->n];
	memset(r, 0, sizeof(*r));
	if (!inet_ntop(i->s.family, i->s.saddr, r->addr, sizeof(r->addr)))
		snprintf(r->addr, sizeof(r->addr), "?");
	r->port = i->s.sport;
	r->uid = i->uid;
	f->ino[f->n++] = i->ino;
	return 0;
}

/* The comm of pid, bounded, control bytes replaced. */
static void comm_of(const char *pid, char *comm, size_t len)
{
	char path[300];
	size_t n, k;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%.32s/comm", pid);
	f = fopen(path, "re");
	comm[0] = '\0';
	if (!f)
		return;
	n = fread(comm, 1, len - 1, f);
	fclose(f);
	comm[n] = '\0';
	comm[strcspn(comm, "\n")] = '\0';
	for (k = 0; comm[k]; k++)
		if ((unsigned char)comm[k] < 0x20 || (unsigned char)comm[k] >= 0x7f)
			comm[k] = '?';
}

/* Which process holds each listener: one pass over /proc/PID/fd. */
static void holders(struct found *f)
{
	char path[600], link[64], expect[32];
	struct dirent *p, *d;
	DIR *proc, *fds;
	ssize_t n;
	int i;

	proc = opendir("/proc");
	if (!proc)
		return;
	while ((p = readdir(proc))) {
		if (!isdigit((unsigned char)p->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%.32s/fd", p->d_name);
		fds = opendir(path);
		if (!fds)
			continue;
		while ((d = readdir(fds))) {
			snprintf(path, sizeof(path), "/proc/%.32s/fd/%.255s",
				 p->d_name, d->d_name);
			n = readlink(path, link, sizeof(link) - 1);
			if (n <= 0)
				continue;
			link[n] = '\0';
			for (i = 0; i < f->n; i++) {
				snprintf(expect, sizeof(expect), "socket:[%llu]",
					 (unsigned long long)f->ino[i]);
				if (f->r[i].pid || strcmp(link, expect))
					continue;
				f->r[i].pid = strtoul(p->d_name, NULL, 10);
				comm_of(p->d_name, f->r[i].comm,
					sizeof(f->r[i].comm));
			}
		}
		closedir(fds);
	}
	closedir(proc);
}

int relays_list(__u32 lo, __u32 hi, struct relay *r)
{
	struct found f = { .r = r, .lo = lo, .hi = hi };
	int fd, err;

	fd = sockdiag_open(-1);
	if (fd < 0)
		return fd;
	err = sockdiag_dump(fd, IPPROTO_TCP, AF_INET, 1U << TCP_LISTEN_STATE,
			    listener, &f);
	if (!err)
		err = sockdiag_dump(fd, IPPROTO_TCP, AF_INET6,
				    1U << TCP_LISTEN_STATE, listener, &f);
	close(fd);
	if (err)
		return err;
	holders(&f);
	return f.n;
}
