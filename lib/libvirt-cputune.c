/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * libvirt's <cputune> as the policy's cputune: shares, the periods and quotas of every level,
 * vcpupin, emulatorpin, iothreadpin and the schedulers. libvirt's iothread id N is QEMU's
 * object "iothreadN" (libvirt starts QEMU with -object iothread,id=iothreadN).
 */

#include <string.h>

#include "libvirt-xml.h"

static void shares(struct lvimport *x, const xmlNode *cputune)
{
	xmlNode *node = lv_child(cputune, "shares");
	_cleanup_free_ char *text = node ? lv_text(x, node) : NULL;
	uint64_t v;

	if (!node || !lv_uint(x, node, "cputune.shares", text, &v))
		return;
	if (v < CPU_SHARES_MIN || v > CPU_SHARES_MAX) {
		lv_note(x, node, "cputune.shares", "%" PRIu64 " is outside %d..%d%s", v,
			CPU_SHARES_MIN, CPU_SHARES_MAX,
			v == 0 ? " (cgroup v1 raises 0 to its minimum, 2)" : "");
		return;
	}
	x->imp->policy.cputune.shares =
		(struct pint){ .set = true, .value = (int64_t)v, .origin = lv_origin(x, node) };
	lv_carried(x);
}

/* libvirt: 0 is "not set", any negative quota is unlimited (-1). */
static void quota(struct lvimport *x, const xmlNode *cputune, const char *name, struct pint *ret)
{
	xmlNode *node = lv_child(cputune, name);
	_cleanup_free_ char *text = node ? lv_text(x, node) : NULL;
	char key[64];
	int64_t v;

	(void)snprintf(key, sizeof(key), "cputune.%s", name);
	if (!node || !lv_int(x, node, key, text, &v) || v == 0)
		return;
	if (v > 0 && (v < CFS_QUOTA_MIN || v > CFS_QUOTA_MAX)) {
		lv_note(x, node, key,
			"%" PRId64 " is outside %d..%" PRId64 " (or negative: unlimited)", v,
			CFS_QUOTA_MIN, CFS_QUOTA_MAX);
		return;
	}
	*ret = (struct pint){ .set = true, .value = v < 0 ? -1 : v, .origin = lv_origin(x, node) };
	lv_carried(x);
}

static void bandwidth(struct lvimport *x, const xmlNode *cputune)
{
	struct policy *p = &x->imp->policy;
	static const struct {
		const char *period, *quota;
		size_t period_offset, quota_offset;
	} levels[] = {
		{ "period", "quota", offsetof(struct policy, cputune.period),
		  offsetof(struct policy, cputune.quota) },
		{ "global_period", "global_quota", offsetof(struct policy, cputune.global_period),
		  offsetof(struct policy, cputune.global_quota) },
		{ "emulator_period", "emulator_quota",
		  offsetof(struct policy, cputune.emulator_period),
		  offsetof(struct policy, cputune.emulator_quota) },
		{ "iothread_period", "iothread_quota",
		  offsetof(struct policy, cputune.iothread_period),
		  offsetof(struct policy, cputune.iothread_quota) },
	};

	for (size_t i = 0; i < ARRAY_SIZE(levels); i++) {
		char key[64];

		(void)snprintf(key, sizeof(key), "cputune.%s", levels[i].period);
		(void)lv_int_child(x, cputune, levels[i].period, key, CFS_PERIOD_MIN,
				   CFS_PERIOD_MAX,
				   (struct pint *)((char *)p + levels[i].period_offset));
		quota(x, cputune, levels[i].quota,
		      (struct pint *)((char *)p + levels[i].quota_offset));
	}
}

/* scheduler='batch|idle|fifo|rr' priority='N' (fifo and rr only, 1..99). */
static bool scheduler(struct lvimport *x, const xmlNode *node, const char *key, struct psched *ret)
{
	_cleanup_free_ char *name = lv_attr(x, node, "scheduler"), *prio = NULL;
	enum sched_policy s = name ? sched_policy_from_string(name) : _SCHED_POLICY_INVALID;
	bool rt = s == SCHED_POLICY_FIFO || s == SCHED_POLICY_RR;
	int64_t priority = 0;

	if (s < 0 || s == SCHED_POLICY_OTHER) {
		lv_note(x, node, key, "scheduler '%.40s' is not one of batch, idle, fifo, rr",
			name ?: "");
		return false;
	}
	prio = lv_attr(x, node, "priority");
	if (rt && !prio) {
		lv_note(x, node, key, "scheduler %s needs a priority", name);
		return false;
	}
	if (rt && !lv_int(x, node, key, prio, &priority))
		return false;
	if (rt && (priority < RT_PRIORITY_MIN || priority > RT_PRIORITY_MAX)) {
		lv_note(x, node, key,
			"priority %" PRId64 " is outside %d..%d (the kernel's range for %s)",
			priority, RT_PRIORITY_MIN, RT_PRIORITY_MAX, name);
		return false;
	}
	if (!rt && prio)
		lv_note(x, node, key,
			"priority='%.20s' (scheduler %s takes none; the scheduler is carried over)",
			prio, name);
	*ret = (struct psched){
		.set = true, .policy = s, .priority = (int)priority, .origin = lv_origin(x, node)
	};
	return true;
}

/* A vCPU index the domain has: below <vcpu>'s count when that is known. */
static bool vcpus_exist(struct lvimport *x, const xmlNode *node, const char *key,
			const struct cpuset *set)
{
	int last = -1;

	CPUSET_FOREACH (v, set)
		last = v;
	if (x->vcpus == 0 || last < (int)x->vcpus)
		return true;
	lv_note(x, node, key, "vCPU %d does not exist: the domain has %u (libvirt refuses it)",
		last, x->vcpus);
	return false;
}

static void vcpupin(struct lvimport *x, const xmlNode *node)
{
	struct policy *p = &x->imp->policy;
	_cleanup_free_ char *vcpu = lv_attr(x, node, "vcpu"), *cpuset = lv_attr(x, node, "cpuset");
	struct vcpu_pin pin = {};
	size_t allocated = p->cputune.n_vcpupin;
	uint64_t v;

	if (!lv_uint(x, node, "cputune.vcpupin.vcpu", vcpu, &v))
		return;
	if (v >= POLICY_VCPU_LIMIT) {
		lv_note(x, node, "cputune.vcpupin.vcpu", "vCPU %" PRIu64 " is not below %d", v,
			POLICY_VCPU_LIMIT);
		return;
	}
	if (cpuset_add(&pin.vcpus, (unsigned)v) < 0) {
		x->r = -ENOMEM;
		goto out;
	}
	FOREACH_ARRAY (e, p->cputune.vcpupin, p->cputune.n_vcpupin)
		if (cpuset_overlaps(&e->vcpus, &pin.vcpus)) {
			lv_note(x, node, "cputune.vcpupin",
				"vCPU %" PRIu64
				" is already pinned at line %u (libvirt refuses it)",
				v, e->cpus.origin.line);
			goto out;
		}
	if (!vcpus_exist(x, node, "cputune.vcpupin.vcpu", &pin.vcpus) ||
	    !lv_cpus(x, node, "cputune.vcpupin.cpuset", cpuset, false, &pin.cpus))
		goto out;
	if (GROW_ARRAY(p->cputune.vcpupin, allocated, p->cputune.n_vcpupin + 1) < 0) {
		x->r = -ENOMEM;
		goto out;
	}
	p->cputune.vcpupin[p->cputune.n_vcpupin++] = pin;
	lv_carried(x);
	return;
out:
	cpuset_done(&pin.vcpus);
	cpuset_done(&pin.cpus.cpus);
}

static char *iothread_name(struct lvimport *x, unsigned id)
{
	char *s = NULL;

	if (asprintf(&s, "iothread%u", id) < 0) {
		x->r = -ENOMEM;
		return NULL;
	}
	return s;
}

/* An iothread id the domain defines, else a note. */
static bool iothread_id(struct lvimport *x, const xmlNode *node, const char *key, uint64_t id)
{
	if (id <= UINT32_MAX && lv_iothread_defined(x, (unsigned)id))
		return true;
	lv_note(x, node, key,
		"iothread %" PRIu64 " is not defined by <iothreads> or <iothreadids> (libvirt "
		"refuses it)",
		id);
	return false;
}

static void iothreadpin(struct lvimport *x, const xmlNode *node)
{
	struct policy *p = &x->imp->policy;
	_cleanup_free_ char *id = lv_attr(x, node, "iothread"),
			    *cpuset = lv_attr(x, node, "cpuset");
	_cleanup_free_ char *name = NULL;
	struct pcpus cpus = {};
	size_t allocated = p->cputune.n_iothreadpin;
	uint64_t v;

	if (!lv_uint(x, node, "cputune.iothreadpin.iothread", id, &v) ||
	    !iothread_id(x, node, "cputune.iothreadpin.iothread", v) ||
	    !(name = iothread_name(x, (unsigned)v)))
		return;
	FOREACH_ARRAY (e, p->cputune.iothreadpin, p->cputune.n_iothreadpin)
		if (streq(e->id, name)) {
			lv_note(x, node, "cputune.iothreadpin",
				"iothread %" PRIu64
				" is already pinned at line %u (libvirt refuses "
				"it)",
				v, e->cpus.origin.line);
			return;
		}
	if (!lv_cpus(x, node, "cputune.iothreadpin.cpuset", cpuset, false, &cpus))
		return;
	if (GROW_ARRAY(p->cputune.iothreadpin, allocated, p->cputune.n_iothreadpin + 1) < 0) {
		cpuset_done(&cpus.cpus);
		x->r = -ENOMEM;
		return;
	}
	p->cputune.iothreadpin[p->cputune.n_iothreadpin++] =
		(struct iothread_pin){ .id = TAKE_PTR(name), .cpus = cpus };
	lv_carried(x);
}

static void vcpusched(struct lvimport *x, const xmlNode *node)
{
	struct policy *p = &x->imp->policy;
	_cleanup_free_ char *vcpus = lv_attr(x, node, "vcpus");
	struct vcpu_sched e = {};
	struct cpuset_error err;
	size_t allocated = p->cputune.n_vcpusched;
	int r = cpuset_parse(vcpus ?: "", POLICY_VCPU_LIMIT, &e.vcpus, &err);

	if (r == -ENOMEM)
		x->r = r;
	if (r < 0) {
		if (r != -ENOMEM)
			lv_note(x, node, "cputune.vcpusched.vcpus", "'%.40s': %s", vcpus ?: "",
				err.message);
		return;
	}
	FOREACH_ARRAY (o, p->cputune.vcpusched, p->cputune.n_vcpusched)
		if (cpuset_overlaps(&o->vcpus, &e.vcpus)) {
			lv_note(x, node, "cputune.vcpusched",
				"its vCPUs overlap the <vcpusched> at line %u (libvirt refuses it)",
				o->sched.origin.line);
			goto out;
		}
	if (!vcpus_exist(x, node, "cputune.vcpusched.vcpus", &e.vcpus) ||
	    !scheduler(x, node, "cputune.vcpusched", &e.sched))
		goto out;
	if (GROW_ARRAY(p->cputune.vcpusched, allocated, p->cputune.n_vcpusched + 1) < 0) {
		x->r = -ENOMEM;
		goto out;
	}
	p->cputune.vcpusched[p->cputune.n_vcpusched++] = e;
	lv_carried(x);
	return;
out:
	cpuset_done(&e.vcpus);
}

static bool iothreadsched_has(const struct policy *p, const char *name)
{
	FOREACH_ARRAY (e, p->cputune.iothreadsched, p->cputune.n_iothreadsched)
		if (streq(e->id, name))
			return true;
	return false;
}

static void iothreadsched(struct lvimport *x, const xmlNode *node)
{
	struct policy *p = &x->imp->policy;
	_cleanup_free_ char *ids = lv_attr(x, node, "iothreads");
	struct cpuset set = {};
	struct cpuset_error err;
	struct psched s;
	int r = cpuset_parse(ids ?: "", CPUSET_LIMIT, &set, &err);

	if (r < 0) {
		if (r == -ENOMEM)
			x->r = r;
		else
			lv_note(x, node, "cputune.iothreadsched.iothreads", "'%.40s': %s",
				ids ?: "", err.message);
		return;
	}
	if (!scheduler(x, node, "cputune.iothreadsched", &s))
		goto out;
	CPUSET_FOREACH (id, &set) {
		char *name;
		size_t allocated = p->cputune.n_iothreadsched;

		if (!iothread_id(x, node, "cputune.iothreadsched.iothreads", (uint64_t)id) ||
		    !(name = iothread_name(x, (unsigned)id)))
			continue;
		if (iothreadsched_has(p, name)) {
			lv_note(x, node, "cputune.iothreadsched",
				"iothread %d already has a scheduler (libvirt refuses it)", id);
			free(name);
			continue;
		}
		if (GROW_ARRAY(p->cputune.iothreadsched, allocated,
			       p->cputune.n_iothreadsched + 1) < 0) {
			free(name);
			x->r = -ENOMEM;
			break;
		}
		p->cputune.iothreadsched[p->cputune.n_iothreadsched++] =
			(struct iothread_sched){ .id = name, .sched = s };
		lv_carried(x);
	}
out:
	cpuset_done(&set);
}

static void element(struct lvimport *x, const xmlNode *c)
{
	struct policy *p = &x->imp->policy;
	static const char *const handled[] = { "shares",	 "period",
					       "quota",		 "global_period",
					       "global_quota",	 "emulator_period",
					       "emulator_quota", "iothread_period",
					       "iothread_quota" };
	_cleanup_free_ char *cpuset = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(handled); i++)
		if (lv_is(c, handled[i]))
			return;
	if (lv_is(c, "vcpupin"))
		vcpupin(x, c);
	else if (lv_is(c, "emulatorpin")) {
		cpuset = lv_attr(x, c, "cpuset");
		if (lv_cpus(x, c, "cputune.emulatorpin", cpuset, false, &p->cputune.emulatorpin))
			lv_carried(x);
	} else if (lv_is(c, "iothreadpin"))
		iothreadpin(x, c);
	else if (lv_is(c, "vcpusched"))
		vcpusched(x, c);
	else if (lv_is(c, "iothreadsched"))
		iothreadsched(x, c);
	else if (lv_is(c, "emulatorsched")) {
		if (scheduler(x, c, "cputune.emulatorsched", &p->cputune.emulatorsched))
			lv_carried(x);
	} else if (lv_is(c, "cachetune") || lv_is(c, "memorytune"))
		lv_note(x, c, "cputune",
			"<%s> allocates cache or memory bandwidth through resctrl (Intel RDT); "
			"kvmtune does not manage resctrl",
			(const char *)c->name);
	else
		lv_note(x, c, "cputune", "<%s> is not known to kvmtune", (const char *)c->name);
}

void lv_import_cputune(struct lvimport *x, const xmlNode *cputune)
{
	if (!cputune)
		return;
	shares(x, cputune);
	bandwidth(x, cputune);
	LV_FOREACH_ELEMENT(c, cputune)
	element(x, c);
}
