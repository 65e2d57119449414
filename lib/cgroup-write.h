/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The only code that changes cgroupfs. Every path is resolved beneath a hierarchy's directory
 * fd (cgroup_open, cgroup-fs.h): nothing can lead out of the hierarchy. A value is one write().
 */

#include "cgroup-fs.h"

/* 1 when group exists, 0 when not, -errno. */
int cgroup_exists(int hierarchy_fd, const char *group);

/* Creates group (its parent must exist). 0 when created, -EEXIST, or -errno. */
int cgroup_mkdir(int hierarchy_fd, const char *group);

/* Writes value to group/file in one write(); -errno as the kernel said it. */
int cgroup_write(int hierarchy_fd, const char *group, const char *file, const char *value);

/* Removes group and the groups below it (deepest first). -EBUSY when tasks remain. */
int cgroup_rmdir_tree(int hierarchy_fd, const char *group);
