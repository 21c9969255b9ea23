// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The control socket's requests (ctl_proto.h): strict, bounded, no heap. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "ctl_proto.h"
#include "parse.h"

struct cursor {
	const char *s, *end;
};

static void blanks(struct cursor *c)
{
	while (c->s < c->end && (*c->s == ' ' || *c->s == '\t'))
		c->s++;
}

static bool eat(struct cursor *c, char ch)
{
	blanks(c);
	if (c->s < c->end && *c->s == ch) {
		c->s++;
		return true;
	}
	return false;
}

/* A string into out (NUL terminated); only \" \\ \/ escapes, no control
 * bytes, at most CTL_STR_MAX - 1 bytes. */
static bool string(struct cursor *c, char out[CTL_STR_MAX])
{
	size_t n = 0;
	char ch;

	if (!eat(c, '"'))
		return false;
	while (c->s < c->end) {
		ch = *c->s++;
		if (ch == '"') {
			out[n] = '\0';
			return true;
		}
		if ((unsigned char)ch < 0x20 || ch == 0x7f)
			return false;
		if (ch == '\\') {
			if (c->s == c->end)
				return false;
			ch = *c->s++;
			if (ch != '"' && ch != '\\' && ch != '/')
				return false;
		}
		if (n >= CTL_STR_MAX - 1)
			return false;
		out[n++] = ch;
	}
	return false;
}

/* An unsigned decimal number of at most 10 digits, as text. */
static bool number(struct cursor *c, char out[CTL_STR_MAX])
{
	size_t n = 0;

	blanks(c);
	while (c->s < c->end && *c->s >= '0' && *c->s <= '9' && n < 11)
		out[n++] = *c->s++;
	out[n] = '\0';
	return n > 0 && n <= 10 && (n == 1 || out[0] != '0');
}

static bool boolean(struct cursor *c, bool *v)
{
	blanks(c);
	if (c->end - c->s >= 4 && !memcmp(c->s, "true", 4)) {
		c->s += 4;
		*v = true;
		return true;
	}
	if (c->end - c->s >= 5 && !memcmp(c->s, "false", 5)) {
		c->s += 5;
		*v = false;
		return true;
	}
	return false;
}

/* A string or a number, as text. */
static bool scalar(struct cursor *c, char out[CTL_STR_MAX])
{
	blanks(c);
	if (c->s < c->end && *c->s == '"')
		return string(c, out);
	return number(c, out);
}

static int fail(char *why, size_t len, const char *what)
{
	snprintf(why, len, "%s", what);
	return -EINVAL;
}

static int filter_value(struct cursor *c, struct ctl_request *r, int k,
			char *why, size_t why_len)
{
	char v[CTL_STR_MAX];

	if (!scalar(c, v))
		return fail(why, why_len, "a filter takes strings or numbers");
	/* One value each: a comma inside is not a list here. */
	if (strchr(v, ','))
		return fail(why, why_len, "one value per array element");
	return filter_add(&r->filter, k, v, why, why_len) ? -EINVAL : 0;
}

static int member(struct cursor *c, struct ctl_request *r, unsigned *seen,
		  char *why, size_t why_len)
{
	static const char *const names[] = { "cmd", "format", "trace", "queue",
					     "destroy", "pin_dir" };
	char key[CTL_STR_MAX], v[CTL_STR_MAX];
	int k = -1, err = 0;
	unsigned bit;
	__u32 q;
	size_t i;

	if (!string(c, key) || !eat(c, ':'))
		return fail(why, why_len, "expected \"key\":value");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(key, names[i]))
			break;
	if (i == sizeof(names) / sizeof(names[0])) {
		k = filter_key_of(key);
		if (k < 0)
			return fail(why, why_len, "unknown key");
		bit = 1u << (8 + k);
	} else {
		bit = 1u << i;
	}
	if (*seen & bit)
		return fail(why, why_len, "duplicate key");
	*seen |= bit;
	if (k >= 0) {
		if (!eat(c, '['))
			return filter_value(c, r, k, why, why_len);
		if (eat(c, ']'))
			return 0;
		do
			err = filter_value(c, r, k, why, why_len);
		while (!err && eat(c, ','));
		if (!err && !eat(c, ']'))
			err = fail(why, why_len, "expected ']'");
		return err;
	}
	switch (i) {
	case 0:
		if (!string(c, v))
			return fail(why, why_len, "cmd takes a string");
		if (!strcmp(v, "status"))
			r->cmd = CTL_STATUS;
		else if (!strcmp(v, "reload"))
			r->cmd = CTL_RELOAD;
		else if (!strcmp(v, "events"))
			r->cmd = CTL_EVENTS;
		else if (!strcmp(v, "sockets"))
			r->cmd = CTL_SOCKETS;
		else if (!strcmp(v, "uninstall"))
			r->cmd = CTL_UNINSTALL;
		else
			return fail(why, why_len, "unknown cmd");
		return 0;
	case 1:
		if (!string(c, v) || (strcmp(v, "json") && strcmp(v, "text")))
			return fail(why, why_len, "format is \"json\" or \"text\"");
		r->format = strcmp(v, "json") ? FORMAT_TEXT : FORMAT_JSON;
		return 0;
	case 2:
		if (!boolean(c, &r->trace))
			return fail(why, why_len, "trace takes true or false");
		return 0;
	case 4:
		if (!boolean(c, &r->destroy))
			return fail(why, why_len, "destroy takes true or false");
		return 0;
	case 5:
		if (!string(c, r->pin_dir) || r->pin_dir[0] != '/')
			return fail(why, why_len, "pin_dir takes an absolute path");
		return 0;
	default:
		if (!number(c, v) || !parse_u32(v, CTL_QUEUE_MIN, CTL_QUEUE_MAX, &q))
			return fail(why, why_len, "queue takes a number of bytes");
		r->queue = q;
		return 0;
	}
}

int ctl_parse(const char *buf, size_t len, struct ctl_request *r, char *why,
	      size_t why_len)
{
	struct cursor c = { .s = buf, .end = buf + len };
	unsigned seen = 0;
	int err;

	memset(r, 0, sizeof(*r));
	r->format = FORMAT_JSON;
	r->queue = CTL_QUEUE_DEFAULT;
	if (len > CTL_REQUEST_MAX)
		return fail(why, why_len, "request too long");
	if (!eat(&c, '{'))
		return fail(why, why_len, "a request is one JSON object");
	if (!eat(&c, '}')) {
		do {
			err = member(&c, r, &seen, why, why_len);
			if (err)
				return err;
		} while (eat(&c, ','));
		if (!eat(&c, '}'))
			return fail(why, why_len, "expected '}'");
	}
	blanks(&c);
	if (c.s != c.end)
		return fail(why, why_len, "bytes after the object");
	if (!(seen & 1))
		return fail(why, why_len, "no cmd");
	if (r->cmd == CTL_UNINSTALL && !r->pin_dir[0])
		return fail(why, why_len, "uninstall needs pin_dir");
	return 0;
}

/* One "key":value of an answer into a; *seen gets a bit a known key. */
static bool answer_member(struct cursor *c, struct ctl_answer *a,
			  unsigned *seen)
{
	static const char *const names[] = { "ok", "kept", "pid", "type",
					     "reason", "error", "pin_dir" };
	char *const strs[] = { NULL, NULL, NULL, a->type, a->reason, a->error,
			       a->pin_dir };
	char key[CTL_STR_MAX], v[CTL_STR_MAX];
	bool b;
	size_t i;

	if (!string(c, key) || !eat(c, ':'))
		return false;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(key, names[i]))
			break;
	if (i == sizeof(names) / sizeof(names[0]))
		/* Not ours to know: any scalar goes. */
		return boolean(c, &b) || scalar(c, v);
	if (*seen & (1u << i))
		return false;
	*seen |= 1u << i;
	if (i == 0)
		return boolean(c, &a->ok);
	if (i == 1)
		return boolean(c, &a->kept);
	if (i == 2)
		return number(c, v) && parse_u32(v, 0, UINT32_MAX, &a->pid);
	return string(c, strs[i]);
}

int ctl_parse_answer(const char *buf, size_t len, struct ctl_answer *a)
{
	struct cursor c = { .s = buf, .end = buf + len };
	unsigned seen = 0;

	memset(a, 0, sizeof(*a));
	if (!eat(&c, '{'))
		return -EINVAL;
	if (!eat(&c, '}')) {
		do {
			if (!answer_member(&c, a, &seen))
				return -EINVAL;
		} while (eat(&c, ','));
		if (!eat(&c, '}'))
			return -EINVAL;
	}
	blanks(&c);
	return c.s == c.end && (seen & 1) ? 0 : -EINVAL;
}
