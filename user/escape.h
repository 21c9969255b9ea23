/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The one rule for bytes a user controls on their way to a terminal
 * (comm, cgroup names, file names, configuration values): printable ASCII
 * stays, a backslash becomes "\\", and every other byte becomes "\xNN":
 * control bytes, DEL, and bytes of 0x80 and above (even valid UTF-8 is
 * escaped: it could carry bidi controls). With ESC_BLANK the blank is
 * escaped too, so that a field of a text row never holds one. Header-only,
 * so that diagnostics (log.c) and events (format.c) share it.
 */
#ifndef NFSGUARD_ESCAPE_H
#define NFSGUARD_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>

#define ESC_BLANK 1u
/* The longest escape of one byte. */
#define ESC_MAX 4
/* Room for one name of up to NAME_MAX (255) bytes, escaped. */
#define ESC_NAME_LEN (ESC_MAX * 255 + 1)

/* Does byte c pass as it is? */
static inline bool esc_safe(unsigned char c, unsigned flags)
{
	if (c == ' ')
		return !(flags & ESC_BLANK);
	return c > 0x20 && c < 0x7f && c != '\\';
}

/* The escape of a byte that is not safe into esc; returns its length. */
static inline size_t esc_byte(unsigned char c, char esc[ESC_MAX])
{
	static const char hex[] = "0123456789abcdef";

	if (c == '\\') {
		esc[0] = esc[1] = '\\';
		return 2;
	}
	esc[0] = '\\';
	esc[1] = 'x';
	esc[2] = hex[c >> 4];
	esc[3] = hex[c & 15];
	return 4;
}

#endif
