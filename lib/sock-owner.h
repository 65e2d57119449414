/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Whose socket is a unix socket file? A VM's command line names its QMP socket, but whoever owns
 * the VM can replace that file by a symlink to, or a bind of, any other socket on the host:
 * root following the path would be a confused deputy, talking with its own identity to a
 * service the VM owner cannot reach. So before connecting, kvmtune proves that the file is a
 * listening socket the VM process itself holds: the socket bound to the file's inode (the
 * kernel's sock_diag, UDIAG_SHOW_VFS) must be one of the sockets in /proc/PID/fd.
 */

#include <sys/types.h>

/*
 * path_fd is an O_PATH fd of the socket file. Returns 1 when pid holds the listening socket
 * bound to it, 0 when not (someone else's socket, or one in another network namespace),
 * -ENOTSOCK when the file is no socket, -ESRCH when pid is gone, -EPROTONOSUPPORT when the
 * kernel cannot tell (no unix_diag: then nothing is proven, and the caller does not connect),
 * -errno.
 */
int unix_socket_is_listener_of(int proc_fd, pid_t pid, int path_fd);

/*
 * From now on, ask through fd (a NETLINK_SOCK_DIAG socket, owned from then on) instead of a
 * socket of this process's own: sock_diag answers for the network namespace a socket was made
 * in, and kvmtuned, in a private one (PrivateNetwork=yes), gets one made in the host's from
 * systemd (kvmtuned.socket). Returns 0 or -errno (fd is then closed).
 */
int unix_socket_diag_use(int fd);
