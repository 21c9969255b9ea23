// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Runs every TEST() linked in: the linker gathers them in one section. */
#include "unit.h"

extern const struct unit_case __start_unit_cases[];
extern const struct unit_case __stop_unit_cases[];

int main(void)
{
	const struct unit_case *c;
	int passed = 0, failed = 0;
	char why[512];

	for (c = __start_unit_cases; c < __stop_unit_cases; c++) {
		why[0] = '\0';
		c->fn(why, sizeof(why));
		if (why[0]) {
			printf("FAIL %s: %s\n", c->name, why);
			failed++;
		} else {
			printf("PASS %s\n", c->name);
			passed++;
		}
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
