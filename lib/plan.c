/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * From an effective policy and a discovered VM to the kernel state of spec §4. Values of our own
 * groups that the policy leaves unset are planned at the kernel's defaults, so that removing a
 * key from a policy undoes it. Thread schedulers are left alone unless a policy sets them.
 */

#include <inttypes.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cgroup-read.h"
#include "cgroup-value.h"
#include "macro.h"
#include "numa-maps.h"
#include "plan-build.h"
#include "plan-disks.h"
#include "plan.h"
#include "qemu-cmdline.h"
#include "size.h"
#include "unit-name.h"

static char *join(const char *a, const char *b)
{
	char *r;

	return asprintf(&r, "%s%s%s", a, *a && *b ? "/" : "", b) < 0 ? NULL : r;
}

/* The task an action acts on, as discovery saw it (the applier checks it is still that one). */
static void target_thread(struct action *a, const struct vm *vm, const struct vm_thread *t)
{
	a->pid = vm->pid;
	a->tid = t->tid;
	a->starttime = t->stat.starttime;
}

static void target_process(struct action *a, const struct vm *vm)
{
	a->pid = vm->pid;
	a->tid = vm->pid;
	a->starttime = vm->starttime;
}

const char *thread_group_name(const struct vm_thread *t, char *buf, size_t size)
{
	if (t->role == ROLE_VCPU)
		(void)snprintf(buf, size, "vcpu%d", t->vcpu);
	else if (t->role == ROLE_IOTHREAD)
		(void)snprintf(buf, size, "iothread-%s", t->iothread);
	else
		(void)snprintf(buf, size, "emulator");
	return buf;
}

/* ---- what each thread group gets ---- */

struct group {
	char name[160];
	struct cpuset cpus;
	const struct origin *cpus_origin;
	const struct pint *period, *quota;
};

static const struct pcpus *default_cpus(const struct policy *p)
{
	return p->cputune.cpuset.set ? &p->cputune.cpuset : NULL;
}

static int group_cpus(const struct builder *b, const struct vm_thread *t, struct group *g)
{
	const struct policy *p = b->policy;
	const struct pcpus *pin = default_cpus(p);

	if (t->role == ROLE_VCPU) {
		FOREACH_ARRAY (e, p->cputune.vcpupin, p->cputune.n_vcpupin)
			if (cpuset_contains(&e->vcpus, (unsigned)t->vcpu))
				pin = &e->cpus;
		g->period = &p->cputune.period;
		g->quota = &p->cputune.quota;
	} else if (t->role == ROLE_IOTHREAD) {
		FOREACH_ARRAY (e, p->cputune.iothreadpin, p->cputune.n_iothreadpin)
			if (streq(e->id, t->iothread))
				pin = &e->cpus;
		g->period = &p->cputune.iothread_period;
		g->quota = &p->cputune.iothread_quota;
	} else {
		if (p->cputune.emulatorpin.set)
			pin = &p->cputune.emulatorpin;
		g->period = &p->cputune.emulator_period;
		g->quota = &p->cputune.emulator_quota;
	}
	g->cpus_origin = pin ? &pin->origin : NULL;
	/* Never more than the host has online: an offline CPU in a cpuset is an error. */
	if (cpuset_copy(&g->cpus, pin ? &pin->cpus : &b->host->topo->cpus) < 0)
		return -ENOMEM;
	if (pin) {
		struct cpuset offline = {};

		if (cpuset_copy(&offline, &g->cpus) < 0)
			return -ENOMEM;
		cpuset_subtract(&offline, &b->host->topo->cpus);
		cpuset_subtract(&g->cpus, &offline);
		cpuset_done(&offline);
	}
	return 0;
}

static void free_groups(struct group *g, size_t n)
{
	for (size_t i = 0; i < n; i++)
		cpuset_done(&g[i].cpus);
	free(g);
}

/* Adds t's group to g (n of them) unless it is there. */
static int add_group(struct builder *b, const struct vm_thread *t, struct group *g, size_t *n)
{
	char name[160];

	thread_group_name(t, name, sizeof(name));
	for (size_t i = 0; i < *n; i++)
		if (streq(g[i].name, name))
			return 0;
	(void)snprintf(g[*n].name, sizeof(g[*n].name), "%s", name);
	if (group_cpus(b, t, &g[*n]) < 0)
		return -ENOMEM;
	if (cpuset_is_empty(&g[*n].cpus))
		builder_warn(b, g[*n].cpus_origin,
			     "%s: none of its CPUs is online; it keeps the CPUs it has", name);
	(*n)++;
	return 0;
}

/*
 * The thread groups of the VM: those of its threads, and those its command line announces
 * (every cold-plugged vCPU, every iothread), made in advance so that a thread that appears
 * later only moves in: creating cgroups is the slow part.
 */
static int collect_groups(struct builder *b, struct group **ret, size_t *ret_n)
{
	const struct qemu_cmdline *c = &b->vm->cmdline;
	unsigned vcpus = c->tcg_single_thread ? 1 : MIN(c->vcpus, (unsigned)POLICY_VCPU_LIMIT);
	struct group *g = calloc(b->vm->n_threads + vcpus + c->n_iothreads + 1, sizeof(*g));
	size_t n = 0;
	int r = 0;

	if (!g)
		return -ENOMEM;
	FOREACH_ARRAY (t, b->vm->threads, b->vm->n_threads)
		if (r >= 0)
			r = add_group(b, t, g, &n);
	for (unsigned v = 0; r >= 0 && v < vcpus; v++)
		r = add_group(b, &(struct vm_thread){ .role = ROLE_VCPU, .vcpu = (int)v }, g, &n);
	for (size_t i = 0; r >= 0 && i < c->n_iothreads; i++)
		if (qemu_id_is_valid(c->iothreads[i]))
			r = add_group(b,
				      &(struct vm_thread){ .role = ROLE_IOTHREAD,
							   .iothread = c->iothreads[i] },
				      g, &n);
	if (r < 0) {
		free_groups(g, n);
		return r;
	}
	*ret = g;
	*ret_n = n;
	return 0;
}

/* ---- value formatting ---- */

static char *cpus_text(struct builder *b, const struct cpuset *s)
{
	char *t = cpuset_format(s);

	if (!t)
		b->r = -ENOMEM;
	return t;
}

/* ---- controllers ---- */

static uint64_t shares_of(const struct policy *p)
{
	if (p->cputune.shares.set)
		return (uint64_t)p->cputune.shares.value;
	if (p->cputune.weight.set) /* systemd's rule */
		return CLAMP((uint64_t)p->cputune.weight.value * 1024 / 100, UINT64_C(2),
			     UINT64_C(262144));
	return CG_DEFAULT_SHARES;
}

static uint64_t weight_of(const struct policy *p)
{
	if (p->cputune.weight.set)
		return (uint64_t)p->cputune.weight.value;
	if (p->cputune.shares.set)
		return CLAMP((uint64_t)p->cputune.shares.value * 100 / 1024, UINT64_C(1),
			     UINT64_C(10000));
	return CG_DEFAULT_CPU_WEIGHT;
}

static const struct origin *origin_of(const struct pint *a, const struct pint *b)
{
	return a->set ? &a->origin : b && b->set ? &b->origin : NULL;
}

static void plan_bandwidth(struct builder *b, const char *group, const struct pint *period,
			   const struct pint *quota, const char *who)
{
	const struct origin *o = origin_of(quota, period);
	int64_t p = period->set ? period->value : CG_DEFAULT_PERIOD_USEC;

	if (b->host->version[CGROUP_CPU] == 1) {
		builder_write(b, CGROUP_CPU, group, "cpu.cfs_period_us", o, who, "%" PRId64, p);
		builder_write(b, CGROUP_CPU, group, "cpu.cfs_quota_us", o, who, "%" PRId64,
			      quota->set ? quota->value : -1);
	} else if (quota->set && quota->value >= 0)
		builder_write(b, CGROUP_CPU, group, "cpu.max", o, who, "%" PRId64 " %" PRId64,
			      quota->value, p);
	else
		builder_write(b, CGROUP_CPU, group, "cpu.max", o, who, "max %" PRId64, p);
}

/* The NUMA nodes memory may come from, and whether the policy restricts them. */
static bool plan_mems(struct builder *b, struct cpuset *ret, const struct origin **ret_origin)
{
	const struct policy *p = b->policy;
	const struct penum *mode = &p->numatune.mode;
	int m = mode->set ? mode->value : NUMA_MODE_STRICT;
	bool any = mode->set || p->numatune.nodeset.set || p->numatune.placement.set;

	*ret_origin = NULL;
	if (any && (m == NUMA_MODE_PREFERRED || m == NUMA_MODE_INTERLEAVE)) {
		/* started with kvmtunectl run: numa_maps shows it in force */
		bool in_force =
			p->numatune.nodeset.set &&
			numa_maps_policy_is(b->host->memory_policy, m == NUMA_MODE_PREFERRED,
					    &p->numatune.nodeset.cpus);

		if (!b->host->launching && !in_force)
			builder_warn(b, &mode->origin,
				     "numatune mode %s applies at launch only: start the VM with "
				     "kvmtunectl run",
				     numa_mode_to_string(m));
		any = false;
	} else if (any && p->numatune.placement.set &&
		   p->numatune.placement.value == NUMA_PLACEMENT_AUTO) {
		builder_warn(
			b, &p->numatune.placement.origin,
			"numatune placement auto: not chosen by this version; memory may come from "
			"any node");
		any = false;
	}
	if (any && p->numatune.nodeset.set) {
		if (cpuset_copy(ret, &p->numatune.nodeset.cpus) < 0)
			b->r = -ENOMEM;
		*ret_origin = &p->numatune.nodeset.origin;
		return true;
	}
	if (cpuset_copy(ret, &b->host->topo->nodes) < 0)
		b->r = -ENOMEM;
	return false;
}

/* ---- the layout ---- */

static const enum cgroup_controller thread_controllers[] = { CGROUP_CPU, CGROUP_CPUACCT,
							     CGROUP_CPUSET };
static const enum cgroup_controller vm_controllers[] = { CGROUP_CPU,	CGROUP_CPUACCT,
							 CGROUP_CPUSET, CGROUP_MEMORY,
							 CGROUP_IO,	CGROUP_PIDS };

static bool is_thread_controller(enum cgroup_controller c)
{
	return c == CGROUP_CPU || c == CGROUP_CPUACCT || c == CGROUP_CPUSET;
}

/*
 * A controller whose hierarchy is its own, or the first of those mounted together: it makes the
 * groups and moves the threads there. The thread controllers come first in the enum, so a
 * hierarchy with one of them has it as its first ("cpu,memory": thread groups, no process move).
 */
static bool owns_hierarchy(const struct plan_host *host, enum cgroup_controller c)
{
	return host->version[c] != 0 && host->with[c] == 0;
}

/* Does the hierarchy of c (its first controller) also hold other? */
static bool hierarchy_has(const struct plan_host *host, enum cgroup_controller c,
			  enum cgroup_controller other)
{
	return other == c || (host->version[other] == 1 && host->with[other] == c + 1);
}

/* The parent chain, top down, in one hierarchy; v1 cpusets get cpus/mems when still empty. */
static void plan_parents(struct builder *b, enum cgroup_controller c)
{
	char path[4096] = "";
	const char *p = b->host->parent;

	while (*p && b->r >= 0) {
		size_t n = strcspn(p, "/");
		struct action *a;

		(void)snprintf(path + strlen(path), sizeof(path) - strlen(path), "%s%.*s",
			       path[0] ? "/" : "", (int)n, p);
		builder_add(b, ACTION_MKDIR, c, path, NULL, "parent group");
		if (hierarchy_has(b->host, c, CGROUP_CPUSET) && b->host->version[c] == 1) {
			_cleanup_free_ char *cpus = cpus_text(b, &b->host->topo->cpus);
			_cleanup_free_ char *mems = cpus_text(b, &b->host->topo->nodes);

			/* An administrator's own restriction of the parent is kept. */
			a = builder_write(b, CGROUP_CPUSET, path, "cpuset.cpus", NULL,
					  "parent cpuset", "%s", cpus ?: "");
			if (a)
				a->only_if_empty = true;
			a = builder_write(b, CGROUP_CPUSET, path, "cpuset.mems", NULL,
					  "parent cpuset", "%s", mems ?: "");
			if (a)
				a->only_if_empty = true;
		}
		p += n;
		p += *p == '/';
	}
}

/* cgroup v2: controllers reach the VM group through every ancestor's subtree_control. */
static void plan_v2_subtree(struct builder *b)
{
	char controllers[64] = "", path[4096] = "";
	static const struct {
		enum cgroup_controller c;
		const char *name;
	} domain[] = { { CGROUP_CPU, "cpu" },
		       { CGROUP_CPUSET, "cpuset" },
		       { CGROUP_MEMORY, "memory" },
		       { CGROUP_IO, "io" },
		       { CGROUP_PIDS, "pids" } };
	const char *p = b->host->parent;

	for (size_t i = 0; i < ARRAY_SIZE(domain); i++)
		if (b->host->version[domain[i].c] == 2)
			(void)snprintf(controllers + strlen(controllers),
				       sizeof(controllers) - strlen(controllers), "%s+%s",
				       controllers[0] ? " " : "", domain[i].name);
	if (!controllers[0])
		return;
	builder_write(b, CGROUP_CPU, "", "cgroup.subtree_control", NULL, "enable controllers", "%s",
		      controllers);
	while (*p && b->r >= 0) {
		size_t n = strcspn(p, "/");

		(void)snprintf(path + strlen(path), sizeof(path) - strlen(path), "%s%.*s",
			       path[0] ? "/" : "", (int)n, p);
		builder_write(b, CGROUP_CPU, path, "cgroup.subtree_control", NULL,
			      "enable controllers", "%s", controllers);
		p += n;
		p += *p == '/';
	}
}

static void plan_threads(struct builder *b, const struct group *g, size_t n_groups,
			 const char *vm_group, bool v2)
{
	FOREACH_ARRAY (t, b->vm->threads, b->vm->n_threads) {
		char name[160];
		const struct group *tg = NULL;
		_cleanup_free_ char *path = NULL;

		thread_group_name(t, name, sizeof(name));
		for (size_t i = 0; i < n_groups; i++)
			if (streq(g[i].name, name))
				tg = &g[i];
		path = join(vm_group, name);
		if (!path || !tg) {
			b->r = -ENOMEM;
			return;
		}
		for (size_t i = 0; i < ARRAY_SIZE(thread_controllers); i++) {
			enum cgroup_controller c = thread_controllers[i];
			struct action *a;

			if (!owns_hierarchy(b->host, c) || (v2 && c != CGROUP_CPU))
				continue;
			a = builder_add(b, ACTION_ATTACH_THREAD, c, path, NULL, "%s thread", name);
			if (a)
				target_thread(a, b->vm, t);
		}
		if (!cpuset_is_empty(&tg->cpus)) {
			struct action *a = builder_add(b, ACTION_AFFINITY, 0, NULL, tg->cpus_origin,
						       "%s affinity", name);

			if (!a)
				return;
			target_thread(a, b->vm, t);
			if (cpuset_copy(&a->cpus, &tg->cpus) < 0)
				b->r = -ENOMEM;
		}
	}
}

static int sched_to_kernel(enum sched_policy p)
{
	switch (p) {
	case SCHED_POLICY_BATCH:
		return SCHED_BATCH;
	case SCHED_POLICY_IDLE:
		return SCHED_IDLE;
	case SCHED_POLICY_FIFO:
		return SCHED_FIFO;
	case SCHED_POLICY_RR:
		return SCHED_RR;
	default:
		return SCHED_OTHER;
	}
}

/*
 * Schedulers last, vCPUs and iothreads before the emulator (libvirt's order). When a policy
 * sets any scheduler, the threads it does not name run SCHED_OTHER: new threads inherit their
 * creator's policy, and a vCPU must not keep the emulator's. With none set, none is touched.
 */
static void plan_schedulers(struct builder *b)
{
	static const struct psched other = { .set = true, .policy = SCHED_POLICY_OTHER };
	const struct policy *p = b->policy;
	bool any = p->cputune.n_vcpusched > 0 || p->cputune.n_iothreadsched > 0 ||
		   p->cputune.emulatorsched.set;

	if (!any || b->host->launching)
		return;

	for (int pass = 0; pass < 2; pass++)
		FOREACH_ARRAY (t, b->vm->threads, b->vm->n_threads) {
			const struct psched *s = NULL;
			struct action *a;
			char name[160];

			if ((pass == 0) == (t->role == ROLE_EMULATOR))
				continue;
			if (t->role == ROLE_VCPU) {
				FOREACH_ARRAY (e, p->cputune.vcpusched, p->cputune.n_vcpusched)
					if (cpuset_contains(&e->vcpus, (unsigned)t->vcpu))
						s = &e->sched;
			} else if (t->role == ROLE_IOTHREAD) {
				FOREACH_ARRAY (e, p->cputune.iothreadsched,
					       p->cputune.n_iothreadsched)
					if (streq(e->id, t->iothread))
						s = &e->sched;
			} else if (p->cputune.emulatorsched.set &&
				   !(t->stat.flags & (PF_USER_WORKER | PF_IO_WORKER)))
				s = &p->cputune.emulatorsched;
			if (!s && (t->stat.flags & (PF_USER_WORKER | PF_IO_WORKER)))
				continue; /* kernel-made threads are the kernel's */
			if (!s)
				s = &other;
			a = builder_add(b, ACTION_SCHEDULER, 0, NULL,
					s == &other ? NULL : &s->origin, "%s scheduler",
					thread_group_name(t, name, sizeof(name)));
			if (a) {
				target_thread(a, b->vm, t);
				a->sched_policy = sched_to_kernel(s->policy);
				a->sched_priority = s->priority;
			}
		}
}

static void plan_cpusets(struct builder *b, const struct group *g, size_t n, const char *vm_group)
{
	_cleanup_(cpuset_done) struct cpuset all = {}, mems = {};
	const struct origin *mems_origin;
	bool strict = plan_mems(b, &mems, &mems_origin);
	_cleanup_free_ char *mems_text = cpus_text(b, &mems), *all_text = NULL;
	bool v1 = b->host->version[CGROUP_CPUSET] == 1;

	if (b->host->version[CGROUP_CPUSET] == 0) {
		/* No cpuset to bind it: move the pages themselves, at every apply. */
		struct action *a =
			strict ? builder_add(b, ACTION_MIGRATE_PAGES, 0, NULL, mems_origin,
					     "numa nodes (no cpuset controller)")
			       : NULL;

		if (a) {
			target_process(a, b->vm);
			if (cpuset_copy(&a->nodes, &mems) < 0)
				b->r = -ENOMEM;
		}
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (cpuset_union(&all, &g[i].cpus) < 0)
			b->r = -ENOMEM;
	all_text = cpus_text(b, &all);
	if (b->r < 0)
		return;
	/* v1 moves pages already allocated only with memory_migrate set first. */
	if (v1)
		builder_write(b, CGROUP_CPUSET, vm_group, "cpuset.memory_migrate", mems_origin,
			      "numa migrate", "1");
	if (*all_text)
		builder_write(b, CGROUP_CPUSET, vm_group, "cpuset.cpus", NULL, "VM cpuset", "%s",
			      all_text);
	builder_write(b, CGROUP_CPUSET, vm_group, "cpuset.mems", mems_origin, "numa nodes", "%s",
		      mems_text);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *path = join(vm_group, g[i].name);
		_cleanup_free_ char *text = cpus_text(b, &g[i].cpus);

		if (!path || !text) {
			b->r = -ENOMEM;
			return;
		}
		if (v1)
			builder_write(b, CGROUP_CPUSET, path, "cpuset.memory_migrate", mems_origin,
				      "numa migrate", "1");
		if (*text)
			builder_write(b, CGROUP_CPUSET, path, "cpuset.cpus", g[i].cpus_origin,
				      "pinning", "%s", text);
		builder_write(b, CGROUP_CPUSET, path, "cpuset.mems", mems_origin, "numa nodes",
			      "%s", mems_text);
	}
}

int plan_vm(const struct policy *effective, const struct vm *vm, const struct plan_host *host,
	    struct plan *ret)
{
	struct plan p = {};
	struct builder b = { .plan = &p, .host = host, .policy = effective, .vm = vm };
	_cleanup_free_ char *scope = vm_scope_name(vm->name);
	struct group *g = NULL;
	size_t n = 0;
	bool v2 = host->version[CGROUP_CPU] == 2;

	if (!scope || !(p.vm_group = join(host->parent, scope)))
		return -ENOMEM;
	b.r = collect_groups(&b, &g, &n);
	/* Groups: v2 is one hierarchy; v1 has one per controller. */
	for (size_t i = 0; i < ARRAY_SIZE(vm_controllers) && b.r >= 0; i++) {
		enum cgroup_controller c = vm_controllers[i];

		if (!owns_hierarchy(host, c) || (v2 && c != CGROUP_CPU))
			continue;
		plan_parents(&b, c);
		if (v2)
			plan_v2_subtree(&b);
		builder_add(&b, ACTION_MKDIR, c, p.vm_group, NULL, "VM group");
		if (v2) {
			/* The process in first: then the group may become a thread root. */
			struct action *a = builder_add(&b, ACTION_ATTACH_PROCESS, c, p.vm_group,
						       NULL, "VM process");
			if (a)
				target_process(a, vm);
		}
		if (!v2 && !is_thread_controller(c))
			continue;
		for (size_t k = 0; k < n; k++) {
			_cleanup_free_ char *path = join(p.vm_group, g[k].name);

			builder_add(&b, ACTION_MKDIR, c, path, NULL, "thread group");
			if (v2)
				builder_write(&b, c, path, "cgroup.type", NULL, "threaded group",
					      "threaded");
		}
		if (v2)
			builder_write(&b, c, p.vm_group, "cgroup.subtree_control", NULL,
				      "thread controllers", "%s%s",
				      host->version[CGROUP_CPU] == 2 ? "+cpu" : "",
				      host->version[CGROUP_CPUSET] == 2 ? " +cpuset" : "");
	}
	if (b.r >= 0)
		plan_cpusets(&b, g, n, p.vm_group);
	if (b.r >= 0 && host->version[CGROUP_CPU]) {
		if (host->version[CGROUP_CPU] == 1)
			builder_write(
				&b, CGROUP_CPU, p.vm_group, "cpu.shares",
				origin_of(&effective->cputune.shares, &effective->cputune.weight),
				"cpu weight", "%" PRIu64, shares_of(effective));
		else
			builder_write(
				&b, CGROUP_CPU, p.vm_group, "cpu.weight",
				origin_of(&effective->cputune.weight, &effective->cputune.shares),
				"cpu weight", "%" PRIu64, weight_of(effective));
		plan_bandwidth(&b, p.vm_group, &effective->cputune.global_period,
			       &effective->cputune.global_quota, "global quota");
		for (size_t k = 0; k < n; k++) {
			_cleanup_free_ char *path = join(p.vm_group, g[k].name);

			plan_bandwidth(&b, path, g[k].period, g[k].quota, g[k].name);
		}
	}
	if (b.r >= 0)
		plan_memory(&b, p.vm_group);
	if (b.r >= 0)
		plan_io(&b, p.vm_group);
	/* v1: the whole process into the VM group of the hierarchies without thread groups. */
	for (size_t i = 0; i < ARRAY_SIZE(vm_controllers) && b.r >= 0 && !v2; i++) {
		enum cgroup_controller c = vm_controllers[i];
		struct action *a;

		if (host->version[c] != 1 || !owns_hierarchy(host, c) || is_thread_controller(c))
			continue;
		a = builder_add(&b, ACTION_ATTACH_PROCESS, c, p.vm_group, NULL, "VM process");
		if (a)
			target_process(a, vm);
	}
	if (b.r >= 0)
		plan_threads(&b, g, n, p.vm_group, v2);
	if (b.r >= 0)
		plan_schedulers(&b);
	if (b.r >= 0)
		b.r = plan_disk_throttles(&p, effective, vm);
	free_groups(g, n);
	if (b.r < 0) {
		plan_done(&p);
		return b.r;
	}
	*ret = p;
	return 0;
}

int plan_remove(const char *group, const struct plan_host *host, struct plan *ret)
{
	struct plan p = {};
	struct builder b = { .plan = &p, .host = host };
	bool v2 = host->version[CGROUP_CPU] == 2;

	p.vm_group = strdup(group);
	if (!p.vm_group)
		return -ENOMEM;
	for (size_t i = 0; i < ARRAY_SIZE(vm_controllers) && b.r >= 0; i++) {
		enum cgroup_controller c = vm_controllers[i];

		if (!owns_hierarchy(host, c) || (v2 && c != CGROUP_CPU))
			continue;
		/* The applier removes the thread groups below it first. */
		builder_add(&b, ACTION_RMDIR, c, group, NULL, "VM gone");
	}
	if (b.r < 0) {
		plan_done(&p);
		return b.r;
	}
	*ret = p;
	return 0;
}
