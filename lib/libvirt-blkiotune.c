/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * libvirt's <blkiotune> as the policy's blkiotune: the weight, and per host block device its
 * weight and throttles (bytes and operations per second). libvirt writes 0 for "not set".
 */

#include <string.h>
#include <sys/stat.h>

#include "libvirt-xml.h"

/* A throttle: 0 is libvirt's "not set"; kvmtune's values are at most 2^63 - 1. */
static void throttle(struct lvimport *x, const xmlNode *device, const char *name, struct psize *ret)
{
	xmlNode *node = lv_child(device, name);
	_cleanup_free_ char *text = node ? lv_text(x, node) : NULL;
	char key[80];
	uint64_t v;

	(void)snprintf(key, sizeof(key), "blkiotune.device.%s", name);
	if (!node || !lv_uint(x, node, key, text, &v) || v == 0)
		return;
	if (v > (uint64_t)INT64_MAX) {
		lv_note(x, node, key, "%" PRIu64 " is larger than %" PRId64, v, INT64_MAX);
		return;
	}
	*ret = (struct psize){ .set = true, .bytes = v, .origin = lv_origin(x, node) };
	lv_carried(x);
}

/* The device path: absolute, and a block device on this host when devices are checked. */
static char *device_path(struct lvimport *x, const xmlNode *device)
{
	xmlNode *node = lv_child(device, "path");
	char *path = node ? lv_text(x, node) : NULL;
	struct stat st;

	if (!path || path[0] != '/') {
		lv_note(x, node ?: device, "blkiotune.device.path",
			"'%.60s' is not an absolute device path", path ?: "");
		goto fail;
	}
	if (x->env->check_devices && (stat(path, &st) < 0 || !S_ISBLK(st.st_mode))) {
		lv_note(x, node, "blkiotune.device.path",
			"%.200s is not a block device on this host; import on the host the VM will "
			"run on",
			path);
		goto fail;
	}
	return path;
fail:
	free(path);
	return NULL;
}

static void device(struct lvimport *x, const xmlNode *node)
{
	struct policy *p = &x->imp->policy;
	struct blkio_device d = { .origin = lv_origin(x, node) };
	size_t allocated = p->blkiotune.n_devices;
	size_t carried = x->imp->n_carried;

	d.path = device_path(x, node);
	if (!d.path)
		return;
	FOREACH_ARRAY (e, p->blkiotune.devices, p->blkiotune.n_devices)
		if (streq(e->path, d.path)) {
			lv_note(x, node, "blkiotune.device", "%s is already listed at line %u",
				d.path, e->origin.line);
			goto out;
		}
	(void)lv_int_child(x, node, "weight", "blkiotune.device.weight", BLKIO_WEIGHT_MIN,
			   BLKIO_WEIGHT_MAX, &d.weight);
	throttle(x, node, "read_bytes_sec", &d.read_bytes_sec);
	throttle(x, node, "write_bytes_sec", &d.write_bytes_sec);
	throttle(x, node, "read_iops_sec", &d.read_iops_sec);
	throttle(x, node, "write_iops_sec", &d.write_iops_sec);
	LV_FOREACH_ELEMENT(c, node)
	if (!lv_is(c, "path") && !lv_is(c, "weight") && !lv_is(c, "read_bytes_sec") &&
	    !lv_is(c, "write_bytes_sec") && !lv_is(c, "read_iops_sec") &&
	    !lv_is(c, "write_iops_sec"))
		lv_note(x, c, "blkiotune.device", "<%s> is not known to kvmtune",
			(const char *)c->name);
	if (x->imp->n_carried == carried)
		goto out; /* every value 0 or refused: nothing to carry */
	if (GROW_ARRAY(p->blkiotune.devices, allocated, p->blkiotune.n_devices + 1) < 0) {
		x->r = -ENOMEM;
		goto out;
	}
	p->blkiotune.devices[p->blkiotune.n_devices++] = d;
	return;
out:
	free(d.path);
}

void lv_import_blkiotune(struct lvimport *x, const xmlNode *blkiotune)
{
	if (!blkiotune)
		return;
	(void)lv_int_child(x, blkiotune, "weight", "blkiotune.weight", BLKIO_WEIGHT_MIN,
			   BLKIO_WEIGHT_MAX, &x->imp->policy.blkiotune.weight);
	LV_FOREACH_ELEMENT(c, blkiotune)
	if (lv_is(c, "device"))
		device(x, c);
	else if (!lv_is(c, "weight"))
		lv_note(x, c, "blkiotune", "<%s> is not known to kvmtune", (const char *)c->name);
}
