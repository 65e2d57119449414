/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <string.h>

#include "disk-io.h"
#include "macro.h"
#include "strbuf.h"

static const char *const fields[DISK_BUCKETS][3] = {
	{ "bps", "bps_max", "bps_max_length" },
	{ "bps_rd", "bps_rd_max", "bps_rd_max_length" },
	{ "bps_wr", "bps_wr_max", "bps_wr_max_length" },
	{ "iops", "iops_max", "iops_max_length" },
	{ "iops_rd", "iops_rd_max", "iops_rd_max_length" },
	{ "iops_wr", "iops_wr_max", "iops_wr_max_length" },
};

const char *disk_io_field(int bucket, int level)
{
	return fields[bucket][level];
}

int disk_io_from_policy(const struct disk_throttle *d, struct disk_io *ret)
{
	struct disk_io io = {};

	for (int k = 0; k < _DISK_KIND_MAX; k++)
		for (int dir = 0; dir < _DISK_DIR_MAX; dir++) {
			const struct disk_limit *l = &d->limits[k][dir];
			int i = k * _DISK_DIR_MAX + dir;

			io.rate[i] = disk_value(&l->rate);
			io.burst[i] = disk_value(&l->burst);
			io.length[i] = l->length.set ? (uint64_t)l->length.value : 1;
		}
	io.iops_size = disk_value(&d->size_iops_sec);
	io.id = strdup(d->id);
	io.group = d->group.value ? strdup(d->group.value) : NULL;
	if (!io.id || (d->group.value && !io.group)) {
		disk_io_done(&io);
		return -ENOMEM;
	}
	*ret = io;
	return 0;
}

bool disk_io_limited(const struct disk_io *io)
{
	for (int i = 0; i < DISK_BUCKETS; i++)
		if (io->rate[i] || io->burst[i])
			return true;
	return false;
}

bool disk_io_equal(const struct disk_io *want, const struct disk_io *have, const char *own_group)
{
	const char *group = want->group ?: own_group;

	for (int i = 0; i < DISK_BUCKETS; i++)
		if (want->rate[i] != have->rate[i] || want->burst[i] != have->burst[i] ||
		    (want->burst[i] && want->length[i] != have->length[i]))
			return false;
	if (want->iops_size != have->iops_size)
		return false;
	/* Unthrottled, QEMU keeps no group: there is none to compare. */
	return !disk_io_limited(want) || (have->group && streq(have->group, group));
}

char *disk_io_format(const struct disk_io *io)
{
	_cleanup_(strbuf_done) struct strbuf b = {};
	int r = 0;

	/* Each field with a space before it; the first space is dropped at the end. */
	for (int i = 0; i < DISK_BUCKETS && r >= 0; i++) {
		if (io->rate[i])
			r = strbuf_printf(&b, " %s=%" PRIu64, fields[i][0], io->rate[i]);
		if (io->burst[i] && r >= 0)
			r = strbuf_printf(&b, " %s=%" PRIu64 " %s=%" PRIu64, fields[i][1],
					  io->burst[i], fields[i][2], io->length[i]);
	}
	if (io->iops_size && r >= 0)
		r = strbuf_printf(&b, " iops_size=%" PRIu64, io->iops_size);
	if (io->group && disk_io_limited(io) && r >= 0)
		r = strbuf_printf(&b, " group=%s", io->group);
	if (r < 0)
		return NULL;
	return strdup(b.len ? b.buf + 1 : "unlimited");
}

void disk_io_done(struct disk_io *io)
{
	free(io->id);
	free(io->group);
	*io = (struct disk_io){};
}
