/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The control socket: a Unix stream socket (default CONTROL_DEFAULT_PATH)
 * through which 'nfsguard status', 'reload' and 'events' talk to the
 * running agent. Protocol (README "Control socket"): the client sends one
 * JSON object on one line (ctl_proto.h); the agent answers with JSON
 * lines, the first of which starts {"ok":true or {"ok":false. status and
 * reload get their answer and the agent closes; events streams until the
 * client goes.
 *
 * The socket is root's and mode 0600, or 0660 and of the configured
 * group; every peer's credentials (SO_PEERCRED, SO_PEERGROUPS) are
 * checked again on accept. Its directory is opened once, checked (a real
 * directory, root's, writable by no group or other, reached through
 * directories only root can change) and used by its fd. A socket left by
 * a dead agent is replaced; a live agent's is not.
 *
 * No client can slow the agent: every socket is non-blocking, requests
 * are bounded (CTL_REQUEST_MAX), idle clients are closed, and each
 * reader has a bounded queue whose overflow is counted and told to it.
 */
#ifndef NFSGUARD_CONTROL_H
#define NFSGUARD_CONTROL_H

#include <stdbool.h>
#include <linux/types.h>

#define CONTROL_DEFAULT_PATH "/run/nfsguard/control"
/* Clients served at once. */
#define CTL_MAX_CLIENTS 64

struct nfsg_agent;
struct control;

/* Create the socket at path (NULL: none). Returns 0 or -errno after
 * saying why; *c stays NULL without a socket. */
int control_open(struct control **c, struct nfsg_agent *a, const char *path,
		 const char *group);
/* Add the listening socket to epoll_fd. */
int control_watch(struct control *c, int epoll_fd);
/* An epoll tag of ours is ready. */
void control_ready(struct control *c, void *tag, __u32 events);
/* Write what is queued; close idle and finished clients. */
void control_flush(struct control *c);
/* Readers of events connected now. */
unsigned int control_readers(const struct control *c);
/* The path it serves, for status. */
const char *control_path(const struct control *c);
void control_close(struct control *c);

/*
 * Client side: connect to path and send request (one line, '\n'
 * included). Returns the fd, or -errno (-ENOENT / -ECONNREFUSED: no agent
 * serves it; -EACCES: not allowed).
 */
int control_connect(const char *path, const char *request);
/* Read the whole answer (at most max bytes) into *buf (malloc'd, NUL
 * terminated). Returns its length or -errno. */
long control_read_all(int fd, char **buf, size_t max);
/*
 * One request and its whole answer: connect, send, read (at most max
 * bytes) into *buf (malloc'd, NUL terminated; free it) and *len. Returns
 * 0, or the command's exit status after one line saying why: 3 when no
 * agent serves path (start_hint names what to run), 1 otherwise.
 */
int control_ask(const char *path, const char *request, size_t max,
		const char *start_hint, char **buf, long *len);

#endif
