/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "blockdev.h"
#include "cgroup-read.h"
#include "cgroup-write.h"
#include "enforce.h"
#include "launch-lock.h"
#include "macro.h"
#include "numa-maps.h"
#include "plan-disks.h"
#include "plan-unit.h"
#include "unit-name.h"

char *enforce_vm_group(const struct enforcer *e, const struct vm *vm)
{
	_cleanup_free_ char *scope = vm_scope_name(vm->name);
	char *group;

	if (!scope ||
	    asprintf(&group, "%s%s%s", e->host->parent, *e->host->parent ? "/" : "", scope) < 0)
		return NULL;
	return group;
}

static struct plan_device *resolve_devices(const struct enforcer *e, const struct policy *p,
					   size_t *ret_n)
{
	struct plan_device *d = calloc(p->blkiotune.n_devices + 1, sizeof(*d));

	for (size_t i = 0; d && i < p->blkiotune.n_devices; i++) {
		d[i].path = p->blkiotune.devices[i].path;
		d[i].result = blockdev_resolve(e->sys_fd, d[i].path, &d[i].dev);
	}
	*ret_n = d ? p->blkiotune.n_devices : 0;
	if (d && e->slice)
		plan_unit_devices(d, *ret_n);
	return d;
}

/* The VM group's current memory limits: the order of the v1 memory writes depends on them. */
static void read_memory_limits(const struct enforcer *e, const char *group, struct plan_host *h)
{
	int fd, version;
	struct cg_memory m;

	if (cgroup_fs_controller(e->cgroups, CGROUP_MEMORY, &fd, &version) < 0)
		return;
	(void)cg_read_memory(fd, version, group, &m);
	h->memory_limit = m.have_limit ? m.limit : CG_UNLIMITED;
	h->memsw_limit = m.have_swap ? m.swap : CG_UNLIMITED;
}

/* Whether the policy sets a memory policy only a process can give itself (at launch). */
static bool launch_only_numatune(const struct policy *p)
{
	const struct penum *m = &p->numatune.mode;

	return m->set && (m->value == NUMA_MODE_PREFERRED || m->value == NUMA_MODE_INTERLEAVE);
}

/* The VM group's per-device I/O entries: those the policy no longer names are removed. */
static void read_io_entries(const struct enforcer *e, const char *group, struct cg_io_entry **io,
			    struct plan_host *h)
{
	int fd, version;

	if (cgroup_fs_controller(e->cgroups, CGROUP_IO, &fd, &version) >= 0 &&
	    cg_read_io_entries(fd, version, group, io, &h->n_io_entries) >= 0)
		h->io_entries = *io;
}

static bool vm_still_runs(const struct enforcer *e, const struct vm *vm)
{
	struct proc_stat st;

	return proc_read_stat(e->proc_fd, vm->pid, 0, &st) >= 0 && st.starttime == vm->starttime;
}

static int run_plan(struct enforcer *e, const struct plan *p, struct apply_stats *stats)
{
	struct apply_ctx ctx = {
		.bus = e->bus,
		.fs = e->cgroups,
		.proc_fd = e->proc_fd,
		.dry_run = e->dry_run,
		.wait_for_units = e->wait_for_units,
		.overlay = &e->overlay,
		.report = e->report,
		.userdata = e->userdata,
	};

	return apply_plan(&ctx, p, stats);
}

int enforce_remove(struct enforcer *e, const char *vm_group, struct apply_stats *stats)
{
	_cleanup_(plan_done) struct plan plan = {};
	int r = plan_remove(vm_group, e->host, &plan);

	return r < 0 ? r : run_plan(e, &plan, stats);
}

int enforce_plan(struct enforcer *e, const struct policy *effective, const struct vm *vm,
		 struct plan *ret)
{
	_cleanup_free_ struct plan_device *devices = NULL;
	_cleanup_free_ char *group = enforce_vm_group(e, vm), *memory_policy = NULL;
	_cleanup_free_ struct cg_io_entry *io = NULL;
	struct plan_host host = *e->host; /* with this VM's own facts added */
	int r;

	if (!group)
		return -ENOMEM;
	host.launching = e->launching;
	devices = resolve_devices(e, effective, &host.n_devices);
	host.devices = devices;
	read_memory_limits(e, group, &host);
	read_io_entries(e, group, &io, &host);
	if (!e->launching && launch_only_numatune(effective))
		(void)numa_maps_read_policy(e->proc_fd, vm->pid, &memory_policy);
	host.memory_policy = memory_policy;
	r = plan_vm(effective, vm, &host, ret);
	/* Launching, the process is not QEMU yet: its disks are apply's or kvmtuned's later. */
	if (r >= 0 && (e->skip_disks || e->launching))
		plan_drop_disk_throttles(ret);
	if (r >= 0 && e->slice)
		r = plan_unit(ret, vm, &host, e->slice);
	if (r < 0)
		plan_done(ret);
	return r;
}

/* Whether a's process sits in the VM group of its name (as discovery saw it). */
static bool in_own_group(const struct enforcer *e, const struct vm *a)
{
	_cleanup_free_ char *group = enforce_vm_group(e, a);

	return group && a->cgroup && cgroup_path_is_in(a->cgroup, group, true);
}

/* Whether a, rather than b, keeps the group both their names make. */
static bool holds_before(const struct enforcer *e, const struct vm *a, const struct vm *b)
{
	bool in_a = in_own_group(e, a), in_b = in_own_group(e, b);

	if (in_a != in_b)
		return in_a;
	if (a->starttime != b->starttime)
		return a->starttime < b->starttime;
	return a->pid < b->pid;
}

const struct vm *enforce_group_holder(const struct enforcer *e, const struct vm *vm)
{
	const struct vm *holder = vm;

	for (size_t i = 0; i < e->n_vms; i++) {
		const struct vm *o = e->vms[i];

		if (o->pid != vm->pid && streq(o->name, vm->name) && holds_before(e, o, holder))
			holder = o;
	}
	return holder;
}

int enforce_check_host(const struct plan_host *host, const struct policy *p,
		       struct diag_list *diags)
{
	const struct psize *min = &p->memtune.min_guarantee;

	if (min->set && host->version[CGROUP_MEMORY] == 1)
		return diag_add(
			diags, DIAG_ERROR, min->origin.file, min->origin.line, min->origin.column,
			"memtune.min_guarantee",
			"not available on cgroup v1, which this host's memory controller is "
			"(allowed: on cgroup v2 hosts only, as memory.min)");
	return 0;
}

int enforce_vm(struct enforcer *e, const struct vm *vm, struct diag_list *diags,
	       struct enforce_result *ret)
{
	_cleanup_(plan_done) struct plan plan = {};
	_cleanup_free_ struct policy_fit *fits = NULL;
	struct vm_identity id = vm_identity(vm);
	size_t n_fits = 0, errors = diags->n_errors;
	int merged, r;

	*ret = (struct enforce_result){};
	merged = policy_set_effective(e->policies, &id, &ret->effective, &fits, &n_fits);
	if (merged < 0)
		return merged;
	if (merged == 0) {
		ret->no_policy = true;
		return 0;
	}
	if (enforce_group_holder(e, vm) != vm) {
		ret->group_taken_by = enforce_group_holder(e, vm);
		return 0;
	}
	r = policy_check_effective(&ret->effective, diags);
	if (r >= 0)
		r = enforce_check_host(e->host, &ret->effective, diags);
	if (r < 0)
		return r;
	if (diags->n_errors > errors) {
		ret->rule_broken = true;
		return 0;
	}
	r = enforce_plan(e, &ret->effective, vm, &plan);
	if (r >= 0)
		r = run_plan(e, &plan, &ret->stats);
	if (r < 0)
		return r;
	ret->vm_group = strdup(plan.vm_group);
	if (!ret->vm_group)
		return -ENOMEM;
	if (!e->dry_run && !vm_still_runs(e, vm)) {
		/* The VM ended while we worked: its groups go with it. */
		ret->ended = true;
		return enforce_remove(e, plan.vm_group, &ret->stats);
	}
	return 0;
}

/* Whether the action is one for thread tid alone: its moves, affinity and scheduler. */
static bool thread_action(const struct action *a, pid_t tid)
{
	return a->tid == tid && (a->kind == ACTION_ATTACH_THREAD || a->kind == ACTION_AFFINITY ||
				 a->kind == ACTION_SCHEDULER);
}

int enforce_thread(struct enforcer *e, const struct policy *effective, const struct vm *vm,
		   pid_t tid, struct apply_stats *stats)
{
	_cleanup_(plan_done) struct plan plan = {}, mine = {};
	/* The host's facts alone: the VM's own (devices, memory limits) shape only group values,
	 * none of a thread's actions. */
	int r = plan_vm(effective, vm, e->host, &plan);

	if (r < 0)
		return r;
	FOREACH_ARRAY (a, plan.actions, plan.n) {
		struct action *to;
		int fd, version;

		if (!thread_action(a, tid))
			continue;
		/* A group not there (hot-plugged vCPU, removed by someone): its values are
		 * unset too, which only the whole VM's enforcement sets. */
		if (a->kind == ACTION_ATTACH_THREAD &&
		    (cgroup_fs_controller(e->cgroups, a->controller, &fd, &version) < 0 ||
		     cgroup_exists(fd, a->group) <= 0))
			return 0;
		to = plan_append(&mine, a->kind);
		if (!to)
			return -ENOMEM;
		*to = *a; /* moved: the plan keeps a zeroed action */
		*a = (struct action){};
	}
	if (mine.n == 0)
		return 0; /* nothing for it: the whole VM is looked at instead */
	mine.vm_group = TAKE_PTR(plan.vm_group);
	r = run_plan(e, &mine, stats);
	return r < 0 ? r : 1;
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The scope names of e->vms, sorted (a lookup per group, not a loop over the VMs). */
static char **scope_names(const struct enforcer *e)
{
	char **names = calloc(e->n_vms + 1, sizeof(char *));

	for (size_t i = 0; names && i < e->n_vms; i++)
		if (!(names[i] = vm_scope_name(e->vms[i]->name))) {
			for (size_t k = 0; k < i; k++)
				free(names[k]);
			free(names);
			return NULL;
		}
	if (names)
		qsort(names, e->n_vms, sizeof(char *), compare_strings);
	return names;
}

/* Whether name (a directory below the parent) is a VM group whose VM no longer runs. */
static bool is_stale(const struct enforcer *e, const char *name, char **live)
{
	/* Only VM groups: a slice such as kvmtune-test.slice also lives here on systemd. */
	return strncmp(name, "kvmtune-", 8) == 0 && has_suffix(name, ".scope") &&
	       !bsearch(&name, live, e->n_vms, sizeof(char *), compare_strings);
}

/* Adds the stale VM groups below the parent in one hierarchy to *names, each once. */
static int find_stale(const struct enforcer *e, int hierarchy_fd, char **live, char ***names,
		      size_t *n, size_t *allocated)
{
	int fd = cgroup_open(hierarchy_fd, e->host->parent, O_RDONLY | O_DIRECTORY);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	int r = 0;

	if (!d) {
		safe_close(fd);
		return 0; /* no parent yet: nothing to remove */
	}
	for (struct dirent *de; r >= 0 && (de = readdir(d));) {
		bool seen = false;

		if (de->d_type != DT_DIR || !is_stale(e, de->d_name, live))
			continue;
		for (size_t i = 0; i < *n && !seen; i++)
			seen = streq((*names)[i], de->d_name);
		if (seen)
			continue;
		if (GROW_ARRAY(*names, *allocated, *n + 1) < 0 ||
		    !((*names)[*n] = strdup(de->d_name)))
			r = -ENOMEM;
		else
			(*n)++;
	}
	closedir(d);
	return r;
}

/* Whether a thread is in group, or below it, in any hierarchy. */
static bool in_use(const struct enforcer *e, const char *group)
{
	for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++) {
		int fd, version;

		if (cgroup_fs_controller(e->cgroups, c, &fd, &version) >= 0 &&
		    (version == 1 || c == CGROUP_CPU) &&
		    cgroup_fs_first_in_hierarchy(e->cgroups, c) &&
		    cgroup_has_threads(fd, group, version) != 0)
			return true; /* an error too: a group kvmtune cannot look into stays */
	}
	return false;
}

int enforce_remove_stale(struct enforcer *e, struct apply_stats *stats)
{
	_cleanup_close_ int lock = e->runtime_dir ? launch_lock_exclusive(e->runtime_dir) : -ENOENT;
	char **live = NULL, **stale = NULL;
	size_t n = 0, allocated = 0;
	int r;

	if (lock == -EWOULDBLOCK)
		return 0; /* a launch is under way: the next pass removes what is stale */
	live = scope_names(e);
	r = live ? 0 : -ENOMEM;

	/* On v1 every hierarchy is looked at: systemd trims machine.slice in a hierarchy it stops
	 * needing, so an ended VM's cpu group may be gone while its cpuset group (never systemd's)
	 * stays. v2 is one hierarchy. */
	for (int c = 0; c < _CGROUP_CONTROLLER_MAX && r >= 0; c++) {
		int fd, version;

		if (cgroup_fs_controller(e->cgroups, c, &fd, &version) >= 0 &&
		    (version == 1 || c == CGROUP_CPU) &&
		    cgroup_fs_first_in_hierarchy(e->cgroups, c))
			r = find_stale(e, fd, live, &stale, &n, &allocated);
	}
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *group = NULL;

		if (r >= 0 && asprintf(&group, "%s%s%s", e->host->parent,
				       *e->host->parent ? "/" : "", stale[i]) < 0)
			r = -ENOMEM;
		if (r >= 0 && !in_use(e, group))
			r = enforce_remove(e, group, stats);
		free(stale[i]);
	}
	free(stale);
	for (size_t i = 0; live && i < e->n_vms; i++)
		free(live[i]);
	free(live);
	return r;
}

void enforce_result_done(struct enforce_result *r)
{
	free(r->vm_group);
	policy_done(&r->effective);
	*r = (struct enforce_result){};
}

void enforcer_done(struct enforcer *e)
{
	cgroup_overlay_done(&e->overlay);
}
