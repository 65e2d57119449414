/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The cgroup v1 mounts of /proc/self/mountinfo: where kvmtune looks when libcgroup cannot read
 * the mount table (kvmtuned's unit hides /proc/mounts and /proc/cgroups: ProcSubset=pid).
 */

#include <stddef.h>

#include "cgroup-fs.h"

struct mountinfo_cgroup {
	unsigned major, minor; /* the hierarchy's superblock: one per hierarchy */
	char *path;	       /* the mount point, unescaped */
	unsigned controllers;  /* 1 << enum cgroup_controller, for each of kvmtune's it holds */
};

/*
 * Each line of text (mountinfo) that mounts a v1 hierarchy from its root, holding one of
 * kvmtune's controllers, in the file's order:
 *   35 30 0:30 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,relatime shared:15 - cgroup cgroup
 * rw,cpu,cpuacct A mount of a group below the root (a container's view) is left out: group paths in
 * /proc/PID/cgroup are the hierarchy's. Malformed lines are left out. Returns 0 or -ENOMEM.
 */
int mountinfo_cgroup_parse(const char *text, struct mountinfo_cgroup **ret, size_t *ret_n);
void mountinfo_cgroup_free(struct mountinfo_cgroup *m, size_t n);
