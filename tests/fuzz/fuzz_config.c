// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * libFuzzer target: any bytes as a configuration file. The parser must
 * neither crash nor leak (AddressSanitizer watches), and must either give
 * a policy set or at least one error, never both and never neither.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_errors errs = {};
	struct policy_set set;
	FILE *f = fmemopen((void *)data, size, "r");
	int err;

	if (!f)
		return 0;
	err = config_read_stream(f, "fuzz.conf", &set, NULL, &errs);
	fclose(f);
	if (err == 0 && (errs.n || !set.n))
		abort();
	if (err && (!errs.n || set.n || set.p))
		abort();
	config_errors_free(&errs);
	policy_set_free(&set);
	return 0;
}
