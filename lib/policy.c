/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fnmatch.h>
#include <string.h>
#include <strings.h>

#include "policy.h"
#include "size.h"

static const char *const sched_policy_table[_SCHED_POLICY_MAX] = {
	[SCHED_POLICY_OTHER] = "other", [SCHED_POLICY_BATCH] = "batch",
	[SCHED_POLICY_IDLE] = "idle",	[SCHED_POLICY_FIFO] = "fifo",
	[SCHED_POLICY_RR] = "rr",
};

static const char *const numa_mode_table[_NUMA_MODE_MAX] = {
	[NUMA_MODE_STRICT] = "strict",
	[NUMA_MODE_RESTRICTIVE] = "restrictive",
	[NUMA_MODE_PREFERRED] = "preferred",
	[NUMA_MODE_INTERLEAVE] = "interleave",
};

static const char *const numa_placement_table[_NUMA_PLACEMENT_MAX] = {
	[NUMA_PLACEMENT_STATIC] = "static",
	[NUMA_PLACEMENT_AUTO] = "auto",
};

static int lookup(const char *const *table, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (streq(table[i], s))
			return (int)i;
	return -EINVAL;
}

#define DEFINE_STRING_TABLE(name, type, table)                                    \
	const char *name##_to_string(type v)                                      \
	{                                                                         \
		return v >= 0 && (size_t)v < ARRAY_SIZE(table) ? table[v] : NULL; \
	}                                                                         \
	type name##_from_string(const char *s)                                    \
	{                                                                         \
		return (type)lookup(table, ARRAY_SIZE(table), s);                 \
	}

DEFINE_STRING_TABLE(sched_policy, enum sched_policy, sched_policy_table)
DEFINE_STRING_TABLE(numa_mode, enum numa_mode, numa_mode_table)
DEFINE_STRING_TABLE(numa_placement, enum numa_placement, numa_placement_table)

static void vcpu_pin_done(struct vcpu_pin *e)
{
	cpuset_done(&e->vcpus);
	cpuset_done(&e->cpus.cpus);
}

static void vcpu_sched_done(struct vcpu_sched *e)
{
	cpuset_done(&e->vcpus);
}

static void iothread_pin_done(struct iothread_pin *e)
{
	free(e->id);
	cpuset_done(&e->cpus.cpus);
}

static void iothread_sched_done(struct iothread_sched *e)
{
	free(e->id);
}

static void blkio_device_done(struct blkio_device *d)
{
	free(d->path);
}

void policy_done(struct policy *p)
{
	free(p->match.name.value);
	free(p->match.uuid.value);
	free(p->match.user.value);
	free(p->match.binary.value);
	cpuset_done(&p->cputune.cpuset.cpus);
	cpuset_done(&p->cputune.emulatorpin.cpus);
	FOREACH_ARRAY (e, p->cputune.vcpupin, p->cputune.n_vcpupin)
		vcpu_pin_done(e);
	free(p->cputune.vcpupin);
	FOREACH_ARRAY (e, p->cputune.iothreadpin, p->cputune.n_iothreadpin)
		iothread_pin_done(e);
	free(p->cputune.iothreadpin);
	FOREACH_ARRAY (e, p->cputune.vcpusched, p->cputune.n_vcpusched)
		vcpu_sched_done(e);
	free(p->cputune.vcpusched);
	FOREACH_ARRAY (e, p->cputune.iothreadsched, p->cputune.n_iothreadsched)
		iothread_sched_done(e);
	free(p->cputune.iothreadsched);
	FOREACH_ARRAY (d, p->blkiotune.devices, p->blkiotune.n_devices)
		blkio_device_done(d);
	free(p->blkiotune.devices);
	cpuset_done(&p->numatune.nodeset.cpus);
	disk_list_done(&p->disks);
	*p = (struct policy){};
}

struct policy_file *policy_file_free(struct policy_file *f)
{
	if (!f)
		return NULL;
	FOREACH_ARRAY (d, f->docs, f->n_docs)
		policy_done(d);
	free(f->docs);
	free(f->path);
	free(f);
	return NULL;
}

int policy_matches(const struct policy *p, const struct vm_identity *id, const char **ret_missing)
{
	const struct policy_match *m = &p->match;
	const char *missing = NULL;
	int fits = 1;

	if (m->name.value && !id->name)
		missing = "name";
	else if (m->name.value && fnmatch(m->name.value, id->name, 0) != 0)
		fits = 0;
	if (m->uuid.value && !id->uuid)
		missing = missing ?: "uuid";
	else if (m->uuid.value && strcasecmp(m->uuid.value, id->uuid) != 0)
		fits = 0;
	if (m->user.value && !id->uid_set)
		missing = missing ?: "user";
	else if (m->user.value && m->uid != id->uid)
		fits = 0;
	if (m->binary.value && !id->binary)
		missing = missing ?: "binary";
	else if (m->binary.value && fnmatch(m->binary.value, id->binary, FNM_PATHNAME) != 0)
		fits = 0;
	if (ret_missing)
		*ret_missing = fits ? missing : NULL;
	return fits && !missing;
}

static int merge_cpus(struct pcpus *dst, const struct pcpus *src)
{
	int r;

	if (!src->set)
		return 0;
	r = cpuset_copy(&dst->cpus, &src->cpus);
	if (r < 0)
		return r;
	dst->set = true;
	dst->origin = src->origin;
	return 0;
}

#define MERGE_SCALAR(field)                      \
	do {                                     \
		if (src->field.set)              \
			dst->field = src->field; \
	} while (0)

/* Drops the vCPUs of `taking` from every entry of *entries, and entries left with none. */
#define TAKE_OVER_VCPUS(entries, n, taking, done_fn)                     \
	do {                                                             \
		size_t _k = 0;                                           \
		for (size_t _i = 0; _i < (n); _i++) {                    \
			cpuset_subtract(&(entries)[_i].vcpus, (taking)); \
			if (cpuset_is_empty(&(entries)[_i].vcpus))       \
				done_fn(&(entries)[_i]);                 \
			else                                             \
				(entries)[_k++] = (entries)[_i];         \
		}                                                        \
		(n) = _k;                                                \
	} while (0)

static int merge_vcpupin(struct policy *dst, const struct policy *src)
{
	FOREACH_ARRAY (e, src->cputune.vcpupin, src->cputune.n_vcpupin) {
		struct vcpu_pin copy = { .cpus = { .set = true, .origin = e->cpus.origin } };
		int r;

		TAKE_OVER_VCPUS(dst->cputune.vcpupin, dst->cputune.n_vcpupin, &e->vcpus,
				vcpu_pin_done);
		r = EXTEND_ARRAY(dst->cputune.vcpupin, dst->cputune.n_vcpupin);
		if (r >= 0)
			r = cpuset_copy(&copy.vcpus, &e->vcpus);
		if (r >= 0)
			r = cpuset_copy(&copy.cpus.cpus, &e->cpus.cpus);
		if (r < 0) {
			vcpu_pin_done(&copy);
			return r;
		}
		dst->cputune.vcpupin[dst->cputune.n_vcpupin++] = copy;
	}
	return 0;
}

static int merge_vcpusched(struct policy *dst, const struct policy *src)
{
	FOREACH_ARRAY (e, src->cputune.vcpusched, src->cputune.n_vcpusched) {
		struct vcpu_sched copy = { .sched = e->sched };
		int r;

		TAKE_OVER_VCPUS(dst->cputune.vcpusched, dst->cputune.n_vcpusched, &e->vcpus,
				vcpu_sched_done);
		r = EXTEND_ARRAY(dst->cputune.vcpusched, dst->cputune.n_vcpusched);
		if (r >= 0)
			r = cpuset_copy(&copy.vcpus, &e->vcpus);
		if (r < 0) {
			vcpu_sched_done(&copy);
			return r;
		}
		dst->cputune.vcpusched[dst->cputune.n_vcpusched++] = copy;
	}
	return 0;
}

static int merge_iothreadpin(struct policy *dst, const struct policy *src)
{
	FOREACH_ARRAY (e, src->cputune.iothreadpin, src->cputune.n_iothreadpin) {
		struct iothread_pin *d = NULL;
		int r;

		FOREACH_ARRAY (x, dst->cputune.iothreadpin, dst->cputune.n_iothreadpin)
			if (streq(x->id, e->id))
				d = x;
		if (!d) {
			r = EXTEND_ARRAY(dst->cputune.iothreadpin, dst->cputune.n_iothreadpin);
			if (r < 0)
				return r;
			d = &dst->cputune.iothreadpin[dst->cputune.n_iothreadpin++];
			d->id = strdup(e->id);
			if (!d->id)
				return -ENOMEM;
		}
		r = merge_cpus(&d->cpus, &e->cpus);
		if (r < 0)
			return r;
	}
	return 0;
}

static int merge_iothreadsched(struct policy *dst, const struct policy *src)
{
	FOREACH_ARRAY (e, src->cputune.iothreadsched, src->cputune.n_iothreadsched) {
		struct iothread_sched *d = NULL;
		int r;

		FOREACH_ARRAY (x, dst->cputune.iothreadsched, dst->cputune.n_iothreadsched)
			if (streq(x->id, e->id))
				d = x;
		if (!d) {
			r = EXTEND_ARRAY(dst->cputune.iothreadsched, dst->cputune.n_iothreadsched);
			if (r < 0)
				return r;
			d = &dst->cputune.iothreadsched[dst->cputune.n_iothreadsched++];
			d->id = strdup(e->id);
			if (!d->id)
				return -ENOMEM;
		}
		d->sched = e->sched;
	}
	return 0;
}

static int merge_devices(struct policy *dst, const struct policy *src)
{
	FOREACH_ARRAY (e, src->blkiotune.devices, src->blkiotune.n_devices) {
		struct blkio_device *d = NULL;

		FOREACH_ARRAY (x, dst->blkiotune.devices, dst->blkiotune.n_devices)
			if (streq(x->path, e->path))
				d = x;
		if (!d) {
			int r = EXTEND_ARRAY(dst->blkiotune.devices, dst->blkiotune.n_devices);
			if (r < 0)
				return r;
			d = &dst->blkiotune.devices[dst->blkiotune.n_devices++];
			d->path = strdup(e->path);
			if (!d->path)
				return -ENOMEM;
			d->origin = e->origin;
		}
		if (e->weight.set)
			d->weight = e->weight;
		if (e->read_bytes_sec.set)
			d->read_bytes_sec = e->read_bytes_sec;
		if (e->write_bytes_sec.set)
			d->write_bytes_sec = e->write_bytes_sec;
		if (e->read_iops_sec.set)
			d->read_iops_sec = e->read_iops_sec;
		if (e->write_iops_sec.set)
			d->write_iops_sec = e->write_iops_sec;
	}
	return 0;
}

static void merge_cputune_scalars(struct policy *dst, const struct policy *src)
{
	/* shares and weight are one knob in two scales: the later one wins. */
	if (src->cputune.shares.set) {
		dst->cputune.shares = src->cputune.shares;
		dst->cputune.weight.set = false;
	}
	if (src->cputune.weight.set) {
		dst->cputune.weight = src->cputune.weight;
		dst->cputune.shares.set = false;
	}
	MERGE_SCALAR(cputune.period);
	MERGE_SCALAR(cputune.quota);
	MERGE_SCALAR(cputune.global_period);
	MERGE_SCALAR(cputune.global_quota);
	MERGE_SCALAR(cputune.emulator_period);
	MERGE_SCALAR(cputune.emulator_quota);
	MERGE_SCALAR(cputune.iothread_period);
	MERGE_SCALAR(cputune.iothread_quota);
	MERGE_SCALAR(cputune.emulatorsched);
}

static int merge_numatune(struct policy *dst, const struct policy *src)
{
	int r;

	MERGE_SCALAR(numatune.mode);
	/* nodeset and placement are one choice: a nodeset means static placement. */
	if (src->numatune.nodeset.set) {
		r = merge_cpus(&dst->numatune.nodeset, &src->numatune.nodeset);
		if (r < 0)
			return r;
		dst->numatune.placement = src->numatune.placement;
	} else if (src->numatune.placement.set) {
		dst->numatune.placement = src->numatune.placement;
		if (src->numatune.placement.value == NUMA_PLACEMENT_AUTO) {
			cpuset_done(&dst->numatune.nodeset.cpus);
			dst->numatune.nodeset.set = false;
		}
	}
	return 0;
}

int policy_merge(struct policy *dst, const struct policy *src)
{
	int r;

	merge_cputune_scalars(dst, src);
	r = merge_cpus(&dst->cputune.cpuset, &src->cputune.cpuset);
	if (r >= 0)
		r = merge_cpus(&dst->cputune.emulatorpin, &src->cputune.emulatorpin);
	if (r >= 0)
		r = merge_vcpupin(dst, src);
	if (r >= 0)
		r = merge_vcpusched(dst, src);
	if (r >= 0)
		r = merge_iothreadpin(dst, src);
	if (r >= 0)
		r = merge_iothreadsched(dst, src);
	if (r < 0)
		return r;
	MERGE_SCALAR(memtune.hard_limit);
	MERGE_SCALAR(memtune.soft_limit);
	MERGE_SCALAR(memtune.swap_hard_limit);
	MERGE_SCALAR(memtune.min_guarantee);
	MERGE_SCALAR(blkiotune.weight);
	r = merge_devices(dst, src);
	if (r >= 0)
		r = merge_numatune(dst, src);
	if (r < 0)
		return r;
	return disk_list_merge(&dst->disks, &src->disks);
}

int policy_check_document(const struct policy *p, struct diag_list *diags)
{
	const struct psize *hard = &p->memtune.hard_limit, *swap = &p->memtune.swap_hard_limit;
	int r = 0;

	if (hard->set && swap->set && swap->bytes < hard->bytes) {
		char a[SIZE_FORMAT_MAX], b[SIZE_FORMAT_MAX];

		r = diag_add(diags, DIAG_ERROR, swap->origin.file, swap->origin.line,
			     swap->origin.column, "memtune.swap_hard_limit",
			     "%s is below hard_limit %s set at %s:%u (allowed: swap_hard_limit >= "
			     "hard_limit; it counts memory + swap)",
			     size_format(swap->bytes, a), size_format(hard->bytes, b),
			     hard->origin.file, hard->origin.line);
	}
	if (r >= 0)
		r = disk_list_check(&p->disks, diags);
	return r;
}

int policy_check_effective(const struct policy *p, struct diag_list *diags)
{
	const struct penum *mode = &p->numatune.mode;
	int r = policy_check_document(p, diags);

	if (r >= 0 && mode->set && !p->numatune.nodeset.set &&
	    !(p->numatune.placement.set && p->numatune.placement.value == NUMA_PLACEMENT_AUTO))
		r = diag_add(diags, DIAG_ERROR, mode->origin.file, mode->origin.line,
			     mode->origin.column, "numatune.memory",
			     "mode %s has no nodes (allowed: a nodeset, or placement: auto)",
			     numa_mode_to_string(mode->value));
	return r;
}
