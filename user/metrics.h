/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * /metrics in the Prometheus text exposition format, served by
 * libmicrohttpd from the agent's own loop (no thread, no lock): GET
 * /metrics only, a few connections at a time, each with a timeout.
 */
#ifndef NFSGUARD_METRICS_H
#define NFSGUARD_METRICS_H

#include <stdbool.h>
#include <stdio.h>

struct nfsg_agent;
struct metrics;

/* Listen on addr ("127.0.0.1:9108", "[::1]:9108") and add to epoll_fd. */
int metrics_open(struct metrics **m, struct nfsg_agent *a, const char *addr,
		 int epoll_fd);
/* Is this epoll tag the metrics server's? */
bool metrics_owns(const struct metrics *m, const void *tag);
/* Serve what is ready; never blocks. */
void metrics_run(struct metrics *m);
void metrics_close(struct metrics *m);
/* The exposition itself, onto out. */
void metrics_write(FILE *out, struct nfsg_agent *a);

#endif
