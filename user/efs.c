// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <ini.h>
#include "efs.h"
#include "policy.h"

struct efs_range {
	long lo, hi;		/* -1: not given */
	bool bad;		/* a bound that is not a port */
};

static long port_of(const char *v)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < 1 || n > 65535)
		return -2;
	return n;
}

static int on_entry(void *data, const char *section, const char *key,
		    const char *value)
{
	struct efs_range *r = data;
	long *dst = NULL;

	if (strcmp(section, "mount"))
		return 1;
	if (!strcmp(key, "port_range_lower_bound"))
		dst = &r->lo;
	else if (!strcmp(key, "port_range_upper_bound"))
		dst = &r->hi;
	if (!dst)
		return 1;
	*dst = port_of(value);
	r->bad |= *dst < 0;
	return 1;
}

/* The file, opened once and checked by its fd: root's, and only root's
 * to write, regular and of a sane size. NULL with *why set otherwise. */
static FILE *open_trusted(const char *path, const char **why)
{
	struct stat st;
	FILE *f;
	int fd;

	*why = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		if (errno != ENOENT)
			*why = strerror(errno);
		return NULL;
	}
	if (fstat(fd, &st))
		*why = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		*why = "not a regular file";
	else if (st.st_size > EFS_UTILS_MAX_BYTES)
		*why = "larger than 1 MiB";
	else if (st.st_uid != 0 || (st.st_mode & S_IWOTH) ||
		 ((st.st_mode & S_IWGRP) && st.st_gid != 0))
		*why = "not root's alone to write";
	if (*why) {
		close(fd);
		return NULL;
	}
	f = fdopen(fd, "r");
	if (!f) {
		*why = strerror(errno);
		close(fd);
	}
	return f;
}

void efs_relay_ports_load(const char *path, char *msg, size_t len, bool *warn)
{
	struct efs_range r = { .lo = -1, .hi = -1 };
	const char *why;
	FILE *f;
	int rc;

	*warn = false;
	if (!path)
		path = EFS_UTILS_CONF;
	policy_set_relay_ports(POLICY_RELAY_LO, POLICY_RELAY_HI);
	f = open_trusted(path, &why);
	if (!f) {
		*warn = why != NULL;
		if (why)
			snprintf(msg, len, "%s: %s: its TLS relay ports are not trusted; governing the built-in %u-%u on loopback",
				 path, why, POLICY_RELAY_LO, POLICY_RELAY_HI);
		else
			snprintf(msg, len, "EFS TLS relay ports %u-%u on loopback destinations (no %s)",
				 POLICY_RELAY_LO, POLICY_RELAY_HI, path);
		return;
	}
	rc = ini_parse_file(f, on_entry, &r);
	fclose(f);
	if (rc || r.bad || r.lo < 0 || r.hi < 0 || r.lo > r.hi) {
		*warn = true;
		snprintf(msg, len, "%s: no valid port_range_lower_bound and port_range_upper_bound in [mount]%s; governing the built-in %u-%u on loopback",
			 path, rc > 0 ? " (a syntax error)" : "",
			 POLICY_RELAY_LO, POLICY_RELAY_HI);
		return;
	}
	policy_set_relay_ports(r.lo, r.hi);
	snprintf(msg, len, "EFS TLS relay ports %ld-%ld on loopback destinations, from %s",
		 r.lo, r.hi, path);
}
