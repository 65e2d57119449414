/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Each <disk>'s <iotune> as an entry of the policy's disks:, keyed by the id QMP's
 * block_set_io_throttle takes for it. libvirt names a disk's QEMU device by its alias
 * (qemu_alias.c): the <alias> the XML gives, else "<bus><controller>-<bus>-<unit>" for a drive
 * address (SCSI controllers other than lsilogic add the target: "scsi0-0-0-0"), else
 * "<bus>-disk<index of the target name>" ("virtio-disk0" for vda). Without an address libvirt gives
 * IDE, SATA, SCSI and floppy disks one from the target name. In the -drive era the drive was
 * "drive-<alias>"; in both eras the guest device is "-device ...,id=<alias>", and that is what the
 * policy names: the alias for IDE, SATA, SCSI and floppy disks, "<alias>/virtio-backend" for virtio
 * (the virtio-blk-pci device holds its disk in that child) and "<alias>/<alias>.0/legacy[0]" for
 * USB, the QOM paths libvirt's -blockdev era passes as `id`.
 */

#include <ctype.h>
#include <string.h>

#include "libvirt-xml.h"

/* virDiskNameToIndex: "vda" 0, "hdz" 25, "sdaa" 26; trailing digits (a partition) allowed. */
static int disk_name_index(const char *dst)
{
	static const char *const prefixes[] = { "fd", "hd", "vd", "sd", "xvd", "ubd" };
	const char *p = NULL;
	long idx = 0;

	for (size_t i = 0; i < ARRAY_SIZE(prefixes) && !p; i++)
		if (strncmp(dst, prefixes[i], strlen(prefixes[i])) == 0)
			p = dst + strlen(prefixes[i]);
	if (!p || !islower((unsigned char)*p))
		return -EINVAL;
	for (size_t i = 0; islower((unsigned char)*p); i++, p++) {
		idx = (idx + (i > 0)) * 26 + (*p - 'a');
		if (idx > INT32_MAX / 27)
			return -ERANGE;
	}
	if (p[strspn(p, "0123456789")] != '\0')
		return -EINVAL;
	return (int)idx;
}

/* libvirt's bus from the target name when <target> has no bus= (virDomainDiskDefParseXML). */
static const char *bus_from_name(const char *dst)
{
	static const struct {
		const char *prefix, *bus;
	} map[] = { { "hd", "ide" },  { "sd", "scsi" }, { "vd", "virtio" },
		    { "xvd", "xen" }, { "ubd", "uml" }, { "fd", "fdc" } };

	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (strncmp(dst, map[i].prefix, strlen(map[i].prefix)) == 0)
			return map[i].bus;
	return NULL;
}

struct drive_address {
	unsigned controller, bus, target, unit;
};

/* libvirt's default drive address for a disk without one (virDomainDiskDefAssignAddress). */
static bool default_address(const char *bus, int idx, struct drive_address *a)
{
	*a = (struct drive_address){};
	if (streq(bus, "scsi")) /* QEMU's SCSI bus is narrow: 7 units per controller */
		*a = (struct drive_address){ .controller = idx / 7, .unit = idx % 7 };
	else if (streq(bus, "ide"))
		*a = (struct drive_address){ .controller = idx / 4,
					     .bus = (idx % 4) / 2,
					     .unit = idx % 2 };
	else if (streq(bus, "sata"))
		*a = (struct drive_address){ .controller = idx / 6, .unit = idx % 6 };
	else if (streq(bus, "fdc"))
		*a = (struct drive_address){ .controller = idx / 2, .unit = idx % 2 };
	else
		return false;
	return true;
}

static bool address_field(struct lvimport *x, const xmlNode *addr, const char *name, unsigned *ret)
{
	_cleanup_free_ char *s = lv_attr(x, addr, name);
	uint64_t v = 0;

	if (!s)
		return true; /* libvirt: 0 */
	if (!lv_uint(x, addr, "disk.address", s, &v) || v > UINT32_MAX)
		return false;
	*ret = (unsigned)v;
	return true;
}

/* The drive address the XML gives (1), none (0), or one that cannot be read (-EINVAL). */
static int drive_address(struct lvimport *x, const xmlNode *disk, struct drive_address *a)
{
	xmlNode *addr = lv_child(disk, "address");
	_cleanup_free_ char *type = addr ? lv_attr(x, addr, "type") : NULL;

	*a = (struct drive_address){};
	if (!streq(type, "drive"))
		return 0;
	if (!address_field(x, addr, "controller", &a->controller) ||
	    !address_field(x, addr, "bus", &a->bus) ||
	    !address_field(x, addr, "target", &a->target) ||
	    !address_field(x, addr, "unit", &a->unit))
		return -EINVAL;
	return 1;
}

/* The model of SCSI controller index, or NULL when the XML does not say. Caller frees. */
static char *scsi_model(struct lvimport *x, const xmlNode *domain, unsigned index)
{
	LV_FOREACH_ELEMENT(c, lv_child(domain, "devices"))
	{
		_cleanup_free_ char *type = NULL, *idx = NULL;

		if (!lv_is(c, "controller"))
			continue;
		type = lv_attr(x, c, "type");
		idx = lv_attr(x, c, "index");
		if (streq(type, "scsi") && idx && strtoul(idx, NULL, 10) == index)
			return lv_attr(x, c, "model");
	}
	return NULL;
}

/* libvirt's alias of a disk without an <alias>; NULL with a note when it cannot be known. */
static char *computed_alias(struct lvimport *x, const xmlNode *domain, const xmlNode *disk,
			    const char *bus, const char *dst)
{
	struct drive_address a;
	int idx = disk_name_index(dst), r = drive_address(x, disk, &a);
	char *alias = NULL;

	if (r < 0)
		return NULL;
	if (r == 0 && (idx < 0 || !default_address(bus, idx, &a))) {
		if (idx < 0) {
			lv_note(x, disk, "disk.iotune",
				"target dev='%.40s' is not a disk name libvirt can number", dst);
			return NULL;
		}
		r = asprintf(&alias, "%s-disk%d", bus, idx);
	} else if (streq(bus, "scsi")) {
		_cleanup_free_ char *model = scsi_model(x, domain, a.controller);

		if (!model) {
			lv_note(x, disk, "disk.iotune",
				"the QEMU id of this SCSI disk depends on the model of SCSI "
				"controller %u, which the XML does not give (lsilogic: "
				"scsi%u-%u-%u, others: scsi%u-%u-%u-%u); add model= or an <alias>",
				a.controller, a.controller, a.bus, a.unit, a.controller, a.bus,
				a.target, a.unit);
			return NULL;
		}
		if (streq(model, "lsilogic"))
			r = asprintf(&alias, "scsi%u-%u-%u", a.controller, a.bus, a.unit);
		else
			r = asprintf(&alias, "scsi%u-%u-%u-%u", a.controller, a.bus, a.target,
				     a.unit);
	} else
		r = asprintf(&alias, "%s%u-%u-%u", bus, a.controller, a.bus, a.unit);
	if (r < 0) {
		x->r = -ENOMEM;
		return NULL;
	}
	return alias;
}

/* The id block_set_io_throttle takes for disk; NULL with a note when there is none. */
static char *qemu_id(struct lvimport *x, const xmlNode *domain, const xmlNode *disk)
{
	xmlNode *target = lv_child(disk, "target"), *alias_node = lv_child(disk, "alias");
	_cleanup_free_ char *dst = target ? lv_attr(x, target, "dev") : NULL;
	_cleanup_free_ char *bus = target ? lv_attr(x, target, "bus") : NULL;
	_cleanup_free_ char *alias = alias_node ? lv_attr(x, alias_node, "name") : NULL;
	char *id = NULL;
	int r;

	if (!dst) {
		lv_note(x, disk, "disk.iotune", "the disk has no <target dev=...>");
		return NULL;
	}
	if (!bus && bus_from_name(dst) && !(bus = strdup(bus_from_name(dst)))) {
		x->r = -ENOMEM;
		return NULL;
	}
	if (!bus) {
		lv_note(x, disk, "disk.iotune", "target '%.40s' names no bus", dst);
		return NULL;
	}
	if (!alias && !(alias = computed_alias(x, domain, disk, bus, dst)))
		return NULL;
	if (streq(bus, "ide") || streq(bus, "sata") || streq(bus, "scsi") || streq(bus, "fdc"))
		r = asprintf(&id, "%s", alias);
	else if (streq(bus, "virtio"))
		r = asprintf(&id, "%s/virtio-backend", alias);
	else if (streq(bus, "usb"))
		r = asprintf(&id, "%s/%s.0/legacy[0]", alias, alias);
	else {
		lv_note(x, disk, "disk.iotune",
			"bus '%.20s' has no QEMU device block_set_io_throttle could name", bus);
		return NULL;
	}
	if (r < 0) {
		x->r = -ENOMEM;
		return NULL;
	}
	if (!disk_id_valid(id)) {
		lv_note(x, alias_node ?: disk, "disk.iotune",
			"'%.60s' is not an id QEMU accepts (letters, digits, '-', '.', '_')", id);
		free(id);
		return NULL;
	}
	return id;
}

/* An <iotune> child: which value it is, by libvirt's name (the policy uses the same names). */
static bool iotune_value(struct lvimport *x, const xmlNode *node, struct disk_throttle *d)
{
	_cleanup_free_ char *text = lv_text(x, node);
	const char *name = (const char *)node->name;
	uint64_t v;

	for (int k = 0; k < _DISK_KIND_MAX; k++)
		for (int dir = 0; dir < _DISK_DIR_MAX; dir++)
			for (int level = 0; level < 3; level++) {
				struct disk_limit *l = &d->limits[k][dir];
				int64_t max = level == 2 ? DISK_LENGTH_MAX : DISK_VALUE_MAX;

				if (!streq(name, disk_field_name(k, dir, level)))
					continue;
				if (!lv_uint(x, node, "disk.iotune", text, &v) || v == 0)
					return false; /* 0: libvirt's "not set" */
				if (v > (uint64_t)max) {
					lv_note(x, node, "disk.iotune",
						"%s %" PRIu64 " is above %" PRId64
						", the most QEMU takes",
						name, v, max);
					return false;
				}
				if (level == 2)
					l->length = (struct pint){ .set = true,
								   .value = (int64_t)v,
								   .origin = lv_origin(x, node) };
				else
					*(level == 0 ? &l->rate : &l->burst) =
						(struct psize){ .set = true,
								.bytes = v,
								.origin = lv_origin(x, node) };
				return true;
			}
	if (streq(name, "size_iops_sec")) {
		if (!lv_uint(x, node, "disk.iotune", text, &v) || v == 0)
			return false;
		d->size_iops_sec =
			(struct psize){ .set = true, .bytes = v, .origin = lv_origin(x, node) };
		return true;
	}
	if (streq(name, "group_name")) {
		if (!disk_group_valid(text)) {
			lv_note(x, node, "disk.iotune.group_name",
				"'%.40s' is not a throttle group name (1..%d bytes, no control "
				"characters)",
				text, POLICY_DISK_GROUP_MAX);
			return false;
		}
		d->group = (struct pstr){ .value = TAKE_PTR(text), .origin = lv_origin(x, node) };
		return true;
	}
	lv_note(x, node, "disk.iotune", "<%s> is not known to kvmtune", name);
	return false;
}

/* What the checker of disks: refuses in one entry, as notes; true when nothing. */
static bool disk_accepted(struct lvimport *x, struct disk_list *l)
{
	_cleanup_(diag_list_done) struct diag_list diags = {};

	if (disk_list_check(l, &diags) < 0) {
		x->r = -ENOMEM;
		return false;
	}
	FOREACH_ARRAY (e, diags.items, diags.n) {
		if (diag_add(&x->imp->notes, DIAG_WARNING, e->file, e->line, 0, e->key,
			     "not carried over: %s", e->message) < 0)
			x->r = -ENOMEM;
	}
	return diags.n_errors == 0;
}

static void disk(struct lvimport *x, const xmlNode *domain, const xmlNode *node)
{
	struct disk_list *l = &x->imp->policy.disks;
	xmlNode *iotune = lv_child(node, "iotune");
	struct disk_throttle d = { .origin = lv_origin(x, node) };
	size_t values = 0;

	LV_FOREACH_ELEMENT(c, iotune)
	values += iotune_value(x, c, &d);
	if (values == 0 || !(d.id = qemu_id(x, domain, node)))
		goto out;
	FOREACH_ARRAY (e, l->items, l->n)
		if (streq(e->id, d.id)) {
			lv_note(x, iotune, "disk.iotune", "disk '%s' is already listed at line %u",
				d.id, e->origin.line);
			goto out;
		}
	if (EXTEND_ARRAY(l->items, l->n) < 0) {
		x->r = -ENOMEM;
		goto out;
	}
	/* Checked with the disks before it: its own rules, and its throttle group's. */
	l->items[l->n++] = d;
	if (disk_accepted(x, l)) {
		x->imp->n_carried += values;
		return;
	}
	l->n--;
out:
	free(d.id);
	free(d.group.value);
}

void lv_import_disks(struct lvimport *x, const xmlNode *domain)
{
	LV_FOREACH_ELEMENT(c, lv_child(domain, "devices"))
	if (lv_is(c, "disk") && lv_child(c, "iotune"))
		disk(x, domain, c);
}
