/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "macro.h"
#include "proc-events.h"

#define RCVBUF_BYTES (8 * 1024 * 1024)

int proc_events_open(int passed_fd)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC };
	/* 4-byte listen op: understood by every kernel (6.6+ also take a filter). */
	struct __attribute__((packed)) {
		struct nlmsghdr nl;
		struct cn_msg cn;
		enum proc_cn_mcast_op op;
	} req = {
		.nl = { .nlmsg_len = sizeof(req), .nlmsg_type = NLMSG_DONE },
		.cn = { .id = { .idx = CN_IDX_PROC, .val = CN_VAL_PROC },
			.len = sizeof(enum proc_cn_mcast_op) },
		.op = PROC_CN_MCAST_LISTEN,
	};
	int size = RCVBUF_BYTES;
	_cleanup_close_ int fd =
		passed_fd >= 0 ? passed_fd
			       : socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
					NETLINK_CONNECTOR);

	if (fd < 0)
		return -errno;
	if (passed_fd >= 0 && (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ||
			       fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0))
		return -errno;
	/* Forced size needs CAP_NET_ADMIN; without it the plain one, capped by rmem_max. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (passed_fd < 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	req.nl.nlmsg_pid = passed_fd >= 0 ? 0 : (uint32_t)getpid();
	if (send(fd, &req, sizeof(req), 0) < 0)
		return -errno;
	return TAKE_FD(fd);
}

static void dispatch(const struct proc_event *e, void (*fn)(const struct proc_ev *, void *),
		     void *userdata)
{
	struct proc_ev ev = { .timestamp_ns = e->timestamp_ns };

	switch (e->what) {
	case PROC_EVENT_EXEC:
		ev.kind = PROC_EV_EXEC;
		ev.pid = e->event_data.exec.process_pid;
		ev.tgid = e->event_data.exec.process_tgid;
		break;
	case PROC_EVENT_FORK:
		ev.kind = PROC_EV_FORK;
		ev.pid = e->event_data.fork.child_pid;
		ev.tgid = e->event_data.fork.child_tgid;
		ev.parent_tgid = e->event_data.fork.parent_tgid;
		break;
	case PROC_EVENT_COMM:
		ev.kind = PROC_EV_COMM;
		ev.pid = e->event_data.comm.process_pid;
		ev.tgid = e->event_data.comm.process_tgid;
		memcpy(ev.comm, e->event_data.comm.comm, sizeof(ev.comm));
		ev.comm[sizeof(ev.comm) - 1] = '\0';
		break;
	case PROC_EVENT_EXIT:
		ev.kind = PROC_EV_EXIT;
		ev.pid = e->event_data.exit.process_pid;
		ev.tgid = e->event_data.exit.process_tgid;
		break;
	default:
		return;
	}
	fn(&ev, userdata);
}

static void dispatch_datagram(const char *buf, size_t n,
			      void (*fn)(const struct proc_ev *ev, void *userdata), void *userdata)
{
	int left = (int)n;

	for (const struct nlmsghdr *nh = (const struct nlmsghdr *)buf; NLMSG_OK(nh, left);
	     nh = NLMSG_NEXT(nh, left)) {
		const struct cn_msg *cn = NLMSG_DATA(nh);
		struct proc_event e;

		if (nh->nlmsg_type == NLMSG_ERROR || nh->nlmsg_type == NLMSG_NOOP)
			continue;
		if (cn->id.idx != CN_IDX_PROC || cn->id.val != CN_VAL_PROC ||
		    cn->len < sizeof(struct proc_event))
			continue;
		/* The event sits at a 4-byte offset in the message: copy it out aligned. */
		memcpy(&e, cn->data, sizeof(e));
		dispatch(&e, fn, userdata);
	}
}

/* Datagrams per recvmmsg(): one event each, so a burst costs a syscall per BATCH events. */
#define BATCH	     64
#define DATAGRAM_MAX 1024 /* an event is ~80 bytes */

int proc_events_read(int fd, void (*fn)(const struct proc_ev *ev, void *userdata), void *userdata)
{
	static char bufs[BATCH][DATAGRAM_MAX] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];

	for (;;) {
		int n;

		for (int i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){ .iov_base = bufs[i], .iov_len = DATAGRAM_MAX };
			msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i],
								 .msg_iovlen = 1 } };
		}
		n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0 && errno == ENOBUFS) {
			fn(&(struct proc_ev){ .kind = PROC_EV_LOST }, userdata);
			continue;
		}
		if (n < 0)
			return -errno;
		for (int i = 0; i < n; i++)
			dispatch_datagram(bufs[i], msgs[i].msg_len, fn, userdata);
		if (n < BATCH)
			return 0; /* drained */
	}
}
