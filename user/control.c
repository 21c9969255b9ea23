// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include "agent.h"
#include "config.h"
#include "control.h"
#include "ctl_proto.h"
#include "log.h"
#include "sockets.h"
#include "status.h"

/* A client that has not sent its request by then is closed. */
#define CTL_REQUEST_TIMEOUT_NS (5 * 1000000000ULL)
/* Room kept in a reader's queue for the note of what it missed. */
#define MISSED_NOTE 160

struct client {
	struct control *c;
	int fd;
	bool used, streaming, closing;
	bool walking;		/* waits for a walk of existing connections */
	uid_t uid;		/* the peer's (SO_PEERCRED) */
	__u64 since_ns;		/* accepted, CLOCK_MONOTONIC */
	char in[CTL_REQUEST_MAX + 1];
	size_t in_len;
	char *q;		/* queued output */
	size_t q_len, q_off, q_max;
	__u64 missed;		/* events not queued since the last note */
	enum format_kind format;
	bool trace;
	struct event_filter filter;
	struct agent_sink sink;
};

struct control {
	struct nfsg_agent *a;
	int dir_fd, fd;
	char path[PATH_MAX];	/* as given, for messages */
	char base[NAME_MAX + 1];
	char at[PATH_MAX];	/* /proc/self/fd/<dir_fd>/<base> */
	gid_t gid;
	bool group;
	struct client clients[CTL_MAX_CLIENTS];
};

/*
 * Open the directory of path (its parent components walked from "/"
 * without following links, each root's and writable by no one else
 * unless sticky); create it (0755) if missing; check it is root's and
 * writable by no group or other.
 */
static int open_dir(const char *dir, int *out)
{
	char comp[NAME_MAX + 1];
	const char *s = dir, *e;
	struct stat st;
	int fd, next, err = 0;
	bool last;

	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (*s) {
		s += strspn(s, "/");
		if (!*s)
			break;
		e = s + strcspn(s, "/");
		last = !e[strspn(e, "/")];
		if ((size_t)(e - s) > NAME_MAX ||
		    (e - s == 1 && *s == '.') || (e - s == 2 && !strncmp(s, "..", 2))) {
			err = -EINVAL;
			break;
		}
		memcpy(comp, s, e - s);
		comp[e - s] = '\0';
		s = e;
		if (last && mkdirat(fd, comp, 0755) && errno != EEXIST) {
			err = -errno;
			break;
		}
		next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					O_CLOEXEC);
		if (next < 0) {
			err = errno == ELOOP ? -ENOTDIR : -errno;
			break;
		}
		close(fd);
		fd = next;
		if (fstat(fd, &st)) {
			err = -errno;
			break;
		}
		if ((st.st_uid != 0 && st.st_uid != geteuid()) ||
		    ((st.st_mode & (S_IWGRP | S_IWOTH)) &&
		     (last || !(st.st_mode & S_ISVTX)))) {
			err = -EPERM;
			break;
		}
	}
	if (err) {
		close(fd);
		return err;
	}
	*out = fd;
	return 0;
}

/* Is a socket at base in dir_fd served? Remove it if stale. */
static int clear_stale(struct control *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, err = 0;

	if (fstatat(c->dir_fd, c->base, &st, AT_SYMLINK_NOFOLLOW))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		log_err("refusing control socket %s: it is not a socket: remove it as root, or give another --control",
			c->path);
		return -EEXIST;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", c->at);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		log_err("another nfsguard agent serves %s: stop it first, or give this one another --control",
			c->path);
		err = -EBUSY;
	} else if (errno == ECONNREFUSED) {
		log_info("replacing the stale control socket %s", c->path);
		if (unlinkat(c->dir_fd, c->base, 0) && errno != ENOENT)
			err = -errno;
	} else {
		err = -errno;
	}
	close(fd);
	return err;
}

int control_open(struct control **out, struct nfsg_agent *a, const char *path,
		 const char *group)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct control *c;
	char dir[PATH_MAX], *slash;
	struct group *gr;
	mode_t old;
	int err, i;

	*out = NULL;
	if (!path)
		return 0;
	c = calloc(1, sizeof(*c));
	if (!c) {
		log_err("out of memory");
		return -ENOMEM;
	}
	c->a = a;
	c->dir_fd = c->fd = -1;
	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		c->clients[i].fd = -1;
	snprintf(c->path, sizeof(c->path), "%s", path);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (path[0] != '/' || !slash || !slash[1] || strlen(slash + 1) > NAME_MAX) {
		log_err("invalid control socket path '%s': give an absolute path", path);
		err = -EINVAL;
		goto fail;
	}
	snprintf(c->base, sizeof(c->base), "%s", slash + 1);
	*slash = '\0';
	if (group) {
		gr = getgrnam(group);
		if (!gr) {
			log_err("no group '%s' for the control socket: create it, or leave out the group",
				group);
			err = -ENOENT;
			goto fail;
		}
		c->gid = gr->gr_gid;
		c->group = true;
	}
	err = open_dir(dir[0] ? dir : "/", &c->dir_fd);
	if (err) {
		log_err("cannot use %s for the control socket: %s: it must be a real directory of root's, writable by no group or other",
			dir[0] ? dir : "/",
			err == -EPERM ? "owned by another user or writable by others"
				      : strerror(-err));
		goto fail;
	}
	snprintf(c->at, sizeof(c->at), "/proc/self/fd/%d/%s", c->dir_fd, c->base);
	if (strlen(c->at) >= sizeof(sa.sun_path)) {
		log_err("control socket name '%s' is too long", c->base);
		err = -ENAMETOOLONG;
		goto fail;
	}
	err = clear_stale(c);
	if (err)
		goto fail;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		err = -errno;
		log_err("cannot create the control socket: %s", strerror(-err));
		goto fail;
	}
	memcpy(sa.sun_path, c->at, strlen(c->at));
	old = umask(0177);	/* 0600 from the start */
	err = bind(c->fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	umask(old);
	if (!err && c->group &&
	    (fchownat(c->dir_fd, c->base, 0, c->gid, AT_SYMLINK_NOFOLLOW) ||
	     fchmodat(c->dir_fd, c->base, 0660, 0)))
		err = -errno;
	if (!err && listen(c->fd, 16))
		err = -errno;
	if (err) {
		log_err("cannot serve the control socket %s: %s", c->path,
			strerror(-err));
		goto fail;
	}
	*out = c;
	return 0;
fail:
	control_close(c);
	return err;
}

int control_watch(struct control *c, int epoll_fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };

	if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, c->fd, &ev)) {
		log_err("cannot wait on the control socket: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

const char *control_path(const struct control *c)
{
	return c ? c->path : NULL;
}

unsigned int control_readers(const struct control *c)
{
	unsigned int n = 0;
	int i;

	for (i = 0; c && i < CTL_MAX_CLIENTS; i++)
		n += c->clients[i].used && c->clients[i].streaming;
	return n;
}

static void drop_client(struct client *cl)
{
	if (!cl->used)
		return;
	if (cl->streaming)
		agent_remove_sink(cl->c->a, &cl->sink);
	if (cl->walking)
		agent_walk_forget(cl->c->a, cl);
	close(cl->fd);
	free(cl->q);
	memset(cl, 0, sizeof(*cl));
	cl->fd = -1;
}

/* Queue n bytes, or false if they do not fit in what is left. */
static bool enqueue(struct client *cl, const char *s, size_t n, size_t keep)
{
	char *grown;
	size_t cap;

	if (cl->q_off && cl->q_off == cl->q_len)
		cl->q_off = cl->q_len = 0;
	if (cl->q_len - cl->q_off + n + keep > cl->q_max)
		return false;
	if (cl->q_off > cl->q_max / 2) {
		memmove(cl->q, cl->q + cl->q_off, cl->q_len - cl->q_off);
		cl->q_len -= cl->q_off;
		cl->q_off = 0;
	}
	cap = cl->q_len + n;
	grown = realloc(cl->q, cap ? cap : 1);
	if (!grown)
		return false;
	cl->q = grown;
	memcpy(cl->q + cl->q_len, s, n);
	cl->q_len += n;
	return true;
}

static void note_missed(struct client *cl, __u64 wall_ns)
{
	char line[MISSED_NOTE], when[48];
	int n;

	if (!cl->missed)
		return;
	format_rfc3339(wall_ns, when, sizeof(when));
	if (cl->format == FORMAT_JSON)
		n = snprintf(line, sizeof(line),
			     "{\"time\":\"%s\",\"type\":\"missed\",\"count\":%llu}\n",
			     when, (unsigned long long)cl->missed);
	else
		n = snprintf(line, sizeof(line),
			     "%s %llu events missed: this reader was too slow\n",
			     when, (unsigned long long)cl->missed);
	if (enqueue(cl, line, n, 0))
		cl->missed = 0;
}

static void reader_event(void *ctx, struct agent_event *ev)
{
	struct client *cl = ctx;
	const struct nfsg_event *e = ev->e;
	const char *line;
	size_t len;

	if (!cl->trace && e->kind >= NFSG_EV_ESTABLISHED &&
	    e->kind <= NFSG_EV_CLOSED)
		return;
	if (!filter_match(&cl->filter, e, ev->n.cgroup))
		return;
	note_missed(cl, ev->n.wall_ns);
	line = agent_event_line(ev, cl->format, &len);
	if (cl->missed || !line || !enqueue(cl, line, len, MISSED_NOTE))
		cl->missed++;
}

static void reader_dropped(void *ctx, __u64 count, __u64 wall_ns)
{
	struct client *cl = ctx;
	char line[MISSED_NOTE], when[48];
	int n;

	note_missed(cl, wall_ns);
	format_rfc3339(wall_ns, when, sizeof(when));
	n = cl->format == FORMAT_JSON
		    ? snprintf(line, sizeof(line),
			       "{\"time\":\"%s\",\"type\":\"dropped\",\"count\":%llu}\n",
			       when, (unsigned long long)count)
		    : snprintf(line, sizeof(line),
			       "%s %llu events dropped: the ring buffer was full\n",
			       when, (unsigned long long)count);
	if (cl->missed || !enqueue(cl, line, n, MISSED_NOTE))
		cl->missed++;
}

/* The answer to a request that is done once it is written. */
static void answer(struct client *cl, FILE *mem, char *buf, size_t len)
{
	if (mem)
		fclose(mem);
	cl->q_max = len + 1;
	if (!buf || !enqueue(cl, buf, len, 0))
		drop_client(cl);
	else
		cl->closing = true;
	free(buf);
}

static void do_reload(struct client *cl, enum format_kind format)
{
	struct config_errors errs = {};
	char *buf = NULL;
	size_t len = 0, i;
	FILE *m = open_memstream(&buf, &len);
	int err;

	if (!m) {
		drop_client(cl);
		return;
	}
	err = agent_reload(cl->c->a, &errs);
	/* A good reload's messages are warnings: settings it cannot apply. */
	fprintf(m, "{\"ok\":%s,\"type\":\"reload\",\"generation\":%u,\"%s\":[",
		err ? "false" : "true", cl->c->a->gen, err ? "errors" : "warnings");
	for (i = 0; i < errs.n; i++) {
		fprintf(m, "%s{\"line\":%d,\"message\":", i ? "," : "",
			errs.line[i]);
		format_json_string(m, errs.msg[i], strlen(errs.msg[i]));
		fputs("}", m);
	}
	fputs("]}\n", m);
	if (!err && format == FORMAT_TEXT)
		fprintf(m, "reloaded: generation %u active\n", cl->c->a->gen);
	for (i = 0; format == FORMAT_TEXT && i < errs.n; i++) {
		if (!err)
			fputs("warning: ", m);
		format_text_string(m, errs.msg[i], strlen(errs.msg[i]), 0);
		fputc('\n', m);
	}
	config_errors_free(&errs);
	fflush(m);
	answer(cl, m, buf, len);
}

static void do_status(struct client *cl, enum format_kind format)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (!m) {
		drop_client(cl);
		return;
	}
	status_of_agent(m, format == FORMAT_JSON, cl->c->a);
	fflush(m);
	answer(cl, m, buf, len);
}

static void do_events(struct client *cl, const struct ctl_request *r)
{
	struct nfsg_agent *a = cl->c->a;
	bool tracing = a->g.trace[0];
	char line[512];
	int n;

	cl->format = r->format;
	cl->filter = r->filter;
	cl->trace = r->trace;
	cl->q_max = r->queue;
	n = snprintf(line, sizeof(line),
		     "{\"ok\":true,\"type\":\"subscribed\",\"tracing\":%s%s}\n",
		     tracing ? "true" : "false",
		     r->trace && !tracing
			     ? ",\"hint\":\"tracing of allowed connects is off in this agent: start it with --trace (e.g. ExecStart=... run --persist --trace)\""
			     : "");
	if (!enqueue(cl, line, n, 0)) {
		drop_client(cl);
		return;
	}
	cl->sink = (struct agent_sink){ .event = reader_event,
					.dropped = reader_dropped, .ctx = cl };
	agent_add_sink(a, &cl->sink);
	cl->streaming = true;
}

struct sockets_answer {
	struct nfsg_agent *a;
	FILE *m;
	enum format_kind format;
};

static void sockets_line(void *ctx, const struct sockets_entry *se)
{
	struct sockets_answer *s = ctx;
	struct format_names n = {
		.wall_ns = se->ev->e.ts_boot_ns + s->a->boot_to_wall_ns,
		.cgroup = se->cgroup,
		.policy = se->policy,
	};

	agent_existing_event(s->a, se);
	if (!s->m)
		return;		/* events only: no room for the answer */
	if (s->format == FORMAT_JSON)
		format_event(s->m, FORMAT_JSON, &se->ev->e, &n);
	else
		format_socket_text(s->m, &se->ev->e, &n);
}

/* Existing connections: one JSON line of totals, then a line a socket
 * (JSON lines, or the two-row text table), once the walk has ended. */
static void sockets_done(struct nfsg_agent *a, void *ctx,
			 struct sockets_job *job)
{
	struct client *cl = ctx;
	char *rows = NULL, *buf = NULL;
	size_t rows_len = 0, len = 0;
	struct sockets_answer s = { .a = a, .format = cl->format };
	struct sockets_result res;
	FILE *m;
	int err;

	cl->walking = false;
	s.m = open_memstream(&rows, &rows_len);
	if (s.m && cl->format == FORMAT_TEXT)
		format_socket_header(s.m);
	a->boot_to_wall_ns = agent_clock_ns(CLOCK_REALTIME) -
			     agent_clock_ns(CLOCK_BOOTTIME);
	/* The events go out whatever becomes of the answer. */
	err = sockets_finish(job, sockets_line, &s, &res);
	if (!s.m) {
		drop_client(cl);
		return;
	}
	fclose(s.m);
	m = open_memstream(&buf, &len);
	if (!m) {
		free(rows);
		drop_client(cl);
		return;
	}
	if (err)
		fprintf(m, "{\"ok\":false,\"type\":\"sockets\",\"error\":\"%s\"}\n",
			strerror(-err));
	else
		fprintf(m, "{\"ok\":true,\"type\":\"sockets\",\"listing\":\"%s\",\"destroy\":\"%s\",\"holders_from\":\"%s\",\"netns\":%u,\"netns_skipped\":%u,\"found\":%u,\"violating\":%u,\"destroyed\":%u,\"failed\":%u}\n",
			probe_sockets_name(&a->plan), probe_destroy_name(&a->plan),
			probe_holders_name(&a->plan), res.netns, res.netns_skipped, res.found, res.violating,
			res.destroyed, res.failed);
	if (!err && rows)
		fwrite(rows, 1, rows_len, m);
	free(rows);
	fflush(m);
	answer(cl, m, buf, len);
}

/* Has the peer of fd gone (closed, or shut its side)? */
static bool peer_gone(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLRDHUP };

	return poll(&p, 1, 0) > 0 &&
	       (p.revents & (POLLHUP | POLLRDHUP | POLLERR | POLLNVAL));
}

/*
 * Unpin, detach and stop: for root only, for this agent's pins only, and
 * for a client still there (one that gave up waiting, on an agent stopped
 * a while, is not answered: nothing is done for it). The first line says
 * what happened, "reason" in a code: not_root, not_this_pin_dir, or an
 * errno's name; the pins removed follow.
 */
static void do_uninstall(struct client *cl, const struct ctl_request *r)
{
	const struct agent_opts *o = cl->c->a->o;
	char *rows = NULL, *buf = NULL, num[16];
	const char *reason = NULL, *error = NULL;
	size_t rows_len = 0, len = 0;
	FILE *rm, *m;
	int err = 0;

	if (peer_gone(cl->fd)) {
		log_warn("control: an uninstall request from uid %u whose client is gone: not done",
			 (unsigned)cl->uid);
		drop_client(cl);
		return;
	}
	rm = open_memstream(&rows, &rows_len);
	m = rm ? open_memstream(&buf, &len) : NULL;
	if (!m) {
		if (rm)
			fclose(rm);
		free(rows);
		drop_client(cl);
		return;
	}
	if (cl->uid) {
		reason = "not_root";
		error = "root only";
		log_warn("control: refused an uninstall request from uid %u: root only",
			 (unsigned)cl->uid);
	} else {
		err = agent_uninstall(cl->c->a, r->pin_dir, rm);
		if (err == -ESRCH) {
			reason = "not_this_pin_dir";
			error = "not this agent's pin directory";
		} else if (err < 0 && err != -ENOTEMPTY) {
			reason = format_errno_name(-err, num, sizeof(num));
			error = strerror(-err);
		}
	}
	fclose(rm);
	if (!reason) {
		fprintf(m, "{\"ok\":true,\"type\":\"uninstall\",\"pid\":%d,\"kept\":%s}\n",
			(int)getpid(), err == -ENOTEMPTY ? "true" : "false");
	} else {
		fprintf(m, "{\"ok\":false,\"type\":\"uninstall\",\"reason\":\"%s\",\"error\":\"%s\",\"pin_dir\":",
			reason, error);
		format_json_string(m, o->persist ? o->pin_dir : "",
				   o->persist ? strlen(o->pin_dir) : 0);
		fputs("}\n", m);
	}
	if (rows)
		fwrite(rows, 1, rows_len, m);
	free(rows);
	fflush(m);
	answer(cl, m, buf, len);
}

static void refuse(struct client *cl, const char *why);

/* The walk runs off the loop: the answer comes when it ends. */
static void do_sockets(struct client *cl, const struct ctl_request *r)
{
	cl->format = r->format;
	if (agent_walk(cl->c->a, r->destroy ? NFSG_ITER_ALL : NFSG_ITER_LIST,
		       sockets_done, cl)) {
		refuse(cl, "too many walks of existing connections wait: ask again later");
		return;
	}
	cl->walking = true;
}

static void refuse(struct client *cl, const char *why)
{
	char line[256], *copy;
	int n;

	n = snprintf(line, sizeof(line), "{\"ok\":false,\"error\":\"%s\"}\n", why);
	copy = malloc(n);
	if (copy)
		memcpy(copy, line, n);
	answer(cl, NULL, copy, n);
}

static void handle_request(struct client *cl)
{
	struct ctl_request r;
	char why[128], safe[128];
	size_t i;

	if (ctl_parse(cl->in, cl->in_len, &r, why, sizeof(why))) {
		/* why is ours, but keep it plain JSON whatever it says. */
		for (i = 0; why[i] && i < sizeof(safe) - 1; i++)
			safe[i] = why[i] == '"' || why[i] == '\\' ? '\'' : why[i];
		safe[i] = '\0';
		refuse(cl, safe);
		return;
	}
	log_debug("control: %s request", r.cmd == CTL_STATUS ? "status"
					 : r.cmd == CTL_RELOAD ? "reload"
					 : r.cmd == CTL_SOCKETS ? "sockets"
					 : r.cmd == CTL_UNINSTALL ? "uninstall"
								  : "events");
	if (r.cmd == CTL_UNINSTALL)
		do_uninstall(cl, &r);
	else if (r.cmd == CTL_SOCKETS)
		do_sockets(cl, &r);
	else if (r.cmd == CTL_STATUS)
		do_status(cl, r.format);
	else if (r.cmd == CTL_RELOAD)
		do_reload(cl, r.format);
	else
		do_events(cl, &r);
}

/* Read what the client sent; at most one line, CTL_REQUEST_MAX bytes. */
static void client_read(struct client *cl)
{
	char *nl;
	ssize_t n;

	if (cl->closing || cl->streaming || cl->walking) {
		/* Nothing more is read: EOF or junk ends a reader. */
		char junk[256];

		n = recv(cl->fd, junk, sizeof(junk), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			drop_client(cl);
		return;
	}
	n = recv(cl->fd, cl->in + cl->in_len, CTL_REQUEST_MAX + 1 - cl->in_len,
		 MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		drop_client(cl);
		return;
	}
	cl->in_len += n;
	nl = memchr(cl->in, '\n', cl->in_len);
	if (!nl) {
		if (cl->in_len > CTL_REQUEST_MAX)
			refuse(cl, "request too long");
		return;
	}
	cl->in_len = nl - cl->in;
	handle_request(cl);
}

/* Root, or a member of the configured group; *uid is the peer's. */
static bool peer_allowed(const struct control *c, int fd, uid_t *uid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	gid_t groups[256];
	size_t i;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len))
		return false;
	*uid = cred.uid;
	if (cred.uid == 0)
		return true;
	if (!c->group)
		return false;
	if (cred.gid == c->gid)
		return true;
	len = sizeof(groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len))
		return false;
	for (i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == c->gid)
			return true;
	return false;
}

static void accept_clients(struct control *c)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct client *cl;
	uid_t uid = 0;
	int fd, i;

	while ((fd = accept4(c->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		if (!peer_allowed(c, fd, &uid)) {
			log_warn("control: refused a client that is neither root nor in the control group");
			close(fd);
			continue;
		}
		for (i = 0; i < CTL_MAX_CLIENTS && c->clients[i].used; i++)
			;
		if (i == CTL_MAX_CLIENTS) {
			log_warn("control: %d clients already: refused another",
				 CTL_MAX_CLIENTS);
			close(fd);
			continue;
		}
		cl = &c->clients[i];
		memset(cl, 0, sizeof(*cl));
		cl->c = c;
		cl->fd = fd;
		cl->uid = uid;
		cl->used = true;
		cl->q_max = CTL_QUEUE_DEFAULT;
		cl->since_ns = agent_clock_ns(CLOCK_MONOTONIC);
		ev.data.ptr = cl;
		if (epoll_ctl(c->a->epoll_fd, EPOLL_CTL_ADD, fd, &ev)) {
			log_err("control: cannot wait on a client: %s", strerror(errno));
			drop_client(cl);
		}
	}
	if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
		log_err("control: accept failed: %s", strerror(errno));
}

void control_ready(struct control *c, void *tag, __u32 events)
{
	struct client *cl = tag;

	if (!c)
		return;
	if (tag == c) {
		accept_clients(c);
		return;
	}
	if (cl < c->clients || cl >= c->clients + CTL_MAX_CLIENTS || !cl->used)
		return;
	client_read(cl);
	if (cl->used && (events & (EPOLLHUP | EPOLLERR)) && !cl->streaming &&
	    !cl->closing)
		drop_client(cl);
}

void control_flush(struct control *c)
{
	struct client *cl;
	__u64 now = agent_clock_ns(CLOCK_MONOTONIC);
	ssize_t n;
	int i;

	for (i = 0; c && i < CTL_MAX_CLIENTS; i++) {
		cl = &c->clients[i];
		if (!cl->used)
			continue;
		while (cl->q_len > cl->q_off) {
			n = send(cl->fd, cl->q + cl->q_off, cl->q_len - cl->q_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && errno == EAGAIN)
				break;
			if (n <= 0) {
				drop_client(cl);
				break;
			}
			cl->q_off += n;
		}
		if (!cl->used)
			continue;
		if (cl->closing && cl->q_off == cl->q_len)
			drop_client(cl);
		else if (!cl->streaming && !cl->closing && !cl->walking &&
			 now - cl->since_ns > CTL_REQUEST_TIMEOUT_NS)
			drop_client(cl);
	}
}

void control_close(struct control *c)
{
	int i;

	if (!c)
		return;
	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		drop_client(&c->clients[i]);
	if (c->fd >= 0) {
		close(c->fd);
		/* Ours: the directory is root's and unwritable by others. */
		unlinkat(c->dir_fd, c->base, 0);
	}
	if (c->dir_fd >= 0)
		close(c->dir_fd);
	free(c);
}

int control_connect(const char *path, const char *request)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(request), off = 0;
	ssize_t n;
	int fd, err;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		close(fd);
		return err;
	}
	while (off < len) {
		n = send(fd, request + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : -EPIPE;
			close(fd);
			return err;
		}
		off += n;
	}
	return fd;
}

long control_read_all(int fd, char **buf, size_t max)
{
	size_t len = 0, cap = 65536;
	char *b = malloc(cap + 1), *grown;
	ssize_t n;

	if (!b)
		return -ENOMEM;
	for (;;) {
		if (len == cap) {
			if (cap >= max) {
				free(b);
				return -E2BIG;
			}
			cap *= 2;
			grown = realloc(b, cap + 1);
			if (!grown) {
				free(b);
				return -ENOMEM;
			}
			b = grown;
		}
		n = read(fd, b + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			n = -errno;
			free(b);
			return n;
		}
		if (!n)
			break;
		len += n;
	}
	b[len] = '\0';
	*buf = b;
	return len;
}

int control_ask(const char *path, const char *request, size_t max,
		const char *start_hint, char **buf, long *len)
{
	int fd = control_connect(path, request);

	*buf = NULL;
	*len = 0;
	if (fd == -ENOENT || fd == -ECONNREFUSED) {
		log_err("no running agent serves %s: start one with %s", path,
			start_hint);
		return 3;
	}
	if (fd < 0) {
		log_err("cannot reach the agent at %s: %s%s", path, strerror(-fd),
			fd == -EACCES ? ": run as root, or as a member of its control group" : "");
		return 1;
	}
	*len = control_read_all(fd, buf, max);
	close(fd);
	if (*len > 0)
		return 0;
	log_err("the agent at %s gave no answer: %s", path,
		*len ? strerror(-*len) : "it closed the connection");
	free(*buf);
	*buf = NULL;
	return 1;
}
