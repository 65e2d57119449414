/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>

#include "cgroup-fs.h"
#include "cgroup-read.h"
#include "fileio.h"
#include "macro.h"

static const char *const v1_names[_CGROUP_CONTROLLER_MAX] = {
	[CGROUP_CPU] = "cpu",	    [CGROUP_CPUACCT] = "cpuacct", [CGROUP_CPUSET] = "cpuset",
	[CGROUP_MEMORY] = "memory", [CGROUP_IO] = "blkio",	  [CGROUP_PIDS] = "pids",
};

static const char *const v2_names[_CGROUP_CONTROLLER_MAX] = {
	[CGROUP_CPU] = "cpu",	    [CGROUP_CPUACCT] = "cpu", /* v2 accounts in cpu.stat */
	[CGROUP_CPUSET] = "cpuset", [CGROUP_MEMORY] = "memory",
	[CGROUP_IO] = "io",	    [CGROUP_PIDS] = "pids",
};

static const char *const layout_names[_CGROUP_LAYOUT_MAX] = {
	[CGROUP_LEGACY] = "legacy (v1)",
	[CGROUP_HYBRID] = "hybrid (v1 controllers, v2 beside them)",
	[CGROUP_UNIFIED] = "unified (v2)",
};

const char *cgroup_controller_v1_name(enum cgroup_controller c)
{
	return c < _CGROUP_CONTROLLER_MAX ? v1_names[c] : NULL;
}

const char *cgroup_layout_to_string(enum cgroup_layout l)
{
	return l < _CGROUP_LAYOUT_MAX ? layout_names[l] : NULL;
}

static int open_mount(int dir_fd, const char *name, long magic)
{
	struct statfs sf;
	int fd = openat(dir_fd, name, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstatfs(fd, &sf) < 0 || sf.f_type != magic) {
		safe_close(fd);
		return -ENOMEDIUM;
	}
	return fd;
}

/* $ cat /sys/fs/cgroup/cgroup.controllers
 * cpuset cpu io memory hugetlb pids rdma misc */
static void read_v2_controllers(struct cgroup_fs *fs)
{
	_cleanup_free_ char *buf = NULL;

	if (cgroup_read(fs->unified_fd, "", "cgroup.controllers", &buf) < 0)
		return;
	for (char *save = NULL, *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save))
		for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++)
			if (streq(w, v2_names[c]))
				fs->v2[c] = true;
}

/*
 * systemd mounts cpu and cpuacct as one hierarchy ("cpu,cpuacct", both names symlinks to it):
 * then cpuacct is not a hierarchy of its own, and its groups are cpu's. Keeping both would plan
 * every group and thread move twice, the second already done by the first.
 */
static void drop_comounted(struct cgroup_fs *fs)
{
	struct stat cpu, acct;

	if (fs->v1_fd[CGROUP_CPU] < 0 || fs->v1_fd[CGROUP_CPUACCT] < 0)
		return;
	if (fstat(fs->v1_fd[CGROUP_CPU], &cpu) < 0 || fstat(fs->v1_fd[CGROUP_CPUACCT], &acct) < 0)
		return;
	if (cpu.st_dev == acct.st_dev)
		fs->v1_fd[CGROUP_CPUACCT] = safe_close(fs->v1_fd[CGROUP_CPUACCT]);
}

int cgroup_fs_open(const char *root, struct cgroup_fs *ret)
{
	struct cgroup_fs fs = { .unified_fd = -EBADF };
	_cleanup_close_ int root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct statfs sf;

	for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++)
		fs.v1_fd[c] = -EBADF;
	if (root_fd < 0)
		return -errno;
	if (fstatfs(root_fd, &sf) < 0)
		return -errno;
	fs.root = strdup(root);
	if (!fs.root)
		return -ENOMEM;
	if (sf.f_type == CGROUP2_SUPER_MAGIC) {
		fs.layout = CGROUP_UNIFIED;
		fs.unified_fd = TAKE_FD(root_fd);
		read_v2_controllers(&fs);
		*ret = fs;
		return 0;
	}
	if (sf.f_type != TMPFS_MAGIC) {
		free(fs.root);
		return -ENOMEDIUM;
	}
	fs.unified_fd = open_mount(root_fd, "unified", CGROUP2_SUPER_MAGIC);
	fs.layout = fs.unified_fd >= 0 ? CGROUP_HYBRID : CGROUP_LEGACY;
	if (fs.unified_fd >= 0)
		read_v2_controllers(&fs);
	for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++)
		/* "cpu" is often a symlink to "cpu,cpuacct": /sys/fs/cgroup is the kernel's. */
		fs.v1_fd[c] = open_mount(root_fd, v1_names[c], CGROUP_SUPER_MAGIC);
	drop_comounted(&fs);
	*ret = fs;
	return 0;
}

int cgroup_fs_controller(const struct cgroup_fs *fs, enum cgroup_controller c, int *ret_fd,
			 int *ret_version)
{
	if (fs->v1_fd[c] >= 0) {
		*ret_fd = fs->v1_fd[c];
		*ret_version = 1;
		return 0;
	}
	if (fs->unified_fd >= 0 && fs->v2[c]) {
		*ret_fd = fs->unified_fd;
		*ret_version = 2;
		return 0;
	}
	return -ENOENT;
}

bool cgroup_path_is_safe(const char *path)
{
	for (const char *c = path; *c;) {
		size_t n = strcspn(c, "/");

		if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		c += n;
		c += *c == '/';
	}
	return true;
}

bool cgroup_path_is_in(const char *cgroup, const char *group, bool subtree)
{
	size_t n;

	cgroup += cgroup[0] == '/';
	group += group[0] == '/';
	n = strlen(group);
	return strncmp(cgroup, group, n) == 0 &&
	       (cgroup[n] == '\0' || (subtree && cgroup[n] == '/'));
}

int cgroup_open_walk(int hierarchy_fd, const char *group, int flags)
{
	_cleanup_close_ int dir = -EBADF;
	struct stat root, st;
	char name[256];
	int fd;

	if (!*group) {
		fd = openat(hierarchy_fd, ".", flags | O_CLOEXEC);
		return fd < 0 ? -errno : fd;
	}
	if (!cgroup_path_is_safe(group))
		return -EINVAL;
	if (fstat(hierarchy_fd, &root) < 0)
		return -errno;
	dir = openat(hierarchy_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -errno;
	for (;;) {
		size_t n = strcspn(group, "/");
		bool last = group[n] == '\0';

		if (n == 0 || n >= sizeof(name))
			return -EINVAL;
		memcpy(name, group, n);
		name[n] = '\0';
		fd = openat(dir, name,
			    (last ? flags : O_PATH | O_DIRECTORY) | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		if (fstat(fd, &st) < 0 || st.st_dev != root.st_dev) {
			safe_close(fd);
			return -EXDEV;
		}
		if (last)
			return fd;
		safe_close(dir);
		dir = fd;
		group += n + 1;
	}
}

int cgroup_open(int hierarchy_fd, const char *group, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC | O_NOFOLLOW),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
			   RESOLVE_NO_XDEV,
	};
	long fd;

	while (*group == '/')
		group++;
	if (!cgroup_path_is_safe(group))
		return -EINVAL;
	fd = syscall(SYS_openat2, hierarchy_fd, *group ? group : ".", &how, sizeof(how));
	if (fd < 0 && errno == ENOSYS)
		return cgroup_open_walk(hierarchy_fd, group, flags);
	return fd < 0 ? -errno : (int)fd;
}

void cgroup_fs_done(struct cgroup_fs *fs)
{
	free(fs->root);
	safe_close(fs->unified_fd);
	for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++)
		safe_close(fs->v1_fd[c]);
	*fs = (struct cgroup_fs){ .unified_fd = -EBADF };
	for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++)
		fs->v1_fd[c] = -EBADF;
}
