/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "blockdev.h"
#include "cgroup-read.h"
#include "cgroup-write.h"
#include "enforce.h"
#include "fileio.h"
#include "macro.h"
#include "unit-name.h"

static bool any_disk_offers_bfq(void)
{
	DIR *d = opendir("/sys/block");
	bool found = false;

	for (struct dirent *de; d && !found && (de = readdir(d));) {
		char path[300];
		_cleanup_free_ char *s = NULL;

		if (de->d_name[0] == '.')
			continue;
		(void)snprintf(path, sizeof(path), "/sys/block/%s/queue/scheduler", de->d_name);
		if (read_file_at(AT_FDCWD, path, 4096, &s, NULL) >= 0 && strstr(s, "bfq"))
			found = true;
	}
	if (d)
		closedir(d);
	return found;
}

/* The host facts of this pass: read once, at the first VM that needs them. */
static const struct plan_host *host_facts(struct enforcer *e)
{
	struct plan_host *h = &e->host;

	if (e->have_host)
		return h;
	e->have_host = true;
	*h = (struct plan_host){
		.topo = e->topo,
		.parent = e->settings->cgroup_parent.value,
		.memory_limit = CG_UNLIMITED,
		.memsw_limit = CG_UNLIMITED,
	};
	for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++) {
		int fd, version;

		if (cgroup_fs_controller(e->cgroups, c, &fd, &version) >= 0)
			h->version[c] = version;
	}
	if (h->version[CGROUP_MEMORY] == 1) {
		int fd, version;
		_cleanup_free_ char *s = NULL;

		(void)cgroup_fs_controller(e->cgroups, CGROUP_MEMORY, &fd, &version);
		h->memsw = cgroup_read(fd, "", "memory.memsw.limit_in_bytes", &s) >= 0;
	}
	h->bfq = any_disk_offers_bfq();
	if (e->bus && slice_path(h->parent, &e->slice_group) >= 0) {
		/* The settings name the slice; its cgroup may be deeper ("a-b.slice"). */
		h->systemd = true;
		h->slice = h->parent;
		h->parent = e->slice_group;
	}
	return h;
}

static struct plan_device *enforce_resolve_devices(const struct policy *p, size_t *ret_n)
{
	struct plan_device *d = calloc(p->blkiotune.n_devices + 1, sizeof(*d));
	int sys_fd = open("/sys", O_PATH | O_DIRECTORY | O_CLOEXEC);

	for (size_t i = 0; d && i < p->blkiotune.n_devices; i++) {
		d[i].path = p->blkiotune.devices[i].path;
		d[i].result = blockdev_resolve(sys_fd, d[i].path, &d[i].dev);
	}
	safe_close(sys_fd);
	*ret_n = d ? p->blkiotune.n_devices : 0;
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
		.overlay = &e->overlay,
		.report = e->report,
		.userdata = e->userdata,
	};

	return apply_plan(&ctx, p, stats);
}

int enforce_remove(struct enforcer *e, const char *vm_group, struct apply_stats *stats)
{
	_cleanup_(plan_done) struct plan plan = {};
	int r = plan_remove(vm_group, host_facts(e), &plan);

	return r < 0 ? r : run_plan(e, &plan, stats);
}

int enforce_plan(struct enforcer *e, const struct policy *effective, const struct vm *vm,
		 bool launching, struct plan *ret)
{
	_cleanup_free_ struct plan_device *devices = NULL;
	struct plan_host host = *host_facts(e); /* with this VM's own facts added below */
	int r;

	host.launching = launching;
	devices = enforce_resolve_devices(effective, &host.n_devices);
	host.devices = devices;
	r = plan_vm(effective, vm, &host, ret);
	if (r < 0)
		return r;
	/* The v1 memory ordering depends on the current limits: plan again with them. */
	read_memory_limits(e, ret->vm_group, &host);
	plan_done(ret);
	return plan_vm(effective, vm, &host, ret);
}

int enforce_vm(struct enforcer *e, const struct vm *vm, struct diag_list *diags,
	       struct enforce_result *ret)
{
	_cleanup_(policy_done) struct policy effective = {};
	_cleanup_(plan_done) struct plan plan = {};
	_cleanup_free_ struct policy_fit *fits = NULL;
	struct vm_identity id = vm_identity(vm);
	size_t n_fits = 0, errors = diags->n_errors;
	int merged = policy_set_effective(e->policies, &id, &effective, &fits, &n_fits), r;

	*ret = (struct enforce_result){};
	if (merged < 0)
		return merged;
	if (merged == 0) {
		ret->no_policy = true;
		return 0;
	}
	r = policy_check_effective(&effective, diags);
	if (r < 0)
		return r;
	if (diags->n_errors > errors) {
		ret->rule_broken = true;
		return 0;
	}
	r = enforce_plan(e, &effective, vm, false, &plan);
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

static bool vm_runs_in(const struct vm *vms, size_t n_vms, const char *scope_name)
{
	for (size_t i = 0; i < n_vms; i++) {
		_cleanup_free_ char *scope = vm_scope_name(vms[i].name);

		if (scope && streq(scope, scope_name))
			return true;
	}
	return false;
}

static bool is_vm_group(const char *name)
{
	/* Only VM groups: a slice such as kvmtune-test.slice also lives here on systemd. */
	return strncmp(name, "kvmtune-", 8) == 0 && has_suffix(name, ".scope");
}

/* Adds the VM groups below the parent of one hierarchy to names, each name once. */
static int list_vm_groups(struct enforcer *e, int hierarchy_fd, char ***names, size_t *n,
			  size_t *allocated)
{
	int fd = cgroup_open(hierarchy_fd, host_facts(e)->parent, O_RDONLY | O_DIRECTORY);
	DIR *d;
	int r = 0;

	if (fd < 0 || !(d = fdopendir(fd))) {
		safe_close(fd);
		return 0; /* no parent yet: nothing to remove */
	}
	for (struct dirent *de; r >= 0 && (de = readdir(d));) {
		bool seen = false;

		if (de->d_type != DT_DIR || !is_vm_group(de->d_name))
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

int enforce_remove_stale(struct enforcer *e, const struct vm *vms, size_t n_vms,
			 struct apply_stats *stats)
{
	char **names = NULL;
	size_t n = 0, allocated = 0;
	int r = 0;

	/* On v1 every hierarchy is looked at: systemd trims machine.slice in a hierarchy it stops
	 * needing there, so an ended VM's cpu group may be gone while its cpuset group (never
	 * systemd's) stays. v2 is one hierarchy. */
	for (int c = 0; c < _CGROUP_CONTROLLER_MAX && r >= 0; c++) {
		int fd, version;

		if (cgroup_fs_controller(e->cgroups, c, &fd, &version) >= 0 &&
		    (version == 1 || c == CGROUP_CPU))
			r = list_vm_groups(e, fd, &names, &n, &allocated);
	}
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *group = NULL;

		if (r >= 0 && !vm_runs_in(vms, n_vms, names[i]))
			r = asprintf(&group, "%s/%s", host_facts(e)->parent, names[i]) < 0
				    ? -ENOMEM
				    : enforce_remove(e, group, stats);
		free(names[i]);
	}
	free(names);
	return r;
}

void enforce_result_done(struct enforce_result *r)
{
	free(r->vm_group);
	*r = (struct enforce_result){};
}

void enforcer_done(struct enforcer *e)
{
	apply_overlay_done(&e->overlay);
	free(e->slice_group);
	e->slice_group = NULL;
}
