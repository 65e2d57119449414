/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "disk-io.h"
#include "macro.h"
#include "qmp-block.h"
#include "tests.h"

/*
 * query-block's "return" as QEMU 7.2 sends it (abridged: the image details), for two virtio
 * disks (-drive id=drive0 / drive1, -device virtio-blk-pci,id=vdisk0 / vdisk1), the first
 * throttled, and an empty CD-ROM drive.
 */
static const char blocks_json[] =
	"[{\"io-status\": \"ok\", \"device\": \"drive0\", \"locked\": false, \"removable\": false,"
	"  \"inserted\": {\"iops_rd\": 500, \"bps_max_length\": 10, \"iops_wr\": 0,"
	"    \"group\": \"drive0\", \"iops_size\": 8192, \"bps_max\": 104857600, \"iops\": 0,"
	"    \"bps_wr\": 0, \"bps\": 52428800, \"bps_rd\": 0, \"drv\": \"raw\","
	"    \"image\": {\"virtual-size\": 1048576, \"filename\": \"a.raw\"}},"
	"  \"qdev\": \"/machine/peripheral/vdisk0/virtio-backend\", \"type\": \"unknown\"},"
	" {\"device\": \"drive1\", \"qdev\": \"/machine/peripheral/vdisk1/virtio-backend\","
	"  \"inserted\": {\"iops_rd\": 0, \"iops_wr\": 0, \"iops\": 0, \"bps_wr\": 0, \"bps\": 0,"
	"    \"bps_rd\": 0}},"
	" {\"device\": \"\", \"qdev\": \"ide1-cd0\", \"removable\": true}]";

static void parse(struct qmp_disks *l)
{
	struct json_object *j = json_tokener_parse(blocks_json);

	ASSERT_TRUE(j);
	ASSERT_OK(qmp_disks_parse(j, l));
	json_object_put(j);
}

/* What a policy entry { id, total_bytes_sec: 50M, read_iops_sec: 500, ... } asks for. */
static void want_drive0(struct disk_io *io)
{
	*io = (struct disk_io){ .id = strdup("drive0") };
	io->rate[DISK_BYTES * _DISK_DIR_MAX + DISK_TOTAL] = 52428800;
	io->burst[DISK_BYTES * _DISK_DIR_MAX + DISK_TOTAL] = 104857600;
	io->length[DISK_BYTES * _DISK_DIR_MAX + DISK_TOTAL] = 10;
	io->rate[DISK_IOPS * _DISK_DIR_MAX + DISK_READ] = 500;
	for (int i = 0; i < DISK_BUCKETS; i++)
		if (!io->length[i])
			io->length[i] = 1; /* QEMU's own, where no burst is set */
	io->iops_size = 8192;
}

TEST(parse_and_find)
{
	_cleanup_(qmp_disks_done) struct qmp_disks l = {};
	_cleanup_free_ char *ids = NULL;
	bool as_device;

	parse(&l);
	ASSERT_EQ(l.n, 3u);
	ASSERT_TRUE(l.items[0].inserted && !l.items[2].inserted);
	ASSERT_EQ_U64(l.items[0].io.rate[0], 52428800);
	ASSERT_EQ_U64(l.items[0].io.burst[0], 104857600);
	ASSERT_EQ_U64(l.items[0].io.length[0], 10);
	ASSERT_EQ_U64(l.items[0].io.iops_size, 8192);
	ASSERT_STREQ(l.items[0].io.group, "drive0");
	ASSERT_TRUE(!l.items[1].io.group); /* unthrottled: QEMU reports no group */

	/* By -drive id: sent as `device`; by QOM path, relative or whole: as `id`. */
	ASSERT_TRUE(qmp_disks_find(&l, "drive1", &as_device) == &l.items[1] && as_device);
	ASSERT_TRUE(qmp_disks_find(&l, "vdisk1/virtio-backend", &as_device) == &l.items[1] &&
		    !as_device);
	ASSERT_TRUE(qmp_disks_find(&l, "/machine/peripheral/vdisk0/virtio-backend", &as_device) ==
		    &l.items[0]);
	ASSERT_TRUE(qmp_disks_find(&l, "ide1-cd0", &as_device) == &l.items[2]);
	/* The pci device itself is not the disk (QEMU refuses it: no block backend). */
	ASSERT_TRUE(!qmp_disks_find(&l, "vdisk0", &as_device));
	ASSERT_TRUE(!qmp_disks_find(&l, "", &as_device));

	ids = qmp_disks_ids(&l);
	ASSERT_STREQ(ids, "drive0, vdisk0/virtio-backend, drive1, vdisk1/virtio-backend, ide1-cd0");
}

TEST(equal_and_format)
{
	_cleanup_(qmp_disks_done) struct qmp_disks l = {};
	_cleanup_(disk_io_done) struct disk_io want = {};
	_cleanup_free_ char *have_text = NULL, *want_text = NULL;

	parse(&l);
	want_drive0(&want);
	ASSERT_TRUE(disk_io_equal(&want, &l.items[0].io, "drive0"));
	have_text = disk_io_format(&l.items[0].io);
	ASSERT_STREQ(have_text, "bps=52428800 bps_max=104857600 bps_max_length=10 iops_rd=500 "
				"iops_size=8192 group=drive0");
	/* The group: a wish without one means the disk's own, named after the id given. */
	ASSERT_FALSE(disk_io_equal(&want, &l.items[0].io, "vdisk0/virtio-backend"));
	want.group = strdup("g");
	ASSERT_FALSE(disk_io_equal(&want, &l.items[0].io, "drive0"));
	free(want.group);
	want.group = NULL;
	/* A burst's length counts; where no burst is set it does not. */
	want.length[0] = 5;
	ASSERT_FALSE(disk_io_equal(&want, &l.items[0].io, "drive0"));
	want.length[0] = 10;
	want.length[1] = 7;
	ASSERT_TRUE(disk_io_equal(&want, &l.items[0].io, "drive0"));
	want.iops_size = 0;
	ASSERT_FALSE(disk_io_equal(&want, &l.items[0].io, "drive0"));

	/* Nothing limited: equal to an unthrottled disk, whatever group is asked for. */
	disk_io_done(&want);
	want = (struct disk_io){ .id = strdup("drive1"), .group = strdup("g") };
	ASSERT_TRUE(disk_io_equal(&want, &l.items[1].io, "drive1"));
	ASSERT_FALSE(disk_io_equal(&want, &l.items[0].io, "drive0"));
	want_text = disk_io_format(&want);
	ASSERT_STREQ(want_text, "unlimited");
}

TEST(arguments)
{
	_cleanup_(disk_io_done) struct disk_io want = {};
	struct json_object *args, *v;

	want_drive0(&want);
	args = qmp_throttle_arguments(&want, "vdisk0/virtio-backend", false);
	ASSERT_TRUE(args);
	/* All six rates always (QEMU requires them), bursts with lengths only where set. */
	ASSERT_TRUE(json_object_object_get_ex(args, "id", &v));
	ASSERT_STREQ(json_object_get_string(v), "vdisk0/virtio-backend");
	ASSERT_FALSE(json_object_object_get_ex(args, "device", NULL));
	ASSERT_TRUE(json_object_object_get_ex(args, "bps", &v) &&
		    json_object_get_int64(v) == 52428800);
	ASSERT_TRUE(json_object_object_get_ex(args, "iops_wr", &v) &&
		    json_object_get_int64(v) == 0);
	ASSERT_TRUE(json_object_object_get_ex(args, "bps_max_length", &v) &&
		    json_object_get_int64(v) == 10);
	ASSERT_FALSE(json_object_object_get_ex(args, "iops_max", NULL));
	ASSERT_FALSE(json_object_object_get_ex(args, "iops_max_length", NULL));
	ASSERT_TRUE(json_object_object_get_ex(args, "iops_size", &v) &&
		    json_object_get_int64(v) == 8192);
	/* The disk's own group by the name QEMU would give it: out of any shared one. */
	ASSERT_TRUE(json_object_object_get_ex(args, "group", &v));
	ASSERT_STREQ(json_object_get_string(v), "vdisk0/virtio-backend");
	json_object_put(args);

	/* Unthrottling: the six zeros, no group (QEMU drops the throttle). */
	disk_io_done(&want);
	want = (struct disk_io){ .id = strdup("drive1") };
	args = qmp_throttle_arguments(&want, "drive1", true);
	ASSERT_TRUE(args);
	ASSERT_EQ(json_object_object_length(args), 7);
	ASSERT_FALSE(json_object_object_get_ex(args, "group", NULL));
	json_object_put(args);
}

TEST(refused)
{
	static const char *const bad[] = {
		"{}",
		"[1]",
		"[{\"device\": 5}]",
		"[{\"device\": \"a\", \"inserted\": {\"bps\": -1}}]",
		"[{\"device\": \"a\", \"inserted\": {\"bps\": \"1\"}}]",
		"[{\"device\": \"a\", \"inserted\": {\"group\": 3}}]",
		"[{\"device\": \"a\", \"inserted\": []}]",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct json_object *j = json_tokener_parse(bad[i]);
		struct qmp_disks l = {};

		ASSERT_TRUE(j);
		ASSERT_ERROR(qmp_disks_parse(j, &l), EPROTO);
		json_object_put(j);
	}
}
