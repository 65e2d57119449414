/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Per-disk I/O throttling inside QEMU, libvirt's <iotune>: the policy's `disks:` list. Each
 * entry names one guest disk and carries exactly the limits QMP's block_set_io_throttle takes
 * (qapi/block-core.json, BlockIOThrottle), under libvirt's names:
 *
 *   total_bytes_sec  bps      read_bytes_sec  bps_rd     write_bytes_sec  bps_wr
 *   total_iops_sec   iops     read_iops_sec   iops_rd    write_iops_sec   iops_wr
 *   ..._sec_max      ..._max (the rate allowed during a burst)
 *   ..._sec_max_length  ..._max_length (seconds a burst may last)
 *   size_iops_sec    iops_size          group  group
 *
 * The rules are QEMU's own (util/throttle.c, throttle_is_valid): a total limit and a read or
 * write limit of the same kind exclude each other (rates and bursts alike); a burst needs its
 * base rate and may not be below it; a burst length needs its burst, and length × burst stays
 * within 10^15; size_iops_sec needs an IOPS limit; every value is at most 10^15. "unlimited" is
 * QEMU's 0: no limit for that field.
 *
 * `id` is the id QEMU knows the disk by: a -drive id (QMP's `device`, "drive-virtio-disk0" in
 * libvirt's -drive era) or the guest device's qdev id or QOM path (QMP's `id`: "ide0-0-0",
 * "virtio-disk0/virtio-backend"; a relative path starts at /machine/peripheral, as QEMU resolves
 * it). query-block reports a disk's `device` (the -drive id, "" without one) and `qdev` (the
 * device's id, else its canonical QOM path: "/machine/peripheral/virtio-disk0/virtio-backend"),
 * so an entry names a disk when id equals `device`, equals `qdev`, or "/machine/peripheral/" +
 * id equals `qdev`; block_set_io_throttle then takes it as `device` or `id` respectively.
 */

#include "diag.h"
#include "strbuf.h"
#include "value.h"

#define DISK_VALUE_MAX	      INT64_C(1000000000000000) /* QEMU's THROTTLE_VALUE_MAX */
#define DISK_LENGTH_MAX	      INT64_C(4294967295)	/* burst_length is an unsigned int */
#define POLICY_DISK_ID_MAX    256			/* bytes in a disk id or QOM path */
#define POLICY_DISK_GROUP_MAX 128			/* bytes in a throttle group name */

enum disk_kind {
	DISK_BYTES,
	DISK_IOPS,
	_DISK_KIND_MAX,
};

enum disk_dir {
	DISK_TOTAL,
	DISK_READ,
	DISK_WRITE,
	_DISK_DIR_MAX,
};

/* One of QEMU's six buckets. Unset and "unlimited" both mean QEMU's 0 (no limit). */
struct disk_limit {
	struct psize rate;  /* per second: bytes (DISK_BYTES) or operations (DISK_IOPS) */
	struct psize burst; /* ..._max: the rate allowed during a burst, same unit */
	struct pint length; /* ..._max_length: seconds, 1..DISK_LENGTH_MAX; unset = QEMU's 1 */
};

struct disk_throttle {
	char *id;
	struct origin origin; /* of the entry */
	struct disk_limit limits[_DISK_KIND_MAX][_DISK_DIR_MAX];
	struct psize size_iops_sec; /* bytes: a larger request counts as several operations */
	struct pstr group;	    /* throttle group: the limits apply to its disks together */
};

struct disk_list {
	struct disk_throttle *items;
	size_t n;
};

/* "total_bytes_sec", "read_iops_sec_max", "write_bytes_sec_max_length" (level 0, 1, 2). */
const char *disk_field_name(enum disk_kind kind, enum disk_dir dir, int level);

/* The value QMP gets for a rate or burst: 0 when unset or unlimited. */
uint64_t disk_value(const struct psize *v);

void disk_list_done(struct disk_list *l);

/*
 * Checks every entry by QEMU's rules (above) and that disks sharing a throttle group have the
 * same limits (QEMU keeps one set per group). Problems are appended to diags as errors keyed
 * "disks[ID].FIELD", each naming the origins involved. Returns 0 or -ENOMEM.
 */
int disk_list_check(const struct disk_list *l, struct diag_list *diags);

/*
 * Merges src into dst per disk id. Within a disk, as `virsh blkdeviotune` does, the total, read
 * and write values of one kind and level (the rates of bytes, the bursts of IOPS, ...) are one
 * setting: a later entry that sets any of them replaces all three. size_iops_sec and group merge
 * alone. Returns 0 or -ENOMEM.
 */
int disk_list_merge(struct disk_list *dst, const struct disk_list *src);

/* The `disks:` key of a policy document (yaml-walk's YF_CUSTOM parser; base is a struct policy). */
struct ywalk;
struct yaml_node_s;
void disk_list_parse(struct ywalk *w, struct yaml_node_s *node, const char *key, void *base);

/* Appends the `disks:` section in canonical form (block style, each value with its origin). */
int disk_list_dump(const struct disk_list *l, bool origins, struct strbuf *b);

/* What `id` and `group` accept (the schema's rules, for other readers such as the importer). */
bool disk_id_valid(const char *s);
bool disk_group_valid(const char *s);
