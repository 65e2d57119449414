/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "macro.h"
#include "proc.h"
#include "task-ref.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD 00000200 /* O_EXCL: Linux 6.9 */
#endif

/* Whether pidfd_open takes PIDFD_THREAD here; cleared at the first EINVAL for it. */
static bool thread_pidfds = true;

static int pidfd_open_task(pid_t pid, pid_t tid)
{
	long fd;

	if (tid == pid)
		fd = syscall(SYS_pidfd_open, pid, 0);
	else if (thread_pidfds) {
		fd = syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
		if (fd < 0 && errno == EINVAL)
			thread_pidfds = false; /* a kernel before 6.9 */
	} else
		return -EOPNOTSUPP;
	if (fd < 0)
		return errno == EINVAL ? -EOPNOTSUPP : -errno;
	return (int)fd;
}

/* The task that proc_fd/PID/task/TID names now is the one that started at starttime. */
static int same_start(int proc_fd, pid_t pid, pid_t tid, uint64_t starttime)
{
	struct proc_stat st;
	int r = proc_read_stat(proc_fd, pid, tid == pid ? 0 : tid, &st);

	if (r == -ENOENT || r == -ESRCH || r == -EINVAL)
		return -ESRCH; /* gone, or half gone (a stat that no longer parses) */
	if (r < 0)
		return r;
	return st.starttime == starttime && st.state != 'Z' && st.state != 'X' ? 0 : -ESRCH;
}

int task_ref_open(int proc_fd, pid_t pid, pid_t tid, uint64_t starttime, struct task_ref *ret)
{
	/* pidfd first, then the start time: if the TID still names the thread seen, the pidfd
	 * (taken earlier) cannot name a later holder of the TID. */
	int fd = pidfd_open_task(pid, tid), r;

	if (fd == -ESRCH)
		return -ESRCH;
	r = same_start(proc_fd, pid, tid, starttime);
	if (r < 0) {
		safe_close(fd);
		return r;
	}
	*ret = (struct task_ref){
		.pid = pid, .tid = tid, .starttime = starttime, .pidfd = fd >= 0 ? fd : -EBADF
	};
	return 0;
}

int task_ref_check(const struct task_ref *r, int proc_fd)
{
	struct pollfd p = { .fd = r->pidfd, .events = POLLIN };
	int n;

	if (r->pidfd < 0)
		return same_start(proc_fd, r->pid, r->tid, r->starttime);
	/* A pidfd becomes readable once its task has ended. */
	n = poll(&p, 1, 0);
	if (n < 0)
		return -errno;
	return n == 0 ? 0 : -ESRCH;
}

void task_ref_done(struct task_ref *r)
{
	r->pidfd = safe_close(r->pidfd);
}
