// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Tracing: option parsing, summaries, and the records' formats. */
#include <arpa/inet.h>
#include <stdlib.h>
#include "format.h"
#include "parse.h"
#include "trace.h"
#include "unit.h"


TEST(cidrs)
{
	struct policy_cidr c;
	static const __u8 v4[16] = { [10] = 0xff, [11] = 0xff, 10 };
	static const __u8 v6[16] = { 0xfd };

	CHECK(parse_cidr("10.1.2.3/8", &c));
	CHECK(c.prefixlen == 104 && !memcmp(c.addr, v4, 16));
	CHECK(parse_cidr("fd00::1/8", &c));
	CHECK(c.prefixlen == 8 && !memcmp(c.addr, v6, 16));
	CHECK(parse_cidr("::1", &c) && c.prefixlen == 128);
	CHECK(parse_cidr("192.0.2.1", &c) && c.prefixlen == 128);
	CHECK(parse_cidr("0.0.0.0/0", &c) && c.prefixlen == 96);
	CHECK(!parse_cidr("10.0.0.0/33", &c));
	CHECK(!parse_cidr("fd00::/129", &c));
	CHECK(!parse_cidr("nfs.example", &c));
	CHECK(!parse_cidr("10.0.0.0/x", &c));
	CHECK(!parse_cidr("10.0.0.0/", &c));
}

TEST(numbers)
{
	__u32 v;

	CHECK(parse_u32("2049", 1, 65535, &v) && v == 2049);
	CHECK(!parse_u32("0", 1, 65535, &v));
	CHECK(!parse_u32("65536", 1, 65535, &v));
	CHECK(!parse_u32("-1", 0, 10, &v));
	CHECK(!parse_u32("12a", 0, 100, &v));
	CHECK(!parse_u32("", 0, 100, &v));
	CHECK(!parse_u32("99999999999999999999", 0, 0xffffffff, &v));
}

static struct nfsg_event at(const char *addr, __u16 port, __u8 kind,
			    __u8 verdict)
{
	struct nfsg_event e = { .family = 2, .dport = port, .kind = kind,
				.verdict = verdict, .netns = 4026531840U };

	inet_pton(AF_INET, addr, e.daddr);
	return e;
}

TEST(summary_counts_and_percentiles)
{
	struct trace_summary s = {};
	struct nfsg_event est = at("192.0.2.1", 2049, NFSG_EV_ESTABLISHED,
				   NFSG_VERDICT_ALLOW);
	struct nfsg_event ref = at("192.0.2.1", 2049, NFSG_EV_CONNECT,
				   NFSG_VERDICT_REFUSE);
	struct nfsg_event rst = at("192.0.2.2", 2049, NFSG_EV_RESET,
				   NFSG_VERDICT_ALLOW);
	struct nfsg_event cls = at("192.0.2.1", 2049, NFSG_EV_CLOSED,
				   NFSG_VERDICT_ALLOW);
	char *out = NULL;
	int i;

	for (i = 1; i <= 100; i++)
		trace_summary_add(&s, &est, i * 1000ULL);	/* 1..100 us */
	trace_summary_add(&s, &ref, 0);
	trace_summary_add(&s, &rst, 0);
	trace_summary_add(&s, &cls, 0);		/* a close is no attempt */
	CAPTURE(out, trace_summary_flush(&s, f_, true, 0));
	CHECK(strstr(out, "\"daddr\":\"192.0.2.1\",\"dport\":2049,\"attempts\":101,"
			  "\"refused\":1,\"established\":100,\"failed\":0,"
			  "\"p50_us\":50.0,\"p99_us\":99.0}"));
	CHECK(strstr(out, "\"daddr\":\"192.0.2.2\",\"dport\":2049,\"attempts\":1,"
			  "\"refused\":0,\"established\":0,\"failed\":1,"
			  "\"p50_us\":0.0,\"p99_us\":0.0}"));
	free(out);
	CHECK(s.n == 0);	/* flushed: the next interval starts empty */
	trace_summary_free(&s);
}

static struct nfsg_trace_event record(__u8 kind)
{
	struct nfsg_trace_event t = {
		.e = at("192.0.2.1", 2049, kind, NFSG_VERDICT_ALLOW),
		.cookie = 77,
	};

	t.e.pid = 5;
	t.e.uid = 0;
	memcpy(t.e.comm, "nfs-cat", 8);
	return t;
}

TEST(trace_records_json)
{
	struct format_names n = { 0, "/u", "default" };
	struct nfsg_trace_event t = record(NFSG_EV_ESTABLISHED);
	char *out = NULL;

	t.duration_ns = 72000;
	CAPTURE(out, format_event(f_, FORMAT_JSON, &t.e, &n));
	CHECK(strstr(out, "\"type\":\"connect\",\"verdict\":\"allowed\","
			  "\"outcome\":\"established\",\"latency_us\":72,"
			  "\"cookie\":77,\"policy\":\"default\""));
	free(out);

	t = record(NFSG_EV_CLOSED);
	t.duration_ns = 1276000;
	t.bytes_sent = 1103;
	t.bytes_received = 1244;
	CAPTURE(out, format_event(f_, FORMAT_JSON, &t.e, &n));
	CHECK(strstr(out, "\"type\":\"close\",\"verdict\":\"allowed\","
			  "\"lifetime_us\":1276,\"bytes_sent\":1103,"
			  "\"bytes_received\":1244,\"cookie\":77,"));
	CHECK(!strstr(out, "outcome"));
	free(out);

	t = record(NFSG_EV_TIMEOUT);
	t.error = 110;
	t.duration_ns = 3000000000ULL;
	CAPTURE(out, format_event(f_, FORMAT_JSON, &t.e, &n));
	CHECK(strstr(out, "\"outcome\":\"timeout\",\"error\":\"ETIMEDOUT\","
			  "\"errno\":110,\"elapsed_us\":3000000,"));
	free(out);

	/* An errno not learnt is null, never 0 (no error). */
	t = record(NFSG_EV_FAILED);
	t.error = NFSG_ERROR_UNKNOWN;
	CAPTURE(out, format_event(f_, FORMAT_JSON, &t.e, &n));
	CHECK(strstr(out, "\"outcome\":\"failed\",\"error\":\"unknown\","
			  "\"errno\":null,\"elapsed_us\":0,"));
	free(out);
}

TEST(trace_records_text)
{
	struct format_names n = { 0, "/u", "default" };
	struct nfsg_trace_event t = record(NFSG_EV_FAILED);
	char *out = NULL;

	t.error = 101;
	setenv("TZ", "UTC", 1);
	/* The errno in the REASON column; its name and the policy with -w. */
	CAPTURE(out, format_event(f_, FORMAT_TEXT, &t.e, &n));
	CHECK_STR(out, "5       nfs-cat      0      192.0.2.1       "
		       "2049  failed      101    /u\n");
	free(out);
	format_text_flags = FORMAT_WIDE | FORMAT_TIMESTAMP;
	CAPTURE(out, format_event(f_, FORMAT_TEXT, &t.e, &n));
	format_text_flags = 0;
	CHECK_STR(out, "1970-01-01 00:00:00 5       nfs-cat      0      192.0.2.1       "
		       "2049  failed      ENETUNREACH default  4026531840 /u error=ENETUNREACH\n");
	free(out);
	/* Not learnt: "?", in the column and after it. */
	t.error = NFSG_ERROR_UNKNOWN;
	CAPTURE(out, format_event(f_, FORMAT_TEXT, &t.e, &n));
	CHECK_STR(out, "5       nfs-cat      0      192.0.2.1       "
		       "2049  failed      ?      /u\n");
	free(out);
	format_text_flags = FORMAT_WIDE;
	CAPTURE(out, format_event(f_, FORMAT_TEXT, &t.e, &n));
	format_text_flags = 0;
	CHECK(strstr(out, " failed      ? ") && strstr(out, " /u error=?\n"));
	free(out);
	/* "established" fits its column; the latency is the reason's. */
	t = record(NFSG_EV_ESTABLISHED);
	t.duration_ns = 1234567;
	CAPTURE(out, format_event(f_, FORMAT_TEXT, &t.e, &n));
	CHECK_STR(out, "5       nfs-cat      0      192.0.2.1       "
		       "2049  established 1.2ms  /u\n");
	free(out);
}

TEST(summary_text_has_time_and_idle_line)
{
	struct trace_summary s = {};
	struct nfsg_event est = at("192.0.2.1", 2049, NFSG_EV_ESTABLISHED,
				   NFSG_VERDICT_ALLOW);
	char *out = NULL;

	setenv("TZ", "UTC", 1);
	CAPTURE(out, trace_summary_flush(&s, f_, false, 0));
	CHECK_STR(out, "1970-01-01 00:00:00 no attempts\n");
	free(out);
	CAPTURE(out, trace_summary_flush(&s, f_, true, 0));
	CHECK_STR(out, "");
	free(out);
	trace_summary_add(&s, &est, 2000);
	CAPTURE(out, trace_summary_flush(&s, f_, false, 0));
	CHECK_STR(out, "1970-01-01 00:00:00\n"
		       "ATTEMPTS REFUSED ESTAB FAILED P50(us) P99(us) NETNS      DPORT DADDR\n"
		       "       1       0     1      0     2.0     2.0 4026531840 2049  192.0.2.1\n");
	free(out);
	/* The longest IPv4 address whole, and latencies of seconds in their
	 * columns. */
	est = at("255.255.255.255", 2049, NFSG_EV_ESTABLISHED, NFSG_VERDICT_ALLOW);
	trace_summary_add(&s, &est, 1234567900ULL);
	CAPTURE(out, trace_summary_flush(&s, f_, false, 0));
	CHECK(strstr(out, "\n       1       0     1      0 1234568 1234568 4026531840 2049  255.255.255.255\n"));
	free(out);
	trace_summary_add(&s, &est, 12345679000ULL);
	CAPTURE(out, trace_summary_flush(&s, f_, false, 0));
	CHECK(strstr(out, "\n       1       0     1      0     12s     12s 4026531840 2049  255.255.255.255\n"));
	free(out);
	/* A long IPv6 destination is shortened to column 80. */
	est.family = 10;
	inet_pton(AF_INET6, "2001:db8:1234:5678:9abc:def0:1234:5678", est.daddr);
	trace_summary_add(&s, &est, 2000);
	CAPTURE(out, trace_summary_flush(&s, f_, false, 0));
	CHECK(strstr(out, " 2049  2001:db8~234:5678\n"));
	/* The last row ends at column 80 exactly. */
	CHECK(strlen(strstr(out, "\n       1") + 1) == FORMAT_COLUMNS + 1);
	free(out);
	trace_summary_free(&s);
}

TEST(summary_rows_per_network_namespace)
{
	struct trace_summary s = {};
	struct nfsg_event a = at("10.0.0.1", 2049, NFSG_EV_ESTABLISHED,
				 NFSG_VERDICT_ALLOW);
	struct nfsg_event b = a;
	char *out = NULL, *row;

	b.netns = 4026532999U;
	trace_summary_add(&s, &a, 1000);
	trace_summary_add(&s, &b, 1000);
	trace_summary_add(&s, &b, 1000);
	CAPTURE(out, trace_summary_flush(&s, f_, true, 0));
	CHECK(strstr(out, "\"type\":\"summary\",\"netns\":4026531840,"
			  "\"daddr\":\"10.0.0.1\",\"dport\":2049,\"attempts\":1,"));
	CHECK(strstr(out, "\"type\":\"summary\",\"netns\":4026532999,"
			  "\"daddr\":\"10.0.0.1\",\"dport\":2049,\"attempts\":2,"));
	free(out);
	trace_summary_add(&s, &a, 1000);
	trace_summary_add(&s, &b, 1000);
	CAPTURE(out, trace_summary_flush(&s, f_, false, 0));
	CHECK(strstr(out, " 4026531840 2049  10.0.0.1\n"));
	CHECK(strstr(out, " 4026532999 2049  10.0.0.1\n"));
	for (row = out; (row = strchr(row, '\n')) && row[1]; row++)
		CHECK(strcspn(row + 1, "\n") <= FORMAT_COLUMNS);
	free(out);
	trace_summary_free(&s);
}

TEST(suppressed_and_dropped)
{
	struct format_names n = { 0, "/loop", "default" };
	struct nfsg_event e = at("192.0.2.1", 2049, NFSG_EV_CONNECT,
				 NFSG_VERDICT_REFUSE);
	char *out = NULL;

	e.uid = 1000;
	e.cgroup_id = 9;
	e.suppressed = 4242;
	CAPTURE(out, format_event(f_, FORMAT_JSON, &e, &n));
	CHECK_PREFIX(out, "{\"time\":\"1970-01-01T00:00:00.000000Z\","
			  "\"type\":\"suppressed\",\"count\":4242,\"uid\":1000,"
			  "\"cgroup_id\":9,\"cgroup\":\"/loop\"}\n{");
	free(out);
	setenv("TZ", "UTC", 1);
	CAPTURE(out, format_event(f_, FORMAT_TEXT, &e, &n));
	CHECK_PREFIX(out, "4242 similar attempts suppressed (uid 1000, cgroup /loop)\n");
	free(out);
	CAPTURE(out, format_dropped(f_, FORMAT_JSON, 17, 0));
	CHECK_STR(out, "{\"time\":\"1970-01-01T00:00:00.000000Z\",\"type\":\"dropped\",\"count\":17}\n");
	free(out);
}
