/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* kvmtunectl list / status: the VMs on this host and every thread's role, like virsh vcpuinfo. */

#include <getopt.h>
#include <json-c/json.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "escape.h"

struct vm_view {
	const struct vm *vm;
	char **policies; /* files whose documents fit, in order, each once */
	size_t n_policies;
	const char *state;
};

static int view_vm(struct ctl_world *w, const struct vm *vm, struct vm_view *ret)
{
	struct vm_identity id = vm_identity(vm);
	_cleanup_(policy_done) struct policy effective = {};
	_cleanup_free_ struct policy_fit *fits = NULL;
	size_t n_fits = 0;
	int merged = policy_set_effective(&w->policies, &id, &effective, &fits, &n_fits);

	*ret = (struct vm_view){ .vm = vm };
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
	/* "enforced" and "drift" need the engine's plan to compare with (issue 4). */
	ret->state = ret->n_policies == 0 ? "unmanaged" : "unenforced";
	return 0;
}

static void view_done(struct vm_view *v)
{
	free(v->policies);
}

static int parse_json_flag(int argc, char **argv, bool *json, const char *usage)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) >= 0)
		switch (opt) {
		case 'j':
			*json = true;
			break;
		case 'h':
			printf("%s\n", usage);
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
	char *cgroup;
	double cpu_seconds;
};

static void thread_info_read(int proc_fd, const struct vm *vm, const struct vm_thread *t,
			     struct thread_info *ret)
{
	_cleanup_free_ char *allowed = NULL;
	struct cpuset set = {};
	long hz = sysconf(_SC_CLK_TCK);

	*ret = (struct thread_info){};
	thread_role_format(t, ret->role, sizeof(ret->role));
	ret->cpu_seconds = (double)(t->stat.utime + t->stat.stime) / (double)(hz > 0 ? hz : 100);
	if (proc_read_status_field(proc_fd, vm->pid, t->tid, "Cpus_allowed_list", &allowed) >= 0 &&
	    cpuset_parse(allowed, CPUSET_LIMIT, &set, NULL) >= 0)
		ret->affinity = cpuset_format(&set);
	cpuset_done(&set);
	if (proc_read_cgroup(proc_fd, vm->pid, t->tid, NULL, &ret->cgroup) < 0 ||
	    streq(ret->cgroup, "/")) {
		free(ret->cgroup);
		ret->cgroup = NULL;
		(void)proc_read_cgroup(proc_fd, vm->pid, t->tid, "cpu", &ret->cgroup);
	}
}

static void thread_info_done(struct thread_info *i)
{
	free(i->affinity);
	free(i->cgroup);
}

/* ---- JSON ---- */

/* JSON text must be UTF-8: a string that is not is given escaped (json-c escapes controls). */
static struct json_object *json_str(const char *s)
{
	_cleanup_free_ char *e = NULL;

	if (s && !utf8_is_valid(s) && !(s = e = escape_untrusted(s)))
		return NULL;
	return s ? json_object_new_string(s) : NULL;
}

static struct json_object *vm_json(struct ctl_world *w, const struct vm_view *v, bool threads)
{
	const struct vm *vm = v->vm;
	struct json_object *o = json_object_new_object(), *a;
	char user[16];

	json_object_object_add(o, "pid", json_object_new_int(vm->pid));
	json_object_object_add(o, "name", json_str(vm->name));
	json_object_object_add(o, "uuid", json_str(vm->cmdline.uuid));
	json_object_object_add(o, "user", json_str(user_name(vm->uid, user)));
	json_object_object_add(o, "binary", json_str(vm->exe));
	a = json_object_new_array();
	for (size_t i = 0; i < v->n_policies; i++)
		json_object_array_add(a, json_str(v->policies[i]));
	json_object_object_add(o, "policies", a);
	json_object_object_add(o, "state", json_str(v->state));
	json_object_object_add(o, "cgroup", json_str(vm->cgroup));
	json_object_object_add(o, "vcpus", json_object_new_int((int)vm->vcpus_expected));
	json_object_object_add(o, "vcpus_identified", json_object_new_int((int)vm->vcpus_found));
	a = json_object_new_array();
	for (size_t i = 0; i < vm->cmdline.n_iothreads; i++)
		json_object_array_add(a, json_str(vm->cmdline.iothreads[i]));
	json_object_object_add(o, "iothreads", a);
	json_object_object_add(o, "qmp",
			       json_str(vm->qmp_result == 0  ? "answered"
					: vm->qmp_result > 0 ? (vm->qmp_path ? "not asked" : "none")
							     : strerror(-vm->qmp_result)));
	json_object_object_add(o, "note", json_str(vm->note));
	if (!threads)
		return o;
	a = json_object_new_array();
	FOREACH_ARRAY (t, vm->threads, vm->n_threads) {
		struct json_object *j = json_object_new_object();
		struct thread_info info;

		thread_info_read(w->proc_fd, vm, t, &info);
		json_object_object_add(j, "tid", json_object_new_int(t->tid));
		json_object_object_add(j, "name", json_str(t->stat.comm));
		json_object_object_add(j, "role", json_str(info.role));
		json_object_object_add(j, "source", json_str(role_source_to_string(t->source)));
		json_object_object_add(j, "affinity", json_str(info.affinity));
		json_object_object_add(j, "cpu", json_object_new_int(t->stat.processor));
		json_object_object_add(j, "state", json_object_new_string_len(&t->stat.state, 1));
		json_object_object_add(j, "cpu_time", json_object_new_double(info.cpu_seconds));
		json_object_object_add(j, "cgroup", json_str(info.cgroup));
		json_object_array_add(a, j);
		thread_info_done(&info);
	}
	json_object_object_add(o, "threads", a);
	resources_json(w, vm, o);
	return o;
}

static int print_json(struct ctl_world *w, struct vm **vms, size_t n, bool threads)
{
	struct json_object *root = json_object_new_object(), *a = json_object_new_array();

	for (size_t i = 0; i < n; i++) {
		struct vm_view v;

		if (view_vm(w, vms[i], &v) < 0) {
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

int verb_list(struct ctl *c, int argc, char **argv)
{
	_cleanup_(ctl_world_done) struct ctl_world w = {};
	_cleanup_free_ struct vm **vms = NULL;
	bool json = false;
	size_t n = 0;
	int r = parse_json_flag(argc, argv, &json, "Usage: kvmtunectl list [--json]");

	if (r >= 0)
		return r;
	if (optind < argc) {
		fprintf(stderr, "kvmtunectl: list takes no arguments\n");
		return EXIT_USAGE;
	}
	r = ctl_world_load(c, &w);
	if (r == EXIT_OK)
		r = ctl_select_vms(&w, NULL, 0, &vms, &n);
	if (r != EXIT_OK)
		return r;
	if (json)
		return print_json(&w, vms, n, false);
	if (n == 0) {
		printf("No QEMU VMs on this host.\n");
		return EXIT_OK;
	}
	printf("%-8s %-20s %-36s %5s  %-16s %-24s %s\n", "PID", "NAME", "UUID", "VCPUS",
	       "IOTHREADS", "POLICY", "STATE");
	for (size_t i = 0; i < n; i++) {
		char policies[256], iothreads[256] = "-";
		struct vm_view v;
		size_t len = 0;

		if (view_vm(&w, vms[i], &v) < 0)
			return log_oom();
		basenames(&v, policies, sizeof(policies));
		for (size_t k = 0; k < vms[i]->cmdline.n_iothreads && len < sizeof(iothreads); k++)
			len += (size_t)snprintf(iothreads + len, sizeof(iothreads) - len, "%s%s",
						k ? "," : "", vms[i]->cmdline.iothreads[k]);
		printf("%-8d %-20s %-36s %5u  %-16s %-24s %s\n", (int)vms[i]->pid,
		       shown(vms[i]->name), shown(vms[i]->cmdline.uuid ?: "-"),
		       vms[i]->vcpus_expected, shown(iothreads), shown(policies), v.state);
		view_done(&v);
	}
	return EXIT_OK;
}

/* ---- status ---- */

static void print_status(struct ctl_world *w, const struct vm_view *v)
{
	const struct vm *vm = v->vm;
	char user[16];
	int width = 8;

	printf("VM %s  (pid %d, user %s%s%s)\n", shown(vm->name), (int)vm->pid,
	       shown(user_name(vm->uid, user)), vm->cmdline.uuid ? ", uuid " : "",
	       shown(vm->cmdline.uuid ?: ""));
	printf("  binary:    %s\n", shown(vm->exe));
	printf("  state:     %s\n", v->state);
	printf("  policies:  %s", v->n_policies ? "" : "none fits this VM\n");
	for (size_t i = 0; i < v->n_policies; i++)
		printf("%s%s\n", i ? "             " : "", shown(v->policies[i]));
	printf("  cgroup:    %s\n", shown(vm->cgroup ?: "?"));
	printf("  vCPUs:     %u, %u identified\n", vm->vcpus_expected, vm->vcpus_found);
	printf("  QMP:       %s%s%s\n",
	       vm->qmp_result == 0 ? "answered"
	       : vm->qmp_result > 0
		       ? (vm->qmp_path ? "not asked" : "no QMP socket on the command line")
		       : "no answer: ",
	       vm->qmp_result < 0 ? strerror(-vm->qmp_result) : "",
	       vm->qmp_result < 0 && vm->qmp_path ? "" : "");
	if (vm->note)
		printf("  note:      %s\n", shown(vm->note));
	FOREACH_ARRAY (t, vm->threads, vm->n_threads) {
		char role[160];

		width = MAX(width, (int)strlen(thread_role_format(t, role, sizeof(role))));
	}
	printf("\n  %-8s %-*s %-7s %-4s %-5s %10s  %-10s %s\n", "TID", width, "ROLE", "SOURCE",
	       "CPU", "STATE", "CPU TIME", "AFFINITY", "CGROUP");
	FOREACH_ARRAY (t, vm->threads, vm->n_threads) {
		struct thread_info info;

		thread_info_read(w->proc_fd, vm, t, &info);
		printf("  %-8d %-*s %-7s %-4d %-5c %9.2fs  %-10s %s\n", (int)t->tid, width,
		       shown(info.role), role_source_to_string(t->source), t->stat.processor,
		       t->stat.state, info.cpu_seconds, info.affinity ?: "?",
		       shown(info.cgroup ?: "?"));
		thread_info_done(&info);
	}
	printf("\n");
	print_resources(w, vm);
	printf("\n");
}

int verb_status(struct ctl *c, int argc, char **argv)
{
	_cleanup_(ctl_world_done) struct ctl_world w = {};
	_cleanup_free_ struct vm **vms = NULL;
	bool json = false;
	size_t n = 0;
	int r = parse_json_flag(argc, argv, &json, "Usage: kvmtunectl status [--json] [VM...]");

	if (r >= 0)
		return r;
	r = ctl_world_load(c, &w);
	if (r == EXIT_OK)
		r = ctl_select_vms(&w, argv + optind, (size_t)(argc - optind), &vms, &n);
	if (r != EXIT_OK)
		return r;
	if (json)
		return print_json(&w, vms, n, true);
	if (n == 0)
		printf("No QEMU VMs on this host.\n");
	for (size_t i = 0; i < n; i++) {
		struct vm_view v;

		if (view_vm(&w, vms[i], &v) < 0)
			return log_oom();
		print_status(&w, &v);
		view_done(&v);
	}
	return EXIT_OK;
}
