/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup-fs.h"
#include "cgroup-value.h"
#include "macro.h"
#include "plan-unit.h"
#include "unit-name.h"

#define USEC_PER_SEC	       UINT64_C(1000000)
#define SYSTEMD_DEFAULT_PERIOD UINT64_C(100000)

/* systemd: w <= 100 gives bfq = w; above, bfq = 100 + (w - 100) * 900 / 9900. */
uint64_t unit_io_weight_for_bfq(uint64_t bfq)
{
	return bfq <= 100 ? bfq : 100 + (bfq - 100) * 11;
}

static int parse_u64(const char *s, uint64_t *ret)
{
	char *end;

	if (streq(s, "max")) {
		*ret = UNIT_INFINITY;
		return 0;
	}
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	*ret = strtoull(s, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

static struct unit_property *prop(struct action *a, const char *name, enum unit_property_type t,
				  uint64_t value)
{
	struct unit_property *p = &a->props[a->n_props++];

	*p = (struct unit_property){ .name = name, .type = t, .value = value };
	return p;
}

static int device_prop(struct action *a, const char *name, unsigned maj, unsigned min,
		       uint64_t value)
{
	struct unit_property *p = prop(a, name, UNIT_PROPERTY_DEVICE, value);

	/* systemd resolves it with stat(): the udev link names the very device we resolved. */
	if (asprintf(&p->device, "/dev/block/%u:%u", maj, min) < 0) {
		p->device = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* What systemd 252 writes to cpu.max for a quota per second and a period (cgroup.c). */
static void systemd_cpu_max(uint64_t per_sec, uint64_t period, uint64_t *ret_quota,
			    uint64_t *ret_period)
{
	uint64_t p = MAX(MAX(period, UINT64_C(1000)), UINT64_C(1000) * USEC_PER_SEC / per_sec);

	p = MIN(p, USEC_PER_SEC);
	*ret_period = p;
	*ret_quota = MAX(per_sec * p / USEC_PER_SEC, UINT64_C(1000));
}

/*
 * "QUOTA PERIOD" or "max PERIOD" -> CPUQuotaPerSecUSec, CPUQuotaPeriodUSec. systemd keeps the
 * quota in whole percent of a CPU (CPUQuota=N% in the unit's drop-in, read again at each
 * daemon-reload), so the nearest whole percent is what lasts; a->value becomes what systemd
 * then writes.
 */
static int cpu_max(struct action *a)
{
	char quota[32];
	uint64_t q, period, per_sec, wq, wp;

	if (sscanf(a->value, "%31s %" SCNu64, quota, &period) != 2 || period == 0)
		return -EINVAL;
	if (streq(quota, "max")) {
		/* systemd writes its default period with no quota, whatever the unit says. */
		free(a->value);
		if (asprintf(&a->value, "max %" PRIu64, SYSTEMD_DEFAULT_PERIOD) < 0) {
			a->value = NULL;
			return -ENOMEM;
		}
		prop(a, "CPUQuotaPerSecUSec", UNIT_PROPERTY_U64, UNIT_INFINITY);
		prop(a, "CPUQuotaPeriodUSec", UNIT_PROPERTY_U64, UNIT_INFINITY);
		return 1;
	}
	if (parse_u64(quota, &q) < 0 || q == 0 || q == UNIT_INFINITY || q > UINT64_MAX / 100)
		return -EINVAL;
	per_sec = (q * 100 + period / 2) / period * UNIT_QUOTA_STEP; /* nearest whole percent */
	per_sec = MAX(per_sec, UNIT_QUOTA_STEP);
	systemd_cpu_max(per_sec, period, &wq, &wp);
	free(a->value);
	if (asprintf(&a->value, "%" PRIu64 " %" PRIu64, wq, wp) < 0) {
		a->value = NULL;
		return -ENOMEM;
	}
	prop(a, "CPUQuotaPerSecUSec", UNIT_PROPERTY_U64, per_sec);
	prop(a, "CPUQuotaPeriodUSec", UNIT_PROPERTY_U64, period);
	return 1;
}

static int cpus(struct action *a, const char *name)
{
	struct unit_property *p = prop(a, name, UNIT_PROPERTY_CPUS, 0);
	struct cpuset_error err;

	return cpuset_parse(a->value, 1024, &p->cpus, &err) < 0 ? -EINVAL : 1;
}

/* io.weight / io.bfq.weight: "default W" or "MAJ:MIN W". */
static int io_weight(struct action *a, bool bfq)
{
	unsigned maj, min;
	uint64_t w;

	if (sscanf(a->value, "default %" SCNu64, &w) == 1) {
		prop(a, "IOWeight", UNIT_PROPERTY_U64, bfq ? unit_io_weight_for_bfq(w) : w);
		return 1;
	}
	if (sscanf(a->value, "%u:%u %" SCNu64, &maj, &min, &w) == 3)
		return device_prop(a, "IODeviceWeight", maj, min,
				   bfq ? unit_io_weight_for_bfq(w) : w) < 0
			       ? -ENOMEM
			       : 1;
	if (sscanf(a->value, "%u:%u default", &maj, &min) == 2) {
		/* No weight for the device: systemd has no removal, only the default weight,
		 * which it writes as an entry of its own. */
		free(a->value);
		if (asprintf(&a->value, "%u:%u %d", maj, min, CG_DEFAULT_IO_WEIGHT) < 0) {
			a->value = NULL;
			return -ENOMEM;
		}
		return device_prop(a, "IODeviceWeight", maj, min, CG_DEFAULT_IO_WEIGHT) < 0
			       ? -ENOMEM
			       : 1;
	}
	return -EINVAL;
}

/* "MAJ:MIN rbps=R wbps=W riops=RI wiops=WI", each a number or max. */
static int io_max(struct action *a)
{
	static const char *const names[] = { "IOReadBandwidthMax", "IOWriteBandwidthMax",
					     "IOReadIOPSMax", "IOWriteIOPSMax" };
	char v[4][32];
	unsigned maj, min;

	if (sscanf(a->value, "%u:%u rbps=%31s wbps=%31s riops=%31s wiops=%31s", &maj, &min, v[0],
		   v[1], v[2], v[3]) != 6)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		uint64_t n;

		if (parse_u64(v[i], &n) < 0)
			return -EINVAL;
		if (device_prop(a, names[i], maj, min, n) < 0)
			return -ENOMEM;
	}
	return 1;
}

int unit_properties_for(struct action *a)
{
	static const struct {
		const char *file, *property;
	} plain[] = {
		{ "cpu.weight", "CPUWeight" },		{ "memory.max", "MemoryMax" },
		{ "memory.low", "MemoryLow" },		{ "memory.min", "MemoryMin" },
		{ "memory.swap.max", "MemorySwapMax" },
	};
	int r = 0;

	if (a->kind != ACTION_WRITE || !a->file)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(plain); i++)
		if (streq(a->file, plain[i].file)) {
			uint64_t n;

			if (parse_u64(a->value, &n) < 0)
				return -EINVAL;
			prop(a, plain[i].property, UNIT_PROPERTY_U64, n);
			a->kind = ACTION_UNIT_WRITE;
			return 1;
		}
	if (streq(a->file, "cpu.max"))
		r = cpu_max(a);
	else if (streq(a->file, "cpuset.cpus"))
		r = cpus(a, "AllowedCPUs");
	else if (streq(a->file, "cpuset.mems"))
		r = cpus(a, "AllowedMemoryNodes");
	else if (streq(a->file, "io.weight") || streq(a->file, "io.bfq.weight"))
		r = io_weight(a, streq(a->file, "io.bfq.weight"));
	else if (streq(a->file, "io.max"))
		r = io_max(a);
	if (r > 0)
		a->kind = ACTION_UNIT_WRITE;
	return r;
}

static int hex_digit(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

int uuid_parse16(const char *s, uint8_t ret[static 16])
{
	size_t n = 0;

	for (const char *c = s; *c; c += 2) {
		int hi, lo;

		if (*c == '-' && (n == 4 || n == 6 || n == 8 || n == 10))
			c++;
		hi = hex_digit(c[0]);
		lo = hi < 0 ? -1 : hex_digit(c[1]);
		if (n == 16 || lo < 0)
			return -EINVAL;
		ret[n++] = (uint8_t)(hi << 4 | lo);
	}
	return n == 16 ? 0 : -EINVAL;
}

/* ---- the second pass ---- */

void plan_unit_devices(struct plan_device *devices, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (devices[i].result >= 0 && devices[i].dev.stacked)
			devices[i].refused =
				"is built on other devices (LVM, LUKS, md): systemd would apply "
				"its "
				"limits to the disk underneath; not set with backend systemd (name "
				"the disk, or use backend: cgroupfs)";
}

/* Whether group is vm_group or above it (the root "" included). */
static bool at_or_above(const char *group, const char *vm_group)
{
	return !*group || cgroup_path_is_in(vm_group, group, true);
}

/* What systemd makes, kvmtune does not: the VM group, its ancestors, the process's move. */
static bool systemds(const struct action *a, const char *vm_group)
{
	if (!a->group)
		return false;
	if (a->kind == ACTION_MKDIR)
		return at_or_above(a->group, vm_group);
	if (a->kind == ACTION_WRITE)
		return at_or_above(a->group, vm_group) && !streq(a->group, vm_group);
	return a->kind == ACTION_ATTACH_PROCESS && streq(a->group, vm_group);
}

static int scope_action(struct action *s, const struct vm *vm, const char *vm_group,
			const char *slice)
{
	*s = (struct action){ .kind = ACTION_SCOPE,
			      .controller = CGROUP_CPU,
			      .pid = vm->pid,
			      .tid = vm->pid,
			      .starttime = vm->starttime };
	(void)snprintf(s->what, sizeof(s->what), "VM scope");
	if (!(s->group = strdup(vm_group)) || !(s->slice = strdup(slice))) {
		action_done(s);
		return -ENOMEM;
	}
	return 0;
}

/*
 * The scope in place of what systemd makes, where the first of that was planned: the process
 * in it first, everything else below.
 */
static int scope_first(struct plan *p, const struct vm *vm, const char *slice)
{
	struct action *kept = calloc(p->n + 1, sizeof(*kept));
	size_t n = 0, at = SIZE_MAX;

	if (!kept)
		return -ENOMEM;
	FOREACH_ARRAY (a, p->actions, p->n)
		if (systemds(a, p->vm_group)) {
			at = at == SIZE_MAX ? n : at;
			action_done(a);
		} else
			kept[n++] = *a;
	at = at == SIZE_MAX ? 0 : at;
	memmove(kept + at + 1, kept + at, (n - at) * sizeof(*kept));
	free(p->actions);
	p->actions = kept;
	p->allocated = p->n + 1;
	p->n = n + 1;
	return scope_action(&kept[at], vm, p->vm_group, slice);
}

/* The scope's own files as unit properties; where systemd's rule gives another value, why. */
static int as_unit_properties(struct plan *p)
{
	for (size_t i = 0, n = p->n; i < n; i++) {
		struct action *w = &p->actions[i]; /* not used after plan_warn() moved it */
		const struct origin *origin = w->origin;
		_cleanup_free_ char *was = NULL, *file = NULL, *now = NULL;
		int r;

		if (w->kind != ACTION_WRITE || !streq(w->group, p->vm_group))
			continue;
		if (!(was = strdup(w->value)) || !(file = strdup(w->file)))
			return -ENOMEM;
		r = unit_properties_for(w);
		if (r != 0 && !(now = strdup(w->value)))
			return -ENOMEM;
		if (r > 0 && streq(file, "cpu.max") && !streq(now, was) && strncmp(was, "max ", 4))
			r = plan_warn(p, origin,
				      "cputune global quota: systemd keeps a scope's CPU quota in "
				      "whole percent of a CPU; cpu.max is %s instead of %s",
				      now, was);
		else if (r == -EINVAL) /* the planner wrote it: a bug, not the policy's fault */
			r = plan_warn(p, origin, "%s = %s: no systemd property says it", file, now);
		if (r < 0)
			return r;
	}
	return 0;
}

static int machine(struct plan *p, const struct vm *vm)
{
	const char *uuid = vm->cmdline.uuid;
	struct action *a;

	if (!machine_name_is_valid(vm->name))
		return plan_warn(p, NULL,
				 "VM name '%s' is not a valid machine name for systemd-machined (a "
				 "host name: letters, digits, inner '-', labels joined by '.'; at "
				 "most 64): not registered",
				 vm->name);
	a = plan_append(p, ACTION_MACHINE);
	if (!a)
		return -ENOMEM;
	a->controller = CGROUP_CPU;
	a->pid = a->tid = vm->pid;
	a->starttime = vm->starttime;
	(void)snprintf(a->what, sizeof(a->what), "machine registration");
	a->has_uuid = uuid && uuid_parse16(uuid, a->uuid) >= 0;
	if (!(a->group = strdup(p->vm_group)) || !(a->machine = strdup(vm->name)))
		return -ENOMEM;
	return 0;
}

int plan_unit(struct plan *p, const struct vm *vm, const struct plan_host *host, const char *slice)
{
	int r;

	for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++)
		if (host->version[c] == 1)
			return -EOPNOTSUPP;
	r = scope_first(p, vm, slice);
	if (r >= 0)
		r = as_unit_properties(p);
	if (r >= 0)
		r = machine(p, vm);
	return r;
}
