/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The policy's `disks:` list (policy-disks.h): schema, QEMU's rules, merge and canonical text. */

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "policy.h"
#include "size.h"
#include "yaml-walk.h"

/* Indexed [kind][dir][level]: level 0 the rate, 1 the burst, 2 the burst length. */
static const char *const field_names[_DISK_KIND_MAX][_DISK_DIR_MAX][3] = {
	[DISK_BYTES] = {
		{ "total_bytes_sec", "total_bytes_sec_max", "total_bytes_sec_max_length" },
		{ "read_bytes_sec", "read_bytes_sec_max", "read_bytes_sec_max_length" },
		{ "write_bytes_sec", "write_bytes_sec_max", "write_bytes_sec_max_length" },
	},
	[DISK_IOPS] = {
		{ "total_iops_sec", "total_iops_sec_max", "total_iops_sec_max_length" },
		{ "read_iops_sec", "read_iops_sec_max", "read_iops_sec_max_length" },
		{ "write_iops_sec", "write_iops_sec_max", "write_iops_sec_max_length" },
	},
};

const char *disk_field_name(enum disk_kind kind, enum disk_dir dir, int level)
{
	return field_names[kind][dir][level];
}

uint64_t disk_value(const struct psize *v)
{
	return v->set && v->bytes != SIZE_UNLIMITED ? v->bytes : 0;
}

static void disk_throttle_done(struct disk_throttle *d)
{
	free(d->id);
	free(d->group.value);
}

void disk_list_done(struct disk_list *l)
{
	FOREACH_ARRAY (d, l->items, l->n)
		disk_throttle_done(d);
	free(l->items);
	*l = (struct disk_list){};
}

/* ---- schema ---- */

/*
 * A QEMU id ("virtio-disk0": a letter, then letters, digits, '-', '.', '_') or a QOM path below
 * /machine/peripheral or absolute ("virtio-disk0/virtio-backend", "/machine/peripheral/x/y"),
 * whose components may also hold '[' and ']' ("legacy[0]").
 */
bool disk_id_valid(const char *s)
{
	static const char id_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				       "0123456789-._";
	static const char path_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					 "0123456789-._[]";
	size_t n = strlen(s);

	if (n == 0 || n > POLICY_DISK_ID_MAX)
		return false;
	if (!strchr(s, '/'))
		return isalpha((unsigned char)s[0]) && strspn(s, id_chars) == n;
	for (const char *c = s + (s[0] == '/');; c++) {
		size_t len = strspn(c, path_chars);

		if (len == 0)
			return false;
		c += len;
		if (*c == '\0')
			return true;
		if (*c != '/')
			return false;
	}
}

static void parse_id(struct ywalk *w, yaml_node_t *node, const char *key, void *base)
{
	struct disk_throttle *d = base;
	const char *s = ywalk_scalar(w, node, key, "a disk id");

	if (!s)
		return;
	if (!disk_id_valid(s)) {
		ywalk_error(
			w, node, key,
			"'%.40s' is not a disk id (allowed: the id QEMU knows the disk by: a "
			"-drive id like drive-virtio-disk0, or a -device id or QOM path like "
			"virtio-disk0/virtio-backend; letters, digits, '-', '.', '_', at most %d "
			"bytes)",
			s, POLICY_DISK_ID_MAX);
		return;
	}
	d->id = strdup(s);
	if (!d->id)
		w->oom = -ENOMEM;
}

bool disk_group_valid(const char *s)
{
	size_t n = strlen(s);

	for (const char *c = s; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return false;
	return n > 0 && n <= POLICY_DISK_GROUP_MAX;
}

static void parse_group(struct ywalk *w, yaml_node_t *node, const char *key, void *base)
{
	struct disk_throttle *d = base;
	const char *s = ywalk_scalar(w, node, key, "a throttle group name");

	if (!s)
		return;
	if (!disk_group_valid(s)) {
		ywalk_error(
			w, node, key,
			"'%.40s' is not a throttle group name (allowed: 1..%d bytes, no control "
			"characters)",
			s, POLICY_DISK_GROUP_MAX);
		return;
	}
	free(d->group.value);
	d->group.value = strdup(s);
	if (!d->group.value)
		w->oom = -ENOMEM;
	d->group.origin = ywalk_origin(w, node);
}

#define FIELD(n, k, member, ...)                                                        \
	{                                                                               \
		.name = n, .kind = k, .offset = offsetof(struct disk_throttle, member), \
		__VA_ARGS__                                                             \
	}
#define BYTES(n, member) \
	FIELD(n, YF_SIZE_BYTES, member, .min = 1, .max = DISK_VALUE_MAX, .flags = YF_UNLIMITED)
#define IOPS(n, member)	  FIELD(n, YF_COUNT, member, .max = DISK_VALUE_MAX)
#define LENGTH(n, member) FIELD(n, YF_INT, member, .min = 1, .max = DISK_LENGTH_MAX)
#define B(dir)		  limits[DISK_BYTES][dir]
#define I(dir)		  limits[DISK_IOPS][dir]

static const struct yfield disk_fields[] = {
	FIELD("id", YF_CUSTOM, id, .flags = YF_REQUIRED, .parse = parse_id),
	BYTES("total_bytes_sec", B(DISK_TOTAL).rate),
	BYTES("read_bytes_sec", B(DISK_READ).rate),
	BYTES("write_bytes_sec", B(DISK_WRITE).rate),
	IOPS("total_iops_sec", I(DISK_TOTAL).rate),
	IOPS("read_iops_sec", I(DISK_READ).rate),
	IOPS("write_iops_sec", I(DISK_WRITE).rate),
	BYTES("total_bytes_sec_max", B(DISK_TOTAL).burst),
	BYTES("read_bytes_sec_max", B(DISK_READ).burst),
	BYTES("write_bytes_sec_max", B(DISK_WRITE).burst),
	IOPS("total_iops_sec_max", I(DISK_TOTAL).burst),
	IOPS("read_iops_sec_max", I(DISK_READ).burst),
	IOPS("write_iops_sec_max", I(DISK_WRITE).burst),
	LENGTH("total_bytes_sec_max_length", B(DISK_TOTAL).length),
	LENGTH("read_bytes_sec_max_length", B(DISK_READ).length),
	LENGTH("write_bytes_sec_max_length", B(DISK_WRITE).length),
	LENGTH("total_iops_sec_max_length", I(DISK_TOTAL).length),
	LENGTH("read_iops_sec_max_length", I(DISK_READ).length),
	LENGTH("write_iops_sec_max_length", I(DISK_WRITE).length),
	FIELD("size_iops_sec", YF_SIZE_BYTES, size_iops_sec, .min = 1),
	FIELD("group", YF_CUSTOM, group, .parse = parse_group),
};

static bool level_set(const struct disk_limit *l, int level)
{
	return level == 0 ? l->rate.set : level == 1 ? l->burst.set : l->length.set;
}

static bool sets_anything(const struct disk_throttle *d)
{
	for (int k = 0; k < _DISK_KIND_MAX; k++)
		for (int dir = 0; dir < _DISK_DIR_MAX; dir++)
			for (int level = 0; level < 3; level++)
				if (level_set(&d->limits[k][dir], level))
					return true;
	return d->size_iops_sec.set || d->group.value;
}

static struct disk_throttle *disk_find(const struct disk_list *l, const char *id)
{
	FOREACH_ARRAY (d, l->items, l->n)
		if (streq(d->id, id))
			return d;
	return NULL;
}

static void disk_item(struct ywalk *w, yaml_node_t *node, const char *key, void *base)
{
	struct disk_list *l = &((struct policy *)base)->disks;
	struct disk_throttle d = { .origin = ywalk_origin(w, node) }, *other;

	if (!ywalk_entry(w, node, key, disk_fields, ARRAY_SIZE(disk_fields), &d) || !d.id)
		goto out;
	if (!sets_anything(&d)) {
		ywalk_error(w, node, key,
			    "disk '%s' sets nothing (allowed: total_bytes_sec, read_bytes_sec, "
			    "write_bytes_sec, total_iops_sec, read_iops_sec, write_iops_sec, their "
			    "_max and _max_length, size_iops_sec, group)",
			    d.id);
		goto out;
	}
	other = disk_find(l, d.id);
	if (other) {
		ywalk_error(w, node, key,
			    "disk '%s' already listed at line %u (allowed: each disk once)", d.id,
			    other->origin.line);
		goto out;
	}
	if (EXTEND_ARRAY(l->items, l->n) < 0) {
		w->oom = -ENOMEM;
		goto out;
	}
	l->items[l->n++] = d;
	return;
out:
	disk_throttle_done(&d);
}

void disk_list_parse(struct ywalk *w, struct yaml_node_s *node, const char *key, void *base)
{
	ywalk_list(w, node, key, disk_item, base);
}

/* ---- QEMU's rules ---- */

_printf_(5, 6) static int disk_error(struct diag_list *diags, const struct disk_throttle *d,
				     const char *field, const struct origin *o, const char *fmt,
				     ...)
{
	_cleanup_free_ char *msg = NULL;
	char key[POLICY_DISK_ID_MAX + 64];
	va_list ap;
	int r;

	(void)snprintf(key, sizeof(key), "disks[%s].%s", d->id, field);
	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	return diag_add(diags, DIAG_ERROR, o->file, o->line, o->column, key, "%s", msg);
}

static const char *value_text(enum disk_kind kind, uint64_t v, char buf[static SIZE_FORMAT_MAX])
{
	if (kind == DISK_BYTES)
		return size_format(v, buf);
	(void)snprintf(buf, SIZE_FORMAT_MAX, "%" PRIu64, v);
	return buf;
}

static const struct psize *level_value(const struct disk_limit *l, int level)
{
	return level == 0 ? &l->rate : &l->burst;
}

/* A total rate (level 0) or burst (level 1) beside a read or write one of the same kind. */
static int check_exclusive(const struct disk_throttle *d, enum disk_kind k, int level,
			   struct diag_list *diags)
{
	const struct psize *total = level_value(&d->limits[k][DISK_TOTAL], level);
	const char *t = disk_field_name(k, DISK_TOTAL, level);

	if (!disk_value(total))
		return 0;
	for (int dir = DISK_READ; dir <= DISK_WRITE; dir++) {
		const struct psize *v = level_value(&d->limits[k][dir], level);

		if (!disk_value(v))
			continue;
		return disk_error(
			diags, d, disk_field_name(k, dir, level), &v->origin,
			"cannot be used with %s (set at %s:%u): QEMU refuses a total limit "
			"beside a read or write limit of the same kind (allowed: %s alone, "
			"or %s and/or %s)",
			t, total->origin.file, total->origin.line, t,
			disk_field_name(k, DISK_READ, level),
			disk_field_name(k, DISK_WRITE, level));
	}
	return 0;
}

/* A burst needs its base rate and may not be below it; a burst length needs its burst. */
static int check_burst(const struct disk_throttle *d, enum disk_kind k, enum disk_dir dir,
		       struct diag_list *diags)
{
	const struct disk_limit *l = &d->limits[k][dir];
	uint64_t rate = disk_value(&l->rate), burst = disk_value(&l->burst);
	const char *name = disk_field_name(k, dir, 1), *base = disk_field_name(k, dir, 0);
	char a[SIZE_FORMAT_MAX], b[SIZE_FORMAT_MAX];

	if (burst && !rate)
		return disk_error(diags, d, name, &l->burst.origin,
				  "a burst needs its base rate %s (allowed: %s only together with "
				  "%s)",
				  base, name, base);
	if (burst && burst < rate)
		return disk_error(diags, d, name, &l->burst.origin,
				  "%s is below %s %s set at %s:%u (allowed: a burst rate at least "
				  "the base rate)",
				  value_text(k, burst, a), base, value_text(k, rate, b),
				  l->rate.origin.file, l->rate.origin.line);
	if (l->length.set && !burst)
		return disk_error(diags, d, disk_field_name(k, dir, 2), &l->length.origin,
				  "a burst length needs its burst %s (allowed: %s only together "
				  "with %s)",
				  name, disk_field_name(k, dir, 2), name);
	if (l->length.set && (uint64_t)l->length.value > (uint64_t)DISK_VALUE_MAX / burst)
		return disk_error(diags, d, disk_field_name(k, dir, 2), &l->length.origin,
				  "%" PRId64 " seconds at %s %s is more than QEMU allows in one "
				  "burst (allowed: length x burst at most %" PRId64 ")",
				  l->length.value, name, value_text(k, burst, a), DISK_VALUE_MAX);
	return 0;
}

static int check_disk(const struct disk_throttle *d, struct diag_list *diags)
{
	int r = 0;

	for (int k = 0; k < _DISK_KIND_MAX && r >= 0; k++) {
		r = check_exclusive(d, k, 0, diags);
		if (r >= 0)
			r = check_exclusive(d, k, 1, diags);
		for (int dir = 0; dir < _DISK_DIR_MAX && r >= 0; dir++)
			r = check_burst(d, k, dir, diags);
	}
	if (r >= 0 && d->size_iops_sec.set && !disk_value(&d->limits[DISK_IOPS][DISK_TOTAL].rate) &&
	    !disk_value(&d->limits[DISK_IOPS][DISK_READ].rate) &&
	    !disk_value(&d->limits[DISK_IOPS][DISK_WRITE].rate))
		r = disk_error(diags, d, "size_iops_sec", &d->size_iops_sec.origin,
			       "counts large requests as several operations, but no IOPS limit is "
			       "set (allowed: with total_iops_sec, or read_iops_sec and/or "
			       "write_iops_sec)");
	return r;
}

static bool same_limits(const struct disk_throttle *a, const struct disk_throttle *b)
{
	for (int k = 0; k < _DISK_KIND_MAX; k++)
		for (int dir = 0; dir < _DISK_DIR_MAX; dir++) {
			const struct disk_limit *x = &a->limits[k][dir], *y = &b->limits[k][dir];
			int64_t lx = x->length.set ? x->length.value : 1;
			int64_t ly = y->length.set ? y->length.value : 1;

			if (disk_value(&x->rate) != disk_value(&y->rate) ||
			    disk_value(&x->burst) != disk_value(&y->burst) || lx != ly)
				return false;
		}
	return disk_value(&a->size_iops_sec) == disk_value(&b->size_iops_sec);
}

int disk_list_check(const struct disk_list *l, struct diag_list *diags)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct disk_throttle *d = &l->items[i];
		int r = check_disk(d, diags);

		for (size_t j = 0; j < i && r >= 0 && d->group.value; j++) {
			const struct disk_throttle *o = &l->items[j];

			if (!streq(o->group.value, d->group.value) || same_limits(o, d))
				continue;
			r = disk_error(
				diags, d, "group", &d->group.origin,
				"shares throttle group '%s' with disk '%s' (%s:%u) but not its "
				"limits (allowed: the same limits on every disk of a group: "
				"QEMU keeps one set of limits per group)",
				d->group.value, o->id, o->origin.file, o->origin.line);
			break;
		}
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- merge ---- */

static void level_copy(struct disk_limit *dst, const struct disk_limit *src, int level)
{
	if (level == 0)
		dst->rate = src->rate;
	else if (level == 1)
		dst->burst = src->burst;
	else
		dst->length = src->length;
}

static void merge_one(struct disk_throttle *dst, const struct disk_throttle *src)
{
	for (int k = 0; k < _DISK_KIND_MAX; k++)
		for (int level = 0; level < 3; level++) {
			bool any = false;

			for (int dir = 0; dir < _DISK_DIR_MAX; dir++)
				any = any || level_set(&src->limits[k][dir], level);
			for (int dir = 0; any && dir < _DISK_DIR_MAX; dir++)
				level_copy(&dst->limits[k][dir], &src->limits[k][dir], level);
		}
	if (src->size_iops_sec.set)
		dst->size_iops_sec = src->size_iops_sec;
}

int disk_list_merge(struct disk_list *dst, const struct disk_list *src)
{
	FOREACH_ARRAY (e, src->items, src->n) {
		struct disk_throttle *d = disk_find(dst, e->id);

		if (!d) {
			if (EXTEND_ARRAY(dst->items, dst->n) < 0)
				return -ENOMEM;
			d = &dst->items[dst->n++];
			*d = (struct disk_throttle){};
			d->id = strdup(e->id);
			if (!d->id)
				return -ENOMEM;
			d->origin = e->origin;
		}
		merge_one(d, e);
		if (e->group.value) {
			char *g = strdup(e->group.value);

			if (!g)
				return -ENOMEM;
			free(d->group.value);
			d->group = (struct pstr){ .value = g, .origin = e->group.origin };
		}
	}
	return 0;
}

/* ---- canonical text ---- */

static int end_line(struct strbuf *b, bool origins, const struct origin *o)
{
	if (origins && o->file && strbuf_printf(b, "  # %s:%u", o->file, o->line) < 0)
		return -ENOMEM;
	return strbuf_append(b, "\n");
}

static int dump_value(struct strbuf *b, enum disk_kind k, int level, const struct disk_limit *l)
{
	const struct psize *v = level_value(l, level);
	char buf[SIZE_FORMAT_MAX];

	if (level == 2)
		return strbuf_printf(b, "%" PRId64, l->length.value);
	if (v->bytes == SIZE_UNLIMITED)
		return strbuf_append(b, "unlimited");
	if (k == DISK_IOPS)
		return strbuf_printf(b, "%" PRIu64, v->bytes);
	return strbuf_append_quoted(b, size_format(v->bytes, buf));
}

static int dump_disk(const struct disk_throttle *d, bool origins, struct strbuf *b)
{
	char buf[SIZE_FORMAT_MAX];
	int r = strbuf_append(b, "  - id: ");

	if (r >= 0)
		r = strbuf_append_quoted(b, d->id);
	if (r >= 0)
		r = end_line(b, origins, &d->origin);
	for (int level = 0; level < 3 && r >= 0; level++)
		for (int k = 0; k < _DISK_KIND_MAX && r >= 0; k++)
			for (int dir = 0; dir < _DISK_DIR_MAX && r >= 0; dir++) {
				const struct disk_limit *l = &d->limits[k][dir];

				if (!level_set(l, level))
					continue;
				r = strbuf_printf(b, "    %s: ", disk_field_name(k, dir, level));
				if (r >= 0)
					r = dump_value(b, k, level, l);
				if (r >= 0)
					r = end_line(b, origins,
						     level == 0	  ? &l->rate.origin
						     : level == 1 ? &l->burst.origin
								  : &l->length.origin);
			}
	if (r >= 0 && d->size_iops_sec.set) {
		r = strbuf_append(b, "    size_iops_sec: ");
		if (r >= 0)
			r = strbuf_append_quoted(b, size_format(d->size_iops_sec.bytes, buf));
		if (r >= 0)
			r = end_line(b, origins, &d->size_iops_sec.origin);
	}
	if (r >= 0 && d->group.value) {
		r = strbuf_append(b, "    group: ");
		if (r >= 0)
			r = strbuf_append_quoted(b, d->group.value);
		if (r >= 0)
			r = end_line(b, origins, &d->group.origin);
	}
	return r;
}

int disk_list_dump(const struct disk_list *l, bool origins, struct strbuf *b)
{
	int r = 0;

	if (l->n > 0)
		r = strbuf_append(b, "disks:\n");
	FOREACH_ARRAY (d, l->items, l->n)
		if (r >= 0)
			r = dump_disk(d, origins, b);
	return r < 0 ? r : 0;
}
