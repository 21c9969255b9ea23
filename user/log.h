/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Diagnostics: one line each, on stderr, prefixed with the program name. */
#ifndef NFSGUARD_LOG_H
#define NFSGUARD_LOG_H

#include <stdbool.h>

extern bool log_verbose;

/* Levels, with syslog's numbers (sd-daemon(3) prefixes). */
enum log_level {
	LOG_LEVEL_ERROR = 3,
	LOG_LEVEL_WARNING = 4,
	LOG_LEVEL_INFO = 6,
	LOG_LEVEL_DEBUG = 7,
};

/* Messages above this level are not shown (default info). */
extern enum log_level log_level;
/* "error", "warning", "info", "debug" into *out; false for another. */
bool log_parse_level(const char *name, enum log_level *out);

/*
 * "nfsguard: <message>\n" on stderr, every byte outside printable ASCII
 * (and the backslash) escaped as escape.h says: one line, whatever the
 * message quotes. The log calls leave errno as it was. When stderr is
 * the journal (JOURNAL_STREAM names it), each line starts with "<N>",
 * its level, so that journald files it with that priority.
 */
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Something is wrong, but the agent goes on as it should. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same for news that is not an error (progress, state). */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Details for whoever debugs the agent (--log-level debug). */
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Route libbpf's own messages through log_verbose. */
void log_setup_libbpf(void);
/* Silence libbpf entirely (probes expect failures); returns the old state. */
bool log_libbpf_quiet(bool quiet);
/* Forget the libbpf warnings kept so far. */
void log_libbpf_forget(void);
/*
 * The program the kernel last refused to load, and the verifier's last
 * lines, from libbpf's warnings since log_libbpf_forget(). False if none.
 */
bool log_verifier_tail(char *prog, size_t prog_len, char *lines,
		       size_t lines_len);

#endif
