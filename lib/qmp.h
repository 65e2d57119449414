/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A small QMP client: connect to a QEMU monitor socket, ask which thread is which vCPU and
 * iothread, disconnect. A QMP socket serves one client at a time and greets the next one only
 * when the first leaves, so every step has a deadline and the socket is never held.
 */

#include <stdint.h>
#include <sys/types.h>

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

/*
 * Queries query-cpus-fast and query-iothreads on the unix socket path (absolute) within
 * timeout_usec in all. Returns 0, -ETIMEDOUT (no answer in time: e.g. another client holds the
 * monitor), -ECONNREFUSED/-ENOENT (nobody listens), -EPROTO (not QMP), -ENOMEM.
 */
int qmp_query(const char *path, uint64_t timeout_usec, struct qmp_info *ret);

/* The replies' "return" parts, as JSON text; for tests and fixtures. */
int qmp_info_from_json(const char *cpus_json, const char *iothreads_json, struct qmp_info *ret);

void qmp_info_done(struct qmp_info *i);
