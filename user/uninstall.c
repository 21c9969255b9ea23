// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * nfsguard uninstall: remove every pin, which detaches the hooks and frees
 * the programs and maps, and stop the agent that holds them. Only
 * nfsguard's own pins are touched.
 *
 * Which agent holds them is the pin directory's lock, not a look through
 * /proc: with the lock free, no agent runs on them, and uninstall removes
 * them itself, holding the lock. Held, the agent is asked over its control
 * socket to unpin, detach and stop; its lock is released as it exits.
 */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include "commands.h"
#include "control.h"
#include "ctl_proto.h"
#include "format.h"
#include "log.h"
#include "persist.h"
#include "probe.h"

#define STOP_WAIT_MS 5000
/* How long the agent has to answer (its uninstall takes milliseconds). */
#define ANSWER_WAIT_S 10

struct uninstall_opts {
	const char *pin_dir;
	const char *control;
};

static const char uninstall_doc[] =
	"Remove the enforcement that 'nfsguard run --persist' pinned: stop the "
	"agent that holds it, detach its hooks and unpin its maps, and say "
	"what was removed. Other programs on the same hooks are left alone. "
	"An agent running on the pins is asked, over its control socket, to "
	"unpin them, detach and stop."
	"\v"
	"Examples:\n"
	"  nfsguard uninstall\n"
	"  nfsguard uninstall --pin-dir /sys/fs/bpf/nfsguard-test\n"
	"\n"
	EXIT_DOC("removed, or nothing was pinned",
		 "something was kept (named on stderr), an agent holds the pins "
		 "but does not answer at the control socket (within "
		 EXIT_STR(ANSWER_WAIT_S) " s), or "
		 "would not stop");

static const struct argp_option uninstall_options[] = {
	{ "pin-dir", 'P', "DIR", 0,
	  "The pin directory (default " PERSIST_DEFAULT_DIR ")", 0 },
	{ "control", 'C', "PATH", 0,
	  "The control socket of the agent on those pins (default "
	  CONTROL_DEFAULT_PATH ")", 0 },
	{},
};

static error_t parse_uninstall(int key, char *arg, struct argp_state *state)
{
	struct uninstall_opts *o = state->input;

	switch (key) {
	case 'P':
		if (arg[0] != '/')
			argp_error(state, "--pin-dir needs an absolute path");
		o->pin_dir = arg;
		return 0;
	case 'C':
		if (arg[0] != '/')
			argp_error(state, "--control needs an absolute path");
		o->control = arg;
		return 0;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s'", arg);
		return EINVAL;
	}
	return ARGP_ERR_UNKNOWN;
}

static const struct argp uninstall_argp = {
	.options = uninstall_options,
	.parser = parse_uninstall,
	.doc = uninstall_doc,
};

/* Is the pin directory's lock free: no agent on it? Taken if so. */
static bool lock_free(const struct pin_dir *d)
{
	return !flock(d->fd, LOCK_EX | LOCK_NB);
}

/* Wait for the agent that holds d's lock to exit and release it. */
static int wait_for_exit(const struct pin_dir *d, unsigned int pid)
{
	struct timespec nap = { .tv_nsec = 10 * 1000000 };
	int waited;

	for (waited = 0; !lock_free(d) && waited < STOP_WAIT_MS; waited += 10)
		nanosleep(&nap, NULL);
	if (waited < STOP_WAIT_MS)
		return 0;
	log_err("agent %u unpinned and detached, but did not stop: kill it", pid);
	return -EBUSY;
}

/*
 * Ask the agent at o->control to unpin, detach and stop; print what it
 * removed. Returns the exit status.
 */
static int ask_agent(const struct uninstall_opts *o, const struct pin_dir *d)
{
	struct timeval wait = { .tv_sec = ANSWER_WAIT_S };
	char *req = NULL, *buf = NULL, *body;
	struct ctl_answer ans;
	size_t req_len = 0;
	int fd, status = EXIT_FAILURE;
	FILE *m = open_memstream(&req, &req_len);
	long n;

	if (!m) {
		log_err("out of memory");
		return EXIT_FAILURE;
	}
	fputs("{\"cmd\":\"uninstall\",\"format\":\"text\",\"pin_dir\":", m);
	format_json_string(m, o->pin_dir, strlen(o->pin_dir));
	fputs("}\n", m);
	fclose(m);
	fd = req ? control_connect(o->control, req) : -ENOMEM;
	free(req);
	if (fd < 0) {
		log_err("an agent holds the pins in %s, but none answers at %s (%s): give its --control PATH, or stop it and run uninstall again",
			o->pin_dir, o->control, strerror(-fd));
		return EXIT_FAILURE;
	}
	/* A stopped agent must not hold us: the wait is bounded. Gone, we
	 * leave a request the agent drops unanswered when it comes back. */
	n = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait))
		    ? -errno : control_read_all(fd, &buf, 1 << 20);
	close(fd);
	if (n == -EAGAIN || n == -EWOULDBLOCK) {
		log_err("the agent at %s did not answer within %d s: nothing was removed; see whether it is stopped or stuck, and run uninstall again",
			o->control, ANSWER_WAIT_S);
		return EXIT_FAILURE;
	}
	if (n <= 0) {
		log_err("the agent at %s gave no answer: %s", o->control,
			n ? strerror(-n) : "it closed the connection");
		return EXIT_FAILURE;
	}
	body = strchr(buf, '\n');
	body = body ? body + 1 : buf + n;
	if (ctl_parse_answer(buf, body - buf - (body > buf && body[-1] == '\n'),
			     &ans) || strcmp(ans.type, "uninstall")) {
		log_err("the agent at %s gave an answer that is not an uninstall's",
			o->control);
		goto out;
	}
	if (!ans.ok) {
		log_err("the agent at %s did not uninstall (%s: %s): give the --control of the agent on %s",
			o->control, ans.reason, ans.error, o->pin_dir);
		goto out;
	}
	fputs(body, stdout);
	printf("agent %u removed the pins and detached its hooks; waiting for it to exit\n",
	       ans.pid);
	if (wait_for_exit(d, ans.pid))
		goto out;
	if (ans.kept) {
		log_err("kept entries in %s that nfsguard did not pin (the agent's log names them): remove them yourself",
			o->pin_dir);
		goto out;
	}
	printf("removed the pins and %s: nfsguard's hooks are detached, agent %u exited\n",
	       o->pin_dir, ans.pid);
	status = EXIT_SUCCESS;
out:
	free(buf);
	return status;
}

int cmd_uninstall(int argc, char **argv)
{
	struct uninstall_opts o = { .pin_dir = PERSIST_DEFAULT_DIR,
				    .control = CONTROL_DEFAULT_PATH };
	struct pin_dir d = {};
	int n, err, status = EXIT_FAILURE;

	if (argp_parse(&uninstall_argp, argc, argv, 0, NULL, &o))
		return EXIT_USAGE;
	if (probe_privileges())
		return EXIT_FAILURE;
	/* Checked as 'run --persist' checks it; then used only by its fd. */
	err = pin_dir_open(&d, o.pin_dir, PIN_DIR_EXISTING);
	if (err == -ENOENT) {
		printf("nothing pinned in %s\n", o.pin_dir);
		return EXIT_SUCCESS;
	}
	if (err)
		return EXIT_FAILURE;
	if (!lock_free(&d)) {
		status = ask_agent(&o, &d);
		goto out;
	}
	/* No agent, and none starts on them while we hold the lock. */
	n = persist_remove(&d, o.pin_dir, stdout);
	if (n < 0)
		goto out;
	printf("removed %d pins and %s: nfsguard's hooks are detached\n", n,
	       o.pin_dir);
	status = EXIT_SUCCESS;
out:
	pin_dir_close(&d);
	return status;
}
