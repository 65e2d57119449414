/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/statfs.h>

#include "cgroup-mounts.h"
#include "libcgroup-read.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

int cgroup_mounts_discover(struct cgroup_mounts *ret)
{
	struct cgroup_mounts m = {};
	int r = libcgroup_read_mounts();

	if (r < 0)
		return r;
	for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++) {
		char *path;
		int hierarchy = 0;

		r = libcgroup_mount_of(cgroup_controller_v1_name(c), &path, &hierarchy);
		if (r < 0) {
			cgroup_mounts_done(&m);
			return r;
		}
		if (r > 0)
			m.m[m.n++] = (struct cgroup_mount){
				.controller = c,
				.path = path,
				.hierarchy = hierarchy,
			};
	}
	*ret = m;
	return 0;
}

const char *cgroup_mounts_strerror(int r)
{
	return libcgroup_strerror(r);
}

void cgroup_mounts_done(struct cgroup_mounts *m)
{
	for (size_t i = 0; i < m->n; i++)
		free((char *)m->m[i].path);
	*m = (struct cgroup_mounts){};
}

int cgroup_fs_open_host(struct cgroup_fs *ret, char **ret_note)
{
	struct cgroup_mounts m;
	struct statfs sf;
	int r;

	if (ret_note)
		*ret_note = NULL;
	/* v2 is one mount with its controllers listed in it: nothing to discover. */
	if (statfs(CGROUP_ROOT, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
		return cgroup_fs_open(CGROUP_ROOT, ret);
	r = cgroup_mounts_discover(&m);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		if (ret_note && asprintf(ret_note,
					 "libcgroup cannot read the mount table (%s): v1 "
					 "controllers looked for at " CGROUP_ROOT "/<name>",
					 cgroup_mounts_strerror(r)) < 0)
			return -ENOMEM;
		return cgroup_fs_open(CGROUP_ROOT, ret);
	}
	r = cgroup_fs_open_mounts(CGROUP_ROOT, m.m, m.n, ret);
	cgroup_mounts_done(&m);
	return r;
}
