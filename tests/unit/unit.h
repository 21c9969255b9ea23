/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * A minimal unit-test harness: TEST(name) defines a case, CHECK* record a
 * failure and return from it. Each case prints 'PASS name' or
 * 'FAIL name: file:line: what', and main() ends with 'N passed, N failed'.
 */
#ifndef NFSGUARD_UNIT_H
#define NFSGUARD_UNIT_H

#include <stdio.h>
#include <string.h>

struct unit_case {
	const char *name;
	void (*fn)(char *why, size_t len);
};

#define TEST(name)                                                          \
	static void name(char *why, size_t why_len);                        \
	static const struct unit_case unit_##name                           \
		__attribute__((used, section("unit_cases"), aligned(8))) = {     \
			#name, name };                                      \
	static void name(char *why, size_t why_len)

#define CHECK(cond)                                                         \
	do {                                                                \
		if (!(cond)) {                                              \
			snprintf(why, why_len, "%s:%d: %s", __FILE__,       \
				 __LINE__, #cond);                          \
			return;                                             \
		}                                                           \
	} while (0)

#define CHECK_STR(got, want)                                                \
	do {                                                                \
		const char *g_ = (got), *w_ = (want);                       \
		if (strcmp(g_, w_)) {                                       \
			snprintf(why, why_len, "%s:%d: got '%s', want '%s'", \
				 __FILE__, __LINE__, g_, w_);               \
			return;                                             \
		}                                                           \
	} while (0)

/* Run call with f_ writing into the string buf; the caller frees buf. */
#define CAPTURE(buf, call)                                                  \
	do {                                                                \
		size_t len_;                                                \
		FILE *f_ = open_memstream(&(buf), &len_);                   \
		call;                                                       \
		fclose(f_);                                                 \
	} while (0)

/* got starts with want. */
#define CHECK_PREFIX(got, want)                                             \
	do {                                                                \
		const char *g_ = (got), *w_ = (want);                       \
		if (strncmp(g_, w_, strlen(w_))) {                          \
			snprintf(why, why_len, "%s:%d: got '%s', want it to start with '%s'", \
				 __FILE__, __LINE__, g_, w_);               \
			return;                                             \
		}                                                           \
	} while (0)

#endif
