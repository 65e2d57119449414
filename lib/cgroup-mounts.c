/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>

#include "cgroup-mounts.h"
#include "fileio.h"
#include "libcgroup-read.h"
#include "macro.h"
#include "mountinfo.h"

#define CGROUP_ROOT   "/sys/fs/cgroup"
#define MOUNTINFO_MAX (16u << 20) /* a host with thousands of containers' mounts */

/* A v1 cgroup mount, reachable at path (not hidden under a later mount). */
static bool is_v1_mount(const char *path)
{
	struct statfs sf;

	return statfs(path, &sf) == 0 && sf.f_type == CGROUP_SUPER_MAGIC;
}

int cgroup_mounts_discover(struct cgroup_mounts *ret)
{
	struct cgroup_mounts m = {};
	int r = libcgroup_read_mounts();

	if (r < 0)
		return r;
	for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++) {
		char *path;
		int hierarchy = 0;

		r = libcgroup_mount_of(cgroup_controller_v1_name(c), is_v1_mount, &path,
				       &hierarchy);
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

/* The first of mi's mounts that holds c and is reachable as that very hierarchy, or NULL. */
static const struct mountinfo_cgroup *reachable(const struct mountinfo_cgroup *mi, size_t n,
						enum cgroup_controller c)
{
	for (size_t i = 0; i < n; i++) {
		struct stat st;

		if ((mi[i].controllers & 1u << c) && is_v1_mount(mi[i].path) &&
		    stat(mi[i].path, &st) == 0 && st.st_dev == makedev(mi[i].major, mi[i].minor))
			return &mi[i];
	}
	return NULL;
}

int cgroup_mounts_from_mountinfo(const char *path, struct cgroup_mounts *ret)
{
	_cleanup_free_ char *text = NULL;
	struct mountinfo_cgroup *mi = NULL;
	struct cgroup_mounts m = {};
	size_t n = 0;
	int r = read_file_at(AT_FDCWD, path, MOUNTINFO_MAX, &text, NULL);

	if (r < 0 || (r = mountinfo_cgroup_parse(text, &mi, &n)) < 0)
		return r;
	for (int c = 0; c < _CGROUP_CONTROLLER_MAX && r >= 0; c++) {
		const struct mountinfo_cgroup *one = reachable(mi, n, c);
		char *p = one ? strdup(one->path) : NULL;

		if (one && !p)
			r = -ENOMEM;
		else if (one) /* the superblock is the hierarchy */
			m.m[m.n++] = (struct cgroup_mount){
				.controller = c,
				.path = p,
				.hierarchy = 1 + (int)((one->major & 0x7ff) << 20 |
						       (one->minor & 0xfffff)),
			};
	}
	mountinfo_cgroup_free(mi, n);
	if (r < 0) {
		cgroup_mounts_done(&m);
		return r;
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

int cgroup_fs_open_host(struct cgroup_fs *ret, char **ret_source)
{
	_cleanup_free_ char *source = NULL;
	struct cgroup_mounts m;
	struct statfs sf;
	int r, r2;

	if (ret_source)
		*ret_source = NULL;
	/* v2 is one mount with its controllers listed in it: nothing to discover. */
	if (statfs(CGROUP_ROOT, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
		return cgroup_fs_open(CGROUP_ROOT, ret);
	r = cgroup_mounts_discover(&m);
	if (r == -ENOMEM)
		return r;
	if (r >= 0)
		source = strdup("libcgroup's mount table");
	else if ((r2 = cgroup_mounts_from_mountinfo("/proc/self/mountinfo", &m)) >= 0) {
		/* kvmtuned's unit: ProcSubset=pid hides /proc/mounts and /proc/cgroups */
		if (asprintf(&source,
			     "/proc/self/mountinfo (libcgroup cannot read the mount table: %s)",
			     cgroup_mounts_strerror(r)) < 0)
			source = NULL;
		r = 0;
	} else if (r2 == -ENOMEM)
		return r2;
	else {
		if (asprintf(&source,
			     "the fixed paths " CGROUP_ROOT "/<controller> (libcgroup cannot read "
			     "the mount table: %s; /proc/self/mountinfo: %s)",
			     cgroup_mounts_strerror(r), strerror(-r2)) < 0)
			source = NULL;
		r = cgroup_fs_open(CGROUP_ROOT, ret);
		goto done;
	}
	r = cgroup_fs_open_mounts(CGROUP_ROOT, m.m, m.n, ret);
	cgroup_mounts_done(&m);
done:
	if (r >= 0 && ret_source) /* NULL when out of memory: then only unsaid */
		*ret_source = TAKE_PTR(source);
	return r;
}
