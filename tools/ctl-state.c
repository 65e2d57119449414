/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The state of each VM as list, status and verify show it: computed by the engine's dry run
 * (assess.h), with what differs as desired against actual and the policy line asking for it.
 */

#include <json-c/json.h>
#include <string.h>

#include "assess.h"
#include "ctl.h"
#include "enforce.h"

int ctl_assess(struct ctl_world *w, struct vm **vms, size_t n, struct assessment **ret)
{
	_cleanup_(enforcer_done) struct enforcer e = {};
	struct assessment *a = calloc(n + 1, sizeof(*a));
	int r = EXIT_OK;

	if (!a)
		return log_oom();
	/* The backend is what apply would use; one that cannot be used is every VM's error. */
	if (!w->parent)
		r = ctl_world_backend(w);
	ctl_enforcer(w, &e);
	for (size_t i = 0; i < n; i++) {
		if (r != EXIT_OK && !ctl_vm_skipped(w, vms[i])) {
			a[i].state = VM_ERROR;
			a[i].why = strdup("the backend cannot be used (above)");
			continue;
		}
		if (assess_vm(&e, vms[i], w->settings.skip_managed.value, &a[i]) < 0) {
			ctl_assessments_free(a, n);
			return log_oom();
		}
	}
	*ret = a;
	return EXIT_OK;
}

void ctl_assessments_free(struct assessment *a, size_t n)
{
	for (size_t i = 0; a && i < n; i++)
		assessment_done(&a[i]);
	free(a);
}

const char *ctl_state_text(const struct assessment *a, char *buf, size_t size)
{
	(void)snprintf(buf, size, "%s%s%s%s", vm_state_to_string(a->state), a->why ? " (" : "",
		       a->why ? shown(a->why) : "", a->why ? ")" : "");
	return buf;
}

static int width_of(const struct assessment *a, bool where)
{
	int w = 4;

	FOREACH_ARRAY (it, a->items, a->n)
		if (it->outcome == APPLY_WOULD)
			w = MAX(w, (int)strlen(where ? it->where ?: "" : it->what));
	return MIN(w, 60);
}

void ctl_print_findings(const struct assessment *a, const char *indent)
{
	int ww = width_of(a, false), wh = width_of(a, true);

	if (a->n_drift) {
		printf("%sdrift:\n", indent);
		FOREACH_ARRAY (it, a->items, a->n) {
			if (it->outcome != APPLY_WOULD)
				continue;
			printf("%s  %-*s  %-*s  desired %s, actual %s", indent, ww, shown(it->what),
			       wh, shown(it->where ?: ""), shown(it->desired ?: "?"),
			       shown(it->actual ?: "?"));
			if (it->origin.file)
				printf("  [%s:%u]", shown(it->origin.file), it->origin.line);
			putchar('\n');
		}
	}
	for (int pass = 0; pass < 2; pass++) {
		enum apply_outcome o = pass == 0 ? APPLY_FAILED : APPLY_WARNING;

		if ((pass == 0 && !a->n_errors) || (pass == 1 && !a->n_warnings))
			continue;
		printf("%s%s:\n", indent, pass == 0 ? "cannot be enforced" : "warnings");
		FOREACH_ARRAY (it, a->items, a->n) {
			if (it->outcome != o)
				continue;
			printf("%s  %s", indent, shown(it->text ?: it->what));
			if (it->origin.file)
				printf("  [%s:%u]", shown(it->origin.file), it->origin.line);
			putchar('\n');
		}
	}
}

static struct json_object *origin_json(const struct origin *o)
{
	struct json_object *j;

	if (!o->file)
		return NULL;
	j = json_object_new_object();
	json_object_object_add(j, "file", json_shown(o->file));
	json_object_object_add(j, "line", json_object_new_int((int)o->line));
	json_object_object_add(j, "column", json_object_new_int((int)o->column));
	return j;
}

void ctl_assessment_json(const struct assessment *a, struct json_object *o)
{
	struct json_object *drift = json_object_new_array(), *errors = json_object_new_array(),
			   *warnings = json_object_new_array();

	json_object_object_add(o, "state", json_object_new_string(vm_state_to_string(a->state)));
	json_object_object_add(o, "state_reason", json_shown(a->why));
	json_object_object_add(o, "vm_group", json_shown(a->vm_group));
	FOREACH_ARRAY (it, a->items, a->n) {
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "what", json_shown(it->what));
		if (it->outcome == APPLY_WOULD) {
			json_object_object_add(j, "where", json_shown(it->where));
			json_object_object_add(j, "desired", json_shown(it->desired));
			json_object_object_add(j, "actual", json_shown(it->actual));
		} else
			json_object_object_add(j, "message", json_shown(it->text));
		json_object_object_add(j, "policy", origin_json(&it->origin));
		json_object_array_add(it->outcome == APPLY_WOULD    ? drift
				      : it->outcome == APPLY_FAILED ? errors
								    : warnings,
				      j);
	}
	json_object_object_add(o, "drift", drift);
	json_object_object_add(o, "errors", errors);
	json_object_object_add(o, "warnings", warnings);
}
