/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A small QMP client that treats the peer as untrusted: ask a VM's monitor which thread is
 * which vCPU and iothread, and leave. The VM's owner controls that socket (they can replace it,
 * or make the QEMU process answer anything), so:
 *  - the socket file is looked up through the VM's own view (/proc/PID/root, /proc/PID/cwd) and
 *    must be a listening socket the VM process itself holds (sock-owner.h), which the kernel's
 *    SO_PEERCRED confirms once connected: kvmtune never talks to another process's socket;
 *  - one deadline covers the whole exchange and is checked before every read and write, the
 *    peer may send at most QMP_BYTES_MAX bytes, QMP_EVENTS_MAX events and lines of at most
 *    QMP_LINE_MAX bytes; anything else ends the exchange;
 *  - the socket is non-blocking and an exchange only ever does what the socket allows now
 *    (qmp_exchange_step), so an event loop can run many without waiting on any.
 * A QMP socket serves one client at a time: never held longer than one exchange.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define QMP_BYTES_MAX	  (4 * 1024 * 1024)
#define QMP_LINE_MAX	  (2 * 1024 * 1024)
#define QMP_EVENTS_MAX	  128
#define QMP_CPUS_MAX	  4096 /* as many vCPUs as a policy can name */
#define QMP_IOTHREADS_MAX 1024
#define QMP_ID_MAX	  128 /* bytes of an iothread id */
/* How long one exchange (one round trip after the greeting) may take, for every caller: a
 * monitor that answers at all answers in a few ms, in an emulated and loaded guest in a few
 * hundred; a silent one costs this once. */
#define QMP_TIMEOUT_USEC (1000 * 1000)

struct qmp_cpu {
	int cpu_index;
	pid_t thread_id; /* in QEMU's PID namespace */
};

struct qmp_iothread {
	char *id;
	pid_t thread_id;
};

struct qmp_info {
	struct qmp_cpu *cpus;
	size_t n_cpus;
	struct qmp_iothread *iothreads;
	size_t n_iothreads;
};

/* Which VM to ask, and the socket its command line names (absolute, or relative to its cwd). */
struct qmp_target {
	pid_t pid;
	uint64_t starttime; /* the VM's, so that a reused pid is not asked */
	const char *path;
};

struct qmp_exchange;

/*
 * A non-blocking connection to t's QMP socket, proven the VM's own (above), before any byte is
 * exchanged: the fd, or the errors of qmp_exchange_start.
 */
int qmp_connect(int proc_fd, const struct qmp_target *t);

/*
 * Connects to t's QMP socket (proc_fd: the /proc the VM is seen in) and starts an exchange that
 * must end within timeout_usec. Returns 0 and *ret, or: -ENOENT (no such socket yet),
 * -ENOTSOCK (the path is no socket), -EPERM (the socket is not the VM's own), -EAGAIN (its
 * backlog is full), -EPROTONOSUPPORT (the kernel cannot show whose the socket is: no
 * unix_diag), -ECONNREFUSED, -ESRCH (the VM is gone), -errno.
 */
int qmp_exchange_start(int proc_fd, const struct qmp_target *t, uint64_t timeout_usec,
		       struct qmp_exchange **ret);

/* An exchange fed by hand (no socket): for tests and the fuzzer. */
int qmp_exchange_new_detached(struct qmp_exchange **ret);

int qmp_exchange_fd(const struct qmp_exchange *e);
/* POLLIN or POLLOUT: what the exchange waits for. */
short qmp_exchange_events(const struct qmp_exchange *e);
/* CLOCK_MONOTONIC µs by which it must end. */
uint64_t qmp_exchange_deadline(const struct qmp_exchange *e);

/*
 * Does what the socket allows now. Returns 0 (more to do: wait for qmp_exchange_events()), 1
 * (done: qmp_exchange_result()), or -ETIMEDOUT (past the deadline), -EPROTO (not QMP, or an
 * error reply), -EMSGSIZE (over a budget), -ECONNRESET, -errno. Returns the same once ended.
 */
int qmp_exchange_step(struct qmp_exchange *e);

/*
 * Takes bytes the peer sent, as step does after a read. The commands to send in answer queue
 * up (qmp_exchange_take_output). Same returns as step, without the deadline.
 */
int qmp_exchange_feed(struct qmp_exchange *e, const char *data, size_t n);
/* What the exchange has to send, taken out of it (for detached exchanges). */
const char *qmp_exchange_take_output(struct qmp_exchange *e, size_t *ret_n);

/* Moves the answer out of a finished exchange. */
int qmp_exchange_result(struct qmp_exchange *e, struct qmp_info *ret);

struct qmp_exchange *qmp_exchange_free(struct qmp_exchange *e);

/*
 * Asks n VMs at once (one poll loop), in timeout_usec in all, whatever they do. results[i] is
 * 0 with infos[i] filled, or why not (as qmp_exchange_start and qmp_exchange_step say).
 */
void qmp_query_many(int proc_fd, const struct qmp_target *t, size_t n, uint64_t timeout_usec,
		    struct qmp_info *infos, int *results);

/* The replies' "return" parts, as JSON text; for tests and fixtures. */
int qmp_info_from_json(const char *cpus_json, const char *iothreads_json, struct qmp_info *ret);

void qmp_info_done(struct qmp_info *i);
