/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The kernel's process events (netlink proc connector): exec, fork (processes and threads),
 * comm (a thread renamed itself) and exit, each within a fraction of a millisecond. Events can
 * be lost (ENOBUFS): the caller then rescans /proc.
 */

#include <stdint.h>
#include <sys/types.h>

enum proc_event_kind {
	PROC_EV_EXEC,
	PROC_EV_FORK,
	PROC_EV_COMM,
	PROC_EV_EXIT,
	PROC_EV_LOST, /* the socket overflowed: events were dropped */
};

struct proc_ev {
	enum proc_event_kind kind;
	uint64_t timestamp_ns; /* CLOCK_MONOTONIC, from the kernel */
	pid_t pid, tgid;       /* the task (thread) and its process */
	pid_t parent_tgid;     /* FORK: the forking process */
	char comm[16];	       /* COMM: the new name */
};

/*
 * Opens, binds and subscribes the socket (nonblocking). passed_fd, when >= 0, is one systemd made
 * and bound (kvmtuned.socket: the proc connector exists only in the host's network namespace,
 * and kvmtuned runs in a private one): it is subscribed instead, and owned from then on. Returns
 * the fd or -errno.
 */
int proc_events_open(int passed_fd);

/*
 * Reads what is queued and calls fn for each event; stops when the socket is drained.
 * Returns 0, or -errno; a lost-events condition is reported as PROC_EV_LOST, not an error.
 */
int proc_events_read(int fd, void (*fn)(const struct proc_ev *ev, void *userdata), void *userdata);
