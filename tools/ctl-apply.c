/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* kvmtunectl apply [--dry-run] [VM...]: enforce the policies now, with the daemon's engine. */

#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <string.h>

#include "apply.h"
#include "cgroup-read.h"
#include "cgroup-write.h"
#include "ctl.h"
#include "unit-name.h"

struct reporter {
	const struct cgroup_fs *fs;
	bool dry_run;
	const char *vm;
	unsigned failed;
};

/* "/sys/fs/cgroup/cpu/machine.slice/kvmtune-web.scope/vcpu0/cpu.cfs_quota_us" */
static void print_path(const struct cgroup_fs *fs, const struct action *a, FILE *f)
{
	int fd, version;

	if (cgroup_fs_controller(fs, a->controller, &fd, &version) < 0)
		version = 0;
	fprintf(f, "%s%s%s/%s%s%s", fs->root, version == 1 ? "/" : "",
		version == 1 ? cgroup_controller_v1_name(a->controller) : "", a->group,
		a->file ? "/" : "", a->file ?: "");
}

static void report(void *userdata, const struct action *a, enum apply_outcome o, const char *old,
		   int error)
{
	struct reporter *r = userdata;
	FILE *f = o == APPLY_FAILED ? stderr : stdout;
	const char *verb = o == APPLY_WOULD ? "would " : "";

	if (o == APPLY_GONE)
		return; /* a thread or the VM ended meanwhile: nothing to enforce */
	if (o == APPLY_WARNING) {
		fprintf(stderr, "kvmtunectl: %s: warning: %s", r->vm, a->value);
		if (a->origin)
			fprintf(stderr, " (%s:%u)", a->origin->file, a->origin->line);
		fputc('\n', stderr);
		return;
	}
	if (o == APPLY_FAILED) {
		r->failed++;
		fprintf(f, "kvmtunectl: %s: could not enforce %s: ", r->vm, a->what);
	} else
		fprintf(f, "  %s%s ", verb, action_kind_to_string(a->kind));
	switch (a->kind) {
	case ACTION_WRITE:
		print_path(r->fs, a, f);
		fprintf(f, " = %s", a->value);
		if (old)
			fprintf(f, " (was %s)", *old ? old : "empty");
		break;
	case ACTION_MKDIR:
	case ACTION_RMDIR:
		print_path(r->fs, a, f);
		break;
	case ACTION_ATTACH_PROCESS:
	case ACTION_ATTACH_THREAD:
		fprintf(f, "%s %d -> ", a->kind == ACTION_ATTACH_PROCESS ? "pid" : "tid",
			(int)(a->kind == ACTION_ATTACH_PROCESS ? a->pid : a->tid));
		print_path(r->fs, a, f);
		break;
	case ACTION_AFFINITY: {
		_cleanup_free_ char *cpus = cpuset_format(&a->cpus);

		fprintf(f, "tid %d (%s) -> CPUs %s (was %s)", (int)a->tid, a->what, cpus ?: "?",
			old ?: "?");
		break;
	}
	case ACTION_SCHEDULER:
		fprintf(f, "tid %d (%s) -> policy %d priority %d (was %s)", (int)a->tid, a->what,
			a->sched_policy, a->sched_priority, old ?: "?");
		break;
	case ACTION_MIGRATE_PAGES: {
		_cleanup_free_ char *nodes = cpuset_format(&a->cpus);

		fprintf(f, "pid %d memory -> nodes %s (%s)", (int)a->pid, nodes ?: "?", old ?: "?");
		break;
	}
	default:
		break;
	}
	if (a->origin)
		fprintf(f, "  [%s:%u]", a->origin->file, a->origin->line);
	if (o == APPLY_FAILED) {
		const char *why = apply_explain(a, error);

		fprintf(f, ": %s%s%s", strerror(-error), why ? ": " : "", why ?: "");
	}
	fputc('\n', f);
}

/* ---- host facts for the planner ---- */

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

void ctl_host_facts(struct ctl_world *w, struct plan_host *h)
{
	*h = (struct plan_host){
		.topo = w->topo,
		.parent = w->settings.cgroup_parent.value,
		.memory_limit = CG_UNLIMITED,
		.memsw_limit = CG_UNLIMITED,
	};
	for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++) {
		int fd, version;

		if (cgroup_fs_controller(&w->cgroups, c, &fd, &version) >= 0)
			h->version[c] = version;
	}
	if (h->version[CGROUP_MEMORY] == 1) {
		int fd, version;
		_cleanup_free_ char *s = NULL;

		(void)cgroup_fs_controller(&w->cgroups, CGROUP_MEMORY, &fd, &version);
		h->memsw = cgroup_read(fd, "", "memory.memsw.limit_in_bytes", &s) >= 0;
	}
	h->bfq = any_disk_offers_bfq();
}

/* The devices a policy names, resolved to their disks. */
struct plan_device *ctl_resolve_devices(const struct policy *p, size_t *ret_n)
{
	struct plan_device *d = calloc(p->blkiotune.n_devices + 1, sizeof(*d));
	int sys_fd = open("/sys", O_PATH | O_DIRECTORY | O_CLOEXEC);

	for (size_t i = 0; d && i < p->blkiotune.n_devices; i++) {
		d[i].path = p->blkiotune.devices[i].path;
		d[i].result = blockdev_resolve(sys_fd, d[i].path, &d[i].dev);
	}
	safe_close(sys_fd);
	*ret_n = p->blkiotune.n_devices;
	return d;
}

static void read_memory_limits(struct ctl_world *w, const char *group, struct plan_host *h)
{
	int fd, version;
	struct cg_memory m;

	if (cgroup_fs_controller(&w->cgroups, CGROUP_MEMORY, &fd, &version) < 0)
		return;
	(void)cg_read_memory(fd, version, group, &m);
	h->memory_limit = m.have_limit ? m.limit : CG_UNLIMITED;
	h->memsw_limit = m.have_swap ? m.swap : CG_UNLIMITED;
}

/* ---- per VM ---- */

static bool vm_still_runs(struct ctl_world *w, const struct vm *vm)
{
	struct proc_stat st;

	return proc_read_stat(w->proc_fd, vm->pid, 0, &st) >= 0 && st.starttime == vm->starttime;
}

/* One command's run: a dry run remembers, across VMs, what it would already have done. */
struct run {
	bool dry_run;
	struct apply_overlay overlay;
	unsigned failed;
};

static int run_plan(struct ctl_world *w, const struct plan *p, const char *who, struct run *run,
		    struct apply_stats *stats)
{
	bool dry_run = run->dry_run;
	struct reporter rep = { .fs = &w->cgroups, .dry_run = dry_run, .vm = who };
	struct apply_ctx ctx = {
		.fs = &w->cgroups,
		.proc_fd = w->proc_fd,
		.dry_run = dry_run,
		.overlay = &run->overlay,
		.report = report,
		.userdata = &rep,
	};

	return apply_plan(&ctx, p, stats) < 0 ? -ENOMEM : (int)rep.failed;
}

static int apply_vm(struct ctl_world *w, const struct vm *vm, struct run *run)
{
	_cleanup_(policy_done) struct policy effective = {};
	_cleanup_(plan_done) struct plan plan = {};
	_cleanup_free_ struct policy_fit *fits = NULL;
	_cleanup_free_ struct plan_device *devices = NULL;
	_cleanup_(diag_list_done) struct diag_list diags = {};
	struct vm_identity id = vm_identity(vm);
	struct apply_stats stats = {};
	struct plan_host host;
	size_t n_fits = 0;
	int merged = policy_set_effective(&w->policies, &id, &effective, &fits, &n_fits), r;

	if (merged < 0)
		return -ENOMEM;
	if (merged == 0) {
		printf("%s (pid %d): no policy fits; left as it is\n", vm->name, (int)vm->pid);
		return 0;
	}
	if (policy_check_effective(&effective, &diags) < 0)
		return -ENOMEM;
	if (diags.n_errors > 0) {
		diag_list_print(&diags, stderr);
		fprintf(stderr, "kvmtunectl: %s: its merged policy breaks a rule; not applied\n",
			vm->name);
		run->failed++;
		return 0;
	}
	ctl_host_facts(w, &host);
	devices = ctl_resolve_devices(&effective, &host.n_devices);
	host.devices = devices;
	r = plan_vm(&effective, vm, &host, &plan);
	if (r < 0)
		return r;
	read_memory_limits(w, plan.vm_group, &host);
	/* The memory ordering depends on the current limits: plan again with them. */
	plan_done(&plan);
	r = plan_vm(&effective, vm, &host, &plan);
	if (r < 0)
		return r;
	printf("%s (pid %d):\n", vm->name, (int)vm->pid);
	r = run_plan(w, &plan, vm->name, run, &stats);
	if (r < 0)
		return r;
	if (!run->dry_run && !vm_still_runs(w, vm)) {
		/* The VM ended while we worked: its groups go with it. */
		_cleanup_(plan_done) struct plan gone = {};

		printf("  the VM ended meanwhile; removing its groups\n");
		if (plan_remove(plan.vm_group, &host, &gone) < 0 ||
		    run_plan(w, &gone, vm->name, run, &stats) < 0)
			return -ENOMEM;
		return 0;
	}
	run->failed += (unsigned)r;
	printf("  %u %s, %u already so%s%s\n", stats.n[run->dry_run ? APPLY_WOULD : APPLY_DONE],
	       run->dry_run ? "would change" : "changed", stats.n[APPLY_UNCHANGED],
	       stats.n[APPLY_FAILED] ? ", failures above" : "",
	       stats.n[APPLY_WARNING] ? ", warnings above" : "");
	return 0;
}

/* Groups of VMs that no longer run: kvmtune-*.scope below the parent with no VM of that name. */
static int remove_stale(struct ctl_world *w, struct run *run)
{
	struct plan_host host;
	int fd, version;
	DIR *d;

	ctl_host_facts(w, &host);
	if (cgroup_fs_controller(&w->cgroups, CGROUP_CPU, &fd, &version) < 0)
		return 0;
	fd = cgroup_open(fd, host.parent, O_RDONLY | O_DIRECTORY);
	if (fd < 0 || !(d = fdopendir(fd))) {
		safe_close(fd);
		return 0; /* no parent yet: nothing to remove */
	}
	for (struct dirent *de; (de = readdir(d));) {
		_cleanup_(plan_done) struct plan plan = {};
		_cleanup_free_ char *group = NULL;
		struct apply_stats stats = {};
		bool running = false;
		int r;

		if (strncmp(de->d_name, "kvmtune-", 8) != 0 || de->d_type != DT_DIR)
			continue;
		for (size_t i = 0; i < w->n_vms && !running; i++) {
			_cleanup_free_ char *scope = vm_scope_name(w->vms[i].name);

			running = scope && streq(scope, de->d_name);
		}
		if (running)
			continue;
		if (asprintf(&group, "%s/%s", host.parent, de->d_name) < 0 ||
		    plan_remove(group, &host, &plan) < 0)
			return -ENOMEM;
		printf("%s: its VM no longer runs\n", de->d_name);
		r = run_plan(w, &plan, de->d_name, run, &stats);
		if (r < 0)
			return r;
		run->failed += (unsigned)r;
	}
	closedir(d);
	return 0;
}

int verb_apply(struct ctl *c, int argc, char **argv)
{
	static const struct option options[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	_cleanup_(ctl_world_done) struct ctl_world w = {};
	_cleanup_free_ struct vm **vms = NULL;
	struct run run = {};
	size_t n = 0;
	int opt, r;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "nh", options, NULL)) >= 0)
		switch (opt) {
		case 'n':
			run.dry_run = true;
			break;
		case 'h':
			printf("Usage: kvmtunectl apply [--dry-run] [VM...]\n");
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	r = ctl_world_load(c, &w);
	if (r == EXIT_OK && w.cgroups.unified_fd < 0 && w.cgroups.v1_fd[CGROUP_CPU] < 0) {
		fprintf(stderr, "kvmtunectl: no cgroup filesystem at %s\n", w.cgroups.root ?: "?");
		return EXIT_INVALID;
	}
	if (r == EXIT_OK)
		r = ctl_select_vms(&w, argv + optind, (size_t)(argc - optind), &vms, &n);
	if (r != EXIT_OK)
		return r;
	for (size_t i = 0; i < n && r == EXIT_OK; i++)
		if (apply_vm(&w, vms[i], &run) < 0)
			r = log_oom();
	if (r == EXIT_OK && optind == argc && remove_stale(&w, &run) < 0)
		r = log_oom();
	apply_overlay_done(&run.overlay);
	if (r != EXIT_OK)
		return r;
	if (run.failed > 0) {
		fprintf(stderr, "kvmtunectl: %u thing%s could not be enforced (named above)\n",
			run.failed, run.failed == 1 ? "" : "s");
		return EXIT_INVALID;
	}
	return EXIT_OK;
}
