/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <linux/netlink.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "macro.h"
#include "passed-sockets.h"
#include "sock-owner.h"

static int netlink_protocol(int fd)
{
	int protocol;
	socklen_t len = sizeof(protocol);

	if (sd_is_socket(fd, AF_NETLINK, 0, -1) <= 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &len) < 0)
		return -1;
	return protocol;
}

void passed_sockets_take(int *ret_events_fd)
{
	int n = sd_listen_fds(true);

	*ret_events_fd = -EBADF;
	if (n < 0)
		log_warning("cannot take the sockets systemd passed: %s", strerror(-n));
	for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n; fd++) {
		int protocol = netlink_protocol(fd), r;

		if (protocol == NETLINK_CONNECTOR && *ret_events_fd < 0) {
			*ret_events_fd = fd;
			continue;
		}
		if (protocol == NETLINK_SOCK_DIAG) {
			r = unix_socket_diag_use(fd);
			if (r < 0)
				log_warning("cannot use the sock_diag socket systemd passed: %s",
					    strerror(-r));
			continue;
		}
		log_warning(
			"socket %d from systemd is neither the proc connector nor sock_diag "
			"(kvmtuned.socket has ListenNetlink=connector 1 and inet-diag 0): closed",
			fd);
		safe_close(fd);
	}
}
