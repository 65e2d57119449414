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

/* c joins the hierarchy of an earlier controller: one fd, closed once. */
static void join(struct cgroup_fs *fs, enum cgroup_controller c, enum cgroup_controller first)
{
	if (fs->v1_fd[c] != fs->v1_fd[first])
		safe_close(fs->v1_fd[c]);
	fs->v1_fd[c] = fs->v1_fd[first];
	fs->v1_with[c] = (unsigned char)(first + 1);
}

/*
 * systemd mounts cpu and cpuacct as one hierarchy ("cpu,cpuacct", both names symlinks to it).
 * Planning the groups and moves of both would do each twice, and a whole-process move for one
 * would undo the other's thread groups. Two controllers are one hierarchy when their ids say so
 * (hierarchy ids; without ids, or where one is 0, unknown) or else when their mounts are one
 * filesystem.
 */
static void join_hierarchies(struct cgroup_fs *fs, const int *ids)
{
	struct stat st[_CGROUP_CONTROLLER_MAX];
	bool known[_CGROUP_CONTROLLER_MAX] = {};

	for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++) {
		if (fs->v1_fd[c] < 0 || fstat(fs->v1_fd[c], &st[c]) < 0)
			continue;
		known[c] = true;
		for (int e = 0; e < c; e++) {
			bool by_id = ids && ids[e] > 0 && ids[c] > 0;

			if (known[e] && !fs->v1_with[e] &&
			    (by_id ? ids[e] == ids[c] : st[e].st_dev == st[c].st_dev)) {
				join(fs, c, e);
				break;
			}
		}
	}
}

/*
 * The root and, beside v1, the cgroup2 mount at <root>/unified. Returns 1 for unified (then fs
 * is complete), 0 for a v1 root (a tmpfs; its fd in ret_root_fd), -ENOMEDIUM for a root that
 * is neither (fs has the layout v1 controllers mounted elsewhere would give), or -errno.
 */
static int open_root(const char *root, struct cgroup_fs *fs, int *ret_root_fd)
{
	_cleanup_close_ int root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct statfs sf;

	*fs = (struct cgroup_fs){ .unified_fd = -EBADF, .layout = CGROUP_LEGACY };
	for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++)
		fs->v1_fd[c] = -EBADF;
	fs->root = strdup(root);
	if (!fs->root)
		return -ENOMEM;
	if (root_fd < 0)
		return errno == ENOENT ? -ENOMEDIUM : -errno;
	if (fstatfs(root_fd, &sf) < 0)
		return -errno;
	if (sf.f_type == CGROUP2_SUPER_MAGIC) {
		fs->layout = CGROUP_UNIFIED;
		fs->unified_fd = TAKE_FD(root_fd);
		read_v2_controllers(fs);
		return 1;
	}
	fs->unified_fd = open_mount(root_fd, "unified", CGROUP2_SUPER_MAGIC);
	fs->layout = fs->unified_fd >= 0 ? CGROUP_HYBRID : CGROUP_LEGACY;
	if (fs->unified_fd >= 0)
		read_v2_controllers(fs);
	*ret_root_fd = TAKE_FD(root_fd);
	return sf.f_type == TMPFS_MAGIC ? 0 : -ENOMEDIUM;
}

int cgroup_fs_open(const char *root, struct cgroup_fs *ret)
{
	struct cgroup_fs fs;
	_cleanup_close_ int root_fd = -EBADF;
	int r = open_root(root, &fs, &root_fd);

	if (r < 0) {
		cgroup_fs_done(&fs);
		return r;
	}
	if (r == 0) {
		for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++)
			/* "cpu" is often a symlink to "cpu,cpuacct": /sys/fs/cgroup is the
			 * kernel's. */
			fs.v1_fd[c] = open_mount(root_fd, v1_names[c], CGROUP_SUPER_MAGIC);
		join_hierarchies(&fs, NULL);
	}
	*ret = fs;
	return 0;
}

int cgroup_fs_open_mounts(const char *root, const struct cgroup_mount *mounts, size_t n,
			  struct cgroup_fs *ret)
{
	struct cgroup_fs fs;
	_cleanup_close_ int root_fd = -EBADF;
	int hierarchy[_CGROUP_CONTROLLER_MAX] = {};
	bool found = false;
	int r = open_root(root, &fs, &root_fd);

	if (r == 1) { /* unified: v1 mounts elsewhere are not what the host uses */
		*ret = fs;
		return 0;
	}
	if (r < 0 && r != -ENOMEDIUM) {
		cgroup_fs_done(&fs);
		return r;
	}
	for (size_t i = 0; i < n; i++) {
		enum cgroup_controller c = mounts[i].controller;

		if (c >= _CGROUP_CONTROLLER_MAX || fs.v1_fd[c] >= 0)
			continue;
		fs.v1_fd[c] = open(mounts[i].path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		r = fs.v1_fd[c] < 0 ? -errno : 0;
		if (r == 0 && !(fs.v1_mount[c] = strdup(mounts[i].path)))
			r = -ENOMEM;
		if (r < 0) {
			cgroup_fs_done(&fs);
			return r;
		}
		hierarchy[c] = mounts[i].hierarchy;
		found = true;
	}
	if (!found && fs.unified_fd < 0) {
		cgroup_fs_done(&fs);
		return -ENOMEDIUM;
	}
	join_hierarchies(&fs, hierarchy);
	*ret = fs;
	return 0;
}

enum cgroup_controller cgroup_fs_hierarchy_of(const struct cgroup_fs *fs, enum cgroup_controller c)
{
	return fs->v1_with[c] ? (enum cgroup_controller)(fs->v1_with[c] - 1) : c;
}

bool cgroup_fs_first_in_hierarchy(const struct cgroup_fs *fs, enum cgroup_controller c)
{
	return fs->v1_with[c] == 0;
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
	for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++) {
		if (!fs->v1_with[c])
			safe_close(fs->v1_fd[c]);
		free(fs->v1_mount[c]);
	}
	*fs = (struct cgroup_fs){ .unified_fd = -EBADF };
	for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++)
		fs->v1_fd[c] = -EBADF;
}

char *cgroup_fs_describe(const struct cgroup_fs *fs)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (!f)
		return NULL;
	if (fs->unified_fd >= 0)
		fprintf(f, "v2 at %s%s", fs->root, fs->layout == CGROUP_UNIFIED ? "" : "/unified");
	for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++) {
		if (fs->v1_fd[c] < 0 || fs->v1_with[c])
			continue;
		fprintf(f, "%s%s", ftell(f) > 0 ? "; " : "", v1_names[c]);
		for (int o = c + 1; o < _CGROUP_CONTROLLER_MAX; o++)
			if (fs->v1_fd[o] >= 0 && fs->v1_with[o] == c + 1)
				fprintf(f, ",%s", v1_names[o]);
		if (fs->v1_mount[c])
			fprintf(f, " at %s", fs->v1_mount[c]);
		else
			fprintf(f, " at %s/%s", fs->root, v1_names[c]);
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
