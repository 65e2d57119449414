/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * QEMU's block devices over QMP, for per-disk throttles: query-block's answer as the disks and
 * their throttles (disk-io.h), which disk a policy's id names (policy-disks.h says how), and
 * the arguments of block_set_io_throttle. Only qmp_disks_read and qmp_disks_query talk to QEMU.
 */

#include <json-c/json.h>

#include "disk-io.h"
#include "qmp-session.h"

#define QMP_DISKS_MAX 1024

struct qmp_disk {
	char *device;  /* the -drive id; "" without one */
	char *qdev;    /* the guest device's id or QOM path; "" without one */
	bool inserted; /* a medium is in: only then has it a throttle */
	struct disk_io io;
};

struct qmp_disks {
	struct qmp_disk *items;
	size_t n;
};

/* query-block's "return". Returns 0, -EPROTO (not what QEMU sends), -EMSGSIZE, -ENOMEM. */
int qmp_disks_parse(struct json_object *blocks, struct qmp_disks *ret);

/*
 * The disk id names (its `device`, its `qdev`, or /machine/peripheral/ + id its `qdev`), or
 * NULL; *as_device says whether block_set_io_throttle is to name it as `device` (else `id`).
 */
const struct qmp_disk *qmp_disks_find(const struct qmp_disks *l, const char *id, bool *as_device);

/* The ids a policy can name the disks by, for an error: "drive0, disk0/virtio-backend". */
char *qmp_disks_ids(const struct qmp_disks *l);

/*
 * block_set_io_throttle's arguments that make the disk (named id, as `device` or `id`) hold
 * want: all six rates as QEMU requires, each burst with its length, iops_size, and the group
 * (want's own, else the disk's own: the id) whenever a limit is set, so that removing `group`
 * from a policy takes the disk out of a shared group. NULL on OOM.
 */
struct json_object *qmp_throttle_arguments(const struct disk_io *want, const char *id,
					   bool as_device);

/* The VM's disks as QEMU lists them now (query-block in session q). Returns 0 or -errno. */
int qmp_disks_read(struct qmp_session *q, struct qmp_disks *ret);

/* The same in a session of its own (qmp_session_open's rules and errors), for a look only. */
int qmp_disks_query(int proc_fd, const struct qmp_target *t, uint64_t timeout_usec,
		    struct qmp_disks *ret);

void qmp_disks_done(struct qmp_disks *l);
