// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Event formatting: addresses, names, times, escaping, whole lines. */
#include <arpa/inet.h>
#include <limits.h>
#include <stdbool.h>
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
		.netns = 4026531840U,
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

/* The hand-written IPv4 text is inet_ntop's, for every value of a byte. */
TEST(addr_ipv4_every_byte_as_inet_ntop)
{
	struct nfsg_event e = sample(2, "0.0.0.0");
	char buf[64], want[INET_ADDRSTRLEN];
	unsigned v;
	int i;

	for (v = 0; v < 256; v++)
		for (i = 0; i < 4; i++) {
			memset(e.daddr, 0, 4);
			e.daddr[i] = v;
			e.daddr[3 - i] |= 255 - v;
			format_addr(&e, buf, sizeof(buf));
			CHECK(inet_ntop(AF_INET, e.daddr, want, sizeof(want)));
			CHECK_STR(buf, want);
		}
	/* Too little room for the longest: "?", never a cut address. */
	format_addr(&e, buf, 8);
	CHECK_STR(buf, "?");
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
		  "\"cgroup\":\"/a\\\"b\",\"netns\":4026531840,"
		  "\"family\":\"inet6\",\"daddr\":\"::1\","
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

/* The backstop's and existing connections' records share the connect's
 * fields, in the same order, with their own around them. */
TEST(json_egress_and_existing_lines)
{
	struct nfsg_egress_event r = { .e = sample(2, "192.0.2.1"),
				       .cookie = 77, .sock_family = 2,
				       .sock_dport = 8049 };
	struct nfsg_existing_event x = { .e = sample(10, "2001:db8::1"),
					 .cookie = 78, .ino = 99,
					 .pids = { 1234, 1240 }, .n_pids = 2,
					 .sport = 40000, .state = 1,
					 .action = NFSG_EXISTING_REPORTED };
	struct format_names n = { 0, "/a", "kube" };
	char *out = NULL;

	r.e.kind = NFSG_EV_EGRESS;
	r.e.reason = NFSG_REASON_OWNER;
	inet_pton(AF_INET, "127.0.0.1", r.sock_daddr);
	CAPTURE(out, format_event(f_, FORMAT_JSON, &r.e, &n));
	CHECK_STR(out,
		  "{\"time\":\"1970-01-01T00:00:00.000000Z\",\"type\":\"egress\","
		  "\"verdict\":\"refused\",\"reason\":\"owner\",\"policy\":\"kube\","
		  "\"pid\":1234,\"tid\":1235,\"uid\":1000,\"gid\":100,"
		  "\"comm\":\"nfs-cat\",\"cgroup_id\":4242,\"cgroup\":\"/a\","
		  "\"netns\":4026531840,\"family\":\"inet\",\"daddr\":\"192.0.2.1\","
		  "\"dport\":2049,\"protocol\":\"tcp\",\"socket_daddr\":\"127.0.0.1\","
		  "\"socket_dport\":8049,\"cookie\":77}\n");
	free(out);

	x.e.kind = NFSG_EV_EXISTING;
	inet_pton(AF_INET6, "2001:db8::2", x.saddr);
	CAPTURE(out, format_event(f_, FORMAT_JSON, &x.e, &n));
	CHECK_STR(out,
		  "{\"time\":\"1970-01-01T00:00:00.000000Z\",\"type\":\"existing\","
		  "\"verdict\":\"violating\",\"decision\":\"refused\","
		  "\"action\":\"reported\",\"policy\":\"kube\",\"pid\":1234,"
		  "\"pids\":[1234,1240],\"holders\":2,\"uid\":1000,\"gid\":100,"
		  "\"comm\":\"nfs-cat\",\"cgroup_id\":4242,\"cgroup\":\"/a\","
		  "\"netns\":4026531840,\"family\":\"inet6\","
		  "\"saddr\":\"2001:db8::2\",\"sport\":40000,"
		  "\"daddr\":\"2001:db8::1\",\"dport\":2049,"
		  "\"state\":\"established\",\"protocol\":\"tcp\",\"ino\":99,"
		  "\"cookie\":78}\n");
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

	/* Control bytes and blanks in comm would break the columns. */
	memcpy(e.comm, "a b\tc", 6);
	e.reason = NFSG_REASON_OWNER;
	setenv("TZ", "UTC", 1);
	struct format_names n = { 1795700401ULL * 1000000000ULL, "/kube",
				  "default" };

	CAPTURE(out, format_event(f_, FORMAT_TEXT, &e, &n));
	CHECK_STR(out, "1234    a\\x20b\\x09c  1000   192.0.2.1       "
		       "2049  refused     owner  /kube\n");
	free(out);
	/* -T: the date and time in front; -w: the policy, the network
	 * namespace, and whole words. */
	e.reason = NFSG_REASON_DESTINATION;
	format_text_flags = FORMAT_TIMESTAMP;
	CAPTURE(out, format_event(f_, FORMAT_TEXT, &e, &n));
	CHECK_STR(out, "2026-11-26 13:40:01 1234    a\\x20b\\x09c  1000   "
		       "192.0.2.1       2049  refused     dest   /kube\n");
	free(out);
	format_text_flags = FORMAT_WIDE;
	CAPTURE(out, format_event(f_, FORMAT_TEXT, &e, &n));
	format_text_flags = 0;
	CHECK_STR(out, "1234    a\\x20b\\x09c  1000   192.0.2.1       "
		       "2049  refused     destination default  4026531840 /kube\n");
	free(out);
}

TEST(text_header_fits_80_columns)
{
	char *out = NULL;

	CAPTURE(out, format_header(f_, FORMAT_TEXT));
	CHECK_STR(out, "PID     COMM         UID    DADDR           DPORT "
		       "VERDICT     REASON CGROUP\n");
	CHECK(strlen(out) <= FORMAT_COLUMNS + 1);
	free(out);
	format_text_flags = FORMAT_WIDE | FORMAT_TIMESTAMP;
	CAPTURE(out, format_header(f_, FORMAT_TEXT));
	format_text_flags = 0;
	CHECK_PREFIX(out, "DATE       TIME     PID     COMM");
	CHECK(strstr(out, " REASON POLICY   NETNS      CGROUP\n"));
	free(out);
	CAPTURE(out, format_header(f_, FORMAT_JSON));
	CHECK_STR(out, "");
	free(out);
}

/* Each field starts where the header's does; the line is at most 80. */
static bool aligned(const char *row)
{
	static const char *const starts[] = { "PID", "COMM", "UID", "DADDR",
		"DPORT", "VERDICT", "REASON", "CGROUP" };
	char *hdr = NULL;
	const char *at;
	bool ok;
	size_t i;

	CAPTURE(hdr, format_header(f_, FORMAT_TEXT));
	ok = strlen(row) <= FORMAT_COLUMNS + 1 && row[strlen(row) - 1] == '\n' &&
	     !strstr(row, " \n");
	for (i = 0; ok && i < sizeof(starts) / sizeof(starts[0]); i++) {
		at = strstr(hdr, starts[i]);
		ok = at && row[at - hdr] != ' ' &&
		     (at == hdr || row[at - hdr - 1] == ' ');
	}
	free(hdr);
	return ok;
}

TEST(text_long_fields_shortened_in_the_middle)
{
	struct nfsg_event e = sample(10, "::ffff:127.0.0.1");
	char path[600], *out = NULL;

	/* A container's path, far past column 80, with a hostile byte. */
	snprintf(path, sizeof(path), "/kubepods.slice/kubepods-burstable.slice/"
		 "kubepods-burstable-pod0123456789abcdef.slice/"
		 "cri-containerd-%s\x1b.scope", "0123456789abcdef0123456789abcdef");
	memcpy(e.comm, "0123456789abcde", 16);
	struct format_names n = { 0, path, "kubernetes-pods" };

	e.kind = NFSG_EV_ESTABLISHED;
	CAPTURE(out, format_event(f_, FORMAT_TEXT, &e, &n));
	CHECK(aligned(out));
	CHECK(strstr(out, " 01234~9abcde "));
	CHECK(strstr(out, " ::ffff:~7.0.0.1 "));
	CHECK(strstr(out, " established "));
	/* The tail of the path, its escape whole: never "\x1" alone. */
	CHECK_STR(strrchr(out, ' '), " /kube~scope\n");
	free(out);
	e = sample(10, "2001:db8:1234:5678:9abc:def0:1234:5678");
	e.uid = 4294967294u;
	CAPTURE(out, format_event(f_, FORMAT_TEXT, &e, &n));
	CHECK(aligned(out));
	free(out);
	/* -w: every value whole. */
	format_text_flags = FORMAT_WIDE;
	CAPTURE(out, format_event(f_, FORMAT_TEXT, &e, &n));
	format_text_flags = 0;
	CHECK(strstr(out, " 2001:db8:1234:5678:9abc:def0:1234:5678 "));
	CHECK(strstr(out, " 4294967294 "));
	CHECK(strstr(out, " kubernetes-pods "));
	CHECK(strstr(out, "cri-containerd-0123456789abcdef0123456789abcdef\\x1b.scope\n"));
	free(out);
	/* A cgroup event: the policy that names it is its reason. */
	e.kind = NFSG_EV_CGROUP_ADDED;
	CAPTURE(out, format_event(f_, FORMAT_TEXT, &e, &n));
	CHECK(aligned(out));
	CHECK(strstr(out, " added       ku~ods "));
	free(out);	/* A cut that leaves the column short pads nothing at the end. */
	snprintf(path, sizeof(path), "/nfsg-cg-12/\x03\x03\x03");
	CAPTURE(out, format_event(f_, FORMAT_TEXT, &e, &n));
	CHECK(aligned(out));
	CHECK_STR(strrchr(out, ' '), " /nfsg~\\x03\n");
	free(out);
}

TEST(fit_never_cuts_an_escape)
{
	char buf[64];

	CHECK_STR(format_fit("abc", 3, 0, 5, buf, sizeof(buf)), "abc  ");
	CHECK_STR(format_fit("abcdefgh", 8, 0, 5, buf, sizeof(buf)), "ab~gh");
	/* "\x01" is 4 columns: it goes whole or not at all. */
	CHECK_STR(format_fit("a\x01" "bcdefg\x02", 9, 0, 7, buf, sizeof(buf)),
		  "a~g\\x02");
	CHECK_STR(format_fit("a\x01" "bcdefg\x02", 9, 0, 9, buf, sizeof(buf)),
		  "a~efg\\x02");
	CHECK_STR(format_fit("a b", 3, ESC_BLANK, 8, buf, sizeof(buf)),
		  "a\\x20b  ");
	CHECK_STR(format_fit("abcdef", 6, 0, 1, buf, sizeof(buf)), "~");
}

TEST(escape_every_unsafe_byte)
{
	const char evil[] = "ok \r\x1b[2J\\\"'\x7f\x80\xc3\xa9/";
	char buf[128];

	CHECK_STR(format_escape(evil, sizeof(evil), 0, buf, sizeof(buf)),
		  "ok \\x0d\\x1b[2J\\\\\"'\\x7f\\x80\\xc3\\xa9/");
	CHECK_STR(format_escape("a b", 3, ESC_BLANK, buf, sizeof(buf)),
		  "a\\x20b");
	CHECK_STR(format_escape("", 1, 0, buf, sizeof(buf)), "");
}

TEST(escape_stops_at_max_and_nul)
{
	/* A comm of 16 bytes with no terminator must not be overrun. */
	const char comm[NFSG_COMM_LEN] = "0123456789abcde\n";
	char buf[128];

	CHECK_STR(format_escape(comm, sizeof(comm), 0, buf, sizeof(buf)),
		  "0123456789abcde\\x0a");
	CHECK_STR(format_escape("ab\0cd", 5, 0, buf, sizeof(buf)), "ab");
}

TEST(escape_cut_never_splits_an_escape)
{
	char buf[12];

	/* 11 bytes of room: "ab" then "\x01" would leave no room for "...". */
	CHECK_STR(format_escape("ab\x01\x02\x03", 5, 0, buf, sizeof(buf)),
		  "ab\\x01...");
	/* What fits exactly is not cut. */
	CHECK_STR(format_escape("abcdefghijk", 11, 0, buf, sizeof(buf)),
		  "abcdefghijk");
	CHECK_STR(format_escape("abcdefghijkl", 12, 0, buf, sizeof(buf)),
		  "abcdefgh...");
	CHECK_STR(format_escape("\x01\x02\x03", 3, 0, buf, 4), "...");
	CHECK_STR(format_escape("\x01", 1, 0, buf, 3), "");
}

TEST(text_string_uncut)
{
	char in[5000], *out = NULL;
	size_t i;

	for (i = 0; i < sizeof(in) - 1; i++)
		in[i] = i % 2 ? '\x1b' : '\\';
	in[sizeof(in) - 1] = '\0';
	CAPTURE(out, format_text_string(f_, in, sizeof(in), ESC_BLANK));
	CHECK(strlen(out) == 2500 * 2 + 2499 * 4);
	for (i = 0; out[i]; i++)
		CHECK(out[i] >= 0x21 && out[i] < 0x7f);
	free(out);
}

/* No byte below 0x20 but the final newline, and no byte of 0x80 up. */
static bool one_clean_line(const char *s)
{
	size_t i, n = strlen(s);

	if (!n || s[n - 1] != '\n')
		return false;
	for (i = 0; i + 1 < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

TEST(text_event_hostile_names)
{
	struct nfsg_event e = sample(2, "192.0.2.1");
	char path[300], *out = NULL;

	memcpy(e.comm, "\rallowed\x1b[1A\\", 13);
	snprintf(path, sizeof(path), "/u/\r\x1b[2K%s\"q\\", "allowed ");
	struct format_names n = { 0, path, "default" };

	CAPTURE(out, format_event(f_, FORMAT_TEXT, &e, &n));
	CHECK(one_clean_line(out) && aligned(out));
	CHECK(strstr(out, " \\x0da~[1A\\\\ "));
	free(out);
	format_text_flags = FORMAT_WIDE;
	CAPTURE(out, format_event(f_, FORMAT_TEXT, &e, &n));
	format_text_flags = 0;
	CHECK(one_clean_line(out));
	CHECK(strstr(out, "\\x0dallowed\\x1b[1A\\\\ "));
	CHECK(strstr(out, " refused     -      default  4026531840 /u/\\x0d\\x1b[2Kallowed\\x20\"q\\\\\n"));
	free(out);
	e.kind = NFSG_EV_CGROUP_ADDED;
	e.suppressed = 3;
	CAPTURE(out, format_event(f_, FORMAT_TEXT, &e, &n));
	CHECK(!strchr(out, '\r') && !strchr(out, '\x1b'));
	free(out);
}

TEST(json_event_long_hostile_path_is_one_valid_line)
{
	struct nfsg_event e = sample(2, "192.0.2.1");
	char *path = malloc(PATH_MAX), *out = NULL, *cg;
	size_t i;

	CHECK(path);
	/* Control bytes all the way: six bytes of JSON for each. */
	path[0] = '/';
	for (i = 1; i < PATH_MAX - 1; i++)
		path[i] = i % 256 == 0 ? '/' : (char)(1 + i % 31);
	path[PATH_MAX - 1] = '\0';
	struct format_names n = { 0, path, "default" };

	e.suppressed = 2;
	CAPTURE(out, format_event(f_, FORMAT_JSON, &e, &n));
	/* Two lines, the suppressed record and the event, each whole. */
	cg = strchr(out, '\n');
	CHECK(cg && cg[1] == '{' && strchr(cg + 1, '\n'));
	CHECK(strchr(cg + 1, '\n')[1] == '\0');
	CHECK(strstr(cg + 1, "\"protocol\":\"tcp\"}\n"));
	for (i = 0; out[i]; i++)
		CHECK(out[i] == '\n' || ((unsigned char)out[i] >= 0x20 &&
					 (unsigned char)out[i] < 0x7f));
	CHECK(strstr(out, "\"cgroup\":\"/\\u0002\\u0003"));
	CHECK(strlen(out) > 2 * 6 * (PATH_MAX - 300));
	free(out);
	free(path);
}

TEST(json_high_bytes_are_code_points)
{
	char *out = NULL;
	const char s[] = "\xc3\xa9\x80";

	CAPTURE(out, format_json_string(f_, s, sizeof(s)));
	CHECK_STR(out, "\"\\u00c3\\u00a9\\u0080\"");
	free(out);
}
