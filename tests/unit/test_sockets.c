// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Existing connections, user side: the sock_diag path's judge of a socket
 * record against a policy set (a table of cases, each naming its
 * verdict), and the two text rows of 'nfsguard sockets'.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "format.h"
#include "sockjudge.h"
#include "unit.h"

static const char judge_conf[] =
	"[default]\n"
	"protocols = tcp\n"
	"privileged_uids = 0\n"
	"privileged_gids = 50\n"
	"[policy batch]\n"
	"cgroups = /batch\n"
	"mode = audit\n"
	"[policy udp]\n"
	"cgroups = /udp\n"
	"protocols = tcp, udp\n"
	"[policy strict]\n"
	"cgroups = /strict\n"
	"allow_destinations = 10.0.0.0/8\n"
	"[policy open]\n"
	"cgroups = /open\n"
	"mode = off\n";

struct judge_case {
	const char *what;
	const char *cgroup;
	const char *root;	/* the attach point, "" for the root */
	const char *daddr;
	__u16 dport;
	__u16 protocol;
	__u32 uid;
	bool held;
	__u32 holder_gid;
	__u8 verdict;		/* 0: not governed */
	__u8 reason;
	const char *policy;	/* the deciding policy, when governed */
};

#define U1000 1000
static const struct judge_case judge_cases[] = {
	{ "uid 1000 to 2049", "/a", "", "10.1.2.3", 2049, NFSG_PROTO_TCP,
	  U1000, true, 1000, NFSG_VERDICT_REFUSE, NFSG_REASON_OWNER, "default" },
	{ "root to 2049", "/a", "", "10.1.2.3", 2049, NFSG_PROTO_TCP,
	  0, true, 0, NFSG_VERDICT_ALLOW, NFSG_REASON_NONE, "default" },
	{ "uid 0, held by nobody: a kernel socket", "/a", "", "10.1.2.3", 2049,
	  NFSG_PROTO_TCP, 0, false, 0, 0, NFSG_REASON_NONE, NULL },
	{ "a privileged gid of the holder", "/a", "", "10.1.2.3", 2049,
	  NFSG_PROTO_TCP, U1000, true, 50, NFSG_VERDICT_ALLOW,
	  NFSG_REASON_NONE, "default" },
	{ "gid 50, held by nobody: gid unknown", "/a", "", "10.1.2.3", 2049,
	  NFSG_PROTO_TCP, U1000, false, 50, NFSG_VERDICT_REFUSE,
	  NFSG_REASON_OWNER, "default" },
	{ "an ungoverned port", "/a", "", "10.1.2.3", 22, NFSG_PROTO_TCP,
	  U1000, true, 1000, 0, NFSG_REASON_NONE, NULL },
	{ "UDP where only TCP is governed", "/a", "", "10.1.2.3", 2049,
	  NFSG_PROTO_UDP, U1000, true, 1000, 0, NFSG_REASON_NONE, NULL },
	{ "UDP where UDP is governed", "/udp/x", "", "10.1.2.3", 2049,
	  NFSG_PROTO_UDP, U1000, true, 1000, NFSG_VERDICT_REFUSE,
	  NFSG_REASON_OWNER, "udp" },
	{ "audit mode: audited", "/batch/job", "", "10.1.2.3", 2049,
	  NFSG_PROTO_TCP, U1000, true, 1000, NFSG_VERDICT_AUDIT,
	  NFSG_REASON_OWNER, "batch" },
	{ "a name prefix is no ancestor", "/batchx", "", "10.1.2.3", 2049,
	  NFSG_PROTO_TCP, U1000, true, 1000, NFSG_VERDICT_REFUSE,
	  NFSG_REASON_OWNER, "default" },
	{ "mode off", "/open", "", "10.1.2.3", 2049, NFSG_PROTO_TCP, U1000,
	  true, 1000, 0, NFSG_REASON_NONE, NULL },
	{ "root outside the allow-list", "/strict", "", "192.0.2.1", 2049,
	  NFSG_PROTO_TCP, 0, true, 0, NFSG_VERDICT_REFUSE,
	  NFSG_REASON_DESTINATION, "strict" },
	{ "root inside the allow-list, IPv6 mapped", "/strict", "",
	  "::ffff:10.9.9.9", 2049, NFSG_PROTO_TCP, 0, true, 0,
	  NFSG_VERDICT_ALLOW, NFSG_REASON_NONE, "strict" },
	{ "a local port to loopback", "/a", "", "127.0.0.1", 20049,
	  NFSG_PROTO_TCP, U1000, true, 1000, NFSG_VERDICT_REFUSE,
	  NFSG_REASON_OWNER, "default" },
	{ "a local port to ::1", "/a", "", "::1", 20049, NFSG_PROTO_TCP,
	  U1000, true, 1000, NFSG_VERDICT_REFUSE, NFSG_REASON_OWNER, "default" },
	{ "a local port elsewhere", "/a", "", "10.1.2.3", 20049,
	  NFSG_PROTO_TCP, U1000, true, 1000, 0, NFSG_REASON_NONE, NULL },
	{ "inside the attach point", "/svc/a", "/svc", "10.1.2.3", 2049,
	  NFSG_PROTO_TCP, U1000, true, 1000, NFSG_VERDICT_REFUSE,
	  NFSG_REASON_OWNER, "default" },
	{ "outside the attach point", "/svcx/a", "/svc", "10.1.2.3", 2049,
	  NFSG_PROTO_TCP, U1000, true, 1000, 0, NFSG_REASON_NONE, NULL },
	{ "an unresolvable cgroup, attach point not the root", "?", "/svc",
	  "10.1.2.3", 2049, NFSG_PROTO_TCP, U1000, true, 1000, 0,
	  NFSG_REASON_NONE, NULL },
};

static void record_of(const struct judge_case *c, struct nfsg_sock_record *r)
{
	struct in6_addr a6;

	memset(r, 0, sizeof(*r));
	if (inet_pton(AF_INET, c->daddr, r->daddr) == 1) {
		r->family = AF_INET;
	} else {
		inet_pton(AF_INET6, c->daddr, &a6);
		memcpy(r->daddr, &a6, 16);
		r->family = AF_INET6;
	}
	r->dport = c->dport;
	r->protocol = c->protocol;
	r->uid = c->uid;
	r->gid = NFSG_ID_UNKNOWN;
}

TEST(sockjudge_table)
{
	struct policy_set set = {};
	struct config_errors errs = {};
	struct nfsg_sock_record r;
	struct sockjudge_facts f;
	FILE *in = fmemopen((void *)judge_conf, sizeof(judge_conf) - 1, "r");
	size_t i;
	int err;

	CHECK(in);
	err = config_read_stream(in, "judge.conf", &set, NULL, &errs);
	fclose(in);
	config_errors_free(&errs);
	CHECK(err == 0);
	/* The EFS relays' range, as the agent adds it to every policy. */
	for (i = 0; i < set.n; i++)
		policy_add_range_cap(set.p[i].k.lports, &set.p[i].k.n_lports,
				     NFSG_MAX_LOCAL_RANGES, 20049, 21049);
	for (i = 0; i < sizeof(judge_cases) / sizeof(judge_cases[0]); i++) {
		const struct judge_case *c = &judge_cases[i];

		record_of(c, &r);
		f = (struct sockjudge_facts){ .cgroup = c->cgroup, .root = c->root,
					      .held = c->held,
					      .holder_gid = c->holder_gid };
		sockjudge(&set, &f, &r);
		if (r.verdict != c->verdict || r.reason != c->reason ||
		    (c->policy && strcmp(set.p[r.policy].k.name, c->policy))) {
			snprintf(why, why_len, "%s: verdict %u reason %u policy %s",
				 c->what, r.verdict, r.reason,
				 r.policy < set.n ? set.p[r.policy].k.name : "?");
			policy_set_free(&set);
			return;
		}
	}
	CHECK(sockjudge_udp(&set));
	CHECK(sockjudge_port(&set, NFSG_GOVERN_TCP, 2049));
	CHECK(sockjudge_port(&set, NFSG_GOVERN_TCP, 20049));
	CHECK(!sockjudge_port(&set, NFSG_GOVERN_TCP, 22));
	CHECK(sockjudge_port(&set, NFSG_GOVERN_UDP, 2049));
	policy_set_free(&set);
}

TEST(sockjudge_no_udp_policy)
{
	struct policy_set set = {};

	CHECK(policy_set_default(&set) == 0);
	CHECK(!sockjudge_udp(&set));
	CHECK(!sockjudge_port(&set, NFSG_GOVERN_UDP, 2049));
	policy_set_free(&set);
}

static struct nfsg_existing_event existing_sample(void)
{
	struct nfsg_existing_event x = {
		.e = {
			.uid = 1000, .pid = 4321, .family = AF_INET,
			.dport = 2049, .protocol = NFSG_PROTO_TCP,
			.verdict = NFSG_VERDICT_REFUSE, .kind = NFSG_EV_EXISTING,
			.comm = "nfs-cat",
			.netns = 4026531840U,
		},
		.pids = { 4321 },
		.n_pids = 1,
		.sport = 41234,
		.state = 1,
		.action = NFSG_EXISTING_REPORTED,
	};

	inet_pton(AF_INET, "10.1.2.3", x.e.daddr);
	inet_pton(AF_INET, "10.9.8.7", x.saddr);
	return x;
}

/* Every line of text at most FORMAT_COLUMNS wide, and how many there are. */
static int lines_fit(const char *text, size_t *n)
{
	const char *l = text, *nl;

	*n = 0;
	for (; *l; l = nl + 1) {
		nl = strchr(l, '\n');
		if (!nl)
			return 0;
		if (nl - l > FORMAT_COLUMNS)
			return 0;
		(*n)++;
	}
	return 1;
}

TEST(socket_rows)
{
	struct nfsg_existing_event x = existing_sample();
	struct format_names n = { .cgroup = "/user.slice/u", .policy = "default" };
	char *out = NULL, *row2;
	size_t lines;

	CAPTURE(out, format_socket_text(f_, &x.e, &n));
	CHECK(lines_fit(out, &lines) && lines == 2);
	CHECK(!strncmp(out, "1000   4321    nfs-cat      established 10.1.2.3:2049",
		       strlen("1000   4321    nfs-cat      established 10.1.2.3:2049")));
	CHECK(strstr(out, " violating\n"));
	row2 = strchr(out, '\n') + 1;
	CHECK_STR(row2, "    default      reported 4026531840 10.9.8.7:41234 /user.slice/u\n");
	free(out);
}

TEST(socket_rows_shorten_long_fields_in_the_middle)
{
	struct nfsg_existing_event x = existing_sample();
	char cg[600], *out = NULL, *row2, *mark;
	struct format_names n = { .cgroup = cg, .policy = "a-policy-name-too-long" };
	size_t lines, i;

	for (i = 0; i < sizeof(cg) - 1; i++)
		cg[i] = i % 10 ? 'a' + i % 26 : '/';
	cg[sizeof(cg) - 1] = '\0';
	memcpy(cg + sizeof(cg) - 5, "tail", 5);
	x.e.family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8:1111:2222:3333:4444:5555:6666", x.e.daddr);
	inet_pton(AF_INET6, "2001:db8::1", x.saddr);
	x.n_pids = 7;
	CAPTURE(out, format_socket_text(f_, &x.e, &n));
	CHECK(lines_fit(out, &lines) && lines == 2);
	CHECK(strstr(out, "4321+ "));		/* more holders than one */
	row2 = strchr(out, '\n') + 1;
	/* The cgroup keeps its head and tail around the mark. */
	mark = strrchr(row2, FORMAT_MARK);
	CHECK(mark && strstr(mark, "tail\n"));
	CHECK(strstr(row2, " /a") || strstr(row2, " /b"));
	free(out);
}

TEST(socket_rows_escape_hostile_bytes)
{
	struct nfsg_existing_event x = existing_sample();
	struct format_names n = { .cgroup = "/evil\n\x1b[2Jcg", .policy = "p" };
	char *out = NULL;
	size_t lines;

	memcpy(x.e.comm, "a\nb\x1b\xff c", 8);
	CAPTURE(out, format_socket_text(f_, &x.e, &n));
	CHECK(lines_fit(out, &lines) && lines == 2);
	CHECK(!strchr(out, '\x1b'));
	CHECK(!strchr(out, '\xff'));
	free(out);
}
