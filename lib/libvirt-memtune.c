/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * libvirt's <memtune> as the policy's memtune, in bytes as libvirt reads them: the number
 * scaled by its unit attribute (default KiB), then rounded up to a whole KiB, which is what
 * libvirt stores. libvirt writes "unlimited" as 9007199254740991 KiB (2^53 - 1,
 * VIR_DOMAIN_MEMORY_PARAM_UNLIMITED) and treats anything from there on as unlimited.
 */

#include <string.h>
#include <strings.h>

#include "libvirt-xml.h"
#include "size.h"

#define LV_MEMORY_UNLIMITED_KIB UINT64_C(9007199254740991)

/*
 * libvirt's units (virScaleInteger, case-insensitive): b, byte, bytes; k, m, g, t, p, e alone or
 * with "iB" are powers of 1024, with "B" powers of 1000. 0 and the factor, or -EINVAL.
 */
static int unit_factor(const char *unit, unsigned __int128 *ret)
{
	static const char scales[] = "kmgtpe";
	const char *at;
	unsigned base;

	if (!unit || !*unit) {
		*ret = 1024;
		return 0;
	}
	if (!strcasecmp(unit, "b") || !strcasecmp(unit, "byte") || !strcasecmp(unit, "bytes")) {
		*ret = 1;
		return 0;
	}
	at = strchr(scales, unit[0] | 0x20);
	if (!at || !unit[0])
		return -EINVAL;
	if (!unit[1] || !strcasecmp(unit + 1, "ib"))
		base = 1024;
	else if ((unit[1] | 0x20) == 'b' && !unit[2])
		base = 1000;
	else
		return -EINVAL;
	*ret = 1;
	for (const char *c = scales; c <= at; c++)
		*ret *= base;
	return 0;
}

/* A <memtune> value in bytes, or SIZE_UNLIMITED. False, with a note, when it is not one. */
static bool memory_value(struct lvimport *x, const xmlNode *node, const char *key, uint64_t *ret)
{
	_cleanup_free_ char *text = lv_text(x, node), *unit = lv_attr(x, node, "unit");
	unsigned __int128 factor, bytes, kib;
	uint64_t v;

	if (!lv_uint(x, node, key, text, &v))
		return false;
	if (unit_factor(unit, &factor) < 0) {
		lv_note(x, node, key,
			"unit '%.20s' is not one of libvirt's (b, bytes, KB, k, KiB, MB, M, MiB, "
			"..., "
			"EB, E, EiB)",
			unit);
		return false;
	}
	bytes = (unsigned __int128)v * factor;
	if (bytes > (unsigned __int128)LV_MEMORY_UNLIMITED_KIB * 1024) {
		lv_note(x, node, key,
			"%" PRIu64 " %s is more than libvirt accepts (%" PRIu64 " KiB)", v,
			unit ?: "KiB", LV_MEMORY_UNLIMITED_KIB);
		return false;
	}
	kib = bytes / 1024 + (bytes % 1024 != 0);
	*ret = kib >= LV_MEMORY_UNLIMITED_KIB ? SIZE_UNLIMITED : (uint64_t)kib * 1024;
	return true;
}

static void limit(struct lvimport *x, const xmlNode *memtune, const char *name, uint64_t min,
		  bool unlimited_ok, struct psize *ret)
{
	xmlNode *node = lv_child(memtune, name);
	char key[64], a[SIZE_FORMAT_MAX];
	uint64_t bytes;

	(void)snprintf(key, sizeof(key), "memtune.%s", name);
	if (!node || !memory_value(x, node, key, &bytes))
		return;
	if (bytes == SIZE_UNLIMITED && !unlimited_ok)
		return; /* libvirt: an unlimited guarantee is no guarantee */
	if (bytes != SIZE_UNLIMITED && bytes < min) {
		lv_note(x, node, key,
			"%s is below kvmtune's minimum 1M (a smaller limit kills the VM at once)",
			size_format(bytes, a));
		return;
	}
	*ret = (struct psize){ .set = true, .bytes = bytes, .origin = lv_origin(x, node) };
	lv_carried(x);
}

void lv_import_memtune(struct lvimport *x, const xmlNode *memtune)
{
	struct policy *p = &x->imp->policy;
	struct psize *hard = &p->memtune.hard_limit, *swap = &p->memtune.swap_hard_limit;

	if (!memtune)
		return;
	limit(x, memtune, "hard_limit", MEMORY_LIMIT_MIN, true, hard);
	limit(x, memtune, "soft_limit", 0, true, &p->memtune.soft_limit);
	limit(x, memtune, "swap_hard_limit", MEMORY_LIMIT_MIN, true, swap);
	limit(x, memtune, "min_guarantee", 0, false, &p->memtune.min_guarantee);
	if (hard->set && swap->set && swap->bytes < hard->bytes) {
		char a[SIZE_FORMAT_MAX], b[SIZE_FORMAT_MAX];

		lv_note(x, lv_child(memtune, "swap_hard_limit"), "memtune.swap_hard_limit",
			"%s is below hard_limit %s (it counts memory + swap; libvirt refuses it)",
			size_format(swap->bytes, a), size_format(hard->bytes, b));
		swap->set = false;
		x->imp->n_carried--;
	}
	LV_FOREACH_ELEMENT(c, memtune)
	if (!lv_is(c, "hard_limit") && !lv_is(c, "soft_limit") && !lv_is(c, "swap_hard_limit") &&
	    !lv_is(c, "min_guarantee"))
		lv_note(x, c, "memtune", "<%s> is not known to kvmtune", (const char *)c->name);
}
