/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "macro.h"
#include "proc.h"
#include "sock-owner.h"

#define TCP_LISTEN 10 /* the socket states sock_diag shares with TCP */

/* Whether pid's fd table holds the socket of inode ino ("socket:[12345]"). 1, 0, -errno. */
static int holds_socket(int proc_fd, pid_t pid, uint64_t ino)
{
	_cleanup_free_ int *fds = NULL;
	size_t n = 0;
	int r = proc_list_fds(proc_fd, pid, &fds, &n);

	if (r < 0)
		return r == -ENOENT ? -ESRCH : r;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *link = NULL;
		unsigned long long have;
		char name[32];

		(void)snprintf(name, sizeof(name), "fd/%d", fds[i]);
		if (proc_read_link(proc_fd, pid, name, &link) >= 0 &&
		    sscanf(link, "socket:[%llu]", &have) == 1 && have == ino)
			return 1;
	}
	return 0;
}

/* One listening unix socket of a sock_diag dump: the file it is bound to, if any. */
static bool bound_to(const struct nlmsghdr *h, dev_t dev, ino_t ino, uint64_t *ret_socket)
{
	const struct unix_diag_msg *m = NLMSG_DATA(h);
	size_t len;

	if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY || h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return false;
	len = h->nlmsg_len - NLMSG_LENGTH(sizeof(*m));
	for (struct rtattr *a = (struct rtattr *)(m + 1); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		const struct unix_diag_vfs *v = RTA_DATA(a);

		if (a->rta_type != UNIX_DIAG_VFS || RTA_PAYLOAD(a) < sizeof(*v))
			continue;
		/* The kernel's own dev_t: major in the top 12 bits, minor in the low 20. */
		if (makedev(v->udiag_vfs_dev >> 20, v->udiag_vfs_dev & 0xfffff) == dev &&
		    v->udiag_vfs_ino == ino) {
			*ret_socket = m->udiag_ino;
			return true;
		}
	}
	return false;
}

/*
 * The listening unix socket bound to the file (dev, ino), from a sock_diag dump of the
 * listening ones (a dump: some kernels, 6.1 among them, do not find a socket asked for by its
 * inode). 1 with *ret_socket, 0 when none is, -errno.
 */
/* The socket unix_socket_diag_use() gave, or -EBADF: each query then makes its own. */
static int diag_fd = -EBADF;
static uint32_t diag_seq;

int unix_socket_diag_use(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	/* Blocking: the replies to a dump come as it is read. */
	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		int r = -errno;

		safe_close(fd);
		return r;
	}
	safe_close(diag_fd);
	diag_fd = fd;
	return 0;
}

static int listener_of_file(dev_t dev, ino_t ino, uint64_t *ret_socket)
{
	struct {
		struct nlmsghdr nlh;
		struct unix_diag_req req;
	} q = {
		.nlh = { .nlmsg_len = sizeof(q),
			 .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			 .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		.req = { .sdiag_family = AF_UNIX,
			 .udiag_states = 1u << TCP_LISTEN,
			 .udiag_show = UDIAG_SHOW_VFS },
	};
	char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
	_cleanup_close_ int own = -EBADF;
	int nl = diag_fd;
	bool found = false;

	if (nl < 0) {
		nl = own = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
		if (nl < 0)
			return -errno;
	} else /* what an earlier exchange may have left (an error midway) */
		while (recv(nl, buf, sizeof(buf), MSG_DONTWAIT) > 0)
			;
	q.nlh.nlmsg_seq = ++diag_seq;
	if (send(nl, &q, sizeof(q), 0) < 0)
		return -errno;
	for (;;) {
		ssize_t n = recv(nl, buf, sizeof(buf), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
		     h = NLMSG_NEXT(h, n)) {
			const struct nlmsgerr *err = NLMSG_DATA(h);

			if (h->nlmsg_seq != diag_seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE)
				return found;
			/* ENOENT: no unix_diag in this kernel (a module: unix_diag). */
			if (h->nlmsg_type == NLMSG_ERROR)
				return err->error == -ENOENT ? -EPROTONOSUPPORT
							     : err->error ?: -EIO;
			found = found || bound_to(h, dev, ino, ret_socket);
		}
	}
}

int unix_socket_is_listener_of(int proc_fd, pid_t pid, int path_fd)
{
	struct stat st;
	uint64_t socket_ino;
	int r;

	if (fstat(path_fd, &st) < 0)
		return -errno;
	if (!S_ISSOCK(st.st_mode))
		return -ENOTSOCK;
	r = listener_of_file(st.st_dev, st.st_ino, &socket_ino);
	if (r <= 0)
		return r; /* nobody listens on it (in this network namespace) */
	return holds_socket(proc_fd, pid, socket_ino);
}
