/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What the planners share while they build one VM's plan: the builder (the plan so far, the
 * host's facts, the effective policy, the VM) and how an action or a warning is added to it.
 * An allocation failure is kept in b->r; every later call is then a no-op, so a planner checks
 * once at the end. Private to plan*.c.
 */

#include "action.h"
#include "plan.h"

struct builder {
	struct plan *plan;
	const struct plan_host *host;
	const struct policy *policy;
	const struct vm *vm;
	int r;
};

struct action *builder_add(struct builder *b, enum action_kind kind, enum cgroup_controller c,
			   const char *group, const struct origin *origin, const char *what_fmt,
			   ...) _printf_(6, 7);
/* A write of one value to group/file; what names it in reports ("memory hard_limit"). */
struct action *builder_write(struct builder *b, enum cgroup_controller c, const char *group,
			     const char *file, const struct origin *origin, const char *what,
			     const char *fmt, ...) _printf_(7, 8);
void builder_warn(struct builder *b, const struct origin *origin, const char *fmt, ...)
	_printf_(3, 4);

/* The planners of one concern each, called by plan_vm() for the VM group. */
void plan_memory(struct builder *b, const char *vm_group);
void plan_io(struct builder *b, const char *vm_group);
