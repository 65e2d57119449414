/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The cgroup hierarchies of a host: legacy (v1 only), hybrid (v1 controllers, plus a cgroup2
 * mount at <root>/unified) or unified (v2 only). Each hierarchy is reached through a directory
 * fd; group paths are relative to it and never leave it.
 */

#include <stdbool.h>

enum cgroup_layout {
	CGROUP_LEGACY,
	CGROUP_HYBRID,
	CGROUP_UNIFIED,
	_CGROUP_LAYOUT_MAX,
};

enum cgroup_controller {
	CGROUP_CPU,
	CGROUP_CPUACCT,
	CGROUP_CPUSET,
	CGROUP_MEMORY,
	CGROUP_IO, /* blkio on v1 */
	CGROUP_PIDS,
	_CGROUP_CONTROLLER_MAX,
};

struct cgroup_fs {
	char *root; /* where it is mounted, for messages: /sys/fs/cgroup */
	enum cgroup_layout layout;
	int unified_fd;			   /* the cgroup2 mount, or -EBADF */
	int v1_fd[_CGROUP_CONTROLLER_MAX]; /* each v1 controller's mount, or -EBADF */
	bool v2[_CGROUP_CONTROLLER_MAX];   /* available in the cgroup2 mount (root's controllers) */
};

/*
 * Opens the hierarchies below root (normally /sys/fs/cgroup), telling the layout from the
 * filesystem types. cpuacct mounted together with cpu ("cpu,cpuacct", as systemd mounts them)
 * is not opened: its groups are cpu's. Returns 0, -ENOMEDIUM when root is no cgroup mount, or
 * -errno.
 */
int cgroup_fs_open(const char *root, struct cgroup_fs *ret);

/*
 * Where a controller lives: its hierarchy's fd and cgroup version (1 or 2), or -ENOENT when the
 * host does not have it. A controller on both prefers v1 (the hybrid rule: v1 is where systemd
 * and the kernel account it).
 */
int cgroup_fs_controller(const struct cgroup_fs *fs, enum cgroup_controller c, int *ret_fd,
			 int *ret_version);

/* The name a controller has in /proc/PID/cgroup on v1 ("blkio" for CGROUP_IO). */
const char *cgroup_controller_v1_name(enum cgroup_controller c);
const char *cgroup_layout_to_string(enum cgroup_layout l);

/*
 * Is cgroup (a path as /proc/PID/cgroup shows it) group itself (both relative to a hierarchy's
 * root; leading '/' ignored), or, with subtree, below it?
 */
bool cgroup_path_is_in(const char *cgroup, const char *group, bool subtree);

/*
 * Opens group ("" = the hierarchy's root; a path below it, a file's included) beneath fd with
 * flags, resolved with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
 * RESOLVE_NO_XDEV): no symlink, no "..", no other filesystem on the way.
 */
int cgroup_open(int hierarchy_fd, const char *group, int flags);

/*
 * The same without openat2 (kernels before 5.6; seccomp filters that do not know it): one
 * component at a time with O_NOFOLLOW, refusing "." and ".." and other filesystems.
 * cgroup_open() falls back to it on ENOSYS.
 */
int cgroup_open_walk(int hierarchy_fd, const char *group, int flags);

/* No "." or ".." component: a relative path that stays below where it starts. */
bool cgroup_path_is_safe(const char *path);

void cgroup_fs_done(struct cgroup_fs *fs);
