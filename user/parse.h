/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The small parsers the configuration and the command line share. */
#ifndef NFSGUARD_PARSE_H
#define NFSGUARD_PARSE_H

#include <stdbool.h>
#include <linux/types.h>
#include "policy.h"

/* A decimal number within [min, max], and nothing else. */
bool parse_u32(const char *s, __u32 min, __u32 max, __u32 *out);
/*
 * "10.0.0.0/8", "fd00::/8" or a bare address (a /32 or /128) into c, with
 * IPv4 stored v4-mapped and the host bits cleared.
 */
bool parse_cidr(const char *s, struct policy_cidr *c);

#endif
