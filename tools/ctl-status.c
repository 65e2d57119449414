/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * kvmtunectl list / status: the VMs on this host, the state each is in, and every thread's role,
 * placement and scheduler, like virsh vcpuinfo.
 */

#include <getopt.h>
#include <json-c/json.h>
#include <pwd.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "assess.h"
#include "ctl.h"

struct vm_view {
	const struct vm *vm;
	char **policies; /* files whose documents fit, in order, each once */
	size_t n_policies;
	const struct assessment *state;
};

static int view_vm(struct ctl_world *w, const struct vm *vm, const struct assessment *state,
		   struct vm_view *ret)
{
	struct vm_identity id = vm_identity(vm);
	_cleanup_(policy_done) struct policy effective = {};
	_cleanup_free_ struct policy_fit *fits = NULL;
	size_t n_fits = 0;
	int merged = policy_set_effective(&w->policies, &id, &effective, &fits, &n_fits);

	*ret = (struct vm_view){ .vm = vm, .state = state };
	if (merged < 0)
		return merged;
	ret->policies = calloc(n_fits + 1, sizeof(char *));
	if (!ret->policies)
		return -ENOMEM;
	for (size_t i = 0; i < n_fits; i++) {
		const char *file = fits[i].doc->origin.file;
		bool seen = false;

		if (fits[i].missing)
			continue;
		for (size_t j = 0; j < ret->n_policies; j++)
			seen = seen || streq(ret->policies[j], file);
		if (!seen)
			ret->policies[ret->n_policies++] = (char *)file;
	}
	return 0;
}

static void view_done(struct vm_view *v)
{
	free(v->policies);
}

static int parse_json_flag(const char *verb, int argc, char **argv, bool *json, const char *help)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	int opt;

	optind = 1;
	while ((opt = ctl_getopt(verb, argc, argv, ":h", options)) >= 0)
		switch (opt) {
		case 'j':
			*json = true;
			break;
		case 'h':
			fputs(help, stdout);
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	return -1;
}

static const char *user_name(uid_t uid, char buf[static 16])
{
	struct passwd *pw = getpwuid(uid);

	if (pw)
		return pw->pw_name;
	(void)snprintf(buf, 16, "%u", (unsigned)uid);
	return buf;
}

/* ---- per thread ---- */

struct thread_info {
	char role[160];
	char *affinity; /* canonical list */
	char *sched;	/* "other", "fifo 10" */
	char *cgroup;
	double cpu_seconds;
};

static void thread_info_read(const struct ctl_world *w, const struct vm *vm,
			     const struct vm_thread *t, struct thread_info *ret)
{
	_cleanup_free_ char *allowed = NULL;
	struct sched_param param;
	struct cpuset set = {};
	long hz = sysconf(_SC_CLK_TCK);
	int policy;

	*ret = (struct thread_info){};
	thread_role_format(t, ret->role, sizeof(ret->role));
	ret->cpu_seconds = (double)(t->stat.utime + t->stat.stime) / (double)(hz > 0 ? hz : 100);
	if (proc_read_status_field(w->proc_fd, vm->pid, t->tid, "Cpus_allowed_list", &allowed) >=
		    0 &&
	    cpuset_parse(allowed, CPUSET_LIMIT, &set, NULL) >= 0)
		ret->affinity = cpuset_format(&set);
	cpuset_done(&set);
	/* Of the host's own tasks only: a --proc-root fixture's tids are not this kernel's. */
	policy = w->host_proc ? sched_getscheduler(t->tid) : -1;
	if (policy >= 0 && sched_getparam(t->tid, &param) >= 0)
		ret->sched = apply_sched_text(policy & ~SCHED_RESET_ON_FORK, param.sched_priority);
	if (proc_read_cgroup(w->proc_fd, vm->pid, t->tid, NULL, &ret->cgroup) < 0 ||
	    streq(ret->cgroup, "/")) {
		free(ret->cgroup);
		ret->cgroup = NULL;
		(void)proc_read_cgroup(w->proc_fd, vm->pid, t->tid, "cpu", &ret->cgroup);
	}
}

static void thread_info_done(struct thread_info *i)
{
	free(i->affinity);
	free(i->sched);
	free(i->cgroup);
}

/* ---- JSON ---- */

static const char *qmp_text(const struct vm *vm)
{
	if (vm->qmp_result == 0)
		return "answered";
	if (vm->qmp_result > 0)
		return vm->qmp_path ? "not asked" : "none";
	return strerror(-vm->qmp_result);
}

static struct json_object *vm_json(struct ctl_world *w, const struct vm_view *v, bool threads)
{
	const struct vm *vm = v->vm;
	struct json_object *o = json_object_new_object(), *a;
	char user[16];

	json_object_object_add(o, "pid", json_object_new_int(vm->pid));
	json_object_object_add(o, "name", json_shown(vm->name));
	json_object_object_add(o, "uuid", json_shown(vm->cmdline.uuid));
	json_object_object_add(o, "user", json_shown(user_name(vm->uid, user)));
	json_object_object_add(o, "binary", json_shown(vm->exe));
	a = json_object_new_array();
	for (size_t i = 0; i < v->n_policies; i++)
		json_object_array_add(a, json_shown(v->policies[i]));
	json_object_object_add(o, "policies", a);
	ctl_assessment_json(v->state, o);
	json_object_object_add(o, "backend", json_shown(ctl_backend_name(w)));
	json_object_object_add(o, "cgroup", json_shown(vm->cgroup));
	json_object_object_add(o, "vcpus", json_object_new_int((int)vm->vcpus_expected));
	json_object_object_add(o, "vcpus_identified", json_object_new_int((int)vm->vcpus_found));
	a = json_object_new_array();
	for (size_t i = 0; i < vm->cmdline.n_iothreads; i++)
		json_object_array_add(a, json_shown(vm->cmdline.iothreads[i]));
	json_object_object_add(o, "iothreads", a);
	json_object_object_add(o, "qmp", json_shown(qmp_text(vm)));
	json_object_object_add(o, "note", json_shown(vm->note));
	if (!threads)
		return o;
	a = json_object_new_array();
	FOREACH_ARRAY (t, vm->threads, vm->n_threads) {
		struct json_object *j = json_object_new_object();
		struct thread_info info;

		thread_info_read(w, vm, t, &info);
		json_object_object_add(j, "tid", json_object_new_int(t->tid));
		json_object_object_add(j, "name", json_shown(t->stat.comm));
		json_object_object_add(j, "role", json_shown(info.role));
		json_object_object_add(j, "source", json_shown(role_source_to_string(t->source)));
		json_object_object_add(j, "affinity", json_shown(info.affinity));
		json_object_object_add(j, "scheduler", json_shown(info.sched));
		json_object_object_add(j, "cpu", json_object_new_int(t->stat.processor));
		json_object_object_add(j, "state", json_object_new_string_len(&t->stat.state, 1));
		json_object_object_add(j, "cpu_time", json_object_new_double(info.cpu_seconds));
		json_object_object_add(j, "cgroup", json_shown(info.cgroup));
		json_object_array_add(a, j);
		thread_info_done(&info);
	}
	json_object_object_add(o, "threads", a);
	resources_json(w, vm, v->state, o);
	disks_json(w, vm, v->state, o);
	effect_json(w, vm, v->state, o);
	return o;
}

static int print_json(struct ctl_world *w, struct vm **vms, const struct assessment *states,
		      size_t n, bool threads)
{
	struct json_object *root = json_object_new_object(), *a = json_object_new_array();

	for (size_t i = 0; i < n; i++) {
		struct vm_view v;

		if (view_vm(w, vms[i], &states[i], &v) < 0) {
			json_object_put(root);
			json_object_put(a);
			return log_oom();
		}
		json_object_array_add(a, vm_json(w, &v, threads));
		view_done(&v);
	}
	json_object_object_add(root, "vms", a);
	printf("%s\n", json_object_to_json_string_ext(
			       root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
					     JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	return EXIT_OK;
}

/* ---- list ---- */

static void basenames(const struct vm_view *v, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < v->n_policies && len < size; i++) {
		const char *slash = strrchr(v->policies[i], '/');

		len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? "," : "",
					slash ? slash + 1 : v->policies[i]);
	}
	if (!buf[0])
		(void)snprintf(buf, size, "-");
}

/* Everything list and status start from: the VMs, and the state of each. */
struct listing {
	struct ctl_world w;
	struct vm **vms;
	size_t n;
	struct assessment *states;
};

static void listing_done(struct listing *l)
{
	ctl_assessments_free(l->states, l->n);
	free(l->vms);
	ctl_world_done(&l->w);
}

static int listing_load(struct ctl *c, char **args, size_t n_args, struct listing *l)
{
	int r = ctl_world_load(c, &l->w);

	if (r == EXIT_OK)
		r = ctl_select_vms(&l->w, args, n_args, &l->vms, &l->n);
	if (r == EXIT_OK)
		r = ctl_assess(&l->w, l->vms, l->n, &l->states);
	return r;
}

static const char list_help[] =
	"Usage: kvmtunectl list [--json]\n"
	"\n"
	"The QEMU VMs on this host: pid, name, uuid, vCPUs, iothreads, the policy files that fit,\n"
	"and the state each is in (enforced, drift, error, unmanaged, skipped), computed by a dry\n"
	"run of the enforcement that changes nothing.\n"
	"\n"
	"Options:\n"
	"      --json    One JSON document: a \"vms\" array, with each VM's drift, errors and\n"
	"                warnings\n"
	"  -h, --help    This text\n";

int verb_list(struct ctl *c, int argc, char **argv)
{
	_cleanup_(listing_done) struct listing l = {};
	bool json = false;
	int r = parse_json_flag("list", argc, argv, &json, list_help);

	if (r >= 0)
		return r;
	if (optind < argc) {
		fprintf(stderr,
			"kvmtunectl list: takes no arguments (VMs: kvmtunectl status VM)\n");
		return EXIT_USAGE;
	}
	r = listing_load(c, NULL, 0, &l);
	if (r != EXIT_OK)
		return r;
	if (json)
		return print_json(&l.w, l.vms, l.states, l.n, false);
	if (l.n == 0) {
		printf("No QEMU VMs on this host.\n");
		return EXIT_OK;
	}
	printf("%-8s %-20s %-36s %5s  %-16s %-24s %s\n", "PID", "NAME", "UUID", "VCPUS",
	       "IOTHREADS", "POLICY", "STATE");
	for (size_t i = 0; i < l.n; i++) {
		char policies[256], iothreads[256] = "-", state[512];
		const struct vm *vm = l.vms[i];
		struct vm_view v;
		size_t len = 0;

		if (view_vm(&l.w, vm, &l.states[i], &v) < 0)
			return log_oom();
		basenames(&v, policies, sizeof(policies));
		for (size_t k = 0; k < vm->cmdline.n_iothreads && len < sizeof(iothreads); k++)
			len += (size_t)snprintf(iothreads + len, sizeof(iothreads) - len, "%s%s",
						k ? "," : "", vm->cmdline.iothreads[k]);
		printf("%-8d %-20s %-36s %5u  %-16s %-24s %s\n", (int)vm->pid, shown(vm->name),
		       shown(vm->cmdline.uuid ?: "-"), vm->vcpus_expected, shown(iothreads),
		       shown(policies), ctl_state_text(&l.states[i], state, sizeof(state)));
		view_done(&v);
	}
	return EXIT_OK;
}

/* ---- status ---- */

static void print_threads(struct ctl_world *w, const struct vm *vm)
{
	int width = 8;

	FOREACH_ARRAY (t, vm->threads, vm->n_threads) {
		char role[160];

		width = MAX(width, (int)strlen(thread_role_format(t, role, sizeof(role))));
	}
	printf("  %-8s %-*s %-7s %-4s %-5s %10s  %-10s %-9s %s\n", "TID", width, "ROLE", "SOURCE",
	       "CPU", "STATE", "CPU TIME", "AFFINITY", "SCHEDULER", "CGROUP");
	FOREACH_ARRAY (t, vm->threads, vm->n_threads) {
		struct thread_info info;

		thread_info_read(w, vm, t, &info);
		printf("  %-8d %-*s %-7s %-4d %-5c %9.2fs  %-10s %-9s %s\n", (int)t->tid, width,
		       shown(info.role), role_source_to_string(t->source), t->stat.processor,
		       t->stat.state, info.cpu_seconds, info.affinity ?: "?", info.sched ?: "?",
		       shown(info.cgroup ?: "?"));
		thread_info_done(&info);
	}
}

static void print_status(struct ctl_world *w, const struct vm_view *v)
{
	const struct vm *vm = v->vm;
	const struct assessment *a = v->state;
	char user[16], state[512];

	printf("VM %s  (pid %d, user %s%s%s)\n", shown(vm->name), (int)vm->pid,
	       shown(user_name(vm->uid, user)), vm->cmdline.uuid ? ", uuid " : "",
	       shown(vm->cmdline.uuid ?: ""));
	printf("  binary:    %s\n", shown(vm->exe));
	printf("  state:     %s\n", ctl_state_text(a, state, sizeof(state)));
	printf("  policies:  %s", v->n_policies ? "" : "none fits this VM\n");
	for (size_t i = 0; i < v->n_policies; i++)
		printf("%s%s\n", i ? "             " : "", shown(v->policies[i]));
	printf("  backend:   %s\n", ctl_backend_name(w));
	if (a->vm_group)
		printf("  VM group:  /%s\n", shown(a->vm_group));
	printf("  cgroup:    %s\n", shown(vm->cgroup ?: "?"));
	printf("  vCPUs:     %u, %u identified\n", vm->vcpus_expected, vm->vcpus_found);
	if (vm->qmp_result < 0)
		printf("  QMP:       no answer: %s\n", strerror(-vm->qmp_result));
	else
		printf("  QMP:       %s\n", vm->qmp_result == 0 ? "answered"
					    : vm->qmp_path	? "not asked"
							   : "no QMP socket on the command line");
	if (vm->note)
		printf("  note:      %s\n", shown(vm->note));
	if (a->n) {
		putchar('\n');
		ctl_print_findings(a, "  ");
	}
	putchar('\n');
	print_threads(w, vm);
	putchar('\n');
	print_resources(w, vm, a);
	print_disks(w, vm, a);
	putchar('\n');
	print_effect(w, vm, a);
	putchar('\n');
}

static const char status_help[] =
	"Usage: kvmtunectl status [--json] [VM...]\n"
	"\n"
	"For each VM (a name, pid or uuid; all when none): its state and, when it drifted, what\n"
	"differs (desired, actual, the policy file:line asking for it); the backend and VM group;\n"
	"every thread's role, CPU, affinity, scheduler and cgroup (virsh vcpuinfo); then the VM\n"
	"group's and the thread groups' values (virsh schedinfo, memtune, blkiotune, numatune),\n"
	"where its memory sits on each NUMA node (numastat's per-process view) and each disk's\n"
	"throttle inside QEMU, asked over QMP (virsh blkdeviotune); then the effect: CPU used\n"
	"and throttled per group, memory used against each limit and how often it was hit, I/O\n"
	"per device, pressure stall time.\n"
	"\n"
	"Options:\n"
	"      --json    The same as one JSON document\n"
	"  -h, --help    This text\n";

int verb_status(struct ctl *c, int argc, char **argv)
{
	_cleanup_(listing_done) struct listing l = {};
	bool json = false;
	int r = parse_json_flag("status", argc, argv, &json, status_help);

	if (r >= 0)
		return r;
	r = listing_load(c, argv + optind, (size_t)(argc - optind), &l);
	if (r != EXIT_OK)
		return r;
	if (json)
		return print_json(&l.w, l.vms, l.states, l.n, true);
	if (l.n == 0)
		printf("No QEMU VMs on this host.\n");
	for (size_t i = 0; i < l.n; i++) {
		struct vm_view v;

		if (view_vm(&l.w, l.vms[i], &l.states[i], &v) < 0)
			return log_oom();
		print_status(&l.w, &v);
		view_done(&v);
	}
	return EXIT_OK;
}
