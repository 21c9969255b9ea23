// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The policy model: the embedded default, ranges, and descriptions. */
#include <errno.h>
#include <stdlib.h>
#include "policy.h"
#include "unit.h"

TEST(default_is_the_efs_rule)
{
	struct policy_set s;
	char buf[256];

	CHECK(policy_set_default(&s) == 0);
	CHECK(s.n == 1);
	policy_describe(&s.p[0], buf, sizeof(buf));
	policy_set_free(&s);
	CHECK_STR(buf, "enforce: tcp ports 2049, privileged uids 0 gids none, local ports 20049-21049 (loopback destinations)");
}

TEST(range_limits)
{
	struct nfsg_range r[NFSG_MAX_RANGES];
	__u8 n = 0;
	int i;

	CHECK(policy_add_range(r, &n, 5, 3) == -EINVAL);
	for (i = 0; i < NFSG_MAX_RANGES; i++)
		CHECK(policy_add_range(r, &n, i, i) == 0);
	CHECK(policy_add_range(r, &n, 99, 99) == -ENOSPC);
	CHECK(n == NFSG_MAX_RANGES);
}

TEST(inherits_from_base_but_not_cgroups)
{
	struct policy_set s;
	struct policy *p;
	struct policy_cidr c = { .prefixlen = 128 };

	CHECK(policy_set_default(&s) == 0);
	policy_add_dest(&s.p[0], &c);
	policy_add_cgroup(&s.p[0], "/x");
	/* Adding grows the array: base must survive the move. */
	p = policy_set_add(&s, &s.p[0], "kube");
	int ok = p && s.n == 2 && p->k.n_ports == 1 && p->n_dests == 1 &&
		 p->n_cgroups == 0 && policy_set_find(&s, "kube") == p &&
		 !policy_set_find(&s, "nope");
	policy_set_free(&s);
	CHECK(ok);
}

TEST(describe_lists_and_ranges)
{
	struct policy p = {};
	char buf[256];

	p.k.mode = NFSG_MODE_AUDIT;
	p.k.protocols = NFSG_GOVERN_TCP | NFSG_GOVERN_UDP;
	policy_add_range(p.k.ports, &p.k.n_ports, 2049, 2049);
	policy_add_range(p.k.ports, &p.k.n_ports, 20048, 20049);
	policy_add_range(p.k.gids, &p.k.n_gids, 50, 50);
	policy_describe(&p, buf, sizeof(buf));
	CHECK_STR(buf, "audit: tcp,udp ports 2049,20048-20049, privileged uids none gids 50");
}

TEST(describe_cuts_to_length)
{
	struct policy p = {};
	char tiny[12];

	policy_describe(&p, tiny, sizeof(tiny));
	CHECK_STR(tiny, "off:  ports");
}

TEST(cidr_text)
{
	struct policy_cidr v4 = { .addr = { [10] = 0xff, [11] = 0xff, 10 },
				  .prefixlen = 96 + 8 };
	struct policy_cidr v6 = { .addr = { 0xfd }, .prefixlen = 8 };
	char buf[64];

	policy_format_cidr(&v4, buf, sizeof(buf));
	CHECK_STR(buf, "10.0.0.0/8");
	policy_format_cidr(&v6, buf, sizeof(buf));
	CHECK_STR(buf, "fd00::/8");
}
