/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What cgroup values mean: when a file's content already holds what a plan wants (lists as
 * sets, limits as numbers, one entry of a multi-entry file), what the kernel puts into a group
 * it has just made (the defaults the planner plans for values a policy leaves unset, so that
 * removing a key undoes it), and a dry run's memory of what it would have written.
 */

#include <stdbool.h>
#include <stddef.h>

#include "cgroup-fs.h"

/* The kernel's defaults for a new group. */
#define CG_DEFAULT_SHARES      1024   /* v1 cpu.shares */
#define CG_DEFAULT_CPU_WEIGHT  100    /* v2 cpu.weight */
#define CG_DEFAULT_PERIOD_USEC 100000 /* cpu.cfs_period_us, cpu.max's period */
#define CG_DEFAULT_IO_WEIGHT   100    /* blkio.bfq.weight, io.bfq.weight, io.weight */

/*
 * What file holds in a group the kernel has just made (cgroup version 1 or 2); "" for the
 * multi-entry files (no entry); NULL when that depends on more than the file.
 */
const char *cgroup_value_default(const char *file, int version);

/*
 * value of file as people read it, the same for what a plan wants and what the kernel holds:
 * a limit that is none ("-1", "max", v1's page-rounded LONG_MAX) is "unlimited"; the rest as
 * it is. Points at value or at a static string.
 */
const char *cgroup_value_show(const char *file, const char *value);

/* Whether current (the file's content) already holds desired for that cgroup file. */
bool cgroup_value_matches(const char *file, const char *current, const char *desired);

/*
 * What a dry run would have written so far, so that plans after the first (several VMs under
 * one parent) compare with it rather than with a kernel that was not changed. A zeroed struct
 * is empty.
 */
struct cgroup_overlay {
	struct overlay_entry *entries;
	size_t n, allocated;
};

/* Remembers that group/file would hold value (file NULL: that the group would be made). */
void cgroup_overlay_set(struct cgroup_overlay *o, enum cgroup_controller c, const char *group,
			const char *file, const char *value);
/* Whether the dry run would have made group. */
bool cgroup_overlay_has_group(struct cgroup_overlay *o, enum cgroup_controller c,
			      const char *group);
void cgroup_overlay_done(struct cgroup_overlay *o);

/*
 * What group/file holds, to compare with what a plan wants: the kernel's value; in a dry run
 * (overlay may be NULL) what the run would already have written, or, with new_group_defaults,
 * what a group the plan makes would hold. Returns 0 with *ret, or -errno.
 */
int cgroup_value_current(int fd, int version, enum cgroup_controller c, const char *group,
			 const char *file, bool dry_run, struct cgroup_overlay *overlay,
			 bool new_group_defaults, char **ret);
