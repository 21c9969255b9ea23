/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The client side of the event stream ('nfsguard events', and 'trace'
 * when an agent serves the control socket). */
#ifndef NFSGUARD_EVENTS_H
#define NFSGUARD_EVENTS_H

#include <argp.h>
#include <stdbool.h>
#include <linux/types.h>
#include "filter.h"

/* Stream until the agent or the reader stops; returns the exit status. */
int events_stream(const char *control, bool json, bool trace, __u32 queue,
		  const struct event_filter *f);
/* The filter options (-u -x -m -c -o -d), shared with run and trace. */
int events_filter_option(int key, const char *arg, struct event_filter *f,
			 struct argp_state *state);

#endif
