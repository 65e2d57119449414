/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The canonical text of a policy: keys in schema order, CPU lists in "0-3,8" form, sizes in the
 * largest exact binary unit. `kvmtunectl check -v` prints it; it parses again to the same policy.
 * With origins, each value carries a "# file:line" comment (`kvmtunectl show`).
 */

#include "policy-dump.h"
#include "policy.h"
#include "size.h"
#include "strbuf.h"
#include <inttypes.h>

struct dump {
	struct strbuf b;
	bool origins;
	int r;
};

_printf_(2, 3) static void out(struct dump *d, const char *fmt, ...)
{
	va_list ap;

	if (d->r < 0)
		return;
	va_start(ap, fmt);
	d->r = strbuf_vprintf(&d->b, fmt, ap);
	va_end(ap);
}

static void quoted(struct dump *d, const char *s)
{
	if (d->r >= 0)
		d->r = strbuf_append_quoted(&d->b, s);
}

static void end_line(struct dump *d, const struct origin *o)
{
	if (d->origins && o && o->file)
		out(d, "  # %s:%u", o->file, o->line);
	out(d, "\n");
}

static void section(struct dump *d, bool *opened, const char *name)
{
	if (!*opened)
		out(d, "%s:\n", name);
	*opened = true;
}

static void dump_int(struct dump *d, bool *opened, const char *sect, const char *name,
		     const struct pint *v)
{
	if (!v->set)
		return;
	section(d, opened, sect);
	out(d, "  %s: %" PRId64, name, v->value);
	end_line(d, &v->origin);
}

static void dump_size(struct dump *d, bool *opened, const char *sect, const char *name,
		      const struct psize *v)
{
	char buf[SIZE_FORMAT_MAX];

	if (!v->set)
		return;
	section(d, opened, sect);
	out(d, "  %s: ", name);
	quoted(d, size_format(v->bytes, buf));
	end_line(d, &v->origin);
}

static void cpus_value(struct dump *d, const struct cpuset *s)
{
	_cleanup_free_ char *text = cpuset_format(s);

	if (!text)
		d->r = -ENOMEM;
	else
		quoted(d, text);
}

static void dump_cpus(struct dump *d, bool *opened, const char *sect, const char *indent,
		      const char *name, const struct pcpus *v)
{
	if (!v->set)
		return;
	section(d, opened, sect);
	out(d, "%s%s: ", indent, name);
	cpus_value(d, &v->cpus);
	end_line(d, &v->origin);
}

static void sched_value(struct dump *d, const struct psched *s)
{
	out(d, "scheduler: %s", sched_policy_to_string(s->policy));
	if (s->policy == SCHED_POLICY_FIFO || s->policy == SCHED_POLICY_RR)
		out(d, ", priority: %d", s->priority);
}

static int compare_first_vcpu(const struct cpuset *a, const struct cpuset *b)
{
	return cpuset_next(a, 0) - cpuset_next(b, 0);
}

static int compare_pin(const void *a, const void *b)
{
	return compare_first_vcpu(&(*(struct vcpu_pin *const *)a)->vcpus,
				  &(*(struct vcpu_pin *const *)b)->vcpus);
}

static int compare_sched(const void *a, const void *b)
{
	return compare_first_vcpu(&(*(struct vcpu_sched *const *)a)->vcpus,
				  &(*(struct vcpu_sched *const *)b)->vcpus);
}

/* vCPU lists print in vCPU order, whatever order merging left them in. */
static void dump_vcpupin(struct dump *d, const struct policy *p)
{
	size_t n = p->cputune.n_vcpupin;
	_cleanup_free_ struct vcpu_pin **v = calloc(n, sizeof(*v));

	if (!v) {
		d->r = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < n; i++)
		v[i] = &p->cputune.vcpupin[i];
	qsort(v, n, sizeof(*v), compare_pin);
	out(d, "  vcpupin:\n");
	for (size_t i = 0; i < n; i++) {
		out(d, "    - { vcpu: ");
		cpus_value(d, &v[i]->vcpus);
		out(d, ", cpuset: ");
		cpus_value(d, &v[i]->cpus.cpus);
		out(d, " }");
		end_line(d, &v[i]->cpus.origin);
	}
}

static void dump_vcpusched(struct dump *d, const struct policy *p)
{
	size_t n = p->cputune.n_vcpusched;
	_cleanup_free_ struct vcpu_sched **v = calloc(n, sizeof(*v));

	if (!v) {
		d->r = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < n; i++)
		v[i] = &p->cputune.vcpusched[i];
	qsort(v, n, sizeof(*v), compare_sched);
	out(d, "  vcpusched:\n");
	for (size_t i = 0; i < n; i++) {
		out(d, "    - { vcpus: ");
		cpus_value(d, &v[i]->vcpus);
		out(d, ", ");
		sched_value(d, &v[i]->sched);
		out(d, " }");
		end_line(d, &v[i]->sched.origin);
	}
}

static void dump_cputune(struct dump *d, const struct policy *p)
{
	bool o = false;
	const char *s = "cputune";

	dump_int(d, &o, s, "shares", &p->cputune.shares);
	dump_int(d, &o, s, "weight", &p->cputune.weight);
	dump_int(d, &o, s, "period", &p->cputune.period);
	dump_int(d, &o, s, "quota", &p->cputune.quota);
	dump_int(d, &o, s, "global_period", &p->cputune.global_period);
	dump_int(d, &o, s, "global_quota", &p->cputune.global_quota);
	dump_int(d, &o, s, "emulator_period", &p->cputune.emulator_period);
	dump_int(d, &o, s, "emulator_quota", &p->cputune.emulator_quota);
	dump_int(d, &o, s, "iothread_period", &p->cputune.iothread_period);
	dump_int(d, &o, s, "iothread_quota", &p->cputune.iothread_quota);
	dump_cpus(d, &o, s, "  ", "cpuset", &p->cputune.cpuset);
	if (p->cputune.n_vcpupin > 0) {
		section(d, &o, s);
		dump_vcpupin(d, p);
	}
	dump_cpus(d, &o, s, "  ", "emulatorpin", &p->cputune.emulatorpin);
	if (p->cputune.n_iothreadpin > 0) {
		section(d, &o, s);
		out(d, "  iothreadpin:\n");
	}
	FOREACH_ARRAY (e, p->cputune.iothreadpin, p->cputune.n_iothreadpin) {
		out(d, "    - { iothread: ");
		quoted(d, e->id);
		out(d, ", cpuset: ");
		cpus_value(d, &e->cpus.cpus);
		out(d, " }");
		end_line(d, &e->cpus.origin);
	}
	if (p->cputune.n_vcpusched > 0) {
		section(d, &o, s);
		dump_vcpusched(d, p);
	}
	if (p->cputune.emulatorsched.set) {
		section(d, &o, s);
		out(d, "  emulatorsched: { ");
		sched_value(d, &p->cputune.emulatorsched);
		out(d, " }");
		end_line(d, &p->cputune.emulatorsched.origin);
	}
	if (p->cputune.n_iothreadsched > 0) {
		section(d, &o, s);
		out(d, "  iothreadsched:\n");
	}
	FOREACH_ARRAY (e, p->cputune.iothreadsched, p->cputune.n_iothreadsched) {
		out(d, "    - { iothreads: ");
		quoted(d, e->id);
		out(d, ", ");
		sched_value(d, &e->sched);
		out(d, " }");
		end_line(d, &e->sched.origin);
	}
}

static void count_value(struct dump *d, const char *name, const struct psize *v, bool bytes)
{
	char buf[SIZE_FORMAT_MAX];

	if (!v->set)
		return;
	if (v->bytes == SIZE_UNLIMITED)
		out(d, ", %s: unlimited", name);
	else if (bytes)
		out(d, ", %s: \"%s\"", name, size_format(v->bytes, buf));
	else
		out(d, ", %s: %" PRIu64, name, v->bytes);
}

static void dump_blkiotune(struct dump *d, const struct policy *p)
{
	bool o = false;

	dump_int(d, &o, "blkiotune", "weight", &p->blkiotune.weight);
	if (p->blkiotune.n_devices > 0) {
		section(d, &o, "blkiotune");
		out(d, "  devices:\n");
	}
	FOREACH_ARRAY (e, p->blkiotune.devices, p->blkiotune.n_devices) {
		out(d, "    - { path: ");
		quoted(d, e->path);
		if (e->weight.set)
			out(d, ", weight: %" PRId64, e->weight.value);
		count_value(d, "read_bytes_sec", &e->read_bytes_sec, true);
		count_value(d, "write_bytes_sec", &e->write_bytes_sec, true);
		count_value(d, "read_iops_sec", &e->read_iops_sec, false);
		count_value(d, "write_iops_sec", &e->write_iops_sec, false);
		out(d, " }");
		end_line(d, &e->origin);
	}
}

static void dump_numatune(struct dump *d, const struct policy *p)
{
	const struct penum *mode = &p->numatune.mode, *placement = &p->numatune.placement;

	if (!mode->set && !placement->set && !p->numatune.nodeset.set)
		return;
	out(d, "numatune:\n  memory:\n");
	if (mode->set) {
		out(d, "    mode: %s", numa_mode_to_string(mode->value));
		end_line(d, &mode->origin);
	}
	if (p->numatune.nodeset.set) {
		bool o = true;

		dump_cpus(d, &o, "", "    ", "nodeset", &p->numatune.nodeset);
	}
	if (placement->set) {
		out(d, "    placement: %s", numa_placement_to_string(placement->value));
		end_line(d, &placement->origin);
	}
}

static void dump_str(struct dump *d, bool *opened, const char *name, const struct pstr *v)
{
	if (!v->value)
		return;
	section(d, opened, "match");
	out(d, "  %s: ", name);
	quoted(d, v->value);
	end_line(d, &v->origin);
}

int policy_dump(const struct policy *p, bool origins, char **ret)
{
	struct dump d = { .origins = origins };
	bool o = false;

	dump_str(&d, &o, "name", &p->match.name);
	dump_str(&d, &o, "uuid", &p->match.uuid);
	dump_str(&d, &o, "user", &p->match.user);
	dump_str(&d, &o, "binary", &p->match.binary);
	dump_cputune(&d, p);
	o = false;
	dump_size(&d, &o, "memtune", "hard_limit", &p->memtune.hard_limit);
	dump_size(&d, &o, "memtune", "soft_limit", &p->memtune.soft_limit);
	dump_size(&d, &o, "memtune", "swap_hard_limit", &p->memtune.swap_hard_limit);
	dump_size(&d, &o, "memtune", "min_guarantee", &p->memtune.min_guarantee);
	dump_blkiotune(&d, p);
	dump_numatune(&d, p);
	if (d.r >= 0)
		d.r = disk_list_dump(&p->disks, origins, &d.b);
	if (d.r >= 0 && d.b.len == 0)
		out(&d, "{}\n");
	if (d.r < 0) {
		strbuf_done(&d.b);
		return d.r;
	}
	*ret = strbuf_steal(&d.b);
	return 0;
}
