// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Existing connections: listed, judged, aborted (see sockets.h). */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include "guard.skel.h"
#include "agent.h"
#include "log.h"
#include "sockdiag.h"
#include "sockets.h"

/* Bounds on what a scan takes in, whatever the machine holds. */
#define MAX_NETNS 4096
#define MAX_RECORDS 65536
#define NSFS_MAGIC_NUMBER 0x6e736673
/* TCP states listed: connecting, established, and half-closed by the
 * peer (still writable). include/net/tcp_states.h. */
#define ST_ESTABLISHED 1
#define ST_SYN_SENT 2
#define ST_CLOSE_WAIT 8
#define LISTED_STATES ((1U << ST_ESTABLISHED) | (1U << ST_SYN_SENT) | \
		       (1U << ST_CLOSE_WAIT))

struct ns {
	int fd;			/* -1: the agent's own */
	__u64 ino;
};

struct rec {
	struct nfsg_sock_record r;
	size_t ns;		/* index in scan.ns */
	__u32 pids[NFSG_SOCK_PIDS];
	__u32 n_pids;
	__u32 holder_gid;	/* of the socket's inode, via a holder's fd */
	__u32 last_pid;		/* the last process found holding it */
	char comm[NFSG_COMM_LEN];
};

struct scan {
	struct nfsg_agent *a;
	struct sockets_result *res;
	struct ns *ns;
	size_t n_ns;
	struct rec *r;
	size_t n, cap;
	size_t cur_ns;		/* the namespace being dumped */
	int home;		/* our thread's own netns, to come back */
	char root[NFSG_PATH_LEN * 4];	/* the attach point; "" for the root */
};

static struct rec *rec_add(struct scan *s)
{
	struct rec *grown;

	if (s->n == s->cap) {
		if (s->cap >= MAX_RECORDS)
			return NULL;
		grown = realloc(s->r, (s->cap ? 2 * s->cap : 64) * sizeof(*s->r));
		if (!grown)
			return NULL;
		s->r = grown;
		s->cap = s->cap ? 2 * s->cap : 64;
	}
	memset(&s->r[s->n], 0, sizeof(s->r[s->n]));
	s->r[s->n].ns = s->cur_ns;
	return &s->r[s->n++];
}

/* Add the namespace of fd (taken over) unless it is known; -1 if full. */
static int ns_add(struct scan *s, int fd)
{
	struct statfs sf;
	struct stat st;
	struct ns *grown;
	size_t i;

	if (fstat(fd, &st) || fstatfs(fd, &sf) || sf.f_type != NSFS_MAGIC_NUMBER)
		goto drop;
	for (i = 0; i < s->n_ns; i++)
		if (s->ns[i].ino == st.st_ino)
			goto drop;
	if (s->n_ns >= MAX_NETNS)
		goto drop;
	grown = realloc(s->ns, (s->n_ns + 1) * sizeof(*s->ns));
	if (!grown)
		goto drop;
	s->ns = grown;
	s->ns[s->n_ns].fd = fd;
	s->ns[s->n_ns].ino = st.st_ino;
	s->n_ns++;
	return 0;
drop:
	close(fd);
	return 0;
}

/* Every network namespace in sight: ours first (fd -1), then those of
 * processes, then those ip-netns keeps. */
static int collect_netns(struct scan *s)
{
	char path[64 + 256];
	struct dirent *d;
	struct stat st;
	DIR *dir;
	int fd;

	if (stat("/proc/thread-self/ns/net", &st))
		return -errno;
	s->ns = malloc(sizeof(*s->ns));
	if (!s->ns)
		return -ENOMEM;
	s->ns[0] = (struct ns){ .fd = -1, .ino = st.st_ino };
	s->n_ns = 1;
	dir = opendir("/proc");
	while (dir && (d = readdir(dir))) {
		if (!isdigit((unsigned char)d->d_name[0]) ||
		    strlen(d->d_name) > 10)
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/net", d->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0)
			ns_add(s, fd);
	}
	if (dir)
		closedir(dir);
	dir = opendir("/run/netns");
	while (dir && (d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		fd = openat(dirfd(dir), d->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd >= 0)
			ns_add(s, fd);
	}
	if (dir)
		closedir(dir);
	return 0;
}

static int enter(struct scan *s, size_t i)
{
	if (s->ns[i].fd < 0)
		return 0;
	return setns(s->ns[i].fd, CLONE_NEWNET) ? -errno : 0;
}

static int leave(struct scan *s, size_t i)
{
	if (s->ns[i].fd < 0)
		return 0;
	if (setns(s->home, CLONE_NEWNET)) {
		log_err("cannot return to the agent's network namespace: %s",
			strerror(errno));
		return -errno;
	}
	return 0;
}

/* One walk of the iterator in namespace i: its records, judged. */
static int walk_iter(struct scan *s, size_t i)
{
	size_t len = 0, cap = 64 * sizeof(struct nfsg_sock_record), k;
	char *buf = malloc(cap), *grown;
	int fd = -1, err;
	struct rec *r;
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	err = enter(s, i);
	if (err)
		goto out;
	fd = guard_iter_open(&s->a->g);
	err = leave(s, i);
	if (fd < 0 || err) {
		err = fd < 0 ? fd : err;
		goto out;
	}
	for (;;) {
		if (len == cap) {
			if (cap >= MAX_RECORDS * sizeof(struct nfsg_sock_record)) {
				err = -E2BIG;
				goto out;
			}
			grown = realloc(buf, 2 * cap);
			if (!grown) {
				err = -ENOMEM;
				goto out;
			}
			buf = grown;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			log_err("reading the socket iterator failed: %s",
				strerror(-err));
			goto out;
		}
		if (!n)
			break;
		len += n;
	}
	if (len % sizeof(struct nfsg_sock_record)) {
		log_err("the socket iterator wrote %zu bytes, not whole records: agent and programs are from different builds",
			len);
		err = -EBADMSG;
		goto out;
	}
	s->cur_ns = i;
	for (k = 0; k < len; k += sizeof(struct nfsg_sock_record)) {
		r = rec_add(s);
		if (!r) {
			err = -E2BIG;
			goto out;
		}
		memcpy(&r->r, buf + k, sizeof(r->r));
		r->r.netns = s->ns[i].ino;
	}
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return err;
}

/* A dumped socket: kept for judging if some policy governs its port. */
static int dumped(const struct sockdiag_info *i, void *data)
{
	struct scan *s = data;
	struct rec *r;

	r = rec_add(s);
	if (!r)
		return -E2BIG;
	r->r.cookie = i->s.cookie;
	r->r.cgroup_id = i->cgroup_id ? i->cgroup_id : 1;
	r->r.ino = i->ino;
	memcpy(r->r.saddr, i->s.saddr, sizeof(r->r.saddr));
	memcpy(r->r.daddr, i->s.daddr, sizeof(r->r.daddr));
	r->r.uid = i->uid;
	r->r.gid = NFSG_ID_UNKNOWN;
	r->r.netns = s->ns[s->cur_ns].ino;
	r->r.destroyed = NFSG_NOT_DESTROYED;
	r->r.family = i->s.family;
	r->r.sport = i->s.sport;
	r->r.dport = i->s.dport;
	r->r.protocol = NFSG_PROTO_TCP;
	r->r.state = i->state;
	return 0;
}

static int walk_diag(struct scan *s, size_t i)
{
	int fd = sockdiag_open(s->ns[i].fd), err;

	if (fd < 0)
		return fd;
	s->cur_ns = i;
	err = sockdiag_dump_tcp(fd, AF_INET, LISTED_STATES, dumped, s);
	if (!err)
		err = sockdiag_dump_tcp(fd, AF_INET6, LISTED_STATES, dumped, s);
	close(fd);
	return err;
}

static int by_ino(const void *x, const void *y)
{
	const struct rec *a = x, *b = y;

	return a->r.ino < b->r.ino ? -1 : a->r.ino > b->r.ino;
}

/* "socket:[N]" of a link to a socket; 0 for anything else. */
static __u64 socket_link_ino(int dir, const char *name)
{
	char link[64], *end;
	unsigned long long ino;
	ssize_t n;

	n = readlinkat(dir, name, link, sizeof(link) - 1);
	if (n <= 9 || strncmp(link, "socket:[", 8) || link[n - 1] != ']')
		return 0;
	link[n - 1] = '\0';
	errno = 0;
	ino = strtoull(link + 8, &end, 10);
	return errno || *end ? 0 : ino;
}

static void read_comm(const char *pid, char comm[NFSG_COMM_LEN])
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%s/comm", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, comm, NFSG_COMM_LEN - 1);
	close(fd);
	if (n < 0)
		n = 0;
	comm[n] = '\0';
	comm[strcspn(comm, "\n")] = '\0';
}

/*
 * The processes holding each socket, by a walk of /proc/PID/fd (bounded:
 * links of at most 63 bytes, numbers checked). A process whose fds we
 * may not read (another user's, without CAP_SYS_PTRACE) is not found.
 */
static void find_holders(struct scan *s)
{
	char path[64], *pid;
	struct dirent *d, *f;
	struct rec key, *r;
	struct stat st;
	DIR *proc, *fds;
	__u32 npid;
	int dir;

	if (!s->n)
		return;
	qsort(s->r, s->n, sizeof(*s->r), by_ino);
	proc = opendir("/proc");
	while (proc && (d = readdir(proc))) {
		pid = d->d_name;
		if (!isdigit((unsigned char)pid[0]) || strlen(pid) > 10)
			continue;
		npid = strtoul(pid, NULL, 10);
		snprintf(path, sizeof(path), "/proc/%s/fd", pid);
		dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		fds = dir >= 0 ? fdopendir(dir) : NULL;
		if (!fds) {
			if (dir >= 0)
				close(dir);
			continue;
		}
		while ((f = readdir(fds))) {
			key.r.ino = socket_link_ino(dir, f->d_name);
			if (!key.r.ino)
				continue;
			r = bsearch(&key, s->r, s->n, sizeof(*s->r), by_ino);
			if (!r)
				continue;
			if (r->last_pid == npid)
				continue;	/* another fd of the same process */
			if (!r->n_pids && !fstatat(dir, f->d_name, &st, 0)) {
				r->holder_gid = st.st_gid;
				read_comm(pid, r->comm);
			}
			if (r->n_pids < NFSG_SOCK_PIDS)
				r->pids[r->n_pids] = npid;
			r->n_pids++;
			r->last_pid = npid;
		}
		closedir(fds);
	}
	if (proc)
		closedir(proc);
}

static bool in_ranges(const struct nfsg_range *r, __u8 n, __u32 v)
{
	__u8 i;

	for (i = 0; i < n && i < NFSG_MAX_RANGES; i++)
		if (v >= r[i].lo && v <= r[i].hi)
			return true;
	return false;
}

static bool id_privileged(const struct nfsg_range *r, __u8 n, __u32 id)
{
	return id != NFSG_ID_UNKNOWN && in_ranges(r, n, id);
}

static bool dest_in(const struct policy *p, const __u8 mapped[16])
{
	const struct policy_cidr *c;
	__u32 bits, i;
	size_t k;

	for (k = 0; k < p->n_dests; k++) {
		c = &p->dests[k];
		bits = c->prefixlen > 128 ? 128 : c->prefixlen;
		for (i = 0; i < bits; i++)
			if ((mapped[i / 8] ^ c->addr[i / 8]) & (0x80 >> (i % 8)))
				break;
		if (i == bits)
			return true;
	}
	return false;
}

/* The policy named for path or its nearest ancestor, else the default. */
static size_t policy_of(const struct policy_set *set, const char *path)
{
	size_t best = 0, best_len = 0, i, j, n;

	if (!set->n || (set->p[0].k.flags & NFSG_POLICY_SOLE))
		return 0;
	for (i = 1; i < set->n; i++)
		for (j = 0; j < set->p[i].n_cgroups; j++) {
			n = strlen(set->p[i].cgroups[j]);
			if (n > best_len && !strncmp(path, set->p[i].cgroups[j], n) &&
			    (path[n] == '\0' || path[n] == '/')) {
				best = i;
				best_len = n;
			}
		}
	return best;
}

/*
 * The sock_diag path's judge: judge()'s semantics (include/guard.h) on
 * what a dump and /proc tell, with the agent's active policy set.
 *   - the policy: the one named for the socket's cgroup (its path from
 *     INET_DIAG_CGROUP_ID) or nearest ancestor, else the default;
 *   - governed: mode not off, TCP governed, the port in its ranges;
 *   - the owner: idiag_uid is sk_uid; the gid is the socket inode's, read
 *     through a holder's fd, NFSG_ID_UNKNOWN (never privileged) if none;
 *   - a kernel socket: sock_diag cannot say; a uid-0 socket no process
 *     holds is taken for one, and passes, as judge() passes the kernel's;
 *   - allowed if privileged and in the allow-list (if any), else refused
 *     or audited by the mode, with the same reason.
 * Returns the verdict (0: not governed) in r.
 */
static void judge_user(struct scan *s, struct rec *r)
{
	const struct policy_set *set = agent_policy(s->a);
	const struct policy *p;
	char path[NFSG_PATH_LEN * 4];
	__u8 mapped[16] = {};
	bool privileged;
	size_t idx, n;

	r->r.verdict = 0;
	if (!set->n || (r->r.uid == 0 && !r->n_pids))
		return;
	snprintf(path, sizeof(path), "%s", cgroup_path(&s->a->cg, r->r.cgroup_id));
	/* Outside the attach point no hook of ours governs it (and an
	 * unresolvable path is no proof of being inside). */
	n = strlen(s->root);
	if (n && (strncmp(path, s->root, n) || (path[n] && path[n] != '/')))
		return;
	idx = policy_of(set, path);
	p = &set->p[idx];
	r->r.policy = idx;
	r->r.gen = s->a->gen;
	if (r->n_pids)
		r->r.gid = r->holder_gid;
	if (p->k.mode == NFSG_MODE_OFF || !(p->k.protocols & NFSG_GOVERN_TCP) ||
	    !in_ranges(p->k.ports, p->k.n_ports, r->r.dport))
		return;
	if (r->r.family == AF_INET) {
		mapped[10] = mapped[11] = 0xff;
		memcpy(mapped + 12, r->r.daddr, 4);
	} else {
		memcpy(mapped, r->r.daddr, 16);
	}
	privileged = id_privileged(p->k.uids, p->k.n_uids, r->r.uid) ||
		     (p->k.n_gids &&
		      id_privileged(p->k.gids, p->k.n_gids, r->r.gid));
	if (privileged && (!(p->k.flags & NFSG_POLICY_ALLOWLIST) ||
			   dest_in(p, mapped))) {
		r->r.verdict = NFSG_VERDICT_ALLOW;
		r->r.reason = NFSG_REASON_NONE;
		return;
	}
	r->r.reason = privileged ? NFSG_REASON_DESTINATION : NFSG_REASON_OWNER;
	r->r.verdict = p->k.mode == NFSG_MODE_AUDIT ? NFSG_VERDICT_AUDIT
						    : NFSG_VERDICT_REFUSE;
}

static __u8 policy_flags(struct scan *s, const struct rec *r)
{
	const struct policy_set *set = &s->a->sets[r->r.gen & 1];

	return r->r.policy < set->n ? set->p[r->r.policy].k.flags : 0;
}

/* SOCK_DESTROY in the socket's namespace: 0 or -errno. */
static int diag_destroy(struct scan *s, const struct rec *r)
{
	struct sockdiag_sock d = {
		/* 0: nobody asked for its cookie; the addresses decide. */
		.cookie = r->r.cookie ? r->r.cookie : SOCKDIAG_NOCOOKIE,
		.family = r->r.family,
		.sport = r->r.sport,
		.dport = r->r.dport,
	};
	int fd, err;

	memcpy(d.saddr, r->r.saddr, sizeof(d.saddr));
	memcpy(d.daddr, r->r.daddr, sizeof(d.daddr));
	fd = sockdiag_open(s->ns[r->ns].fd);
	if (fd < 0)
		return fd;
	err = sockdiag_destroy(fd, &d);
	close(fd);
	return err;
}

/* Act as mode asks, then hand the socket to fn. */
static void settle(struct scan *s, struct rec *r, enum nfsg_iter_destroy mode,
		   sockets_fn fn, void *ctx)
{
	struct nfsg_existing_event ev = {};
	const struct policy_set *set = &s->a->sets[r->r.gen & 1];
	struct sockets_entry ent = { .ev = &ev, .comm = r->comm };
	char cgroup[NFSG_PATH_LEN * 4];
	bool violating = r->r.verdict == NFSG_VERDICT_REFUSE ||
			 r->r.verdict == NFSG_VERDICT_AUDIT;
	bool destroy = r->r.verdict == NFSG_VERDICT_REFUSE &&
		       (mode == NFSG_ITER_ALL ||
			(mode == NFSG_ITER_BY_POLICY &&
			 (policy_flags(s, r) & NFSG_POLICY_DESTROY_EXISTING)));
	int err = 0;

	s->res->found++;
	s->res->violating += violating;
	ev.action = mode == NFSG_ITER_LIST || !violating ? NFSG_EXISTING_LISTED
							 : NFSG_EXISTING_REPORTED;
	if (destroy) {
		if (r->r.destroyed != NFSG_NOT_DESTROYED)
			err = r->r.destroyed;
		else if (s->a->plan.destroy == DESTROY_NONE)
			err = -EOPNOTSUPP;
		else
			err = diag_destroy(s, r);
		ev.action = err ? NFSG_EXISTING_FAILED : NFSG_EXISTING_DESTROYED;
		ev.error = err;
		s->res->destroyed += !err;
		s->res->failed += !!err;
	}
	ev.e.ts_boot_ns = agent_clock_ns(CLOCK_BOOTTIME);
	ev.e.cgroup_id = r->r.cgroup_id;
	ev.e.pid = r->n_pids ? r->pids[0] : 0;
	ev.e.uid = r->r.uid;
	ev.e.gid = r->r.gid;
	ev.e.policy = r->r.policy;
	ev.e.gen = r->r.gen & 1;
	ev.e.family = r->r.family;
	ev.e.dport = r->r.dport;
	ev.e.protocol = r->r.protocol;
	ev.e.verdict = r->r.verdict;
	ev.e.kind = NFSG_EV_EXISTING;
	ev.e.reason = r->r.reason;
	memcpy(ev.e.daddr, r->r.daddr, sizeof(ev.e.daddr));
	memcpy(ev.e.comm, r->comm, sizeof(ev.e.comm));
	ev.cookie = r->r.cookie;
	ev.ino = r->r.ino;
	memcpy(ev.saddr, r->r.saddr, sizeof(ev.saddr));
	memcpy(ev.pids, r->pids, sizeof(ev.pids));
	ev.n_pids = r->n_pids;
	ev.e.netns = r->r.netns;
	ev.sport = r->r.sport;
	ev.state = r->r.state;
	snprintf(cgroup, sizeof(cgroup), "%s", cgroup_path(&s->a->cg, r->r.cgroup_id));
	ent.cgroup = cgroup;
	ent.policy = r->r.policy < set->n ? set->p[r->r.policy].k.name : "?";
	fn(ctx, &ent);
}

int sockets_scan(struct nfsg_agent *a, enum nfsg_iter_destroy mode,
		 sockets_fn fn, void *ctx, struct sockets_result *res)
{
	struct scan s = { .a = a, .res = res, .home = -1 };
	bool iter = a->plan.sockets == SOCKETS_ITER;
	const char *root, *c;
	__u32 level = 0;
	size_t i;
	int err;

	memset(res, 0, sizeof(*res));
	s.home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (s.home < 0) {
		err = -errno;
		log_err("cannot open the agent's own network namespace: %s",
			strerror(-err));
		goto out;
	}
	err = collect_netns(&s);
	if (err) {
		log_err("cannot list network namespaces: %s", strerror(-err));
		goto out;
	}
	root = cgroup_path(&a->cg, a->cgroup_id);
	snprintf(s.root, sizeof(s.root), "%s", strcmp(root, "/") ? root : "");
	for (c = s.root; *c; c++)
		level += *c == '/';
	if (iter) {
		a->g.skel->bss->nfsg_iter_destroy = mode;
		a->g.skel->bss->nfsg_iter_root_id = a->cgroup_id;
		a->g.skel->bss->nfsg_iter_root_level = level;
	}
	for (i = 0; i < s.n_ns; i++) {
		err = iter ? walk_iter(&s, i) : walk_diag(&s, i);
		if (err == -EPERM || err == -EINVAL || err == -ENOENT) {
			/* Not ours to enter (or gone): counted, said below. */
			res->netns_skipped++;
			res->enter_err = err;
			err = 0;
			continue;
		}
		if (err) {
			log_err("cannot list the sockets of network namespace %llu: %s",
				(unsigned long long)s.ns[i].ino, strerror(-err));
			goto out;
		}
		res->netns++;
	}
	if (iter)
		a->g.skel->bss->nfsg_iter_destroy = NFSG_ITER_LIST;
	find_holders(&s);
	for (i = 0; i < s.n; i++) {
		if (!iter)
			judge_user(&s, &s.r[i]);
		if (s.r[i].r.verdict)
			settle(&s, &s.r[i], mode, fn, ctx);
	}
	if (res->netns_skipped)
		log_warn("existing connections: %u network namespace%s not entered (%s%s): their sockets are not listed",
			 res->netns_skipped, res->netns_skipped == 1 ? "" : "s",
			 strerror(-res->enter_err),
			 res->enter_err == -EPERM ? ": entering another namespace needs CAP_SYS_ADMIN" : "");
out:
	if (iter && a->g.skel)
		a->g.skel->bss->nfsg_iter_destroy = NFSG_ITER_LIST;
	for (i = 0; i < s.n_ns; i++)
		if (s.ns[i].fd >= 0)
			close(s.ns[i].fd);
	free(s.ns);
	free(s.r);
	if (s.home >= 0)
		close(s.home);
	return err;
}
