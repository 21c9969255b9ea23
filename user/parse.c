// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "parse.h"

bool parse_u32(const char *s, __u32 min, __u32 max, __u32 *out)
{
	unsigned long long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool parse_cidr(const char *s, struct policy_cidr *c)
{
	char addr[INET6_ADDRSTRLEN + 8], *slash;
	__u32 len, max, bit;
	__u8 v4[4];

	if (strlen(s) >= sizeof(addr))
		return false;
	strcpy(addr, s);
	slash = strchr(addr, '/');
	if (slash)
		*slash++ = '\0';
	memset(c, 0, sizeof(*c));
	if (inet_pton(AF_INET, addr, v4) == 1) {
		c->addr[10] = c->addr[11] = 0xff;
		memcpy(c->addr + 12, v4, 4);
		max = 32;
	} else if (inet_pton(AF_INET6, addr, c->addr) == 1) {
		max = 128;
	} else {
		return false;
	}
	len = max;
	if (slash && !parse_u32(slash, 0, max, &len))
		return false;
	c->prefixlen = len + (max == 32 ? 96 : 0);
	for (bit = c->prefixlen; bit < 128; bit++)
		c->addr[bit / 8] &= ~(0x80 >> (bit % 8));
	return true;
}
