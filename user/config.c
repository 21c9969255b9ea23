// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Two passes: libinih reads the file into (section, key, value, line)
 * entries, then each section becomes a policy, the default first, so a
 * policy inherits from [default] wherever [default] stands in the file.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <fcntl.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "config.h"
#include "log.h"
#include "parse.h"

#define SECTION_POLICY "policy "

struct entry {
	char *section, *key, *value;
	int line;
	long sec;		/* index of its [section] header, or -1 */
};

struct section {
	char *name;		/* between the brackets, as libinih sees it */
	int line;
	size_t first, n;	/* its entries: e[first] ... e[first + n - 1] */
};

struct parse {
	const char *path;
	FILE *f;
	int line;		/* of the line the reader handed out last */
	struct entry *e;
	size_t n;
	size_t cap;
	struct section *sec;	/* every [section] header, in file order */
	size_t n_sec, cap_sec;
	struct config_errors *errs;
	size_t bytes;		/* read so far: at most CONFIG_MAX_BYTES */
	bool oom, too_big;
};

static void __attribute__((format(printf, 4, 5)))
error_at(struct config_errors *errs, const char *path, int line,
	 const char *fmt, ...)
{
	char *msg = NULL, *where = NULL, **grown;
	int *lines;
	va_list ap;
	int ok;

	va_start(ap, fmt);
	ok = vasprintf(&msg, fmt, ap) >= 0;
	va_end(ap);
	if (!ok)
		return;
	ok = line ? asprintf(&where, "%s:%d: %s", path, line, msg)
		  : asprintf(&where, "%s: %s", path, msg);
	free(msg);
	if (ok < 0)
		return;
	/* Doubling: a file of many errors stays linear. (>=: robust to a
	 * caller that appended by hand.) */
	if (errs->n >= errs->cap) {
		size_t cap = errs->n < 8 ? 16 : 2 * errs->n;

		grown = realloc(errs->msg, cap * sizeof(*errs->msg));
		if (grown)
			errs->msg = grown;
		lines = grown ? realloc(errs->line, cap * sizeof(*errs->line))
			      : NULL;
		if (lines)
			errs->line = lines;
		if (!grown || !lines) {
			free(where);
			return;
		}
		errs->cap = cap;
	}
	errs->line[errs->n] = line;
	errs->msg[errs->n++] = where;
}

struct sort_item {
	char *msg;
	int line;
	size_t order;
};

static int cmp_error(const void *a, const void *b)
{
	const struct sort_item *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* In file order, and in the order found within a line: O(n log n). */
static void sort_errors(struct config_errors *errs)
{
	struct sort_item *v = calloc(errs->n, sizeof(*v));
	size_t i;

	if (!v)
		return;		/* unsorted, every message still there */
	for (i = 0; i < errs->n; i++)
		v[i] = (struct sort_item){ errs->msg[i], errs->line[i], i };
	qsort(v, errs->n, sizeof(*v), cmp_error);
	for (i = 0; i < errs->n; i++) {
		errs->msg[i] = v[i].msg;
		errs->line[i] = v[i].line;
	}
	free(v);
}

void config_errors_free(struct config_errors *errs)
{
	size_t i;

	for (i = 0; i < errs->n; i++)
		free(errs->msg[i]);
	free(errs->msg);
	free(errs->line);
	errs->msg = NULL;
	errs->line = NULL;
	errs->n = errs->cap = 0;
}

/* Room for one more of n items of size each in *v (capacity *cap). */
static bool grow(void **v, size_t *cap, size_t n, size_t size)
{
	size_t want = *cap ? 2 * *cap : 16;
	void *grown;

	if (n < *cap)
		return true;
	grown = realloc(*v, want * size);
	if (!grown)
		return false;
	*v = grown;
	*cap = want;
	return true;
}

static int add_section(struct parse *p, const char *start, const char *end)
{
	char *name = strndup(start, end - start);

	if (!name || !grow((void **)&p->sec, &p->cap_sec, p->n_sec,
			   sizeof(*p->sec))) {
		free(name);
		return -ENOMEM;
	}
	p->sec[p->n_sec] = (struct section){ .name = name, .line = p->line,
					     .first = p->n };
	p->n_sec++;
	return 0;
}

/*
 * libinih's line reader. It counts lines for the messages and catches
 * what libinih would pass over: lines too long for it, and lines that are
 * neither a section, a key = value, a continuation nor a comment.
 */
static char *read_line(char *str, int num, void *stream)
{
	struct parse *p = stream;
	char *s, *end;
	size_t len;
	int c;

	if (p->too_big || !fgets(str, num, p->f))
		return NULL;
	p->line++;
	len = strlen(str);
	/* It may have grown since it was checked, or be a pipe. */
	p->bytes += len;
	if (p->bytes > CONFIG_MAX_BYTES) {
		p->too_big = true;
		return NULL;
	}
	if (len == (size_t)num - 1 && str[len - 1] != '\n' && !feof(p->f)) {
		while ((c = fgetc(p->f)) != EOF && c != '\n')
			;
		error_at(p->errs, p->path, p->line,
			 "line longer than %d characters: continue the value on an indented line",
			 num - 2);
		str[0] = '\0';
		return str;
	}
	for (s = str; *s == ' ' || *s == '\t'; s++)
		;
	end = s + strcspn(s, "\r\n");
	if (s == end || *s == '#' || *s == ';')
		return str;
	if (*s == '[') {
		if (!memchr(s, ']', end - s)) {
			error_at(p->errs, p->path, p->line,
				 "section '%.*s' has no closing ']'",
				 (int)(end - s), s);
			str[0] = '\0';
		} else if (add_section(p, s + 1, strchr(s, ']'))) {
			p->oom = true;
		}
		return str;
	}
	if (s == str && !memchr(s, '=', end - s)) {
		error_at(p->errs, p->path, p->line,
			 "'%.*s' is not 'key = value' or a [section]",
			 (int)(end - s), s);
		str[0] = '\0';
	}
	return str;
}

/* libinih ends values at " ;" only: end them at " #" too, and trim. */
static void strip_comment(char *v)
{
	char *c = v, *end;

	while ((c = strchr(c, '#'))) {
		if (c > v && (c[-1] == ' ' || c[-1] == '\t')) {
			*c = '\0';
			break;
		}
		c++;
	}
	end = v + strlen(v);
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
}

static int collect(void *user, const char *section, const char *key,
		   const char *value)
{
	struct parse *p = user;
	struct entry *e;

	if (!grow((void **)&p->e, &p->cap, p->n, sizeof(*p->e))) {
		p->oom = true;
		return 0;
	}
	e = &p->e[p->n];
	/* The reader saw this entry's [section] last, if libinih did. */
	e->sec = p->n_sec ? (long)p->n_sec - 1 : -1;
	if (e->sec >= 0 && strcmp(p->sec[e->sec].name, section))
		e->sec = -1;
	e->section = strdup(section);
	e->key = strdup(key);
	e->value = strdup(value);
	e->line = p->line;
	if (e->value)
		strip_comment(e->value);
	if (!e->section || !e->key || !e->value) {
		free(e->section);
		free(e->key);
		free(e->value);
		p->oom = true;
		return 0;
	}
	if (e->sec >= 0)
		p->sec[e->sec].n++;
	p->n++;
	return 1;
}

/* Next item of a comma- or blank-separated list, or NULL at the end. */
static char *next_item(char **cursor)
{
	char *s = *cursor, *item;

	s += strspn(s, ", \t");
	if (!*s)
		return NULL;
	item = s;
	s += strcspn(s, ", \t");
	if (*s)
		*s++ = '\0';
	*cursor = s;
	return item;
}

/* "N" or "N-M", both within [min, max]. */
static bool parse_range(char *s, __u32 min, __u32 max, __u32 *lo, __u32 *hi)
{
	char *dash = strchr(s, '-');
	bool ok;

	if (dash)
		*dash = '\0';
	ok = parse_u32(s, min, max, lo) &&
	     (dash ? parse_u32(dash + 1, min, max, hi) : (*hi = *lo, true)) &&
	     *hi >= *lo;
	if (dash)
		*dash = '-';
	return ok;
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s), i;

	if (!n || n >= NFSG_NAME_LEN)
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return false;
	return true;
}

/* NULL if path is a valid cgroup path, else what is wrong with it. */
static const char *bad_cgroup_path(const char *s)
{
	const char *c;
	int depth = 0;

	if (s[0] != '/')
		return "must start with '/' (relative to the cgroup2 mount)";
	if (!s[1])
		return "is the cgroup2 root: set the [default] policy instead";
	if (strlen(s) >= NFSG_PATH_LEN)
		return "is longer than 255 characters";
	for (c = s; *c; c++) {
		if (*c != '/')
			continue;
		depth++;
		if (c[1] == '/' || c[1] == '\0')
			return "has an empty component";
		if (c[1] == '.' && (c[2] == '/' || !c[2] ||
				    (c[2] == '.' && (c[3] == '/' || !c[3]))))
			return "has a '.' or '..' component";
	}
	if (depth > NFSG_MAX_DEPTH)
		return "is deeper than 32 levels";
	return NULL;
}

enum key {
	KEY_PORTS,
	KEY_LOCAL_PORTS,
	KEY_PROTOCOLS,
	KEY_UIDS,
	KEY_GIDS,
	KEY_DESTS,
	KEY_MODE,
	KEY_BACKSTOP,
	KEY_EXISTING,
	KEY_CGROUPS,
	KEY_MAX,
};

static const char *const key_names[KEY_MAX] = {
	[KEY_PORTS] = "ports",
	[KEY_LOCAL_PORTS] = "local_ports",
	[KEY_PROTOCOLS] = "protocols",
	[KEY_UIDS] = "privileged_uids",
	[KEY_GIDS] = "privileged_gids",
	[KEY_DESTS] = "allow_destinations",
	[KEY_MODE] = "mode",
	[KEY_BACKSTOP] = "backstop",
	[KEY_EXISTING] = "existing",
	[KEY_CGROUPS] = "cgroups",
};

/* Every cgroup path named so far, and by which policy: a hash set. */
struct path_slot {
	const char *path;	/* a policy's own copy; NULL: free */
	size_t policy;
};

struct path_set {
	struct path_slot *slot;
	size_t cap, n;		/* cap: a power of two, or 0 */
};

struct build {
	const char *path;
	struct config_errors *errs;
	struct policy_set *set;
	struct config_agent agent;
	struct path_set named;
	int seen[KEY_MAX];	/* line where this section set it, or 0 */
};

static size_t hash_path(const char *s)
{
	size_t h = 14695981039346656037ULL;	/* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

/* The slot of path: its own, or the free one it would take. */
static struct path_slot *path_find(const struct path_set *ps, const char *path)
{
	size_t i = hash_path(path) & (ps->cap - 1);

	while (ps->slot[i].path && strcmp(ps->slot[i].path, path))
		i = (i + 1) & (ps->cap - 1);
	return &ps->slot[i];
}

static int path_grow(struct path_set *ps)
{
	struct path_set bigger = { .cap = ps->cap ? 2 * ps->cap : 64 };
	size_t i;

	bigger.slot = calloc(bigger.cap, sizeof(*bigger.slot));
	if (!bigger.slot)
		return -ENOMEM;
	for (i = 0; i < ps->cap; i++)
		if (ps->slot[i].path)
			*path_find(&bigger, ps->slot[i].path) = ps->slot[i];
	bigger.n = ps->n;
	free(ps->slot);
	*ps = bigger;
	return 0;
}

/* Keys of one value; the others are lists, and their values add up. */
static bool single_valued(enum key k)
{
	return k == KEY_MODE || k == KEY_BACKSTOP || k == KEY_EXISTING;
}

#define BAD(b, e, ...) error_at((b)->errs, (b)->path, (e)->line, __VA_ARGS__)

static void apply_ranges(struct build *b, const struct entry *e,
			 struct nfsg_range *r, __u8 *n, __u8 cap, __u32 min,
			 __u32 max, bool none_ok)
{
	char *list = strdup(e->value), *cur = list, *item;
	__u32 lo, hi;
	int err;

	if (!list)
		return;
	while ((item = next_item(&cur))) {
		if (none_ok && !strcmp(item, "none")) {
			if (*n || next_item(&cur))
				BAD(b, e, "%s: 'none' cannot be combined with other values in '%s'",
				    e->key, e->value);
			*n = 0;
			break;
		}
		if (!parse_range(item, min, max, &lo, &hi)) {
			BAD(b, e, "%s: invalid value '%s': expected a number or range from %u to %u%s",
			    e->key, item, min, max, none_ok ? ", or none" : "");
			continue;
		}
		err = policy_add_range_cap(r, n, cap, lo, hi);
		if (err == -ENOSPC)
			BAD(b, e, "%s: '%s' is one range too many: at most %d per policy",
			    e->key, item, cap);
	}
	free(list);
}

static void apply_protocols(struct build *b, const struct entry *e,
			    struct policy *p)
{
	char *list = strdup(e->value), *cur = list, *item;

	if (!list)
		return;
	while ((item = next_item(&cur))) {
		if (!strcmp(item, "tcp"))
			p->k.protocols |= NFSG_GOVERN_TCP;
		else if (!strcmp(item, "udp"))
			p->k.protocols |= NFSG_GOVERN_UDP;
		else
			BAD(b, e, "protocols: invalid value '%s': expected tcp or udp",
			    item);
	}
	free(list);
}

static void apply_dests(struct build *b, const struct entry *e,
			struct policy *p)
{
	char *list = strdup(e->value), *cur = list, *item;
	struct policy_cidr c;

	if (!list)
		return;
	while ((item = next_item(&cur))) {
		if (!strcmp(item, "any")) {
			if (p->n_dests || next_item(&cur))
				BAD(b, e, "allow_destinations: 'any' cannot be combined with addresses in '%s'",
				    e->value);
			break;
		}
		if (!parse_cidr(item, &c)) {
			BAD(b, e, "allow_destinations: invalid value '%s': expected an IPv4 or IPv6 address or CIDR, or any",
			    item);
			continue;
		}
		if (policy_add_dest(p, &c))
			BAD(b, e, "out of memory");
	}
	free(list);
}

static void apply_cgroups(struct build *b, const struct entry *e,
			  struct policy *p)
{
	char *list = strdup(e->value), *cur = list, *item;
	struct path_slot *slot;
	const struct policy *other;
	const char *why;

	if (!list)
		return;
	while ((item = next_item(&cur))) {
		why = bad_cgroup_path(item);
		if (why) {
			BAD(b, e, "cgroups: invalid path '%s': it %s", item, why);
			continue;
		}
		if (2 * (b->named.n + 1) > b->named.cap &&
		    path_grow(&b->named)) {
			BAD(b, e, "out of memory");
			break;
		}
		slot = path_find(&b->named, item);
		if (slot->path) {
			other = &b->set->p[slot->policy];
			BAD(b, e, "cgroups: '%s' is already governed by policy '%s' (line %d)",
			    item, other->k.name, other->line);
			continue;
		}
		if (policy_add_cgroup(p, item)) {
			BAD(b, e, "out of memory");
			continue;
		}
		slot->path = p->cgroups[p->n_cgroups - 1];
		slot->policy = p - b->set->p;
		b->named.n++;
	}
	free(list);
}

static void apply(struct build *b, const struct entry *e, struct policy *p,
		  bool is_default)
{
	enum key k;

	for (k = 0; k < KEY_MAX; k++)
		if (!strcmp(e->key, key_names[k]))
			break;
	if (k == KEY_MAX || (k == KEY_CGROUPS && is_default)) {
		BAD(b, e, "unknown key '%s'%s", e->key,
		    k == KEY_CGROUPS ? ": [default] applies to every cgroup without a policy"
				     : ": expected ports, protocols, privileged_uids, privileged_gids, allow_destinations, mode, backstop, existing or cgroups");
		return;
	}
	if (!*e->value) {
		BAD(b, e, "%s: no value", e->key);
		return;
	}
	/* A single value given twice: which one was meant? */
	if (b->seen[k] && single_valued(k)) {
		BAD(b, e, "%s: given twice in this section (lines %d and %d): keep one",
		    e->key, b->seen[k], e->line);
		return;
	}
	/* The first time a key appears, it replaces what [default] gave. */
	if (!b->seen[k]) {
		b->seen[k] = e->line;
		switch (k) {
		case KEY_PORTS: p->k.n_ports = 0; break;
		case KEY_LOCAL_PORTS: p->k.n_lports = 0; break;
		case KEY_PROTOCOLS: p->k.protocols = 0; break;
		case KEY_UIDS: p->k.n_uids = 0; break;
		case KEY_GIDS: p->k.n_gids = 0; break;
		case KEY_DESTS:
			p->n_dests = 0;
			p->k.flags &= ~NFSG_POLICY_ALLOWLIST;
			break;
		default: break;
		}
	}
	switch (k) {
	case KEY_PORTS:
		apply_ranges(b, e, p->k.ports, &p->k.n_ports, NFSG_MAX_RANGES, 1,
			     65535, false);
		break;
	case KEY_LOCAL_PORTS:
		apply_ranges(b, e, p->k.lports, &p->k.n_lports,
			     NFSG_MAX_LOCAL_RANGES, 1, 65535, true);
		break;
	case KEY_PROTOCOLS:
		apply_protocols(b, e, p);
		break;
	case KEY_UIDS:
		apply_ranges(b, e, p->k.uids, &p->k.n_uids, NFSG_MAX_RANGES, 0,
			     0xfffffffe, true);
		break;
	case KEY_GIDS:
		apply_ranges(b, e, p->k.gids, &p->k.n_gids, NFSG_MAX_RANGES, 0,
			     0xfffffffe, true);
		break;
	case KEY_DESTS:
		apply_dests(b, e, p);
		break;
	case KEY_MODE:
		if (!strcmp(e->value, "enforce"))
			p->k.mode = NFSG_MODE_ENFORCE;
		else if (!strcmp(e->value, "audit"))
			p->k.mode = NFSG_MODE_AUDIT;
		else if (!strcmp(e->value, "off"))
			p->k.mode = NFSG_MODE_OFF;
		else
			BAD(b, e, "mode: invalid value '%s': expected enforce, audit or off",
			    e->value);
		break;
	case KEY_BACKSTOP:
		if (!strcmp(e->value, "on"))
			p->k.flags &= ~NFSG_POLICY_NO_BACKSTOP;
		else if (!strcmp(e->value, "off"))
			p->k.flags |= NFSG_POLICY_NO_BACKSTOP;
		else
			BAD(b, e, "backstop: invalid value '%s': expected on or off",
			    e->value);
		break;
	case KEY_EXISTING:	/* connections found violating: sockets.h */
		if (!strcmp(e->value, "report"))
			p->k.flags &= ~NFSG_POLICY_DESTROY_EXISTING;
		else if (!strcmp(e->value, "destroy"))
			p->k.flags |= NFSG_POLICY_DESTROY_EXISTING;
		else
			BAD(b, e, "existing: invalid value '%s': expected report or destroy",
			    e->value);
		break;
	case KEY_CGROUPS:
		apply_cgroups(b, e, p);
		break;
	default:
		break;
	}
}

/* Entries of one section, in file order, onto p. */
static void apply_section(struct build *b, const struct parse *ps,
			  const struct section *sec, struct policy *p,
			  bool is_default)
{
	size_t i, had = b->errs->n;

	memset(b->seen, 0, sizeof(b->seen));
	for (i = sec->first; i < sec->first + sec->n; i++)
		if (ps->e[i].sec == sec - ps->sec)
			apply(b, &ps->e[i], p, is_default);
	/* Whole-policy checks, unless a value was wrong already. */
	if (b->errs->n > had)
		return;
	if (p->k.n_ports == 0 && p->k.mode != NFSG_MODE_OFF)
		error_at(b->errs, b->path, p->line,
			 "policy '%s' governs no ports: set ports, or mode = off",
			 p->k.name);
	if (!p->k.protocols && p->k.mode != NFSG_MODE_OFF)
		error_at(b->errs, b->path, p->line,
			 "policy '%s' governs no protocol: set protocols = tcp",
			 p->k.name);
}

/* The [agent] section's entries: the agent's own settings. */
static void apply_agent(struct build *b, const struct parse *ps,
			const struct section *sec)
{
	struct config_agent *ag = &b->agent;
	const struct entry *e;
	char host[64];
	__u16 port;
	size_t i;
	int *line;

	for (i = sec->first; i < sec->first + sec->n; i++) {
		e = &ps->e[i];
		if (e->sec != sec - ps->sec)
			continue;
		if (!strcmp(e->key, "metrics"))
			line = &ag->metrics_line;
		else if (!strcmp(e->key, "control_group"))
			line = &ag->control_group_line;
		else {
			BAD(b, e, "unknown key '%s' in [agent]: expected metrics or control_group",
			    e->key);
			continue;
		}
		if (*line) {
			BAD(b, e, "%s: given twice (lines %d and %d): keep one",
			    e->key, *line, e->line);
			continue;
		}
		if (line == &ag->metrics_line &&
		    !parse_host_port(e->value, host, sizeof(host), &port)) {
			BAD(b, e, "metrics: invalid value '%s': expected ADDRESS:PORT, e.g. 127.0.0.1:9108 or [::1]:9108",
			    e->value);
			continue;
		}
		if (line == &ag->control_group_line &&
		    !parse_group_name(e->value)) {
			BAD(b, e, "control_group: invalid value '%s': expected a group's name",
			    e->value);
			continue;
		}
		*line = e->line;
		snprintf(line == &ag->metrics_line ? ag->metrics
						   : ag->control_group,
			 line == &ag->metrics_line ? sizeof(ag->metrics)
						   : sizeof(ag->control_group),
			 "%s", e->value);
	}
}

int config_agent_check(const char *file, const struct config_agent *ag,
		       struct config_errors *errs)
{
	size_t had = errs->n;

	errno = 0;
	if (ag->control_group_line && !getgrnam(ag->control_group))
		error_at(errs, file, ag->control_group_line,
			 "control_group: no group '%s' on this system%s%s: create it (groupadd %s), or remove the line, or the next start fails",
			 ag->control_group, errno ? ": " : "",
			 errno ? strerror(errno) : "", ag->control_group);
	return errs->n - had;
}

static void build(struct build *b, const struct parse *ps)
{
	int agent_line = 0;
	struct policy *p;
	const char *sec, *name;
	size_t i, had, named = 0;
	bool over = false;

	/* Keys in no section, or in one libinih cut short. */
	for (i = 0; i < ps->n; i++)
		if (ps->e[i].sec < 0)
			BAD(b, &ps->e[i], "key '%s' is outside of any known section",
			    ps->e[i].key);

	/* The limit, checked once: one line, whatever the excess. */
	for (i = 0; i < ps->n_sec; i++)
		named += !strncmp(ps->sec[i].name, SECTION_POLICY,
				  strlen(SECTION_POLICY));
	if (named > NFSG_MAX_POLICIES - 1) {
		for (i = 0, had = 0; i < ps->n_sec; i++)
			if (!strncmp(ps->sec[i].name, SECTION_POLICY,
				     strlen(SECTION_POLICY)) &&
			    ++had == NFSG_MAX_POLICIES)
				break;
		error_at(b->errs, b->path, i < ps->n_sec ? ps->sec[i].line : 0,
			 "too many policies (%zu, at most %d): merge policies that share their rules into one with several cgroups",
			 named, NFSG_MAX_POLICIES - 1);
		over = true;
	}

	/* [default] first, wherever it stands: the others inherit from it. */
	for (i = 0; i < ps->n_sec; i++)
		if (!strcmp(ps->sec[i].name, "default")) {
			if (b->set->p[0].line) {
				error_at(b->errs, b->path, ps->sec[i].line,
					 "[default] is defined twice (first at line %d)",
					 b->set->p[0].line);
				continue;
			}
			b->set->p[0].line = ps->sec[i].line;
			apply_section(b, ps, &ps->sec[i], &b->set->p[0], true);
		}

	for (i = 0; i < ps->n_sec && !over; i++) {
		sec = ps->sec[i].name;
		if (!strcmp(sec, "default"))
			continue;
		if (!strcmp(sec, "agent")) {
			if (agent_line)
				error_at(b->errs, b->path, ps->sec[i].line,
					 "[agent] is defined twice (first at line %d)",
					 agent_line);
			else
				apply_agent(b, ps, &ps->sec[i]);
			agent_line = agent_line ? agent_line : ps->sec[i].line;
			continue;
		}
		if (strncmp(sec, SECTION_POLICY, strlen(SECTION_POLICY))) {
			error_at(b->errs, b->path, ps->sec[i].line,
				 "unknown section [%s]: expected [default], [policy NAME] or [agent]",
				 sec);
			continue;
		}
		name = sec + strlen(SECTION_POLICY);
		name += strspn(name, " ");
		if (!valid_name(name) || !strcmp(name, POLICY_DEFAULT_NAME)) {
			error_at(b->errs, b->path, ps->sec[i].line,
				 "invalid policy name '%s': use 1 to 31 letters, digits, '_', '.' or '-' (and not 'default')",
				 name);
			continue;
		}
		p = policy_set_find(b->set, name);
		if (p) {
			error_at(b->errs, b->path, ps->sec[i].line,
				 "policy '%s' is defined twice (first at line %d)",
				 name, p->line);
			continue;
		}
		p = policy_set_add(b->set, &b->set->p[0], name);
		if (!p) {
			error_at(b->errs, b->path, ps->sec[i].line, "policy '%s': out of memory",
				 name);
			break;
		}
		p->line = ps->sec[i].line;
		had = b->errs->n;
		apply_section(b, ps, &ps->sec[i], p, false);
		if (!p->n_cgroups && b->errs->n == had)
			error_at(b->errs, b->path, p->line,
				 "policy '%s' names no cgroups: add cgroups = /path",
				 name);
	}
}

/* Opened once, checked by its fd: a regular file of a sane size. */
static int open_config(const char *path, FILE **f, struct config_errors *errs)
{
	struct stat st;
	int fd, err = 0;

	/* O_NONBLOCK: a FIFO must not hang the open; it is refused below. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		err = -errno;
		if (err != -ENOENT)
			error_at(errs, path, 0, "cannot read: %s", strerror(-err));
		return err;
	}
	if (fstat(fd, &st)) {
		err = -errno;
		error_at(errs, path, 0, "cannot read: %s", strerror(-err));
	} else if (S_ISDIR(st.st_mode)) {
		err = -EISDIR;
		error_at(errs, path, 0, "is a directory: name the configuration file in it, e.g. %s/nfsguard.conf",
			 path);
	} else if (!S_ISREG(st.st_mode)) {
		err = -EINVAL;
		error_at(errs, path, 0, "is not a regular file (a device, a pipe or a socket): name a configuration file");
	} else if (st.st_size > CONFIG_MAX_BYTES) {
		err = -EFBIG;
		error_at(errs, path, 0, "is %lld bytes, more than the %d MiB a configuration may have",
			 (long long)st.st_size, CONFIG_MAX_BYTES >> 20);
	} else if (!(*f = fdopen(fd, "r"))) {
		err = -errno;
		error_at(errs, path, 0, "cannot read: %s", strerror(-err));
	}
	if (err)
		close(fd);
	return err;
}

int config_read(const char *path, struct policy_set *out,
		struct config_agent *agent, struct config_errors *errs)
{
	FILE *f = NULL;
	int err;

	memset(out, 0, sizeof(*out));
	if (agent)
		memset(agent, 0, sizeof(*agent));
	err = open_config(path, &f, errs);
	if (err)
		return err;
	err = config_read_stream(f, path, out, agent, errs);
	fclose(f);
	return err;
}

int config_read_stream(FILE *f, const char *path, struct policy_set *out,
		       struct config_agent *agent, struct config_errors *errs)
{
	struct parse ps = { .path = path, .errs = errs, .f = f };
	struct build b = { .path = path, .errs = errs, .set = out };
	size_t i, had = errs->n;
	int rc;

	memset(out, 0, sizeof(*out));
	if (agent)
		memset(agent, 0, sizeof(*agent));
	rc = ini_parse_stream(read_line, &ps, collect, &ps);
	if (ps.too_big) {
		error_at(errs, path, 0, "is more than the %d MiB a configuration may have",
			 CONFIG_MAX_BYTES >> 20);
	} else if (ferror(ps.f)) {
		error_at(errs, path, 0, "read error: %s", strerror(errno));
	} else if (ps.oom || rc == -2) {
		error_at(errs, path, 0, "out of memory");
	} else if (rc > 0 && errs->n == had) {
		/* A syntax error the line reader let through. */
		error_at(errs, path, rc, "syntax error");
	}

	if (policy_set_default(out))
		error_at(errs, path, 0, "out of memory");
	else
		build(&b, &ps);

	for (i = 0; i < ps.n; i++) {
		free(ps.e[i].section);
		free(ps.e[i].key);
		free(ps.e[i].value);
	}
	free(ps.e);
	for (i = 0; i < ps.n_sec; i++)
		free(ps.sec[i].name);
	free(ps.sec);
	free(b.named.slot);
	if (errs->n > had) {
		sort_errors(errs);
		policy_set_free(out);
		return -EINVAL;
	}
	if (agent)
		*agent = b.agent;
	return 0;
}

int config_load(const char *path, struct policy_set *out)
{
	struct config_errors errs = {};
	const char *file = path ? path : CONFIG_DEFAULT_PATH;
	size_t i;
	int err;

	err = config_read(file, out, NULL, &errs);
	if (err == -ENOENT && !path) {
		log_info("configuration: no %s, so the embedded default policy applies", file);
		return policy_set_default(out);
	}
	if (!err)
		log_info("configuration: %s, %zu polic%s", file, out->n,
			 out->n == 1 ? "y" : "ies");
	if (err == -ENOENT) {
		log_err("%s: no such file: create it or leave out --config for the default policy",
			file);
		return err;
	}
	for (i = 0; i < errs.n; i++)
		log_err("%s", errs.msg[i]);
	config_errors_free(&errs);
	return err;
}

/* Is a the cgroup b, or below it? Both relative to the cgroup2 mount. */
static bool at_or_below(const char *a, const char *b)
{
	size_t n = strlen(b);

	while (n && b[n - 1] == '/')
		n--;
	return !n || (!strncmp(a, b, n) && (a[n] == '\0' || a[n] == '/'));
}

size_t config_warn_outside(const struct policy_set *set, const char *attach)
{
	size_t i, j, n = 0;
	const char *c;

	for (i = 0; i < set->n; i++)
		for (j = 0; j < set->p[i].n_cgroups; j++) {
			c = set->p[i].cgroups[j];
			/* An ancestor's policy still governs the subtree. */
			if (at_or_below(c, attach) || at_or_below(attach, c))
				continue;
			log_err("warning: policy '%s' names %s, outside %s where nfsguard is attached: its sockets are not governed; attach higher (--cgroup) or remove it",
				set->p[i].k.name, c, attach);
			n++;
		}
	return n;
}
