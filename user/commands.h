/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Subcommands: each takes the arguments after its name, argv[0] its name. */
#ifndef NFSGUARD_COMMANDS_H
#define NFSGUARD_COMMANDS_H

#include <stdbool.h>

/* Exit statuses shared by all commands. */
#define EXIT_USAGE 64	/* bad arguments (argp's EX_USAGE) */
#define EXIT_NO_AGENT 3	/* status, reload: no agent runs ('systemctl status') */

/* The "Exit status:" paragraph of a command's --help. */
#define EXIT_DOC(ok, failed)                                               \
	"Exit status:\n"                                                    \
	"  0   " ok "\n"                                                    \
	"  1   " failed "\n"                                                \
	"  64  bad arguments\n"

int cmd_run(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_reload(int argc, char **argv);
int cmd_events(int argc, char **argv);
int cmd_uninstall(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_sockets(int argc, char **argv);


#endif
