/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* kvmtunectl apply [--dry-run] [VM...]: enforce the policies now, with the daemon's engine. */

#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <string.h>

#include "apply.h"
#include "cgroup-read.h"
#include "cgroup-write.h"
#include "ctl.h"
#include "enforce.h"
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

/* "CPUWeight=200", as `systemctl show` has it. */
static void print_property(const struct unit_property *p, const char *sep, FILE *f)
{
	_cleanup_free_ char *cpus = NULL;

	fprintf(f, "%s%s=", sep, p->name);
	if (p->type == UNIT_PROPERTY_CPUS) {
		cpus = cpuset_format(&p->cpus);
		fputs(cpus ?: "?", f);
		return;
	}
	if (p->type == UNIT_PROPERTY_DEVICE)
		fprintf(f, "%s ", p->device);
	if (p->value == UNIT_INFINITY)
		fputs("infinity", f);
	else
		fprintf(f, "%" PRIu64, p->value);
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
	case ACTION_UNIT_WRITE:
		print_path(r->fs, a, f);
		fprintf(f, " = %s", a->value);
		for (size_t i = 0; i < a->n_props; i++)
			print_property(&a->props[i], i == 0 ? " (" : ", ", f);
		if (a->n_props)
			fputc(')', f);
		if (old && o != APPLY_FAILED)
			fprintf(f, " (was %s)", *old ? old : "empty");
		break;
	case ACTION_SCOPE:
		fprintf(f, "pid %d -> ", (int)a->pid);
		print_path(r->fs, a, f);
		fprintf(f, " in %s", a->value);
		if (old && o != APPLY_FAILED)
			fprintf(f, " (was in %s)", old);
		break;
	case ACTION_MACHINE:
		fprintf(f, "pid %d as %s (systemd-machined)", (int)a->pid, a->value);
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
		if (old && o != APPLY_FAILED)
			fprintf(f, " (was in %s)", old);
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
		const char *why = apply_failure_detail(a, error, old);

		fprintf(f, ": %s%s%s", strerror(-error), why ? ": " : "", why ?: "");
	}
	fputc('\n', f);
}

/* ---- per VM ---- */

static void print_result(const struct vm *vm, const struct enforce_result *res, bool dry_run)
{
	if (res->no_policy) {
		printf("%s (pid %d): no policy fits; left as it is\n", vm->name, (int)vm->pid);
		return;
	}
	if (res->ended)
		printf("  %s ended meanwhile; its groups are removed\n", vm->name);
	else
		printf("  %u %s, %u already so%s%s\n",
		       res->stats.n[dry_run ? APPLY_WOULD : APPLY_DONE],
		       dry_run ? "would change" : "changed", res->stats.n[APPLY_UNCHANGED],
		       res->stats.n[APPLY_FAILED] ? ", failures above" : "",
		       res->stats.n[APPLY_WARNING] ? ", warnings above" : "");
}

int verb_apply(struct ctl *c, int argc, char **argv)
{
	static const struct option options[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	_cleanup_(ctl_world_done) struct ctl_world w = {};
	_cleanup_(enforcer_done) struct enforcer e = {};
	_cleanup_free_ struct vm **vms = NULL;
	struct reporter rep = {};
	struct apply_stats stale = {};
	size_t n = 0;
	int opt, r;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "nh", options, NULL)) >= 0)
		switch (opt) {
		case 'n':
			e.dry_run = true;
			break;
		case 'h':
			printf("Usage: kvmtunectl apply [--dry-run] [VM...]\n");
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	r = ctl_world_load(c, &w);
	if (r == EXIT_OK && w.cgroups.unified_fd < 0 && w.cgroups.v1_fd[CGROUP_CPU] < 0) {
		fprintf(stderr, "kvmtunectl: no cgroup filesystem at /sys/fs/cgroup\n");
		return EXIT_INVALID;
	}
	if (r == EXIT_OK)
		r = ctl_select_vms(&w, argv + optind, (size_t)(argc - optind), &vms, &n);
	if (r == EXIT_OK)
		r = ctl_world_backend(&w);
	if (r != EXIT_OK)
		return r;
	ctl_enforcer(&w, &e);
	rep.fs = &w.cgroups;
	e.report = report;
	e.userdata = &rep;
	for (size_t i = 0; i < n; i++) {
		_cleanup_(diag_list_done) struct diag_list diags = {};
		_cleanup_(enforce_result_done) struct enforce_result res = {};

		rep.vm = vms[i]->name;
		printf("%s (pid %d):\n", vms[i]->name, (int)vms[i]->pid);
		if (enforce_vm(&e, vms[i], &diags, &res) < 0)
			return log_oom();
		if (res.rule_broken) {
			diag_list_print(&diags, stderr);
			fprintf(stderr,
				"kvmtunectl: %s: its merged policy breaks a rule; not applied\n",
				vms[i]->name);
			rep.failed++;
		}
		print_result(vms[i], &res, e.dry_run);
	}
	rep.vm = "stale groups";
	if (optind == argc && enforce_remove_stale(&e, w.vms, w.n_vms, &stale) < 0)
		return log_oom();
	if (rep.failed > 0) {
		fprintf(stderr, "kvmtunectl: %u thing%s could not be enforced (named above)\n",
			rep.failed, rep.failed == 1 ? "" : "s");
		return EXIT_INVALID;
	}
	return EXIT_OK;
}
