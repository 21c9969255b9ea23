// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Test-only: linked into the 'variant-port' build (Makefile) with
 * -Wl,--wrap=policy_set_default, never into nfsguard itself. That build's
 * embedded default policy governs port 3049 as well as 2049, so that the
 * upgrade test can see the new build in force once it has taken over.
 */
#include "policy.h"

#define VARIANT_EXTRA_PORT 3049

int __real_policy_set_default(struct policy_set *s);

int __wrap_policy_set_default(struct policy_set *s)
{
	int err = __real_policy_set_default(s);

	if (!err)
		err = policy_add_range(s->p[0].k.ports, &s->p[0].k.n_ports,
				       VARIANT_EXTRA_PORT, VARIANT_EXTRA_PORT);
	return err;
}
