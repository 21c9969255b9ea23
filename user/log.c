// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "escape.h"
#include "log.h"

bool log_verbose;
enum log_level log_level = LOG_LEVEL_INFO;

bool log_parse_level(const char *name, enum log_level *out)
{
	static const struct {
		const char *name;
		enum log_level level;
	} levels[] = {
		{ "error", LOG_LEVEL_ERROR }, { "warning", LOG_LEVEL_WARNING },
		{ "info", LOG_LEVEL_INFO }, { "debug", LOG_LEVEL_DEBUG },
	};
	size_t i;

	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (!strcmp(name, levels[i].name)) {
			*out = levels[i].level;
			return true;
		}
	return false;
}

/* Is stderr the journal? JOURNAL_STREAM is "DEV:INODE" of its socket. */
static bool to_journal(void)
{
	static int known = -1;
	unsigned long long dev, ino;
	const char *v;
	struct stat st;

	if (known >= 0)
		return known;
	v = getenv("JOURNAL_STREAM");
	known = v && sscanf(v, "%llu:%llu", &dev, &ino) == 2 &&
		!fstat(STDERR_FILENO, &st) && st.st_dev == dev &&
		st.st_ino == ino;
	return known;
}

/*
 * Keeps errno: callers may log, then return -errno. A message may quote
 * what a user controls (a cgroup name, a file name, a configuration
 * value): every byte of it is escaped (escape.h), so that one message is
 * one line no user can rewrite on screen.
 */
static void vlog(enum log_level level, const char *fmt, va_list ap)
{
	char stack[1024], *msg = stack, esc[ESC_MAX];
	int saved = errno, n;
	size_t i;
	va_list again;

	if (level > log_level)
		return;
	va_copy(again, ap);
	n = vsnprintf(stack, sizeof(stack), fmt, ap);
	if (n >= (int)sizeof(stack)) {
		msg = malloc(n + 1);
		if (msg)
			vsnprintf(msg, n + 1, fmt, again);
		else
			msg = stack;	/* cut short, still escaped */
	}
	va_end(again);
	if (to_journal())
		fprintf(stderr, "<%d>", level);
	fputs("nfsguard: ", stderr);
	for (i = 0; n > 0 && msg[i]; i++) {
		if (esc_safe(msg[i], 0))
			fputc(msg[i], stderr);
		else
			fwrite(esc, 1, esc_byte(msg[i], esc), stderr);
	}
	fputc('\n', stderr);
	if (msg != stack)
		free(msg);
	errno = saved;
}

#define LOG_FN(name, level)                                                 \
	void name(const char *fmt, ...)                                     \
	{                                                                   \
		va_list ap;                                                 \
                                                                            \
		va_start(ap, fmt);                                          \
		vlog(level, fmt, ap);                                       \
		va_end(ap);                                                 \
	}

LOG_FN(log_err, LOG_LEVEL_ERROR)
LOG_FN(log_warn, LOG_LEVEL_WARNING)
LOG_FN(log_info, LOG_LEVEL_INFO)
LOG_FN(log_debug, LOG_LEVEL_DEBUG)

/*
 * libbpf's last warnings, kept so that a rejected program can be named
 * with the verifier's last words even without -v. A load failure prints
 * "prog 'NAME': BPF program load failed" and then the verifier's log.
 */
static char last_warn[16384];
static size_t last_len;
static bool libbpf_quiet;

static void keep_warning(const char *fmt, va_list ap)
{
	size_t n, keep;
	va_list copy;
	char *msg;
	int len;

	/* A verifier log is one message of any size: keep its end. */
	va_copy(copy, ap);
	len = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (len <= 0)
		return;
	msg = malloc(len + 1);
	if (!msg)
		return;
	vsnprintf(msg, len + 1, fmt, ap);
	n = len;
	if (n >= sizeof(last_warn)) {
		memcpy(last_warn, msg + n - (sizeof(last_warn) - 1),
		       sizeof(last_warn) - 1);
		last_len = sizeof(last_warn) - 1;
	} else {
		if (last_len + n >= sizeof(last_warn)) {
			/* Keep what fits of the older: the newest says why. */
			keep = sizeof(last_warn) - 1 - n;
			memmove(last_warn, last_warn + last_len - keep, keep);
			last_len = keep;
		}
		memcpy(last_warn + last_len, msg, n);
		last_len += n;
	}
	last_warn[last_len] = '\0';
	free(msg);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	va_list copy;

	if (libbpf_quiet)
		return 0;
	if (level == LIBBPF_WARN) {
		va_copy(copy, ap);
		keep_warning(fmt, copy);
		va_end(copy);
	}
	/* Even warnings stay quiet without -v: the agent reports each failure
	 * itself, with its cause and fix, in one line. */
	if (!log_verbose)
		return 0;
	if (to_journal())
		fprintf(stderr, "<%d>", level == LIBBPF_WARN ? LOG_LEVEL_WARNING
				  : level == LIBBPF_INFO ? LOG_LEVEL_INFO
							 : LOG_LEVEL_DEBUG);
	return vfprintf(stderr, fmt, ap);
}

void log_setup_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}

bool log_libbpf_quiet(bool quiet)
{
	bool was = libbpf_quiet;

	libbpf_quiet = quiet;
	return was;
}

void log_libbpf_forget(void)
{
	last_len = 0;
	last_warn[0] = '\0';
}

/* The last (at most 4) non-empty lines of s[0..len), joined by " | ". */
static void tail_lines(const char *s, size_t len, int want, char *out,
		       size_t out_len)
{
	size_t from[4], to[4], end = len, b, o = 0;
	int n = 0, i;

	while (end > 0 && n < want && n < 4) {
		while (end > 0 && s[end - 1] == '\n')
			end--;
		for (b = end; b > 0 && s[b - 1] != '\n'; b--)
			;
		if (end > b) {
			from[n] = b;
			to[n++] = end;
		}
		end = b;
	}
	out[0] = '\0';
	for (i = n - 1; i >= 0 && o < out_len; i--)
		o += snprintf(out + o, out_len - o, "%s%.*s", i == n - 1 ? "" : " | ",
			      (int)(to[i] - from[i]), s + from[i]);
	for (o = 0; out[o]; o++)	/* the log quotes user input, maybe */
		if ((unsigned char)out[o] < 0x20 || (unsigned char)out[o] >= 0x7f)
			out[o] = '?';
}

/* The last occurrence of needle in hay, or NULL. */
static const char *last_of(const char *hay, const char *needle)
{
	const char *p, *last = NULL;

	for (p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		last = p;
	return last;
}

bool log_verifier_tail(char *prog, size_t prog_len, char *lines,
		       size_t lines_len)
{
	static const char *const failed[] = {
		"': BPF program load failed", "': failed to load",
	};
	const char *p = NULL, *q, *end, *name;
	size_t i;

	/* libbpf names the program it could not load in one of two ways. */
	for (q = strstr(last_warn, "prog '"); q; q = strstr(q + 1, "prog '")) {
		end = strchr(q + 6, '\'');
		for (i = 0; end && i < sizeof(failed) / sizeof(failed[0]); i++)
			if (!strncmp(end, failed[i], strlen(failed[i])))
				p = q;
	}
	if (!p)
		return false;
	name = p + 6;
	snprintf(prog, prog_len, "%.*s", (int)(strchr(name, '\'') - name), name);
	end = last_of(last_warn, "-- END PROG LOAD LOG --");
	q = end ? last_of(last_warn, "-- BEGIN PROG LOAD LOG --") : NULL;
	/* The log's beginning may be gone: its end is what says why. */
	q = q && q < end ? q + strlen("-- BEGIN PROG LOAD LOG --") : last_warn;
	if (!end) {
		snprintf(lines, lines_len, "no verifier log");
		return true;
	}
	tail_lines(q, end - q, 3, lines, lines_len);
	return true;
}
