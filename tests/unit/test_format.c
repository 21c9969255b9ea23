// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Event formatting: addresses, names, times, escaping, whole lines. */
#include <arpa/inet.h>
#include <stdlib.h>
#include "format.h"
#include "unit.h"


static struct nfsg_event sample(int family, const char *addr)
{
	struct nfsg_event e = {
		.ts_boot_ns = 1,
		.cgroup_id = 4242,
		.pid = 1234,
		.tid = 1235,
		.uid = 1000,
		.gid = 100,
		.family = family,
		.dport = 2049,
		.protocol = NFSG_PROTO_TCP,
		.verdict = NFSG_VERDICT_REFUSE,
		.kind = NFSG_EV_CONNECT,
		.comm = "nfs-cat",
	};

	inet_pton(family == 2 ? AF_INET : AF_INET6, addr, e.daddr);
	return e;
}

TEST(addr_ipv4)
{
	struct nfsg_event e = sample(2, "192.0.2.1");
	char buf[64];

	format_addr(&e, buf, sizeof(buf));
	CHECK_STR(buf, "192.0.2.1");
}

TEST(addr_ipv6_and_mapped)
{
	struct nfsg_event e = sample(10, "2001:db8::1");
	char buf[64];

	format_addr(&e, buf, sizeof(buf));
	CHECK_STR(buf, "2001:db8::1");
	e = sample(10, "::ffff:127.0.0.1");
	format_addr(&e, buf, sizeof(buf));
	CHECK_STR(buf, "::ffff:127.0.0.1");
}

TEST(addr_unknown_family)
{
	struct nfsg_event e = sample(2, "192.0.2.1");
	char buf[64];

	e.family = 99;
	format_addr(&e, buf, sizeof(buf));
	CHECK_STR(buf, "?");
}

TEST(protocol_names)
{
	char buf[8];

	CHECK_STR(format_protocol(6, buf, sizeof(buf)), "tcp");
	CHECK_STR(format_protocol(17, buf, sizeof(buf)), "udp");
	CHECK_STR(format_protocol(262, buf, sizeof(buf)), "mptcp");
	CHECK_STR(format_protocol(132, buf, sizeof(buf)), "132");
}

TEST(rfc3339_utc_microseconds)
{
	char buf[48];

	/* 2026-11-26T13:40:01Z is 1795700401 s after the epoch. */
	format_rfc3339(1795700401ULL * 1000000000ULL + 123456789ULL, buf,
		       sizeof(buf));
	CHECK_STR(buf, "2026-11-26T13:40:01.123456Z");
	format_rfc3339(0, buf, sizeof(buf));
	CHECK_STR(buf, "1970-01-01T00:00:00.000000Z");
}

TEST(json_string_escapes_everything_unsafe)
{
	char *out = NULL;
	const char evil[] = "a\"b\\c\n\x01\x7f\xff";

	CAPTURE(out, format_json_string(f_, evil, sizeof(evil)));
	CHECK_STR(out, "\"a\\\"b\\\\c\\u000a\\u0001\\u007f\\u00ff\"");
	free(out);
}

TEST(json_string_stops_at_max)
{
	char *out = NULL;
	/* A comm of 16 bytes with no terminator must not be overrun. */
	const char comm[NFSG_COMM_LEN] = "0123456789abcdef";

	CAPTURE(out, format_json_string(f_, comm, sizeof(comm)));
	CHECK_STR(out, "\"0123456789abcdef\"");
	free(out);
}

TEST(json_event_line)
{
	struct nfsg_event e = sample(10, "::1");
	char *out = NULL;

	struct format_names n = { 1795700401ULL * 1000000000ULL, "/a\"b", "kube" };

	CAPTURE(out, format_event(f_, FORMAT_JSON, &e, &n));
	CHECK_STR(out,
		  "{\"time\":\"2026-11-26T13:40:01.000000Z\",\"type\":\"connect\","
		  "\"verdict\":\"refused\",\"policy\":\"kube\",\"pid\":1234,"
		  "\"tid\":1235,\"uid\":1000,"
		  "\"gid\":100,\"comm\":\"nfs-cat\",\"cgroup_id\":4242,"
		  "\"cgroup\":\"/a\\\"b\",\"family\":\"inet6\",\"daddr\":\"::1\","
		  "\"dport\":2049,\"protocol\":\"tcp\"}\n");
	free(out);
}

TEST(json_audit_event)
{
	struct nfsg_event e = sample(2, "192.0.2.1");
	struct format_names n = { 0, "/ci", "ci" };
	char *out = NULL;

	e.verdict = NFSG_VERDICT_AUDIT;
	CAPTURE(out, format_event(f_, FORMAT_JSON, &e, &n));
	CHECK(strstr(out, "\"verdict\":\"audited\",\"policy\":\"ci\""));
	free(out);
}

TEST(json_cgroup_event)
{
	struct nfsg_event e = sample(2, "192.0.2.1");
	struct format_names n = { 0, "/kubepods.slice", "kube" };
	char *out = NULL;

	e.kind = NFSG_EV_CGROUP_ADDED;
	memcpy(e.comm, "mkdir", 6);
	CAPTURE(out, format_event(f_, FORMAT_JSON, &e, &n));
	CHECK_STR(out,
		  "{\"time\":\"1970-01-01T00:00:00.000000Z\",\"type\":\"cgroup\","
		  "\"action\":\"added\",\"policy\":\"kube\",\"cgroup_id\":4242,"
		  "\"cgroup\":\"/kubepods.slice\",\"pid\":1234,\"comm\":\"mkdir\"}\n");
	free(out);
	e.kind = NFSG_EV_CGROUP_REMOVED;
	CAPTURE(out, format_event(f_, FORMAT_JSON, &e, &n));
	CHECK(strstr(out, "\"action\":\"removed\""));
	free(out);
}

TEST(text_event_line)
{
	struct nfsg_event e = sample(2, "192.0.2.1");
	char *out = NULL;

	/* Control bytes and spaces in comm would break the columns. */
	memcpy(e.comm, "a b\tc", 6);
	setenv("TZ", "UTC", 1);
	struct format_names n = { 1795700401ULL * 1000000000ULL, "/kube",
				  "default" };

	CAPTURE(out, format_event(f_, FORMAT_TEXT, &e, &n));
	CHECK_STR(out, "13:40:01 1234    a_b?c           1000   192.0.2.1       "
		       "2049  refused default  /kube\n");
	free(out);
}

TEST(text_header_fits_80_columns)
{
	char *out = NULL;

	CAPTURE(out, format_header(f_, FORMAT_TEXT));
	/* Every column but the last, the cgroup path, fits in 80. */
	CHECK(strrchr(out, ' ') - out < 80);
	CHECK(!strncmp(out, "TIME     PID     COMM", 20));
	free(out);
	CAPTURE(out, format_header(f_, FORMAT_JSON));
	CHECK_STR(out, "");
	free(out);
}
