/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * One disk's throttle as QEMU holds it (QMP's BlockIOThrottle, as query-block reports it): what
 * the planner wants for a policy's `disks:` entry and what the applier reads back, in one shape
 * so that the two compare field by field. Every value is QEMU's: 0 means no limit.
 */

#include <stdbool.h>
#include <stdint.h>

#include "policy-disks.h"

#define DISK_BUCKETS (_DISK_KIND_MAX * _DISK_DIR_MAX)

struct disk_io {
	char *id; /* the policy's id of the disk (wanted only) */
	/* Indexed kind * _DISK_DIR_MAX + dir: bps, bps_rd, bps_wr, iops, iops_rd, iops_wr. */
	uint64_t rate[DISK_BUCKETS];
	uint64_t burst[DISK_BUCKETS];  /* *_max */
	uint64_t length[DISK_BUCKETS]; /* *_max_length: seconds; means something with a burst */
	uint64_t iops_size;
	char *group; /* the throttle group; NULL: none (no limit), or for a wish: the disk's own */
};

/* QMP's names: "bps_rd" (level 0), "bps_rd_max" (1), "bps_rd_max_length" (2). */
const char *disk_io_field(int bucket, int level);

/*
 * What a policy entry asks of QEMU: keys it leaves out are QEMU's 0 (no limit), a burst without
 * a length lasts QEMU's 1 s. Returns 0 or -ENOMEM.
 */
int disk_io_from_policy(const struct disk_throttle *d, struct disk_io *ret);

/* Whether any limit is set: without one QEMU keeps no throttle (and no group) for the disk. */
bool disk_io_limited(const struct disk_io *io);

/*
 * Whether have (read back) already is want: every rate, burst (and, where a burst is set, its
 * length) and iops_size; and, where limited, the group (want's own, else the disk's own group,
 * which QEMU names after the id it was given: own_group).
 */
bool disk_io_equal(const struct disk_io *want, const struct disk_io *have, const char *own_group);

/* "bps=52428800 iops_rd=500 group=g" (the fields that limit), or "unlimited". Caller frees. */
char *disk_io_format(const struct disk_io *io);

void disk_io_done(struct disk_io *io);
