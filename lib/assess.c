/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "apply-report.h"
#include "assess.h"
#include "cgroup-value.h"
#include "macro.h"

static const char *const state_names[_VM_STATE_MAX] = {
	[VM_ENFORCED] = "enforced",   [VM_DRIFT] = "drift",	[VM_ERROR] = "error",
	[VM_UNMANAGED] = "unmanaged", [VM_SKIPPED] = "skipped",
};

const char *vm_state_to_string(enum vm_state s)
{
	return s < _VM_STATE_MAX ? state_names[s] : NULL;
}

struct collect {
	struct assessment *a;
	int r;
};

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* Where an action acts, and what it wants there, as people read them. */
static int describe(const struct action *a, const char *old, struct assess_item *it)
{
	_cleanup_free_ char *set = NULL;
	const char *want = NULL, *have = old;
	int r = 0;

	switch (a->kind) {
	case ACTION_WRITE:
	case ACTION_UNIT_WRITE:
		r = asprintf(&it->where, "/%s/%s", a->group, a->file);
		want = cgroup_value_show(a->file, a->value);
		have = old ? cgroup_value_show(a->file, old) : "(no such group yet)";
		break;
	case ACTION_MKDIR:
		r = asprintf(&it->where, "/%s", a->group);
		want = "exists";
		have = "missing";
		break;
	case ACTION_ATTACH_THREAD:
	case ACTION_ATTACH_PROCESS:
		/* groups as /proc/PID/cgroup has them, which is what old is */
		r = asprintf(&it->where, "%s %d", a->kind == ACTION_ATTACH_THREAD ? "tid" : "pid",
			     (int)(a->kind == ACTION_ATTACH_THREAD ? a->tid : a->pid));
		if (r >= 0)
			r = asprintf(&set, "/%s", a->group);
		want = set;
		break;
	case ACTION_AFFINITY:
		r = asprintf(&it->where, "tid %d", (int)a->tid);
		want = set = cpuset_format(&a->cpus);
		break;
	case ACTION_SCHEDULER:
		r = asprintf(&it->where, "tid %d", (int)a->tid);
		want = set = apply_sched_text(a->sched_policy, a->sched_priority);
		break;
	case ACTION_MIGRATE_PAGES:
		r = asprintf(&it->where, "pid %d memory", (int)a->pid);
		want = set = cpuset_format(&a->nodes);
		break;
	case ACTION_SCOPE:
		it->where = strdup(a->group);
		want = "a systemd scope";
		break;
	case ACTION_DISK_THROTTLE:
		r = asprintf(&it->where, "QMP %s", a->socket ?: "(none)");
		want = a->value;
		break;
	case ACTION_MACHINE:
		r = asprintf(&it->where, "pid %d", (int)a->pid);
		want = "registered with systemd-machined";
		have = "not registered";
		break;
	default:
		break;
	}
	if (r < 0)
		return -ENOMEM;
	it->desired = dup_or_null(want);
	it->actual = dup_or_null(have);
	return 0;
}

static void collect(void *userdata, const struct action *a, enum apply_outcome o, const char *old,
		    int error, const char *detail)
{
	struct collect *c = userdata;
	struct assessment *as = c->a;
	struct assess_item *it;

	if (o != APPLY_WOULD && o != APPLY_FAILED && o != APPLY_WARNING)
		return; /* unchanged, or a task gone meanwhile: nothing differs */
	if (c->r < 0 || GROW_ARRAY(as->items, as->allocated, as->n + 1) < 0) {
		c->r = -ENOMEM;
		return;
	}
	it = &as->items[as->n++];
	*it = (struct assess_item){ .outcome = o, .what = strdup(a->what) };
	if (a->origin)
		it->origin = *a->origin; /* a copy: the plan it points into is gone after this */
	if (o != APPLY_WOULD)
		it->text = apply_describe(a, o, old, error, detail, false);
	if (describe(a, old, it) < 0 || !it->what || (o != APPLY_WOULD && !it->text))
		c->r = -ENOMEM;
	as->n_drift += o == APPLY_WOULD;
	as->n_errors += o == APPLY_FAILED;
	as->n_warnings += o == APPLY_WARNING;
}

static int verdict(struct assessment *a, enum vm_state state, const char *fmt, ...) _printf_(3, 4);

static int verdict(struct assessment *a, enum vm_state state, const char *fmt, ...)
{
	va_list ap;
	int r;

	a->state = state;
	va_start(ap, fmt);
	r = vasprintf(&a->why, fmt, ap);
	va_end(ap);
	if (r < 0) {
		a->why = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* The merged policy's broken rules, as one line for `why`. */
static int rules_text(const struct diag_list *diags, struct assessment *a)
{
	_cleanup_free_ char *first = diags->n ? diag_format(&diags->items[0]) : NULL;

	return verdict(a, VM_ERROR, "its merged policy breaks a rule: %s%s", first ?: "?",
		       diags->n > 1 ? " (and more: kvmtunectl show)" : "");
}

int assess_vm(struct enforcer *e, const struct vm *vm, bool skip_managed, struct assessment *ret)
{
	_cleanup_(diag_list_done) struct diag_list diags = {};
	_cleanup_(enforce_result_done) struct enforce_result res = {};
	struct enforcer dry = *e; /* the caller's enforcer stays as it was */
	struct assessment a = {};
	struct collect c = { .a = &a };
	int r;

	if (vm->managed && skip_managed) {
		r = verdict(&a, VM_SKIPPED, "another manager's VM (in %s)",
			    vm->managed ?: vm->cgroup ?: "?");
		goto out;
	}
	dry.dry_run = true;
	dry.overlay = (struct cgroup_overlay){}; /* this VM alone */
	dry.report = collect;
	dry.userdata = &c;
	r = enforce_vm(&dry, vm, &diags, &res);
	cgroup_overlay_done(&dry.overlay);
	if (r >= 0)
		r = c.r;
	if (r < 0)
		goto out;
	a.vm_group = TAKE_PTR(res.vm_group);
	a.effective = res.effective;
	res.effective = (struct policy){};
	if (res.no_policy)
		r = verdict(&a, VM_UNMANAGED, "no policy fits it");
	else if (res.group_taken_by)
		r = verdict(&a, VM_ERROR, "VM pid %d has the same name and its group",
			    (int)res.group_taken_by->pid);
	else if (res.rule_broken)
		r = rules_text(&diags, &a);
	else if (a.n_errors)
		r = verdict(&a, VM_ERROR, "%u thing%s cannot be enforced", a.n_errors,
			    a.n_errors == 1 ? "" : "s");
	else if (a.n_drift)
		r = verdict(&a, VM_DRIFT, "%u thing%s differ%s from the policy", a.n_drift,
			    a.n_drift == 1 ? "" : "s", a.n_drift == 1 ? "s" : "");
	else
		a.state = VM_ENFORCED;
out:
	if (r < 0) {
		assessment_done(&a);
		return r;
	}
	*ret = a;
	return 0;
}

void assessment_done(struct assessment *a)
{
	FOREACH_ARRAY (it, a->items, a->n) {
		free(it->what);
		free(it->where);
		free(it->desired);
		free(it->actual);
		free(it->text);
	}
	free(a->items);
	free(a->why);
	free(a->vm_group);
	policy_done(&a->effective);
	*a = (struct assessment){};
}
