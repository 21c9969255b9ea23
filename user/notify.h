/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * systemd's notification protocol (sd_notify(3)): one datagram to the
 * socket in $NOTIFY_SOCKET. Without that variable, nothing is sent.
 */
#ifndef NFSGUARD_NOTIFY_H
#define NFSGUARD_NOTIFY_H

/* Send state ("READY=1", "RELOADING=1", ...). Returns 0 or -errno. */
int notify(const char *state);

#endif
