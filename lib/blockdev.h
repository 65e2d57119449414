/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A block device path as the I/O controllers want it: the whole disk's MAJ:MIN. */

#include <stdbool.h>
#include <sys/types.h>

struct blockdev {
	unsigned major, minor; /* of the whole disk (a partition is resolved to its disk) */
	char scheduler[32];    /* the disk's I/O scheduler ("mq-deadline", "bfq", "none") */
	bool stacked;	       /* built on other devices (device-mapper, md): it has slaves */
};

/*
 * Resolves path (a block device node or a partition) through sysfs below sys_fd:
 * dev/block/MAJ:MIN, "partition" → the parent disk, queue/scheduler's bracketed choice.
 * Returns 0, -ENOTBLK, or -errno.
 */
int blockdev_resolve(int sys_fd, const char *path, struct blockdev *ret);
