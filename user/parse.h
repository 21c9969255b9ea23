/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The small parsers the configuration and the command line share. */
#ifndef NFSGUARD_PARSE_H
#define NFSGUARD_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "policy.h"

/* A decimal number within [min, max], and nothing else. */
bool parse_u32(const char *s, __u32 min, __u32 max, __u32 *out);
/*
 * "10.0.0.0/8", "fd00::/8" or a bare address (a /32 or /128) into c, with
 * IPv4 stored v4-mapped and the host bits cleared.
 */
bool parse_cidr(const char *s, struct policy_cidr *c);
/*
 * A listening address: "127.0.0.1:9108" or "[::1]:9108", a numeric
 * address and a port from 1 to 65535. host gets the address without its
 * brackets (host_len: at least INET6_ADDRSTRLEN), port the port.
 */
bool parse_host_port(const char *s, char *host, size_t host_len, __u16 *port);
/* A group's name as useradd takes it: 1 to 31 letters, digits, '_', '.'
 * or '-', not starting with '-'. */
bool parse_group_name(const char *s);

#endif
