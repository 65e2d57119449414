/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include "action.h"
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
	cpuset_done(&a->cpus);
	cpuset_done(&a->nodes);
	for (size_t i = 0; i < a->n_props; i++)
		unit_property_done(&a->props[i]);
	*a = (struct action){};
}

void plan_done(struct plan *p)
{
	FOREACH_ARRAY (a, p->actions, p->n)
		action_done(a);
	free(p->actions);
	free(p->vm_group);
	*p = (struct plan){};
}
