/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Subcommands: each takes the arguments after its name, argv[0] its name. */
#ifndef NFSGUARD_COMMANDS_H
#define NFSGUARD_COMMANDS_H

#include <stdbool.h>

/* Exit statuses shared by all commands. */
#define EXIT_USAGE 64	/* bad arguments (argp's EX_USAGE) */
#define EXIT_NO_AGENT 3	/* status, reload: no agent runs ('systemctl status') */
/* run: stopped by 'nfsguard uninstall', nothing left to enforce. Not 0,
 * so that the unit's RestartPreventExitStatus= (nfsguard.service.in, the
 * same number) keeps Restart=always from pinning everything again. */
#define EXIT_UNINSTALLED 4

/* Stringified, for the --help texts. */
#define EXIT_STR_(n) #n
#define EXIT_STR(n) EXIT_STR_(n)

/* The "Exit status:" paragraph of a command's --help; more: the lines
 * of a command's own statuses, between 1 and 64. */
#define EXIT_DOC_MORE(ok, failed, more)                                    \
	"Exit status:\n"                                                    \
	"  0   " ok "\n"                                                    \
	"  1   " failed "\n"                                                \
	more                                                                \
	"  64  bad arguments\n"
#define EXIT_DOC(ok, failed) EXIT_DOC_MORE(ok, failed, "")

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
