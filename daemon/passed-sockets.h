/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The sockets systemd makes for kvmtuned (kvmtuned.socket): the unit runs the daemon in a network
 * namespace of its own (PrivateNetwork=yes), but the proc connector exists only in the host's,
 * and sock_diag answers for the namespace its socket was made in. So systemd, in the host's,
 * makes both and passes them (sd_listen_fds). Started by hand, kvmtuned makes its own.
 */

/*
 * Takes what systemd passed: the proc connector socket into *ret_events_fd (-EBADF when none),
 * the sock_diag one into unix_socket_diag_use(); anything else is closed, with a warning.
 */
void passed_sockets_take(int *ret_events_fd);
