/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "apply-disks.h"
#include "macro.h"
#include "qmp-block.h"
#include "qmp-session.h"

static enum apply_outcome failed(struct apply_step *s, int error, const char *fmt, ...)
	_printf_(3, 4);

static enum apply_outcome failed(struct apply_step *s, int error, const char *fmt, ...)
{
	va_list ap;

	s->error = error;
	va_start(ap, fmt);
	if (vasprintf(&s->detail, fmt, ap) < 0)
		s->detail = NULL;
	va_end(ap);
	return APPLY_FAILED;
}

/* Why the VM's monitor could not be asked, in words that say what to do about it. */
static enum apply_outcome session_failed(struct apply_step *s, const char *socket, int error)
{
	switch (error) {
	case -ETIMEDOUT:
		return failed(s, error,
			      "its QMP socket %.256s did not answer within %d ms (another client "
			      "may hold it: a QMP socket serves one at a time)",
			      socket, QMP_TIMEOUT_USEC / 1000);
	case -EAGAIN:
		return failed(s, error,
			      "its QMP socket %.256s is busy: another client holds it (a QMP "
			      "socket serves one at a time)",
			      socket);
	case -ENOENT:
		return failed(s, error, "its QMP socket %.256s does not exist (yet)", socket);
	case -EPERM:
		return failed(s, error, "%.256s is not a socket the VM's own process listens on",
			      socket);
	case -EPROTO:
		return failed(s, error, "%.256s does not speak QMP", socket);
	default:
		return failed(s, error, "its QMP socket %.256s", socket);
	}
}

/* Sends want; QEMU's refusal becomes the detail. */
static enum apply_outcome set_throttle(struct qmp_session *q, const struct action *a,
				       bool as_device, struct apply_step *s)
{
	_cleanup_(json_object_putp) struct json_object *args =
		qmp_throttle_arguments(a->disk, a->disk->id, as_device);
	_cleanup_free_ char *error = NULL;
	int r;

	if (!args)
		return failed(s, -ENOMEM, "out of memory");
	r = qmp_session_call(q, "block_set_io_throttle", args, NULL, &error);
	if (r == -EREMOTEIO)
		return failed(s, -EINVAL, "QEMU refused it: %s", error ?: "(no reason given)");
	if (r < 0)
		return session_failed(s, a->socket, r);
	return APPLY_DONE;
}

enum apply_outcome apply_disk_throttle(struct apply_run *run, const struct action *a,
				       struct apply_step *s)
{
	_cleanup_(qmp_session_closep) struct qmp_session *q = NULL;
	_cleanup_(qmp_disks_done) struct qmp_disks disks = {};
	struct qmp_target t = { .pid = a->pid, .starttime = a->starttime, .path = a->socket };
	const struct task_ref *ref;
	const struct qmp_disk *d;
	bool as_device;
	enum apply_outcome o;
	int r;

	if (!a->socket)
		return failed(s, -ENOTCONN,
			      "its command line names no QMP socket, which QEMU's own throttles "
			      "need (-qmp unix:PATH,server=on,wait=off)");
	o = apply_verify_target(run, a, &ref, &s->error);
	if (o != APPLY_DONE)
		return o;
	/* One monitor that does not answer (or is busy) costs its timeout once per run, not once
	 * per disk. */
	if (run->qmp_error < 0)
		return session_failed(s, a->socket, run->qmp_error);
	r = qmp_session_open(run->ctx->proc_fd, &t, QMP_TIMEOUT_USEC, &q);
	if (r >= 0)
		r = qmp_disks_read(q, &disks);
	if (r == -ESRCH)
		return APPLY_GONE;
	if (r < 0) {
		if (r == -ETIMEDOUT || r == -EAGAIN)
			run->qmp_error = r;
		return session_failed(s, a->socket, r);
	}
	d = qmp_disks_find(&disks, a->disk->id, &as_device);
	if (!d) {
		_cleanup_free_ char *ids = qmp_disks_ids(&disks);

		return failed(s, -ENODEV, "QEMU has no disk '%s' (its disks: %s)", a->disk->id,
			      ids ?: "?");
	}
	if (!d->inserted)
		return failed(s, -ENOMEDIUM, "the drive has no medium, so no throttle");
	s->old = disk_io_format(&d->io);
	if (disk_io_equal(a->disk, &d->io, a->disk->id))
		return APPLY_UNCHANGED;
	if (run->ctx->dry_run)
		return APPLY_WOULD;
	return set_throttle(q, a, as_device, s);
}
