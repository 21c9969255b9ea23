// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The policy model: the embedded default and its description. */
#include <errno.h>
#include <stdlib.h>
#include "policy.h"
#include "unit.h"

TEST(default_is_the_efs_rule)
{
	struct policy *p = malloc(sizeof(*p));
	unsigned int port, n = 0;

	CHECK(p);
	policy_default(p);
	for (port = 0; port < 65536; port++)
		n += policy_has_port(p, port);
	if (n != 1 || !policy_has_port(p, 2049) || p->n_priv_uids != 1 ||
	    p->priv_uids[0] != 0) {
		free(p);
		CHECK(!"default policy is tcp/2049, uid 0");
	}
	free(p);
}

TEST(ports_at_the_bitmap_edges)
{
	struct policy *p = calloc(1, sizeof(*p));

	CHECK(p);
	policy_add_port(p, 0);
	policy_add_port(p, 63);
	policy_add_port(p, 64);
	policy_add_port(p, 65535);
	int ok = policy_has_port(p, 0) && policy_has_port(p, 63) &&
		 policy_has_port(p, 64) && policy_has_port(p, 65535) &&
		 !policy_has_port(p, 1) && !policy_has_port(p, 65534);
	free(p);
	CHECK(ok);
}

TEST(priv_uids_dedup_and_capacity)
{
	struct policy *p = calloc(1, sizeof(*p));
	__u32 i;
	int err = 0;

	CHECK(p);
	policy_add_priv_uid(p, 7);
	policy_add_priv_uid(p, 7);
	int dedup = p->n_priv_uids == 1;
	for (i = 0; i < NFSG_MAX_PRIV_UIDS + 1 && !err; i++)
		err = policy_add_priv_uid(p, 1000 + i);
	int full = err == -ENOSPC && p->n_priv_uids == NFSG_MAX_PRIV_UIDS;
	free(p);
	CHECK(dedup);
	CHECK(full);
}

TEST(describe)
{
	struct policy *p = calloc(1, sizeof(*p));
	char buf[128], tiny[12];

	CHECK(p);
	policy_default(p);
	policy_add_port(p, 20049);
	policy_add_priv_uid(p, 34);
	policy_describe(p, buf, sizeof(buf));
	policy_describe(p, tiny, sizeof(tiny));
	free(p);
	CHECK_STR(buf, "tcp ports 2049,20049; privileged uids 0,34");
	CHECK_STR(tiny, "tcp ports 2");
}

TEST(describe_empty)
{
	struct policy *p = calloc(1, sizeof(*p));
	char buf[128];

	CHECK(p);
	policy_describe(p, buf, sizeof(buf));
	free(p);
	CHECK_STR(buf, "tcp ports none; privileged uids none");
}
