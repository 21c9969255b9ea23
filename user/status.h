/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The status document: what the agent says of itself over the control
 * socket, or what its pins say when it is gone ("agent_running": false).
 * One renderer for both, text or one JSON object.
 */
#ifndef NFSGUARD_STATUS_H
#define NFSGUARD_STATUS_H

#include <stdbool.h>
#include <stdio.h>

struct nfsg_agent;

void status_of_agent(FILE *out, bool json, struct nfsg_agent *a);

#endif
