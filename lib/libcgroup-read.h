/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/*
 * What kvmtune reads through libcgroup 2.0.2: its mount table and /proc/cgroups' hierarchy ids
 * (README, "Libraries"). Kept apart because <libcgroup.h> declares a struct cgroup_controller,
 * which cgroup-fs.h names an enum.
 */

/* libcgroup's cgroup_init(), quiet (its default logger prints on stdout). Returns 0 or a
 * negative libcgroup error. */
int libcgroup_read_mounts(void);

/*
 * The first mount point of controller (a v1 name: "cpu", "blkio") that usable() accepts (one
 * hidden under a later mount is not), and its hierarchy id (0 when /proc/cgroups has none).
 * Returns 1, 0 when none is, or -ENOMEM.
 */
int libcgroup_mount_of(const char *controller, bool (*usable)(const char *path), char **ret_path,
		       int *ret_hierarchy);

/* For a negative libcgroup error; -ENOMEM too. */
const char *libcgroup_strerror(int r);
