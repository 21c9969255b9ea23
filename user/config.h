/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The configuration file: INI, parsed by libinih, into a policy set.
 *
 *   [default]                  # the policy of every cgroup without one
 *   ports = 2049               # ports and ranges: 2049, 20048-20049
 *   protocols = tcp            # tcp, udp
 *   privileged_uids = 0        # uids and ranges, or none
 *   privileged_gids = none     # gids and ranges, or none
 *   allow_destinations = any   # IPv4/IPv6 CIDRs, or any
 *   mode = enforce             # enforce, audit or off
 *
 *   [policy kubepods]          # a named policy; unset keys come from
 *   cgroups = /kubepods.slice  #   [default]; cgroups it applies to
 *   privileged_uids = none
 *
 *   [agent]                    # the agent's own settings
 *   metrics = 127.0.0.1:9108   #   --metrics, where that is not given
 *   control_group = nfsguard   #   --control-group, likewise
 *
 * A list key may repeat, or continue on indented lines: its values add
 * up. A single-valued key (mode) given twice in a section is an error.
 */
#ifndef NFSGUARD_CONFIG_H
#define NFSGUARD_CONFIG_H

#include <stdio.h>
#include "policy.h"

#define CONFIG_DEFAULT_PATH "/etc/nfsguard/nfsguard.conf"
/* The largest file read: far more than 1023 policies need. */
#define CONFIG_MAX_BYTES (4 << 20)

struct config_errors {
	char **msg;		/* "FILE:LINE: what, with the value" */
	int *line;		/* LINE of each, 0 for the file as a whole */
	size_t n, cap;
};

/* The [agent] section, as the file gives it ("" and line 0: unset). */
struct config_agent {
	char metrics[64];		/* "ADDRESS:PORT" (parse_host_port) */
	char control_group[32];		/* a group's name */
	int metrics_line, control_group_line;
};

/*
 * Read path into out, and its [agent] section into agent (NULL: checked
 * only). Returns 0; -ENOENT when the file does not exist
 * (nothing in errs); -EINVAL with every problem in errs; or another
 * -errno (in errs): -EISDIR, -EINVAL for what is not a regular file,
 * -EFBIG for one over CONFIG_MAX_BYTES. out is left empty on failure.
 */
int config_read(const char *path, struct policy_set *out,
		struct config_agent *agent, struct config_errors *errs);
/* The same from an open stream; name is what messages call it. */
int config_read_stream(FILE *f, const char *name, struct policy_set *out,
		       struct config_agent *agent, struct config_errors *errs);
void config_errors_free(struct config_errors *errs);
/*
 * The [agent] values of file checked against this system, which the
 * parser leaves alone: control_group must name a group getgrnam() finds,
 * or the next start fails. One "FILE:LINE: ..." in errs for each that
 * does not; returns how many. For 'nfsguard check' (an error) and a
 * reload (in its warnings: the running value stays).
 */
int config_agent_check(const char *file, const struct config_agent *ag,
		       struct config_errors *errs);
/*
 * The configured policy set: path, else the default file if it exists,
 * else the embedded default. Prints every problem, one line each, and
 * returns 0 or -errno.
 */
int config_load(const char *path, struct policy_set *out);
/*
 * One warning line for each cgroup a policy of set names outside attach,
 * the cgroup nfsguard is attached to (relative to the cgroup2 mount):
 * neither in its subtree nor above it, so its sockets never reach the
 * hooks. For the agent at start and at each reload. Returns how many.
 */
size_t config_warn_outside(const struct policy_set *set, const char *attach);

#endif
