/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <libcgroup.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "libcgroup-read.h"

static void quiet(void *userdata, int level, const char *fmt, va_list ap)
{
	(void)userdata, (void)level, (void)fmt, (void)ap;
}

int libcgroup_read_mounts(void)
{
	int r;

	cgroup_set_logger(quiet, CGROUP_LOG_ERROR, NULL);
	r = cgroup_init();
	return r == 0 ? 0 : -abs(r);
}

/* $ grep -E '^(cpu|memory)\s' /proc/cgroups     (subsys_name hierarchy num_cgroups enabled)
 * cpu     1       1       1
 * memory  4       51      1 */
static int hierarchy_id(const char *name)
{
	struct controller_data d;
	void *h = NULL;
	int id = 0;

	for (int r = cgroup_get_all_controller_begin(&h, &d); r == 0;
	     r = cgroup_get_all_controller_next(&h, &d))
		if (strcmp(d.name, name) == 0) {
			id = d.enabled ? d.hierarchy : 0;
			break;
		}
	cgroup_get_all_controller_end(&h);
	return id;
}

int libcgroup_mount_of(const char *controller, bool (*usable)(const char *path), char **ret_path,
		       int *ret_hierarchy)
{
	char path[FILENAME_MAX];
	void *h = NULL;
	int r;

	*ret_path = NULL;
	for (r = cgroup_get_subsys_mount_point_begin(controller, &h, path); r == 0;
	     r = cgroup_get_subsys_mount_point_next(&h, path))
		if (usable(path)) {
			*ret_path = strdup(path);
			if (!*ret_path)
				r = -ENOMEM;
			break;
		}
	cgroup_get_subsys_mount_point_end(&h);
	if (r == -ENOMEM)
		return r;
	if (!*ret_path)
		return 0;
	*ret_hierarchy = hierarchy_id(controller);
	return 1;
}

const char *libcgroup_strerror(int r)
{
	return r == -ENOMEM ? strerror(ENOMEM) : cgroup_strerror(-r);
}
