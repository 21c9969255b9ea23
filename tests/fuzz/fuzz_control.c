// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * libFuzzer target: any bytes as a control socket request. The parser
 * must neither crash nor read out of bounds (AddressSanitizer watches),
 * and what it accepts must be within the limits ctl_proto.h states.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "ctl_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_request r;
	char why[128];
	int k;

	if (ctl_parse((const char *)data, size, &r, why, sizeof(why))) {
		if (!memchr(why, '\0', sizeof(why)))
			abort();
		return 0;
	}
	if (r.cmd > CTL_UNINSTALL || r.queue < CTL_QUEUE_MIN ||
	    r.queue > CTL_QUEUE_MAX || size > CTL_REQUEST_MAX)
		abort();
	for (k = 0; k < FILTER_KEYS; k++)
		if (r.filter.n[k] > FILTER_MAX)
			abort();
	return 0;
}
