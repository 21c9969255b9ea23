// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "tool.h"

static void say(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", program_invocation_short_name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void tool_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(fmt, ap);
	va_end(ap);
}

void tool_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(fmt, ap);
	va_end(ap);
}

int tool_number(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int tool_seconds(const char *s, uint64_t *ns)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v <= 0 || v > 3600)
		return -EINVAL;
	*ns = (uint64_t)(v * 1e9);
	return 0;
}

int tool_addr(const char *host, const char *port, struct sockaddr_storage *ss,
	      socklen_t *len)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	char bare[INET6_ADDRSTRLEN];
	size_t n = strlen(host);
	long p;

	if (tool_number(port, 1, 65535, &p))
		return -EINVAL;
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		host++;
		n -= 2;
	}
	if (n >= sizeof(bare))
		return -EINVAL;
	memcpy(bare, host, n);
	bare[n] = '\0';

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, bare, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(p);
		*len = sizeof(*in4);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, bare, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(p);
		*len = sizeof(*in6);
		return AF_INET6;
	}
	return -EINVAL;
}

uint64_t tool_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int tool_connect(const struct sockaddr_storage *ss, socklen_t len)
{
	int fd, one = 1, err;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ||
	    connect(fd, (const struct sockaddr *)ss, len)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int tool_chunk_add(struct tool_chunks *c, uint64_t ns)
{
	uint64_t *grown;
	size_t cap;

	if (c->n == c->cap) {
		cap = c->cap ? 2 * c->cap : 1024;
		grown = realloc(c->ns, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		c->ns = grown;
		c->cap = cap;
	}
	c->ns[c->n++] = ns;
	return 0;
}

static int by_value(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

void tool_sort(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), by_value);
}

uint64_t tool_chunk_median(struct tool_chunks *c)
{
	if (!c->n)
		return 0;
	tool_sort(c->ns, c->n);
	return c->ns[c->n / 2];
}

void tool_chunks_free(struct tool_chunks *c)
{
	free(c->ns);
	memset(c, 0, sizeof(*c));
}

int tool_run_chunks(struct tool_chunks *c, uint64_t duration_ns,
		    int (*chunk)(void *arg), void *arg, uint64_t *elapsed_ns)
{
	uint64_t start, mark, now;
	int err;

	start = mark = now = tool_now_ns();
	do {
		err = chunk(arg);
		if (err)
			break;
		now = tool_now_ns();
		err = tool_chunk_add(c, now - mark);
		if (err) {
			tool_err("out of memory");
			break;
		}
		mark = now;
	} while (now - start < duration_ns);
	*elapsed_ns = now - start;
	return err;
}
