/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The cgroup hierarchies of a host: legacy (v1 only), hybrid (v1 controllers, plus a cgroup2
 * mount at <root>/unified) or unified (v2 only). Each hierarchy is reached through a directory
 * fd; group paths are relative to it and never leave it.
 */

#include <stdbool.h>
#include <stddef.h>

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
	int v1_fd[_CGROUP_CONTROLLER_MAX]; /* each v1 controller's hierarchy, or -EBADF */
	/*
	 * v1 controllers mounted together ("cpu,cpuacct", "cpu,memory") are one hierarchy: the
	 * later ones say which earlier controller's it is (1 + that controller; 0 = a hierarchy
	 * of its own). Their v1_fd is that controller's fd, and not theirs to close.
	 */
	unsigned char v1_with[_CGROUP_CONTROLLER_MAX];
	char *v1_mount[_CGROUP_CONTROLLER_MAX]; /* where it is mounted, for messages; NULL when
						 * <root>/<name> */
	bool v2[_CGROUP_CONTROLLER_MAX]; /* available in the cgroup2 mount (root's controllers) */
};

/* A v1 hierarchy as the host's mount table and /proc/cgroups give it (cgroup-mounts.h). */
struct cgroup_mount {
	enum cgroup_controller controller;
	const char *path; /* its mount point */
	int hierarchy; /* /proc/cgroups' id: controllers with the same one are mounted together */
};

/*
 * Opens the hierarchies below root (normally /sys/fs/cgroup), telling the layout from the
 * filesystem types: v1 controllers at <root>/<name>, those on one filesystem ("cpu,cpuacct",
 * as systemd mounts them) as one hierarchy. Returns 0, -ENOMEDIUM when root is no cgroup mount,
 * or -errno.
 */
int cgroup_fs_open(const char *root, struct cgroup_fs *ret);

/*
 * The same with the v1 controllers where mounts says (any mount point, any grouping), and the
 * cgroup2 mount, if any, at <root>/unified. The paths are trusted to be v1 cgroup mounts
 * (cgroup_mounts_discover() checks them). Returns 0 or -errno.
 */
int cgroup_fs_open_mounts(const char *root, const struct cgroup_mount *mounts, size_t n,
			  struct cgroup_fs *ret);

/*
 * The controller whose hierarchy c is in: c itself, or an earlier controller mounted with it.
 * A controller that is not the first of its hierarchy has no groups or moves of its own.
 */
enum cgroup_controller cgroup_fs_hierarchy_of(const struct cgroup_fs *fs, enum cgroup_controller c);
/* Is c the first controller of its v1 hierarchy (then it has the groups and moves)? */
bool cgroup_fs_first_in_hierarchy(const struct cgroup_fs *fs, enum cgroup_controller c);

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

/* "v2 at /sys/fs/cgroup/unified; cpu,memory at /cgroup/cm; cpuset at /cgroup/cpuset", for logs;
 * NULL when out of memory. */
char *cgroup_fs_describe(const struct cgroup_fs *fs);

void cgroup_fs_done(struct cgroup_fs *fs);
