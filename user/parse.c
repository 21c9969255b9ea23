// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <arpa/inet.h>
#include <ctype.h>
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

bool parse_host_port(const char *s, char *host, size_t host_len, __u16 *port)
{
	char buf[INET6_ADDRSTRLEN + 16], *colon, *h;
	unsigned char addr[16];
	__u32 p;

	if (strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	colon = strrchr(buf, ':');
	if (!colon || !parse_u32(colon + 1, 1, 65535, &p))
		return false;
	*colon = '\0';
	h = buf;
	if (h[0] == '[') {
		if (colon == h + 1 || colon[-1] != ']')
			return false;
		colon[-1] = '\0';
		h++;
		if (inet_pton(AF_INET6, h, addr) != 1)
			return false;
	} else if (inet_pton(AF_INET, h, addr) != 1) {
		return false;
	}
	if (strlen(h) >= host_len)
		return false;
	strcpy(host, h);
	*port = p;
	return true;
}

bool parse_group_name(const char *s)
{
	size_t n = strlen(s), i;

	if (!n || n > 31 || s[0] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return false;
	return true;
}
