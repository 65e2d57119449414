/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "action.h"
#include "disk-io.h"
#include "macro.h"

static const char *const kind_names[_ACTION_KIND_MAX] = {
	[ACTION_MKDIR] = "mkdir",
	[ACTION_WRITE] = "write",
	[ACTION_ATTACH_PROCESS] = "attach process",
	[ACTION_ATTACH_THREAD] = "attach thread",
	[ACTION_AFFINITY] = "affinity",
	[ACTION_SCHEDULER] = "scheduler",
	[ACTION_RMDIR] = "rmdir",
	[ACTION_MIGRATE_PAGES] = "migrate pages",
	[ACTION_WARN] = "warning",
	[ACTION_SCOPE] = "start scope",
	[ACTION_UNIT_WRITE] = "set property",
	[ACTION_MACHINE] = "register machine",
	[ACTION_DISK_THROTTLE] = "throttle disk",
};

static const char *const outcome_names[_APPLY_OUTCOME_MAX] = {
	[APPLY_DONE] = "done",	     [APPLY_UNCHANGED] = "unchanged", [APPLY_WOULD] = "would",
	[APPLY_GONE] = "gone",	     [APPLY_REPLACED] = "replaced",   [APPLY_FAILED] = "failed",
	[APPLY_WARNING] = "warning",
};

const char *action_kind_to_string(enum action_kind k)
{
	return k < _ACTION_KIND_MAX ? kind_names[k] : NULL;
}

const char *apply_outcome_to_string(enum apply_outcome o)
{
	return o < _APPLY_OUTCOME_MAX ? outcome_names[o] : NULL;
}

void unit_property_done(struct unit_property *p)
{
	cpuset_done(&p->cpus);
	free(p->device);
	p->device = NULL;
}

void action_done(struct action *a)
{
	free(a->group);
	free(a->file);
	free(a->value);
	free(a->slice);
	free(a->machine);
	free(a->warning);
	free(a->socket);
	if (a->disk)
		disk_io_done(a->disk);
	free(a->disk);
	cpuset_done(&a->cpus);
	cpuset_done(&a->nodes);
	for (size_t i = 0; i < a->n_props; i++)
		unit_property_done(&a->props[i]);
	*a = (struct action){};
}

struct action *plan_append(struct plan *p, enum action_kind kind)
{
	struct action *a;

	if (GROW_ARRAY(p->actions, p->allocated, p->n + 1) < 0)
		return NULL;
	a = &p->actions[p->n++];
	*a = (struct action){ .kind = kind };
	return a;
}

int plan_warn(struct plan *p, const struct origin *origin, const char *fmt, ...)
{
	struct action *a = plan_append(p, ACTION_WARN);
	va_list ap;
	int r;

	if (!a)
		return -ENOMEM;
	a->origin = origin;
	(void)snprintf(a->what, sizeof(a->what), "policy");
	va_start(ap, fmt);
	r = vasprintf(&a->warning, fmt, ap);
	va_end(ap);
	if (r < 0) {
		a->warning = NULL;
		return -ENOMEM;
	}
	return 0;
}

void plan_done(struct plan *p)
{
	FOREACH_ARRAY (a, p->actions, p->n)
		action_done(a);
	free(p->actions);
	free(p->vm_group);
	*p = (struct plan){};
}
