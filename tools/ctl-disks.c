/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The per-disk throttles QEMU holds, as status shows them (virsh blkdeviotune's view): each disk
 * query-block lists, with the ids a policy can name it by and its throttle. Asked in one brief
 * session (qmp-block.h), only of VMs a policy with `disks:` fits and whose command line names a
 * QMP socket: no other VM's monitor is taken from its other clients for a look.
 */

#include <json-c/json.h>
#include <string.h>

#include "assess.h"
#include "ctl.h"
#include "qmp-block.h"

#define PERIPHERAL "/machine/peripheral/"

/* -ENOTCONN: not to be asked. */
static int read_disks(struct ctl_world *w, const struct vm *vm, const struct assessment *as,
		      struct qmp_disks *ret)
{
	struct qmp_target t = { .pid = vm->pid,
				.starttime = vm->starttime,
				.path = vm->cmdline.qmp_socket };

	*ret = (struct qmp_disks){};
	if (!vm->cmdline.qmp_socket || !as || as->effective.disks.n == 0)
		return -ENOTCONN;
	return qmp_disks_query(w->proc_fd, &t, QMP_TIMEOUT_USEC, ret);
}

static const char *qdev_id(const char *qdev)
{
	return strncmp(qdev, PERIPHERAL, strlen(PERIPHERAL)) == 0 ? qdev + strlen(PERIPHERAL)
								  : qdev;
}

void print_disks(struct ctl_world *w, const struct vm *vm, const struct assessment *as)
{
	_cleanup_(qmp_disks_done) struct qmp_disks l = {};
	int r = read_disks(w, vm, as, &l);

	if (r == -ENOTCONN)
		return; /* no disks: asked for, or no socket (the QMP line above says so) */
	printf("  disks (QMP query-block):\n");
	if (r < 0)
		printf("    unknown: %s\n", strerror(-r));
	FOREACH_ARRAY (d, l.items, l.n) {
		_cleanup_free_ char *text = d->inserted ? disk_io_format(&d->io) : NULL;

		printf("    %-24s %-32s %s\n", *d->device ? shown(d->device) : "-",
		       *d->qdev ? shown(qdev_id(d->qdev)) : "-",
		       d->inserted ? shown(text ?: "?") : "(no medium)");
	}
}

void disks_json(struct ctl_world *w, const struct vm *vm, const struct assessment *as,
		struct json_object *o)
{
	_cleanup_(qmp_disks_done) struct qmp_disks l = {};
	int r = read_disks(w, vm, as, &l);
	struct json_object *a;

	if (r == -ENOTCONN)
		return;
	if (r < 0) {
		json_object_object_add(o, "disks_error", json_object_new_string(strerror(-r)));
		return;
	}
	a = json_object_new_array();
	FOREACH_ARRAY (d, l.items, l.n) {
		_cleanup_free_ char *text = d->inserted ? disk_io_format(&d->io) : NULL;
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "device", json_shown(d->device));
		json_object_object_add(j, "qdev", json_shown(qdev_id(d->qdev)));
		json_object_object_add(j, "throttle", text ? json_shown(text) : NULL);
		json_object_array_add(a, j);
	}
	json_object_object_add(o, "disks", a);
}
