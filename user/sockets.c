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
#include <pthread.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include "guard.skel.h"
#include "agent.h"
#include "log.h"
#include "sockdiag.h"
#include "sockets.h"
#include "sockjudge.h"

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

/* A governed socket, as its event says it, for the loop to hand out. */
struct found {
	struct nfsg_existing_event ev;
	char policy[NFSG_NAME_LEN];
	char *cgroup;		/* path, "?" if unknown */
};

struct sockets_job {
	struct nfsg_agent *a;
	enum nfsg_iter_destroy mode;
	pthread_t thread;
	int fd;			/* eventfd: written once the walk ended */
	struct cgroup2 *cg;	/* the walk's own copy (its cache) */
	struct found *found;	/* one a record at most */
	size_t n_found;
	struct sockets_result res;
	int err;
};

struct scan {
	struct nfsg_agent *a;
	struct cgroup2 *cg;	/* the walk's, never the loop's */
	struct sockets_result *res;
	struct ns *ns;
	size_t n_ns;
	struct rec *r;
	size_t n, cap;
	size_t cur_ns;		/* the namespace being dumped */
	bool udp;		/* some policy governs UDP: walk its sockets */
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
		/* Never to block on whatever else is there (a FIFO). */
		fd = openat(dirfd(dir), d->d_name,
			    O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
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

/* Read a walk of an iterator (fd) of records of size bytes each: 0 and
 * *buf (the caller frees it) of *n records, or -errno after saying why. */
static int read_records(int fd, size_t size, char **buf, size_t *n)
{
	size_t len = 0, cap = 64 * size;
	char *grown;
	ssize_t got;
	int err = 0;

	*n = 0;
	*buf = malloc(cap);
	if (!*buf)
		return -ENOMEM;
	for (;;) {
		if (len == cap) {
			if (cap >= MAX_RECORDS * size) {
				err = -E2BIG;
				break;
			}
			grown = realloc(*buf, 2 * cap);
			if (!grown) {
				err = -ENOMEM;
				break;
			}
			*buf = grown;
			cap *= 2;
		}
		got = read(fd, *buf + len, cap - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			err = -errno;
			log_err("reading an iterator of existing connections failed: %s",
				strerror(-err));
			break;
		}
		if (!got)
			break;
		len += got;
	}
	if (!err && len % size) {
		log_err("an iterator of existing connections wrote %zu bytes, not whole records: agent and programs are from different builds",
			len);
		err = -EBADMSG;
	}
	if (err) {
		free(*buf);
		*buf = NULL;
		return err;
	}
	*n = len / size;
	return 0;
}

/* Read one walk of a socket iterator (fd) into records of namespace i. */
static int read_walk(struct scan *s, size_t i, int fd)
{
	char *buf;
	struct rec *r;
	size_t n, k;
	int err;

	err = read_records(fd, sizeof(struct nfsg_sock_record), &buf, &n);
	if (err)
		return err;
	s->cur_ns = i;
	for (k = 0; k < n && !err; k++) {
		r = rec_add(s);
		if (!r) {
			err = -E2BIG;
			break;
		}
		memcpy(&r->r, buf + k * sizeof(r->r), sizeof(r->r));
		r->r.netns = s->ns[i].ino;
	}
	free(buf);
	return err;
}

/* The iterators' walks of namespace i (UDP's where UDP is governed):
 * their records, judged. Both are opened inside it, then read outside. */
static int walk_iter(struct scan *s, size_t i)
{
	int fd[] = { [GUARD_ITER_TCP] = -1, [GUARD_ITER_UDP] = -1 }, err;
	size_t k;

	err = enter(s, i);
	if (err)
		return err;
	fd[GUARD_ITER_TCP] = guard_iter_open(&s->a->g, GUARD_ITER_TCP);
	if (fd[GUARD_ITER_TCP] >= 0 && s->udp)
		fd[GUARD_ITER_UDP] = guard_iter_open(&s->a->g, GUARD_ITER_UDP);
	err = leave(s, i);
	for (k = 0; k < sizeof(fd) / sizeof(fd[0]) && !err; k++) {
		if (fd[k] == -1)
			continue;
		err = fd[k] < 0 ? fd[k] : read_walk(s, i, fd[k]);
	}
	for (k = 0; k < sizeof(fd) / sizeof(fd[0]); k++)
		if (fd[k] >= 0)
			close(fd[k]);
	return err;
}

/* A dumped socket: kept for judging if some policy governs its port. */
static int dumped(const struct sockdiag_info *i, void *data)
{
	struct scan *s = data;
	__u8 govern = i->s.protocol == IPPROTO_UDP ? NFSG_GOVERN_UDP
						   : NFSG_GOVERN_TCP;
	struct rec *r;

	if (!sockjudge_port(agent_policy(s->a), govern, i->s.dport))
		return 0;
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
	r->r.protocol = govern == NFSG_GOVERN_UDP ? NFSG_PROTO_UDP
						  : NFSG_PROTO_TCP;
	r->r.state = i->state;
	return 0;
}

/* The dumps of namespace i: TCP, and connected UDP where UDP is governed. */
static int walk_diag(struct scan *s, size_t i)
{
	static const int families[] = { AF_INET, AF_INET6 };
	int fd = sockdiag_open(s->ns[i].fd), err = 0;
	size_t k;

	if (fd < 0)
		return fd;
	s->cur_ns = i;
	for (k = 0; k < 2 && !err; k++)
		err = sockdiag_dump(fd, IPPROTO_TCP, families[k], LISTED_STATES,
				    dumped, s);
	for (k = 0; k < 2 && !err && s->udp; k++)
		err = sockdiag_dump(fd, IPPROTO_UDP, families[k],
				    1U << ST_ESTABLISHED, dumped, s);
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

/* Process pid (comm, and the socket inode's gid) holds the socket of
 * record r; one of its fds is enough. */
static void add_holder(struct rec *r, __u32 pid, const char *comm, __u32 gid)
{
	if (r->last_pid == pid)
		return;		/* another fd of the same process */
	if (!r->n_pids) {
		r->holder_gid = gid;
		snprintf(r->comm, sizeof(r->comm), "%s", comm);
	}
	if (r->n_pids < NFSG_SOCK_PIDS)
		r->pids[r->n_pids] = pid;
	r->n_pids++;
	r->last_pid = pid;
}

static struct rec *rec_of_ino(struct scan *s, __u64 ino)
{
	struct rec key = { .r.ino = ino };

	return ino ? bsearch(&key, s->r, s->n, sizeof(*s->r), by_ino) : NULL;
}

/*
 * The holders by a walk of /proc/PID/fd (bounded: links of at most 63
 * bytes, numbers checked). A process whose fds we may not read (another
 * user's, without CAP_SYS_PTRACE) is not found.
 */
static void holders_proc(struct scan *s)
{
	char path[64], comm[NFSG_COMM_LEN], *pid;
	struct dirent *d, *f;
	struct stat st;
	DIR *proc, *fds;
	struct rec *r;
	__u32 npid;
	int dir;

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
			r = rec_of_ino(s, socket_link_ino(dir, f->d_name));
			if (!r || r->last_pid == npid)
				continue;
			comm[0] = '\0';
			st.st_gid = NFSG_ID_UNKNOWN;
			if (!r->n_pids) {
				if (fstatat(dir, f->d_name, &st, 0))
					st.st_gid = NFSG_ID_UNKNOWN;
				read_comm(pid, comm);
			}
			add_holder(r, npid, comm, st.st_gid);
		}
		closedir(fds);
	}
	if (proc)
		closedir(proc);
}

/* The holders by one walk of the task_file iterator: no ptrace check. */
static int holders_iter(struct scan *s)
{
	const struct nfsg_file_record *f;
	char *buf, comm[NFSG_COMM_LEN];
	struct rec *r;
	size_t n, k;
	int fd, err;

	fd = guard_iter_open(&s->a->g, GUARD_ITER_FILES);
	if (fd < 0)
		return fd;
	err = read_records(fd, sizeof(*f), &buf, &n);
	close(fd);
	if (err)
		return err;
	for (k = 0; k < n; k++) {
		f = (const void *)(buf + k * sizeof(*f));
		r = rec_of_ino(s, f->ino);
		if (!r)
			continue;
		memcpy(comm, f->comm, sizeof(comm));
		comm[sizeof(comm) - 1] = '\0';
		add_holder(r, f->pid, comm, f->gid);
	}
	free(buf);
	return 0;
}

/* The processes holding each socket, as probe_plan chose. */
static int find_holders(struct scan *s)
{
	if (!s->n)
		return 0;
	qsort(s->r, s->n, sizeof(*s->r), by_ino);
	if (s->a->plan.holders == HOLDERS_ITER)
		return holders_iter(s);
	holders_proc(s);
	return 0;
}

/* The sock_diag path's verdict on r, with the agent's active policy set. */
static void judge_user(struct scan *s, struct rec *r)
{
	char path[NFSG_PATH_LEN * 4];
	struct sockjudge_facts f = {
		.cgroup = path,
		.root = s->root,
		.held = r->n_pids > 0,
		.holder_gid = r->holder_gid,
	};

	snprintf(path, sizeof(path), "%s", cgroup_path(s->cg, r->r.cgroup_id));
	r->r.gen = s->a->gen;
	sockjudge(agent_policy(s->a), &f, &r->r);
}

static __u8 policy_flags(struct scan *s, const struct rec *r)
{
	const struct policy_set *set = &s->a->sets[r->r.gen & 1];

	return r->r.policy < set->n ? set->p[r->r.policy].k.flags : 0;
}

/*
 * SOCK_DESTROY in the socket's namespace, by its cookie: 0 or -errno. A
 * record without one (an iterator that cannot call
 * bpf_get_socket_cookie) gets it first from sock_diag, which finds the
 * socket by its addresses and assigns it one; that socket must be the
 * record's (its inode), else nothing is aborted (-ESTALE).
 */
static int diag_destroy(struct scan *s, const struct rec *r)
{
	struct sockdiag_sock d = {
		.cookie = r->r.cookie,
		.family = r->r.family,
		.sport = r->r.sport,
		.dport = r->r.dport,
		.protocol = r->r.protocol == NFSG_PROTO_UDP ? IPPROTO_UDP
							    : IPPROTO_TCP,
	};
	struct sockdiag_info now;
	int fd, err = 0;

	memcpy(d.saddr, r->r.saddr, sizeof(d.saddr));
	memcpy(d.daddr, r->r.daddr, sizeof(d.daddr));
	fd = sockdiag_open(s->ns[r->ns].fd);
	if (fd < 0)
		return fd;
	if (!d.cookie) {
		err = sockdiag_find(fd, &d, &now);
		if (!err && (now.ino != r->r.ino || !now.s.cookie))
			err = -ESTALE;
		d.cookie = now.s.cookie;
	}
	if (!err)
		err = sockdiag_destroy(fd, &d);
	close(fd);
	return err;
}

/* Act as mode asks, then keep what the socket's event says in out. */
static int settle(struct scan *s, struct rec *r, enum nfsg_iter_destroy mode,
		  struct found *out)
{
	struct nfsg_existing_event ev = {};
	const struct policy_set *set = &s->a->sets[r->r.gen & 1];
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
	out->ev = ev;
	snprintf(out->policy, sizeof(out->policy), "%s",
		 r->r.policy < set->n ? set->p[r->r.policy].k.name : "?");
	out->cgroup = strdup(cgroup_path(s->cg, r->r.cgroup_id));
	return out->cgroup ? 0 : -ENOMEM;
}

/* Walk, judge and abort as job->mode asks: the worker's whole task. */
static int scan(struct sockets_job *job)
{
	struct nfsg_agent *a = job->a;
	struct scan s = { .a = a, .res = &job->res, .home = -1, .cg = job->cg };
	bool iter = a->plan.sockets == SOCKETS_ITER;
	const char *root, *c;
	__u32 level = 0;
	__u64 t0;
	size_t i;
	int err;

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
	s.udp = sockjudge_udp(agent_policy(a));
	root = cgroup_path(s.cg, a->cgroup_id);
	snprintf(s.root, sizeof(s.root), "%s", strcmp(root, "/") ? root : "");
	for (c = s.root; *c; c++)
		level += *c == '/';
	if (iter) {
		a->g.skel->bss->nfsg_iter_destroy = job->mode;
		a->g.skel->bss->nfsg_iter_root_id = a->cgroup_id;
		a->g.skel->bss->nfsg_iter_root_level = level;
	}
	for (i = 0; i < s.n_ns; i++) {
		err = iter ? walk_iter(&s, i) : walk_diag(&s, i);
		if (err == -EPERM || err == -EINVAL || err == -ENOENT) {
			/* Not ours to enter (or gone): counted, said below. */
			s.res->netns_skipped++;
			s.res->enter_err = err;
			err = 0;
			continue;
		}
		if (err) {
			log_err("cannot list the sockets of network namespace %llu: %s",
				(unsigned long long)s.ns[i].ino, strerror(-err));
			goto out;
		}
		s.res->netns++;
	}
	if (iter)
		a->g.skel->bss->nfsg_iter_destroy = NFSG_ITER_LIST;
	t0 = agent_clock_ns(CLOCK_MONOTONIC);
	err = find_holders(&s);
	s.res->holders_ns = agent_clock_ns(CLOCK_MONOTONIC) - t0;
	if (err) {
		log_err("cannot find the processes holding sockets: %s",
			strerror(-err));
		goto out;
	}
	job->found = calloc(s.n ? s.n : 1, sizeof(*job->found));
	if (!job->found) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < s.n; i++) {
		if (!iter)
			judge_user(&s, &s.r[i]);
		if (!s.r[i].r.verdict)
			continue;
		err = settle(&s, &s.r[i], job->mode, &job->found[job->n_found]);
		if (err)
			goto out;
		job->n_found++;
	}
	if (s.res->netns_skipped)
		log_warn("existing connections: %u network namespace%s not entered (%s%s): their sockets are not listed",
			 s.res->netns_skipped, s.res->netns_skipped == 1 ? "" : "s",
			 strerror(-s.res->enter_err),
			 s.res->enter_err == -EPERM ? ": entering another namespace needs CAP_SYS_ADMIN" : "");
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

/*
 * Reserved for the tests: NFSG_TEST_WALK_GATE names a FIFO, and each walk
 * waits for one byte from it before it starts, so that a test holds a
 * walk open while it asks the agent other things.
 */
static void test_gate(void)
{
	const char *path = getenv("NFSG_TEST_WALK_GATE");
	char byte;
	int fd;

	if (!path)
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	while (read(fd, &byte, 1) < 0 && errno == EINTR)
		;
	close(fd);
}

static void *worker(void *data)
{
	struct sockets_job *job = data;
	__u64 one = 1, t0;

	test_gate();
	pthread_mutex_lock(&job->a->walk_lock);
	t0 = agent_clock_ns(CLOCK_MONOTONIC);
	job->err = scan(job);
	job->res.walk_ns = agent_clock_ns(CLOCK_MONOTONIC) - t0;
	pthread_mutex_unlock(&job->a->walk_lock);
	/* Done: the loop's epoll sees the eventfd. */
	if (write(job->fd, &one, sizeof(one)) != sizeof(one))
		log_err("cannot tell the agent a walk ended: %s", strerror(errno));
	return NULL;
}

int sockets_start(struct nfsg_agent *a, enum nfsg_iter_destroy mode,
		  struct sockets_job **out)
{
	struct sockets_job *job = calloc(1, sizeof(*job));
	int err;

	*out = NULL;
	if (!job)
		return -ENOMEM;
	job->a = a;
	job->mode = mode;
	job->fd = -1;
	/* Its own cache of cgroup paths: the loop's is the loop's. */
	job->cg = malloc(sizeof(*job->cg));
	if (!job->cg) {
		err = -ENOMEM;
		goto fail;
	}
	memcpy(job->cg, &a->cg, sizeof(*job->cg));
	job->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (job->fd < 0) {
		err = -errno;
		goto fail;
	}
	err = -pthread_create(&job->thread, NULL, worker, job);
	if (err)
		goto fail;
	*out = job;
	return 0;
fail:
	log_err("cannot start a walk of existing connections: %s",
		strerror(-err));
	if (job->fd >= 0)
		close(job->fd);
	free(job->cg);
	free(job);
	return err;
}

int sockets_job_fd(const struct sockets_job *job)
{
	return job->fd;
}

int sockets_finish(struct sockets_job *job, sockets_fn fn, void *ctx,
		   struct sockets_result *res)
{
	struct sockets_entry ent;
	size_t i;
	int err;

	if (!job) {
		memset(res, 0, sizeof(*res));
		return -EAGAIN;
	}
	pthread_join(job->thread, NULL);
	err = job->err;
	*res = job->res;
	for (i = 0; i < job->n_found; i++) {
		ent = (struct sockets_entry){
			.ev = &job->found[i].ev,
			.cgroup = job->found[i].cgroup,
			.policy = job->found[i].policy,
			.comm = job->found[i].ev.e.comm,
		};
		if (!err && fn)
			fn(ctx, &ent);
		free(job->found[i].cgroup);
	}
	close(job->fd);
	free(job->found);
	free(job->cg);
	free(job);
	return err;
}
