/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
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

/* The socket inodes in pid's fd table ("socket:[12345]"). Caller frees. */
static int socket_inodes(int proc_fd, pid_t pid, uint64_t **ret, size_t *ret_n)
{
	_cleanup_free_ int *fds = NULL;
	_cleanup_free_ uint64_t *inos = NULL;
	size_t n = 0, k = 0;
	int r = proc_list_fds(proc_fd, pid, &fds, &n);

	if (r < 0)
		return r == -ENOENT ? -ESRCH : r;
	inos = calloc(n + 1, sizeof(*inos));
	if (!inos)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *link = NULL;
		unsigned long long ino;
		char name[32];

		(void)snprintf(name, sizeof(name), "fd/%d", fds[i]);
		if (proc_read_link(proc_fd, pid, name, &link) >= 0 &&
		    sscanf(link, "socket:[%llu]", &ino) == 1)
			inos[k++] = ino;
	}
	*ret = TAKE_PTR(inos);
	*ret_n = k;
	return 0;
}

/*
 * Asks sock_diag for the unix socket of inode ino: its state and the inode of the file it is
 * bound to. 1 with both, 0 when there is no such socket (or it is bound to no file), -errno.
 */
static int diag_socket(int nl, uint64_t ino, unsigned *ret_state, dev_t *ret_dev, uint64_t *ret_ino)
{
	struct {
		struct nlmsghdr nlh;
		struct unix_diag_req req;
	} q = {
		.nlh = { .nlmsg_len = sizeof(q),
			 .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			 .nlmsg_flags = NLM_F_REQUEST },
		.req = { .sdiag_family = AF_UNIX,
			 .udiag_states = UINT32_MAX,
			 .udiag_ino = (uint32_t)ino,
			 .udiag_show = UDIAG_SHOW_VFS,
			 .udiag_cookie = { UINT32_MAX, UINT32_MAX } },
	};
	char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
	ssize_t n;

	if (send(nl, &q, sizeof(q), 0) < 0)
		return -errno;
	n = recv(nl, buf, sizeof(buf), 0);
	if (n < 0)
		return -errno;
	for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
	     h = NLMSG_NEXT(h, n)) {
		const struct unix_diag_msg *m = NLMSG_DATA(h);
		size_t len;

		if (h->nlmsg_type == NLMSG_ERROR)
			return 0; /* ENOENT: not a socket of this network namespace */
		if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY || h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
			continue;
		len = h->nlmsg_len - NLMSG_LENGTH(sizeof(*m));
		for (struct rtattr *a = (struct rtattr *)(m + 1); RTA_OK(a, len);
		     a = RTA_NEXT(a, len)) {
			const struct unix_diag_vfs *v = RTA_DATA(a);

			if (a->rta_type != UNIX_DIAG_VFS || RTA_PAYLOAD(a) < sizeof(*v))
				continue;
			/* The kernel's own dev_t: major in the top 12 bits, minor in the low 20. */
			*ret_state = m->udiag_state;
			*ret_dev = makedev(v->udiag_vfs_dev >> 20, v->udiag_vfs_dev & 0xfffff);
			*ret_ino = v->udiag_vfs_ino;
			return 1;
		}
	}
	return 0;
}

int unix_socket_is_listener_of(int proc_fd, pid_t pid, int path_fd)
{
	_cleanup_free_ uint64_t *inos = NULL;
	_cleanup_close_ int nl = -EBADF;
	struct stat st;
	size_t n = 0;
	int r;

	if (fstat(path_fd, &st) < 0)
		return -errno;
	if (!S_ISSOCK(st.st_mode))
		return -ENOTSOCK;
	r = socket_inodes(proc_fd, pid, &inos, &n);
	if (r < 0)
		return r;
	nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (nl < 0)
		return -errno;
	for (size_t i = 0; i < n; i++) {
		unsigned state;
		dev_t dev;
		uint64_t ino;

		r = diag_socket(nl, inos[i], &state, &dev, &ino);
		if (r < 0)
			return r;
		if (r > 0 && state == TCP_LISTEN && dev == st.st_dev && ino == st.st_ino)
			return 1;
	}
	return 0;
}
