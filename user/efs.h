/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * efs-utils' configuration, for the one fact nfsguard takes from it: the
 * local ports where the TLS relays of `mount -t efs -o tls` listen
 * (port_range_lower_bound and port_range_upper_bound in [mount]).
 */
#ifndef NFSGUARD_EFS_H
#define NFSGUARD_EFS_H

#include <stdbool.h>
#include <stddef.h>

#define EFS_UTILS_CONF "/etc/amazon/efs/efs-utils.conf"
/* Larger than any efs-utils.conf: a bigger file is not one. */
#define EFS_UTILS_MAX_BYTES (1 << 20)

/*
 * Read path (NULL: EFS_UTILS_CONF) and make its range the embedded
 * default's local ports (policy_set_relay_ports). No file: the built-in
 * 20049-21049. A file that root does not own, that others may write, or
 * whose range is invalid is not trusted: the built-in range, and *warn.
 * Never fails; the line to say (after the configuration's own errors, if
 * any) is left in msg.
 */
void efs_relay_ports_load(const char *path, char *msg, size_t len, bool *warn);

#endif
