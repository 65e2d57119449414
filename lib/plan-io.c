/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * blkiotune → the VM group's blkio (v1) or io (v2) files: the VM's weight, each device's
 * weight where a scheduler can honour it (BFQ, or io.cost on v2; otherwise a warning), its four
 * throttles, and the entries of devices the policy no longer names put back to none.
 */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cgroup-value.h"
#include "macro.h"
#include "plan-build.h"
#include "size.h"

static const struct plan_device *device_of(const struct builder *b, const char *path)
{
	for (size_t i = 0; i < b->host->n_devices; i++)
		if (streq(b->host->devices[i].path, path))
			return &b->host->devices[i];
	return NULL;
}

static void limit_or_max(char buf[static 32], const struct psize *v, const char *unlimited)
{
	if (!v->set || v->bytes == SIZE_UNLIMITED)
		(void)snprintf(buf, 32, "%s", unlimited);
	else
		(void)snprintf(buf, 32, "%" PRIu64, v->bytes);
}

static const char *const v1_throttle_files[] = { "blkio.throttle.read_bps_device",
						 "blkio.throttle.write_bps_device",
						 "blkio.throttle.read_iops_device",
						 "blkio.throttle.write_iops_device" };
#define V2_NO_THROTTLE "rbps=max wbps=max riops=max wiops=max"

static bool iocost_enabled(const struct plan_host *h, unsigned maj, unsigned min)
{
	char key[32];
	const char *l;

	(void)snprintf(key, sizeof(key), "%u:%u enable=1", maj, min);
	for (l = h->iocost; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, key, strlen(key)) == 0)
			return true;
	return false;
}

/*
 * The file a weight for this device goes to, or NULL when none takes effect there: BFQ as the
 * disk's scheduler, or on cgroup v2 the io.cost controller for it.
 */
static const char *device_weight_file(const struct builder *b, const struct blockdev *dev)
{
	bool bfq = streq(dev->scheduler, "bfq");

	if (b->host->version[CGROUP_IO] == 1)
		return bfq && b->host->bfq ? "blkio.bfq.weight_device" : NULL;
	if (bfq)
		return "io.bfq.weight";
	return iocost_enabled(b->host, dev->major, dev->minor) ? "io.weight" : NULL;
}

static void plan_device_weight(struct builder *b, const char *vm_group,
			       const struct blkio_device *d, const struct blockdev *dev)
{
	const char *file = device_weight_file(b, dev);

	if (!file) {
		if (d->weight.set) /* warned, not written: the write would fail at every apply */
			builder_warn(b, &d->weight.origin,
				     "blkiotune device %s (%u:%u): its scheduler is %s, so a "
				     "weight cannot "
				     "take effect; not set (echo bfq > "
				     "/sys/dev/block/%u:%u/queue/scheduler%s)",
				     d->path, dev->major, dev->minor, dev->scheduler, dev->major,
				     dev->minor,
				     b->host->version[CGROUP_IO] == 2 ? ", or enable io.cost for it"
								      : "");
		return;
	}
	if (!d->weight.set) /* none (any more): the kernel's default */
		builder_write(b, CGROUP_IO, vm_group, file, NULL, "io device weight",
			      "%u:%u default", dev->major, dev->minor);
	else
		builder_write(b, CGROUP_IO, vm_group, file, &d->weight.origin, "io device weight",
			      "%u:%u %" PRId64, dev->major, dev->minor,
			      streq(file, "io.weight")
				      ? CLAMP(d->weight.value * 100 / 500, 1, 10000)
				      : d->weight.value);
}

/* Throttles: each one the policy sets, and every other one none (so a removed one goes). */
static void plan_device_throttles(struct builder *b, const char *vm_group,
				  const struct blkio_device *d, const struct blockdev *dev)
{
	const struct psize *v[] = { &d->read_bytes_sec, &d->write_bytes_sec, &d->read_iops_sec,
				    &d->write_iops_sec };
	char t[4][32];

	if (b->host->version[CGROUP_IO] == 1) {
		for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
			limit_or_max(t[i], v[i], "0"); /* 0 removes a v1 throttle */
			builder_write(b, CGROUP_IO, vm_group, v1_throttle_files[i],
				      v[i]->set ? &v[i]->origin : NULL, "io throttle", "%u:%u %s",
				      dev->major, dev->minor, t[i]);
		}
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(v); i++)
		limit_or_max(t[i], v[i], "max");
	builder_write(b, CGROUP_IO, vm_group, "io.max", &d->origin, "io throttle",
		      "%u:%u rbps=%s wbps=%s riops=%s wiops=%s", dev->major, dev->minor, t[0], t[1],
		      t[2], t[3]);
}

static void plan_io_device(struct builder *b, const char *vm_group, const struct blkio_device *d)
{
	const struct plan_device *dev = device_of(b, d->path);

	if (!dev || dev->result < 0) {
		builder_warn(b, &d->origin, "blkiotune device %s: %s", d->path,
			     dev ? strerror(-dev->result) : "not resolved");
		return;
	}
	if (dev->refused) {
		/* The backend cannot set what the policy says for this device. */
		builder_warn(b, &d->origin, "blkiotune device %s (%u:%u) %s", d->path,
			     dev->dev.major, dev->dev.minor, dev->refused);
		return;
	}
	plan_device_weight(b, vm_group, d, &dev->dev);
	plan_device_throttles(b, vm_group, d, &dev->dev);
}

/* Whether the policy names the device maj:min (as one of its resolved devices). */
static bool device_named(const struct builder *b, unsigned maj, unsigned min)
{
	FOREACH_ARRAY (d, b->policy->blkiotune.devices, b->policy->blkiotune.n_devices) {
		const struct plan_device *dev = device_of(b, d->path);

		if (dev && dev->result >= 0 && dev->dev.major == maj && dev->dev.minor == min)
			return true;
	}
	return false;
}

/* The entries of devices the policy no longer names: back to the kernel's defaults. */
static void plan_io_removed(struct builder *b, const char *vm_group)
{
	FOREACH_ARRAY (e, b->host->io_entries, b->host->n_io_entries) {
		const char *none = strstr(e->file, "weight")  ? "default"
				   : streq(e->file, "io.max") ? V2_NO_THROTTLE
							      : "0";

		if (!device_named(b, e->major, e->minor))
			builder_write(b, CGROUP_IO, vm_group, e->file, NULL, "io device removed",
				      "%u:%u %s", e->major, e->minor, none);
	}
}

/* The VM's own weight; none set is the kernel's default (where the host has the file). */
static void plan_io_weight(struct builder *b, const char *vm_group)
{
	const struct pint *weight = &b->policy->blkiotune.weight;
	bool v1 = b->host->version[CGROUP_IO] == 1;
	int64_t w = weight->set ? weight->value : CG_DEFAULT_IO_WEIGHT;
	const struct origin *o = weight->set ? &weight->origin : NULL;
	struct action *a = NULL;

	if (v1 && !b->host->bfq) {
		if (weight->set)
			builder_warn(
				b, o,
				"blkiotune.weight: no blkio.bfq.weight on this kernel (BFQ is not "
				"built or loaded)");
		return;
	}
	if (v1)
		a = builder_write(b, CGROUP_IO, vm_group, "blkio.bfq.weight", o, "io weight",
				  "%" PRId64, w);
	else if (b->host->bfq)
		a = builder_write(b, CGROUP_IO, vm_group, "io.bfq.weight", o, "io weight",
				  "default %" PRId64, w);
	else
		a = builder_write(
			b, CGROUP_IO, vm_group, "io.weight", o, "io weight", "default %" PRId64,
			weight->set ? CLAMP(w * 100 / 500, 1, 10000) : CG_DEFAULT_IO_WEIGHT);
	if (a && !weight->set)
		a->optional = true; /* a kernel without the file has nothing to undo */
}

void plan_io(struct builder *b, const char *vm_group)
{
	const struct policy *p = b->policy;

	if (b->host->version[CGROUP_IO] == 0) {
		if (p->blkiotune.weight.set || p->blkiotune.n_devices > 0)
			builder_warn(b, NULL, "blkiotune: this host has no blkio/io controller");
		return;
	}
	plan_io_weight(b, vm_group);
	FOREACH_ARRAY (d, p->blkiotune.devices, p->blkiotune.n_devices)
		plan_io_device(b, vm_group, d);
	plan_io_removed(b, vm_group);
}
