/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A brief QMP conversation for commands that change something (per-disk throttles): connect
 * to the VM's own socket (qmp_connect, with its proofs), greet, run a few commands one after
 * another, close. One deadline covers all of it, with the budgets of qmp.h (bytes, line
 * length, events); it blocks the caller for at most that long and never longer: a monitor
 * that does not answer (another client holds it, QEMU is stopped in a debugger) costs the
 * timeout once. The connection is never kept beyond the caller's few commands.
 */

#include <json-c/json.h>

#include "macro.h"
#include "qmp.h"

struct qmp_session;

static inline void json_object_putp(struct json_object **j)
{
	json_object_put(*j);
}

/*
 * Connects and leaves the greeting behind (qmp_capabilities), all before now + timeout_usec.
 * Returns 0 and *ret, or qmp_connect's errors, -ETIMEDOUT, -EPROTO (not QMP), -EMSGSIZE,
 * -ECONNRESET, -errno.
 */
int qmp_session_open(int proc_fd, const struct qmp_target *t, uint64_t timeout_usec,
		     struct qmp_session **ret);

/*
 * Runs one command (arguments may be NULL; borrowed) and waits for its reply. Returns 0 with
 * *ret its "return" value (caller puts it; may be NULL for no interest), -EREMOTEIO with *error
 * QEMU's words ("DeviceNotFound: Device 'x' not found", caller frees) when QEMU refused, or the
 * errors of qmp_session_open. After an error other than -EREMOTEIO the session is unusable.
 */
int qmp_session_call(struct qmp_session *s, const char *command, struct json_object *arguments,
		     struct json_object **ret, char **error);

struct qmp_session *qmp_session_close(struct qmp_session *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct qmp_session *, qmp_session_close);
