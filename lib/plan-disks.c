/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "disk-io.h"
#include "macro.h"
#include "plan-disks.h"

static int plan_one(struct plan *p, const struct disk_throttle *d, const struct vm *vm)
{
	struct action *a = plan_append(p, ACTION_DISK_THROTTLE);

	if (!a)
		return -ENOMEM;
	a->pid = a->tid = vm->pid;
	a->starttime = vm->starttime;
	a->origin = &d->origin;
	(void)snprintf(a->what, sizeof(a->what), "disk %.64s throttle", d->id);
	a->disk = calloc(1, sizeof(*a->disk));
	if (!a->disk || disk_io_from_policy(d, a->disk) < 0)
		return -ENOMEM;
	a->value = disk_io_format(a->disk);
	if (!a->value)
		return -ENOMEM;
	/* Without a socket the applier says so: a VM without QMP cannot be throttled. */
	if (vm->cmdline.qmp_socket && !(a->socket = strdup(vm->cmdline.qmp_socket)))
		return -ENOMEM;
	return 0;
}

int plan_disk_throttles(struct plan *p, const struct policy *policy, const struct vm *vm)
{
	FOREACH_ARRAY (d, policy->disks.items, policy->disks.n) {
		int r = plan_one(p, d, vm);

		if (r < 0)
			return r;
	}
	return 0;
}

void plan_drop_disk_throttles(struct plan *p)
{
	size_t k = 0;

	for (size_t i = 0; i < p->n; i++)
		if (p->actions[i].kind == ACTION_DISK_THROTTLE)
			action_done(&p->actions[i]);
		else
			p->actions[k++] = p->actions[i];
	p->n = k;
}
