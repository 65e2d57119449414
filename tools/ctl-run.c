/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * kvmtunectl run [--policy FILE] NAME -- QEMU-CMD...: start QEMU already inside its VM group,
 * with its cpuset, affinity and memory policy in place, so the guest never runs unconfined.
 * The groups are made for this process (it becomes QEMU's main thread); QEMU's other threads
 * are sorted into their groups later by `apply` or kvmtuned.
 */

#include <fnmatch.h>
#include <getopt.h>
#include <numa.h>
#include <string.h>

#include "apply-report.h"
#include "apply.h"
#include "cgroup-write.h"
#include "cgrules.h"
#include "ctl.h"
#include "enforce.h"
#include "launch-lock.h"
#include "qemu-cmdline.h"

/*
 * A VM that is, so far, only this process: its one thread is the emulator, its command line
 * the one it will exec (a policy matching on its uuid fits now as it will in kvmtuned).
 */
static int self_as_vm(int proc_fd, const char *name, const char *binary, char **argv,
		      struct vm *ret)
{
	struct vm vm = { .pid = getpid(), .uid = getuid(), .qmp_result = 1 };
	struct proc_stat st;
	size_t argc = 0;
	int r = proc_read_stat(proc_fd, vm.pid, 0, &st);

	if (r < 0)
		return r;
	while (argv[argc])
		argc++;
	r = qemu_cmdline_parse(argv, argc, &vm.cmdline);
	if (r < 0)
		return r;
	vm.starttime = st.starttime;
	vm.name = strdup(name);
	vm.exe = strdup(binary);
	vm.threads = calloc(1, sizeof(struct vm_thread));
	if (!vm.name || !vm.exe || !vm.threads) {
		vm_done(&vm);
		return -ENOMEM;
	}
	vm.threads[0] = (struct vm_thread){ .tid = vm.pid, .stat = st, .kvm_vcpu_id = -1 };
	vm.n_threads = 1;
	*ret = vm;
	return 0;
}

/* preferred and interleave can only be set by the process itself: now, before exec. */
static int set_memory_policy(const struct policy *p)
{
	const struct penum *mode = &p->numatune.mode;
	struct bitmask *nodes;

	if (!mode->set || !p->numatune.nodeset.set ||
	    (mode->value != NUMA_MODE_PREFERRED && mode->value != NUMA_MODE_INTERLEAVE))
		return 0;
	if (numa_available() < 0) {
		fprintf(stderr, "kvmtunectl: numatune %s: this kernel has no NUMA support\n",
			numa_mode_to_string(mode->value));
		return -EOPNOTSUPP;
	}
	nodes = numa_allocate_nodemask();
	if (!nodes)
		return -ENOMEM;
	CPUSET_FOREACH (n, &p->numatune.nodeset.cpus)
		numa_bitmask_setbit(nodes, (unsigned)n);
	if (mode->value == NUMA_MODE_INTERLEAVE)
		numa_set_interleave_mask(nodes);
	else
		numa_set_preferred(cpuset_next(&p->numatune.nodeset.cpus, 0));
	numa_bitmask_free(nodes);
	printf("  memory policy %s on nodes of %s:%u\n", numa_mode_to_string(mode->value),
	       p->numatune.nodeset.origin.file, p->numatune.nodeset.origin.line);
	return 0;
}

static void report(void *userdata, const struct action *a, enum apply_outcome o, const char *old,
		   int error, const char *detail)
{
	_cleanup_free_ char *text = NULL;
	unsigned *failed = userdata;

	if (o == APPLY_GONE || o == APPLY_REPLACED) {
		/* This process cannot be gone: whatever it means, QEMU must not start. */
		(*failed)++;
		fprintf(stderr, "kvmtunectl: could not set up %s: the process was not found\n",
			a->what);
		return;
	}
	if (o != APPLY_WARNING && o != APPLY_FAILED)
		return;
	*failed += o == APPLY_FAILED;
	text = apply_describe(a, o, old, error, detail, false);
	fprintf(stderr, "kvmtunectl: %s%s\n", o == APPLY_WARNING ? "warning: " : "",
		shown(text ?: "out of memory"));
}

/* QEMU must carry the same name, or discovery would not find its group. */
static int check_name(char **argv, int argc, const char *name, char ***ret_argv)
{
	struct qemu_cmdline cmd;
	char **v;
	int r = qemu_cmdline_parse(argv, (size_t)argc, &cmd);

	if (r < 0)
		return r;
	if (cmd.name && !streq(cmd.name, name)) {
		fprintf(stderr, "kvmtunectl: run %s: the QEMU command line names the VM '%s'\n",
			name, cmd.name);
		qemu_cmdline_done(&cmd);
		return -EINVAL;
	}
	v = calloc((size_t)argc + 3, sizeof(char *));
	if (!v) {
		qemu_cmdline_done(&cmd);
		return -ENOMEM;
	}
	memcpy(v, argv, (size_t)argc * sizeof(char *));
	if (!cmd.name) {
		v[argc] = "-name";
		v[argc + 1] = (char *)name; /* a plain name: QemuOpts' implied guest= */
		if (strchr(name, ','))
			fprintf(stderr,
				"kvmtunectl: note: ',' in a VM name must be doubled for QEMU\n");
	}
	qemu_cmdline_done(&cmd);
	*ret_argv = v;
	return 0;
}

/* The program as execvp would find it (PATH searched for a bare name), as a real path. */
static char *find_program(const char *name)
{
	_cleanup_free_ char *path = NULL;
	const char *dirs = getenv("PATH") ?: "/usr/local/bin:/usr/bin:/bin";

	if (strchr(name, '/'))
		return access(name, X_OK) == 0 ? realpath(name, NULL) : NULL;
	for (const char *d = dirs; *d;) {
		size_t n = strcspn(d, ":");

		free(path);
		if (asprintf(&path, "%.*s/%s", (int)n, n ? d : ".", name) < 0)
			return NULL;
		if (access(path, X_OK) == 0)
			return realpath(path, NULL);
		d += n + (d[n] == ':');
	}
	errno = ENOENT;
	return NULL;
}

/*
 * Where this process was before it joined its VM group, per hierarchy: if QEMU cannot start
 * after all, it goes back there and the groups made for it are removed, so a failed run leaves
 * nothing behind. (The systemd backend's scope ends by itself when this process does.)
 */
struct way_back {
	char *group[_CGROUP_CONTROLLER_MAX];
};

static void way_back_note(struct ctl_world *w, struct way_back *b)
{
	for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++) {
		int fd, version;

		if (cgroup_fs_first_in_hierarchy(&w->cgroups, c) &&
		    cgroup_fs_controller(&w->cgroups, c, &fd, &version) >= 0)
			(void)proc_read_cgroup(w->proc_fd, getpid(), 0,
					       version == 1 ? cgroup_controller_v1_name(c) : NULL,
					       &b->group[c]);
	}
}

static void way_back_go(struct ctl_world *w, struct enforcer *e, const char *vm_group,
			struct way_back *b)
{
	struct apply_stats stats = {};
	char pid[16];

	(void)snprintf(pid, sizeof(pid), "%d", (int)getpid());
	for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++) {
		const char *g = b->group[c];
		int fd, version;

		if (g && cgroup_fs_controller(&w->cgroups, c, &fd, &version) >= 0)
			(void)cgroup_write(fd, g + (g[0] == '/'), "cgroup.procs", pid);
	}
	if (vm_group && !e->slice)
		(void)enforce_remove(e, vm_group, &stats);
}

static void way_back_done(struct way_back *b)
{
	for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++)
		free(b->group[c]);
}

static void print_result(const char *name, const struct enforce_result *res,
			 const struct diag_list *diags)
{
	if (res->rule_broken) {
		/* apply and kvmtuned would not enforce it either */
		diag_list_print(diags, stderr);
		fprintf(stderr, "kvmtunectl: %s: not started: its merged policy is invalid\n",
			shown(name));
	} else if (res->group_taken_by)
		fprintf(stderr,
			"kvmtunectl: %s: not started: VM pid %d has that name and its group (give "
			"this one its own name)\n",
			shown(name), (int)res->group_taken_by->pid);
}

static const char run_help[] =
	"Usage: kvmtunectl run [--policy FILE] NAME -- QEMU-COMMAND...\n"
	"\n"
	"Starts QEMU already confined: this process joins the VM group the policies give NAME\n"
	"(cpuset, memory, blkio, CPU weights, its affinity), sets a preferred or interleave\n"
	"memory policy, then becomes QEMU-COMMAND (a path, or a name searched in PATH), so the\n"
	"guest never runs unconfined. The name the command gives QEMU must be NAME (none: NAME\n"
	"is added).\n"
	"Nothing is started when the VM cannot be confined, and what was made is removed.\n"
	"\n"
	"Options:\n"
	"  -p, --policy FILE  Use this policy file too, after policy.d/ (it wins)\n"
	"  -h, --help         This text\n";

int verb_run(struct ctl *c, int argc, char **argv)
{
	static const struct option options[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	_cleanup_(ctl_world_done) struct ctl_world w = {};
	_cleanup_(diag_list_done) struct diag_list diags = {};
	_cleanup_(enforce_result_done) struct enforce_result res = {};
	_cleanup_(enforcer_done) struct enforcer e = {};
	_cleanup_(vm_done) struct vm self = {};
	_cleanup_(way_back_done) struct way_back back = {};
	_cleanup_free_ char **qemu_argv = NULL;
	_cleanup_free_ char *binary = NULL;
	_cleanup_close_ int launch = -EBADF; /* O_CLOEXEC: the exec lets it go */
	const char *policy_file = NULL, *name;
	unsigned failed = 0;
	int opt, r;

	optind = 1;
	while ((opt = ctl_getopt("run", argc, argv, "+:p:h", options)) >= 0)
		switch (opt) {
		case 'p':
			policy_file = optarg;
			break;
		case 'h':
			fputs(run_help, stdout);
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	if (optind + 2 > argc || (streq(argv[optind + 1], "--") && optind + 3 > argc)) {
		fprintf(stderr, "kvmtunectl: run needs a VM name and a QEMU command: run NAME -- "
				"qemu-system-x86_64 ...\n");
		return EXIT_USAGE;
	}
	name = argv[optind++];
	if (streq(argv[optind], "--"))
		optind++;
	/* Found before anything is made: a command that cannot start leaves nothing behind. */
	binary = find_program(argv[optind]);
	if (!binary) {
		fprintf(stderr, "kvmtunectl: run %s: cannot find %s: %m\n", shown(name),
			shown(argv[optind]));
		return EXIT_INVALID;
	}
	r = check_name(argv + optind, argc - optind, name, &qemu_argv);
	if (r == -ENOMEM)
		return log_oom();
	if (r < 0)
		return EXIT_USAGE;

	r = ctl_world_load(c, &w);
	if (r == EXIT_OK)
		r = ctl_world_backend(&w);
	if (r != EXIT_OK)
		return r;
	if (policy_file) {
		struct policy_env env = ctl_policy_env(c);

		if (policy_set_load(&w.policies, &policy_file, 1, &env, &w.diags) < 0)
			return log_oom();
		if (w.diags.n_errors > 0) {
			diag_list_print(&w.diags, stderr);
			return EXIT_INVALID;
		}
	}
	r = self_as_vm(w.proc_fd, name, binary, qemu_argv, &self);
	if (r == -ENOMEM)
		return log_oom();
	if (r < 0) {
		fprintf(stderr, "kvmtunectl: run %s: cannot read this process's stat: %s\n", name,
			strerror(-r));
		return EXIT_INVALID;
	}
	/* Until the exec, no pass may take the groups made here for an ended VM's. */
	launch = launch_lock_shared(c->runtime_dir);
	if (launch < 0 && launch != -ENOENT)
		fprintf(stderr,
			"kvmtunectl: warning: run %s: cannot lock %s/launch.lock (%s): kvmtuned "
			"may remove this VM's groups before it starts\n",
			shown(name), c->runtime_dir, strerror(-launch));
	/* The same enforcement as apply and kvmtuned, for a process that is not QEMU yet. */
	ctl_enforcer(&w, &e);
	e.launching = true;
	e.report = report;
	e.userdata = &failed;
	way_back_note(&w, &back);
	if (enforce_vm(&e, &self, &diags, &res) < 0)
		return log_oom();
	print_result(name, &res, &diags);
	if (res.rule_broken || res.group_taken_by)
		return EXIT_INVALID; /* nothing was made (the group is another VM's) */
	r = failed == 0 && !res.no_policy ? set_memory_policy(&res.effective) : 0;
	if (r < 0 || failed > 0) {
		way_back_go(&w, &e, res.vm_group, &back);
		if (r == -ENOMEM)
			return log_oom();
		fprintf(stderr,
			"kvmtunectl: %s: not started: the VM would run unconfined (what was made "
			"for it is removed)\n",
			shown(name));
		return EXIT_INVALID;
	}
	if (res.no_policy)
		printf("kvmtunectl: %s: no policy fits; starting %s as it is\n", shown(name),
		       binary);
	else
		printf("kvmtunectl: %s: confined in %s, starting %s\n", shown(name),
		       shown(res.vm_group), binary);
	if (!discover_binary_is_qemu(w.settings.qemu_binaries, w.settings.n_qemu_binaries, binary))
		fprintf(stderr,
			"kvmtunectl: warning: %s matches no qemu_binaries glob: apply and "
			"kvmtuned will not see this VM\n",
			binary);
	fflush(stdout);
	/* cgrulesengd, if it runs, would move QEMU at its exec: it is told to leave it (and
	 * what it forks) where it is */
	if (!res.no_policy)
		(void)cgrules_keep(getpid());
	execv(binary, qemu_argv);
	r = -errno;
	way_back_go(&w, &e, res.no_policy ? NULL : res.vm_group, &back);
	fprintf(stderr, "kvmtunectl: cannot start %s: %s%s\n", binary, strerror(-r),
		res.no_policy ? "" : " (its groups are removed)");
	return EXIT_INVALID;
}
