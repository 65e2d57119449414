/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The "Effect" section of `kvmtunectl status`: what the limits did, per VM group and thread
 * group (lib/vm-effect.h). A figure the host does not give is left out, never shown as 0.
 */

#include <json-c/json.h>
#include <string.h>

#include "assess.h"
#include "ctl.h"
#include "size.h"
#include "vm-effect.h"

static double seconds(uint64_t ns)
{
	return (double)ns / 1e9;
}

static void print_group(const struct effect_group *g)
{
	const struct cg_cpu_stats *c = &g->cpu;
	bool quota = g->limits.have_bandwidth && g->limits.quota != CG_UNLIMITED;

	printf("    %-14s", shown(g->label));
	if (c->have_usage)
		printf(" cpu %.2fs", seconds(c->usage_ns));
	if (quota && c->have_throttling)
		printf("  throttled %" PRIu64 " of %" PRIu64 " periods, %.2fs", c->nr_throttled,
		       c->nr_periods, seconds(c->throttled_ns));
	else if (c->have_throttling && c->nr_throttled)
		printf("  throttled %" PRIu64 " periods, %.2fs (quota since removed)",
		       c->nr_throttled, seconds(c->throttled_ns));
	else if (!quota)
		printf("  (no quota)");
	if (g->pressure.have_some)
		printf("  cpu pressure some %.2fs", seconds(g->pressure.some_ns));
	printf("\n");
}

static void print_limit(const char *name, bool have, uint64_t limit, uint64_t usage)
{
	char s[SIZE_FORMAT_MAX];

	if (!have || limit == CG_UNLIMITED)
		return;
	printf("  %s %s (%.0f%% used)", name, size_format_human(limit, s),
	       limit ? 100.0 * (double)usage / (double)limit : 100.0);
}

static void print_memory(const struct vm_effect *e)
{
	const struct cg_memory_stats *m = &e->memory;
	char a[SIZE_FORMAT_MAX];

	printf("    memory         ");
	if (m->have_usage)
		printf("usage %s", size_format_human(m->usage, a));
	if (m->have_usage) {
		print_limit("of hard_limit", e->memory_limits.have_limit, e->memory_limits.limit,
			    m->usage);
		print_limit("soft_limit", e->memory_limits.have_soft, e->memory_limits.soft,
			    m->usage);
	}
	if (m->have_peak)
		printf("  peak %s", size_format_human(m->peak, a));
	if (m->have_swap)
		printf("  swap %s", size_format_human(m->swap, a));
	if (m->have_failcnt)
		printf("  limit hit %" PRIu64 " times", m->failcnt);
	for (int i = 0; i < _CG_MEM_EVENT_MAX; i++)
		if (m->have_event[i])
			printf("  %s %" PRIu64, cg_memory_event_to_string(i), m->event[i]);
	if (e->memory_pressure.have_some)
		printf("  pressure some %.2fs", seconds(e->memory_pressure.some_ns));
	printf("\n");
	if (!e->charged_elsewhere)
		return;
	printf("    %-14s charged elsewhere: at least %s of the VM's memory is charged to another "
	       "group (memory does not move with a task",
	       "", size_format_human(e->elsewhere_bytes, a));
	if (e->have_ages)
		printf("; the VM ran %.0fs before this group was made", e->vm_age - e->group_age);
	printf("): the usage is only what it allocated since it moved in; start it with "
	       "kvmtunectl run to have it all counted\n");
}

static void print_io(const struct vm_effect *e)
{
	char a[SIZE_FORMAT_MAX], b[SIZE_FORMAT_MAX];

	if (e->io.n == 0)
		printf("    io             no I/O accounted%s\n",
		       e->io_pressure.have_some ? "" : " (none done, or no counters here)");
	FOREACH_ARRAY (d, e->io.devices, e->io.n) {
		char dev[32];

		(void)snprintf(dev, sizeof(dev), "%u:%u", d->major, d->minor);
		printf("    io %-11s", dev);
		if (d->have_bytes)
			printf(" read %s  written %s", size_format_human(d->rbytes, a),
			       size_format_human(d->wbytes, b));
		if (d->have_ios)
			printf("  %" PRIu64 " reads, %" PRIu64 " writes", d->rios, d->wios);
		printf("\n");
	}
	if (e->io_pressure.have_some)
		printf("    io pressure    some %.2fs\n", seconds(e->io_pressure.some_ns));
}

void print_effect(struct ctl_world *w, const struct vm *vm, const struct assessment *a)
{
	_cleanup_(vm_effect_done) struct vm_effect e = {};
	int r = vm_effect_read(&w->cgroups, w->proc_fd, vm, a->vm_group, &e);

	if (r < 0) {
		printf("  Effect: %s\n", strerror(-r));
		return;
	}
	if (!e.n_groups && !e.memory_group && !e.io_group) {
		printf("  Effect: none to show (the VM is not in a group of its own)\n");
		return;
	}
	printf("  Effect (since each group was made):\n");
	FOREACH_ARRAY (g, e.groups, e.n_groups)
		print_group(g);
	if (e.memory_group)
		print_memory(&e);
	if (e.io_group)
		print_io(&e);
}

/* ---- JSON ---- */

static void add_u64(struct json_object *o, const char *key, bool have, uint64_t v)
{
	if (have)
		json_object_object_add(o, key, json_object_new_int64((int64_t)v));
}

static void add_seconds(struct json_object *o, const char *key, bool have, uint64_t ns)
{
	if (have)
		json_object_object_add(o, key, json_object_new_double(seconds(ns)));
}

static struct json_object *psi_json(const struct cg_psi *p)
{
	struct json_object *o;

	if (!p->have_some && !p->have_full)
		return NULL;
	o = json_object_new_object();
	add_seconds(o, "some_seconds", p->have_some, p->some_ns);
	add_seconds(o, "full_seconds", p->have_full, p->full_ns);
	return o;
}

static struct json_object *group_json(const struct effect_group *g)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "group", json_shown(g->label));
	json_object_object_add(o, "cgroup", json_shown(g->path));
	json_object_object_add(o, "threads", json_object_new_int((int)g->n_threads));
	add_seconds(o, "cpu_seconds", g->cpu.have_usage, g->cpu.usage_ns);
	add_u64(o, "periods", g->cpu.have_throttling, g->cpu.nr_periods);
	add_u64(o, "throttled_periods", g->cpu.have_throttling, g->cpu.nr_throttled);
	add_seconds(o, "throttled_seconds", g->cpu.have_throttling, g->cpu.throttled_ns);
	if (g->pressure.have_some)
		json_object_object_add(o, "cpu_pressure", psi_json(&g->pressure));
	return o;
}

static struct json_object *memory_json(const struct vm_effect *e)
{
	const struct cg_memory_stats *m = &e->memory;
	struct json_object *o = json_object_new_object(), *ev = json_object_new_object();

	json_object_object_add(o, "cgroup", json_shown(e->memory_group));
	add_u64(o, "usage", m->have_usage, m->usage);
	add_u64(o, "peak", m->have_peak, m->peak);
	add_u64(o, "swap", m->have_swap, m->swap);
	add_u64(o, "failcnt", m->have_failcnt, m->failcnt);
	for (int i = 0; i < _CG_MEM_EVENT_MAX; i++)
		add_u64(ev, cg_memory_event_to_string(i), m->have_event[i], m->event[i]);
	json_object_object_add(o, "events", ev);
	json_object_object_add(o, "charged_elsewhere",
			       json_object_new_boolean(e->charged_elsewhere));
	add_u64(o, "charged_elsewhere_bytes", e->charged_elsewhere, e->elsewhere_bytes);
	if (e->memory_pressure.have_some)
		json_object_object_add(o, "pressure", psi_json(&e->memory_pressure));
	return o;
}

static struct json_object *io_json(const struct vm_effect *e)
{
	struct json_object *o = json_object_new_object(), *a = json_object_new_array();

	json_object_object_add(o, "cgroup", json_shown(e->io_group));
	FOREACH_ARRAY (d, e->io.devices, e->io.n) {
		struct json_object *j = json_object_new_object();
		char dev[32];

		(void)snprintf(dev, sizeof(dev), "%u:%u", d->major, d->minor);
		json_object_object_add(j, "device", json_object_new_string(dev));
		add_u64(j, "read_bytes", d->have_bytes, d->rbytes);
		add_u64(j, "written_bytes", d->have_bytes, d->wbytes);
		add_u64(j, "reads", d->have_ios, d->rios);
		add_u64(j, "writes", d->have_ios, d->wios);
		json_object_array_add(a, j);
	}
	json_object_object_add(o, "devices", a);
	if (e->io_pressure.have_some)
		json_object_object_add(o, "pressure", psi_json(&e->io_pressure));
	return o;
}

void effect_json(struct ctl_world *w, const struct vm *vm, const struct assessment *a,
		 struct json_object *o)
{
	_cleanup_(vm_effect_done) struct vm_effect e = {};
	struct json_object *j = json_object_new_object(), *groups = json_object_new_array();

	if (vm_effect_read(&w->cgroups, w->proc_fd, vm, a->vm_group, &e) < 0) {
		json_object_put(j);
		json_object_put(groups);
		return;
	}
	FOREACH_ARRAY (g, e.groups, e.n_groups)
		json_object_array_add(groups, group_json(g));
	json_object_object_add(j, "groups", groups);
	json_object_object_add(j, "memory", e.memory_group ? memory_json(&e) : NULL);
	json_object_object_add(j, "io", e.io_group ? io_json(&e) : NULL);
	json_object_object_add(o, "effect", j);
}
