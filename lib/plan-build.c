/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Adding actions and warnings to the plan being built (plan-build.h). */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "plan-build.h"

struct action *builder_add(struct builder *b, enum action_kind kind, enum cgroup_controller c,
			   const char *group, const struct origin *origin, const char *what_fmt,
			   ...)
{
	struct action *a;
	va_list ap;

	if (b->r < 0 || !(a = plan_append(b->plan, kind))) {
		b->r = -ENOMEM;
		return NULL;
	}
	a->controller = c;
	a->origin = origin;
	if (group && !(a->group = strdup(group)))
		b->r = -ENOMEM;
	va_start(ap, what_fmt);
	(void)vsnprintf(a->what, sizeof(a->what), what_fmt, ap);
	va_end(ap);
	return a;
}

struct action *builder_write(struct builder *b, enum cgroup_controller c, const char *group,
			     const char *file, const struct origin *origin, const char *what,
			     const char *fmt, ...)
{
	struct action *a = builder_add(b, ACTION_WRITE, c, group, origin, "%s", what);
	va_list ap;

	if (!a)
		return NULL;
	va_start(ap, fmt);
	if (vasprintf(&a->value, fmt, ap) < 0)
		a->value = NULL;
	va_end(ap);
	a->file = strdup(file);
	if (!a->value || !a->file)
		b->r = -ENOMEM;
	return a;
}

void builder_warn(struct builder *b, const struct origin *origin, const char *fmt, ...)
{
	_cleanup_free_ char *text = NULL;
	va_list ap;
	int r;

	if (b->r < 0)
		return;
	va_start(ap, fmt);
	r = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (r < 0 || plan_warn(b->plan, origin, "%s", text) < 0)
		b->r = -ENOMEM;
}
