/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* kvmtunectl apply [--dry-run] [VM...]: enforce the policies now, with the daemon's engine. */

#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pwd.h>
#include <string.h>

#include "apply-report.h"
#include "apply.h"
#include "cgroup-read.h"
#include "cgroup-write.h"
#include "cgrules.h"
#include "ctl.h"
#include "disk-io.h"
#include "enforce.h"
#include "unit-name.h"

struct reporter {
	const struct cgroup_fs *fs;
	bool dry_run;
	const char *vm;
	unsigned failed;
	bool quiet;
};

/* "/sys/fs/cgroup/cpu/machine.slice/kvmtune-web.scope/vcpu0/cpu.cfs_quota_us" */
static void print_path(const struct cgroup_fs *fs, const struct action *a, FILE *f)
{
	int fd, version;

	enum cgroup_controller h = cgroup_fs_hierarchy_of(fs, a->controller);

	if (cgroup_fs_controller(fs, a->controller, &fd, &version) < 0)
		version = 0;
	if (version == 1 && fs->v1_mount[h])
		fprintf(f, "%s", fs->v1_mount[h]);
	else
		fprintf(f, "%s%s%s", fs->root, version == 1 ? "/" : "",
			version == 1 ? cgroup_controller_v1_name(h) : "");
	fprintf(f, "/%s%s%s", shown(a->group), a->file ? "/" : "", a->file ?: "");
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

/* Failures, warnings and skipped tasks: one sentence each, on stderr, as kvmtuned logs them. */
static void report_problem(struct reporter *r, const struct action *a, enum apply_outcome o,
			   const char *old, int error, const char *detail)
{
	_cleanup_free_ char *text = apply_describe(a, o, old, error, detail, false);

	r->failed += o == APPLY_FAILED;
	fflush(stdout); /* in order with the lines before it, when both go to one file */
	fprintf(stderr, "kvmtunectl: %s: %s%s", shown(r->vm), o == APPLY_WARNING ? "warning: " : "",
		shown(text ?: "out of memory"));
	if (a->origin)
		fprintf(stderr, " (%s:%u)", shown(a->origin->file), a->origin->line);
	fputc('\n', stderr);
}

static void report(void *userdata, const struct action *a, enum apply_outcome o, const char *old,
		   int error, const char *detail)
{
	struct reporter *r = userdata;
	FILE *f = stdout;

	if (o == APPLY_GONE)
		return; /* a thread or the VM ended meanwhile: nothing to enforce */
	if (o == APPLY_REPLACED || o == APPLY_WARNING || o == APPLY_FAILED) {
		report_problem(r, a, o, old, error, detail);
		return;
	}
	if (r->quiet)
		return;
	fprintf(f, "  %s%s ", o == APPLY_WOULD ? "would " : "", action_kind_to_string(a->kind));
	switch (a->kind) {
	case ACTION_WRITE:
	case ACTION_UNIT_WRITE:
		print_path(r->fs, a, f);
		fprintf(f, " = %s", cgroup_value_show(a->file, a->value));
		for (size_t i = 0; i < a->n_props; i++)
			print_property(&a->props[i], i == 0 ? " (" : ", ", f);
		if (a->n_props)
			fputc(')', f);
		if (old)
			fprintf(f, " (was %s)",
				*old ? shown(cgroup_value_show(a->file, old)) : "empty");
		break;
	case ACTION_SCOPE:
		fprintf(f, "pid %d -> ", (int)a->pid);
		print_path(r->fs, a, f);
		fprintf(f, " in %s", a->slice);
		if (old)
			fprintf(f, " (was in %s)", shown(old));
		break;
	case ACTION_MACHINE:
		fprintf(f, "pid %d as %s (systemd-machined)", (int)a->pid, shown(a->machine));
		break;
	case ACTION_DISK_THROTTLE:
		fprintf(f, "%s = %s", shown(a->disk->id), shown(a->value));
		if (old)
			fprintf(f, " (was %s)", shown(old));
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
		if (old)
			fprintf(f, " (was in %s)", shown(old));
		break;
	case ACTION_AFFINITY: {
		_cleanup_free_ char *cpus = cpuset_format(&a->cpus);

		fprintf(f, "tid %d (%s) -> CPUs %s (was %s)%s%s%s", (int)a->tid, shown(a->what),
			cpus ?: "?", old ?: "?", detail ? " (" : "", detail ?: "",
			detail ? ")" : "");
		break;
	}
	case ACTION_SCHEDULER: {
		_cleanup_free_ char *want = apply_sched_text(a->sched_policy, a->sched_priority);

		fprintf(f, "tid %d (%s) -> %s (was %s)", (int)a->tid, shown(a->what), want ?: "?",
			old ?: "?");
		break;
	}
	case ACTION_MIGRATE_PAGES: {
		_cleanup_free_ char *nodes = cpuset_format(&a->nodes);

		fprintf(f, "pid %d memory -> nodes %s (%s)", (int)a->pid, nodes ?: "?", old ?: "?");
		break;
	}
	default:
		break;
	}
	if (a->origin)
		fprintf(f, "  [%s:%u]", shown(a->origin->file), a->origin->line);
	fputc('\n', f);
}

/* ---- per VM ---- */

/* The VM's summary: under its heading, or (quiet) on the heading's line. */
static void print_result(const struct vm *vm, const struct enforce_result *res, bool dry_run,
			 bool quiet)
{
	if (quiet)
		printf("%s (pid %d): ", shown(vm->name), (int)vm->pid);
	else
		printf("  ");
	if (res->no_policy)
		printf("no policy fits; left as it is\n");
	else if (res->group_taken_by)
		printf("not enforced: its name is another VM's (above)\n");
	else if (res->ended)
		printf("it ended meanwhile; its groups are removed\n");
	else
		printf("%u %s, %u already so%s%s\n",
		       res->stats.n[dry_run ? APPLY_WOULD : APPLY_DONE],
		       dry_run ? "would change" : "changed", res->stats.n[APPLY_UNCHANGED],
		       res->stats.n[APPLY_FAILED] ? ", failures above" : "",
		       res->stats.n[APPLY_WARNING] ? ", warnings above" : "");
}

int ctl_world_has_cgroups(const struct ctl_world *w)
{
	if (w->cgroups.unified_fd >= 0 || w->cgroups.v1_fd[CGROUP_CPU] >= 0)
		return EXIT_OK;
	fprintf(stderr, "kvmtunectl: no cgroup filesystem at /sys/fs/cgroup\n");
	return EXIT_INVALID;
}

static void report_taken(const struct vm *vm, const struct vm *by, struct reporter *rep)
{
	struct passwd *pw = getpwuid(by->uid);

	fprintf(stderr,
		"kvmtunectl: %s (pid %d): not enforced: VM pid %d (user %s) has the same name and "
		"its group (a name is no identity: two VMs never share a group; give this one its "
		"own -name, and match policies on user too)\n",
		shown(vm->name), (int)vm->pid, (int)by->pid, pw ? shown(pw->pw_name) : "?");
	rep->failed++;
}

int ctl_apply_vms(struct ctl_world *w, struct vm **vms, size_t n, bool dry_run, bool quiet,
		  bool remove_stale)
{
	_cleanup_(enforcer_done) struct enforcer e = { .dry_run = dry_run };
	struct reporter rep = { .quiet = quiet };
	struct apply_stats stale = {};

	ctl_enforcer(w, &e);
	rep.fs = &w->cgroups;
	e.report = report;
	e.userdata = &rep;
	for (size_t i = 0; i < n; i++) {
		_cleanup_(diag_list_done) struct diag_list diags = {};
		_cleanup_(enforce_result_done) struct enforce_result res = {};

		rep.vm = vms[i]->name;
		if (ctl_vm_skipped(w, vms[i])) {
			printf("%s (pid %d): another manager's VM (in %s); left alone "
			       "(skip_managed in kvmtuned.yaml)\n",
			       shown(vms[i]->name), (int)vms[i]->pid,
			       shown(vms[i]->managed ?: "?"));
			continue;
		}
		if (!rep.quiet)
			printf("%s (pid %d):\n", shown(vms[i]->name), (int)vms[i]->pid);
		if (enforce_vm(&e, vms[i], &diags, &res) < 0)
			return log_oom();
		/* cgrulesengd, if it runs, must not pull the VM out again (cgrules.h) */
		if (!e.dry_run && res.vm_group)
			(void)cgrules_keep(vms[i]->pid);
		fflush(stdout);
		if (res.group_taken_by)
			report_taken(vms[i], res.group_taken_by, &rep);
		if (res.rule_broken) {
			diag_list_print(&diags, stderr);
			fprintf(stderr,
				"kvmtunectl: %s: its merged policy breaks a rule; not applied\n",
				shown(vms[i]->name));
			rep.failed++;
		}
		print_result(vms[i], &res, e.dry_run, rep.quiet);
	}
	rep.vm = "stale groups";
	if (remove_stale && enforce_remove_stale(&e, &stale) < 0)
		return log_oom();
	if (rep.failed > 0) {
		fprintf(stderr, "kvmtunectl: %u thing%s could not be enforced (named above)\n",
			rep.failed, rep.failed == 1 ? "" : "s");
		return EXIT_INVALID;
	}
	return EXIT_OK;
}

static const char apply_help[] =
	"Usage: kvmtunectl apply [--dry-run] [--quiet] [VM...]\n"
	"\n"
	"Enforces the policies now on each VM (a name, pid or uuid; all when none, and then the\n"
	"groups of VMs that ended are removed), with kvmtuned's engine: every write, move,\n"
	"affinity and scheduler change is printed with the policy file:line asking for it;\n"
	"values already right are read back and left alone. Problems go to stderr; exit 1 when\n"
	"something could not be enforced. Other managers' VMs (skip_managed) are left alone.\n"
	"\n"
	"Options:\n"
	"  -n, --dry-run  Say what would change, change nothing\n"
	"  -q, --quiet    Only each VM's summary line (and problems)\n"
	"  -h, --help     This text\n";

int verb_apply(struct ctl *c, int argc, char **argv)
{
	static const struct option options[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	_cleanup_(ctl_world_done) struct ctl_world w = {};
	_cleanup_free_ struct vm **vms = NULL;
	bool dry_run = false, quiet = false;
	size_t n = 0;
	int opt, r;

	optind = 1;
	while ((opt = ctl_getopt("apply", argc, argv, ":nqh", options)) >= 0)
		switch (opt) {
		case 'n':
			dry_run = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			fputs(apply_help, stdout);
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	r = ctl_world_load(c, &w);
	if (r == EXIT_OK)
		r = ctl_world_has_cgroups(&w);
	if (r == EXIT_OK)
		r = ctl_select_vms(&w, argv + optind, (size_t)(argc - optind), &vms, &n);
	if (r == EXIT_OK)
		r = ctl_world_backend(&w);
	if (r != EXIT_OK)
		return r;
	return ctl_apply_vms(&w, vms, n, dry_run, quiet, optind == argc);
}
