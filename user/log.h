/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Diagnostics: one line each, on stderr, prefixed with the program name. */
#ifndef NFSGUARD_LOG_H
#define NFSGUARD_LOG_H

#include <stdbool.h>

extern bool log_verbose;

/* "nfsguard: <message>\n" on stderr. The log calls leave errno as it was. */
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same for news that is not an error (progress, state). */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Route libbpf's own messages through log_verbose. */
void log_setup_libbpf(void);

#endif
