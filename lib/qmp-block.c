/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "macro.h"
#include "qmp-block.h"
#include "strbuf.h"

#define PERIPHERAL "/machine/peripheral/"

static int get_string(struct json_object *o, const char *key, bool optional, char **ret)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v)) {
		*ret = optional ? strdup("") : NULL;
		return optional ? (*ret ? 0 : -ENOMEM) : -EPROTO;
	}
	if (!json_object_is_type(v, json_type_string) ||
	    json_object_get_string_len(v) > POLICY_DISK_ID_MAX + (int)sizeof(PERIPHERAL))
		return -EPROTO;
	*ret = strdup(json_object_get_string(v));
	return *ret ? 0 : -ENOMEM;
}

/* A throttle value: absent is 0 (QEMU leaves out bursts and lengths it does not use). */
static int get_value(struct json_object *o, const char *key, uint64_t *ret)
{
	struct json_object *v;
	int64_t n;

	*ret = 0;
	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_int))
		return -EPROTO;
	n = json_object_get_int64(v);
	if (n < 0)
		return -EPROTO;
	*ret = (uint64_t)n;
	return 0;
}

static int parse_io(struct json_object *inserted, struct disk_io *io)
{
	int r = 0;

	for (int i = 0; i < DISK_BUCKETS && r >= 0; i++) {
		r = get_value(inserted, disk_io_field(i, 0), &io->rate[i]);
		if (r >= 0)
			r = get_value(inserted, disk_io_field(i, 1), &io->burst[i]);
		if (r >= 0)
			r = get_value(inserted, disk_io_field(i, 2), &io->length[i]);
	}
	if (r >= 0)
		r = get_value(inserted, "iops_size", &io->iops_size);
	if (r >= 0 && json_object_object_get_ex(inserted, "group", NULL))
		r = get_string(inserted, "group", false, &io->group);
	return r;
}

static int parse_disk(struct json_object *o, struct qmp_disk *d)
{
	struct json_object *inserted;
	int r;

	if (!json_object_is_type(o, json_type_object))
		return -EPROTO;
	r = get_string(o, "device", true, &d->device);
	if (r >= 0)
		r = get_string(o, "qdev", true, &d->qdev);
	if (r >= 0 && json_object_object_get_ex(o, "inserted", &inserted)) {
		d->inserted = true;
		r = json_object_is_type(inserted, json_type_object) ? parse_io(inserted, &d->io)
								    : -EPROTO;
	}
	return r;
}

int qmp_disks_parse(struct json_object *blocks, struct qmp_disks *ret)
{
	struct qmp_disks l = {};
	size_t n;
	int r = 0;

	if (!json_object_is_type(blocks, json_type_array))
		return -EPROTO;
	n = json_object_array_length(blocks);
	if (n > QMP_DISKS_MAX)
		return -EMSGSIZE;
	l.items = calloc(n + 1, sizeof(*l.items));
	if (!l.items)
		return -ENOMEM;
	for (size_t i = 0; i < n && r >= 0; i++, l.n++)
		r = parse_disk(json_object_array_get_idx(blocks, i), &l.items[i]);
	if (r < 0) {
		qmp_disks_done(&l);
		return r;
	}
	*ret = l;
	return 0;
}

static bool names_qdev(const char *qdev, const char *id)
{
	size_t n = strlen(PERIPHERAL);

	return *qdev &&
	       (streq(qdev, id) || (strncmp(qdev, PERIPHERAL, n) == 0 && streq(qdev + n, id)));
}

const struct qmp_disk *qmp_disks_find(const struct qmp_disks *l, const char *id, bool *as_device)
{
	FOREACH_ARRAY (d, l->items, l->n)
		if (*d->device && streq(d->device, id)) {
			*as_device = true;
			return d;
		}
	FOREACH_ARRAY (d, l->items, l->n)
		if (names_qdev(d->qdev, id)) {
			*as_device = false;
			return d;
		}
	return NULL;
}

char *qmp_disks_ids(const struct qmp_disks *l)
{
	_cleanup_(strbuf_done) struct strbuf b = {};
	size_t n = strlen(PERIPHERAL), shown = 0;
	int r = 0;

	FOREACH_ARRAY (d, l->items, l->n) {
		const char *qdev = strncmp(d->qdev, PERIPHERAL, n) == 0 ? d->qdev + n : d->qdev;

		if (shown >= 16) {
			r = strbuf_append(&b, ", ...");
			break;
		}
		if (*d->device && r >= 0)
			r = strbuf_printf(&b, "%s%s", b.len ? ", " : "", d->device);
		if (*qdev && r >= 0)
			r = strbuf_printf(&b, "%s%s", b.len ? ", " : "", qdev);
		shown++;
	}
	if (r < 0)
		return NULL;
	return strdup(b.len ? b.buf : "none");
}

static int add_u64(struct json_object *o, const char *key, uint64_t v)
{
	struct json_object *n = json_object_new_int64((int64_t)v);

	return n ? json_object_object_add(o, key, n) : -ENOMEM;
}

struct json_object *qmp_throttle_arguments(const struct disk_io *want, const char *id,
					   bool as_device)
{
	struct json_object *o = json_object_new_object();
	int r = o ? 0 : -ENOMEM;

	if (r >= 0)
		r = json_object_object_add(o, as_device ? "device" : "id",
					   json_object_new_string(id));
	for (int i = 0; i < DISK_BUCKETS && r >= 0; i++) {
		r = add_u64(o, disk_io_field(i, 0), want->rate[i]);
		if (r >= 0 && want->burst[i])
			r = add_u64(o, disk_io_field(i, 1), want->burst[i]);
		if (r >= 0 && want->burst[i])
			r = add_u64(o, disk_io_field(i, 2), want->length[i]);
	}
	if (r >= 0 && want->iops_size)
		r = add_u64(o, "iops_size", want->iops_size);
	if (r >= 0 && disk_io_limited(want))
		r = json_object_object_add(o, "group", json_object_new_string(want->group ?: id));
	if (r < 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

int qmp_disks_read(struct qmp_session *q, struct qmp_disks *ret)
{
	_cleanup_(json_object_putp) struct json_object *blocks = NULL;
	int r = qmp_session_call(q, "query-block", NULL, &blocks, NULL);

	return r < 0 ? (r == -EREMOTEIO ? -EPROTO : r) : qmp_disks_parse(blocks, ret);
}

int qmp_disks_query(int proc_fd, const struct qmp_target *t, uint64_t timeout_usec,
		    struct qmp_disks *ret)
{
	_cleanup_(qmp_session_closep) struct qmp_session *q = NULL;
	int r = qmp_session_open(proc_fd, t, timeout_usec, &q);

	return r < 0 ? r : qmp_disks_read(q, ret);
}

void qmp_disks_done(struct qmp_disks *l)
{
	FOREACH_ARRAY (d, l->items, l->n) {
		free(d->device);
		free(d->qdev);
		disk_io_done(&d->io);
	}
	free(l->items);
	*l = (struct qmp_disks){};
}
