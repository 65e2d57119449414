/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "apply-report.h"
#include "cgroup-value.h"
#include "macro.h"

static char *done(const struct action *a, const char *old, bool drift)
{
	const char *verb = drift ? "reverted" : "set", *what = a->file ?: a->what;
	char *s = NULL;
	int r;

	switch (a->kind) {
	case ACTION_UNIT_WRITE:
		if (!old) {
			r = asprintf(&s, "set %s/%s: %s (with the new scope)", a->group, what,
				     a->value);
			break;
		}
		/* fall through */
	case ACTION_WRITE:
		r = asprintf(&s, "%s %s/%s: %s -> %s", verb, a->group, what,
			     !old   ? "?"
			     : *old ? cgroup_value_show(a->file, old)
				    : "(empty)",
			     cgroup_value_show(a->file, a->value));
		break;
	case ACTION_AFFINITY:
	case ACTION_SCHEDULER:
		r = asprintf(&s, "%s %s of tid %d (was %s)", verb, a->what, (int)a->tid,
			     old ?: "?");
		break;
	case ACTION_ATTACH_THREAD:
	case ACTION_ATTACH_PROCESS:
		r = asprintf(&s, "%s the %s (%s %d) into %s (was in %s)",
			     drift ? "moved back" : "moved", a->what,
			     a->kind == ACTION_ATTACH_THREAD ? "tid" : "pid",
			     (int)(a->kind == ACTION_ATTACH_THREAD ? a->tid : a->pid), a->group,
			     old ?: "?");
		break;
	case ACTION_SCOPE:
		r = asprintf(&s, "put into systemd scope %s (was in %s)", a->group, old ?: "?");
		break;
	case ACTION_MACHINE:
		r = asprintf(&s, "registered with systemd-machined as %s", a->machine);
		break;
	case ACTION_DISK_THROTTLE:
		r = asprintf(&s, "%s %s: %s -> %s", verb, a->what, old ?: "?", a->value);
		break;
	default:
		r = asprintf(&s, "%s %s %s", action_kind_to_string(a->kind), a->what,
			     a->group ?: "");
		break;
	}
	return r < 0 ? NULL : s;
}

char *apply_describe(const struct action *a, enum apply_outcome o, const char *old, int error,
		     const char *detail, bool drift)
{
	char *s = NULL;
	int r = 0;

	switch (o) {
	case APPLY_DONE:
		s = done(a, old, drift);
		if (s && detail) { /* how: "by joining its cpuset group" */
			char *t = s;

			r = asprintf(&s, "%s (%s)", t, detail);
			free(t);
			if (r < 0)
				return NULL;
		}
		return s;
	case APPLY_FAILED:
		if (!a->group) /* a disk's throttle: the detail says where */
			r = asprintf(&s, "could not enforce %s: %s%s%s", a->what, strerror(-error),
				     detail ? ": " : "", detail ?: "");
		else
			r = asprintf(&s, "could not enforce %s (%s%s%s): %s%s%s", a->what, a->group,
				     a->file ? "/" : "", a->file ?: "", strerror(-error),
				     detail ? ": " : "", detail ?: "");
		break;
	case APPLY_REPLACED:
		r = asprintf(&s,
			     "skipped %s: %s %d now names another task (the one seen has ended)",
			     a->what, a->tid == a->pid ? "pid" : "tid", (int)a->tid);
		break;
	case APPLY_WARNING:
		r = (s = strdup(a->warning ?: "")) ? 0 : -1;
		break;
	default:
		return NULL;
	}
	return r < 0 ? NULL : s;
}
