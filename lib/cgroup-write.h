/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The only code that changes cgroupfs. Every path is resolved beneath a hierarchy's directory
 * fd with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
 * RESOLVE_NO_XDEV): nothing can lead out of the hierarchy. A value is one write().
 */

/* Opens group ("" = the hierarchy's root) beneath fd with flags (O_PATH|O_DIRECTORY, ...). */
int cgroup_open(int hierarchy_fd, const char *group, int flags);

/*
 * The same without openat2 (kernels before 5.6; seccomp filters that do not know it): one
 * component at a time with O_NOFOLLOW, refusing "." and ".." and other filesystems.
 * cgroup_open() falls back to it on ENOSYS.
 */
int cgroup_open_walk(int hierarchy_fd, const char *group, int flags);

/* 1 when group exists, 0 when not, -errno. */
int cgroup_exists(int hierarchy_fd, const char *group);

/* Creates group (its parent must exist). 0 when created, -EEXIST, or -errno. */
int cgroup_mkdir(int hierarchy_fd, const char *group);

/* Writes value to group/file in one write(); -errno as the kernel said it. */
int cgroup_write(int hierarchy_fd, const char *group, const char *file, const char *value);

/* Removes group and the groups below it (deepest first). -EBUSY when tasks remain. */
int cgroup_rmdir_tree(int hierarchy_fd, const char *group);
