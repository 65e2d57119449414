/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Where the host's v1 controllers are mounted, and which share a hierarchy, read through
 * libcgroup (its mount table and /proc/cgroups' hierarchy ids): cgconfig's `mount {}` sections
 * put them anywhere (/cgroup/cpu), and a controller may be mounted with any others
 * ("cpu,memory"). Only reads: every write stays kvmtune's own, through directory fds.
 */

#include "cgroup-fs.h"

struct cgroup_mounts {
	struct cgroup_mount m[_CGROUP_CONTROLLER_MAX];
	size_t n;
};

/*
 * The v1 mount of each controller kvmtune uses that the host has: the first of its mount points
 * that is a v1 cgroup filesystem (one hidden under another mount is passed over). Returns 0, a
 * negative libcgroup error (cgroup_mounts_strerror) when libcgroup cannot read the mount table,
 * or -ENOMEM.
 */
int cgroup_mounts_discover(struct cgroup_mounts *ret);

/*
 * The same from a mountinfo file (/proc/self/mountinfo), where libcgroup cannot read (kvmtuned's
 * unit hides /proc/mounts and /proc/cgroups, ProcSubset=pid): each hierarchy's id is its
 * superblock's. Returns 0 or -errno.
 */
int cgroup_mounts_from_mountinfo(const char *path, struct cgroup_mounts *ret);
const char *cgroup_mounts_strerror(int r);
void cgroup_mounts_done(struct cgroup_mounts *m);

/*
 * The host's hierarchies: a unified /sys/fs/cgroup as it is; v1 where libcgroup finds it, where
 * it cannot, from /proc/self/mountinfo, and failing that at /sys/fs/cgroup/<name>. On v1,
 * *ret_source (if given; free it) says which, and why. Returns what cgroup_fs_open() does.
 */
int cgroup_fs_open_host(struct cgroup_fs *ret, char **ret_source);
