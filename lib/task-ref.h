/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A reference to one thread or process as discovery saw it: (pid, tid, start time). The kernel
 * calls that change a task (sched_setaffinity, sched_setscheduler, a cgroup `tasks` write) take
 * a bare TID, and a TID is reused once its thread has ended: a VM thread that exits between
 * discovery and apply could hand its TID to another user's process. So every such call is
 * made between two checks that the TID still names the thread that was seen: the thread is
 * alive before and after, hence it held the TID throughout (a TID is not reused while its
 * thread lives). Where the kernel offers thread pidfds (PIDFD_THREAD, Linux 6.9), the checks
 * poll a pidfd bound once to the thread; elsewhere they read the thread's start time again.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct task_ref {
	pid_t pid;	    /* the process (thread group) */
	pid_t tid;	    /* the thread; == pid for the process itself */
	uint64_t starttime; /* clock ticks after boot, as /proc/PID/task/TID/stat says */
	int pidfd;	    /* bound to this very task, or -EBADF (checks read stat instead) */
};

/*
 * Binds a reference to the task proc_fd/PID/task/TID whose start time is starttime. Returns 0,
 * -ESRCH when that task is gone (ended, or its TID now names another task), or -errno.
 */
int task_ref_open(int proc_fd, pid_t pid, pid_t tid, uint64_t starttime, struct task_ref *ret);

/* 0 while the task is the one bound (alive, same start time), -ESRCH when not, -errno. */
int task_ref_check(const struct task_ref *r, int proc_fd);

void task_ref_done(struct task_ref *r);
