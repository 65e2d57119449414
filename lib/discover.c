/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "discover.h"
#include "fileio.h"
#include "macro.h"
#include "size.h"

#define KVM_RUN_IOCTL	   0xae80 /* _IO(KVMIO, 0x80) */
#define SYS_ioctl_x86_64   16
#define SIG_BIT(sig)	   (UINT64_C(1) << ((sig)-1))
#define KVM_VCPU_UNBLOCKED (SIG_BIT(10 /* SIGUSR1, QEMU's SIG_IPI */) | SIG_BIT(7 /* SIGBUS */))
#define SYSCALL_SAMPLES	   8

static const char *const source_names[_ROLE_SOURCE_MAX] = {
	[ROLE_SOURCE_QMP] = "qmp",     [ROLE_SOURCE_NAME] = "name", [ROLE_SOURCE_KVM] = "kvm",
	[ROLE_SOURCE_GUESS] = "guess", [ROLE_SOURCE_NONE] = "none",
};

const char *role_source_to_string(enum role_source s)
{
	return s < _ROLE_SOURCE_MAX ? source_names[s] : NULL;
}

const char *thread_role_format(const struct vm_thread *t, char *buf, size_t size)
{
	if (t->role == ROLE_VCPU)
		(void)snprintf(buf, size, "vcpu%d", t->vcpu);
	else if (t->role == ROLE_IOTHREAD)
		(void)snprintf(buf, size, "iothread:%s", t->iothread);
	else
		(void)snprintf(buf, size, "emulator");
	return buf;
}

/* ---- classification (pure) ---- */

int apic_id_to_cpu_index(const struct qemu_cmdline *c, unsigned apic_id)
{
	return qemu_apic_id_to_cpu_index(c, apic_id);
}

static int set_role(struct vm_thread *t, enum thread_role role, int vcpu, const char *iothread,
		    enum role_source source)
{
	char *id = NULL;

	if (iothread && !(id = strdup(iothread)))
		return -ENOMEM;
	free(t->iothread);
	t->role = role;
	t->vcpu = vcpu;
	t->iothread = id;
	t->source = source;
	return 0;
}

static bool is_user_worker(const struct vm_thread *t)
{
	return t->stat.flags & (PF_USER_WORKER | PF_IO_WORKER);
}

static int classify_qmp(struct vm *vm, const struct qmp_info *qmp)
{
	FOREACH_ARRAY (t, vm->threads, vm->n_threads) {
		int r = 0;

		/* With one TCG thread for all vCPUs, QMP names it for each: it is vcpu0. */
		for (size_t i = qmp->n_cpus; r >= 0 && i > 0; i--)
			if (qmp->cpus[i - 1].thread_id == t->tid)
				r = set_role(t, ROLE_VCPU, qmp->cpus[i - 1].cpu_index, NULL,
					     ROLE_SOURCE_QMP);
		for (size_t i = 0; r >= 0 && i < qmp->n_iothreads; i++)
			if (qmp->iothreads[i].thread_id == t->tid &&
			    qemu_id_is_valid(qmp->iothreads[i].id))
				r = set_role(t, ROLE_IOTHREAD, 0, qmp->iothreads[i].id,
					     ROLE_SOURCE_QMP);
		if (r < 0)
			return r;
	}
	return 0;
}

int discover_vcpu_from_name(const char *name)
{
	const char *p = name + 4;
	int64_t index;
	char digits[16];
	size_t n;

	if (streq(name, "ALL CPUs/TCG"))
		return 0;
	if (strncmp(name, "CPU ", 4) != 0)
		return -1;
	n = strspn(p, "0123456789");
	if (n == 0 || n >= sizeof(digits) || p[n] != '/' || !p[n + 1])
		return -1;
	for (const char *s = p + n + 1; *s; s++)
		if (!isalnum((unsigned char)*s))
			return -1;
	memcpy(digits, p, n);
	digits[n] = '\0';
	if (parse_int64(digits, &index) < 0 || index > INT32_MAX)
		return -1;
	return (int)index;
}

static int classify_names(struct vm *vm)
{
	FOREACH_ARRAY (t, vm->threads, vm->n_threads) {
		const char *name = t->stat.comm;
		int vcpu = discover_vcpu_from_name(name), r = 0;

		if (t->source != ROLE_SOURCE_NONE || t->young || is_user_worker(t))
			continue;
		if (vcpu >= 0)
			r = set_role(t, ROLE_VCPU, vcpu, NULL, ROLE_SOURCE_NAME);
		else if (strncmp(name, "IO ", 3) == 0 && !streq(name, "IO mon_iothread") &&
			 qemu_id_is_valid(name + 3))
			r = set_role(t, ROLE_IOTHREAD, 0, name + 3, ROLE_SOURCE_NAME);
		if (r < 0)
			return r;
	}
	return 0;
}

static bool vcpu_taken(const struct vm *vm, int vcpu)
{
	FOREACH_ARRAY (t, vm->threads, vm->n_threads)
		if (t->role == ROLE_VCPU && t->source != ROLE_SOURCE_NONE && t->vcpu == vcpu)
			return true;
	return false;
}

static int classify_kvm(struct vm *vm)
{
	struct vm_thread *left = NULL;
	size_t n_left = 0, n_unmapped = 0;
	int unmapped = -1;

	FOREACH_ARRAY (t, vm->threads, vm->n_threads) {
		int index;

		if (t->source != ROLE_SOURCE_NONE || is_user_worker(t) || t->tid == vm->pid)
			continue;
		if (t->kvm_vcpu_id >= 0) {
			index = apic_id_to_cpu_index(&vm->cmdline, (unsigned)t->kvm_vcpu_id);
			if (index >= 0 && !vcpu_taken(vm, index) &&
			    set_role(t, ROLE_VCPU, index, NULL, ROLE_SOURCE_KVM) < 0)
				return -ENOMEM;
		} else if (t->kvm_vcpu_signals) {
			left = t;
			n_left++;
		}
	}
	/* One vCPU thread not seen in KVM_RUN, one vCPU fd not claimed: they belong together. */
	for (size_t i = 0; i < vm->n_vcpu_fds; i++) {
		int index = apic_id_to_cpu_index(&vm->cmdline, (unsigned)vm->vcpu_fd_ids[i]);

		if (index >= 0 && !vcpu_taken(vm, index)) {
			unmapped = index;
			n_unmapped++;
		}
	}
	if (n_left == 1 && n_unmapped == 1)
		return set_role(left, ROLE_VCPU, unmapped, NULL, ROLE_SOURCE_KVM);
	return 0;
}

static int add_note(struct vm *vm, const char *text)
{
	char *n;

	if (vm->note) {
		if (asprintf(&n, "%s; %s", vm->note, text) < 0)
			return -ENOMEM;
		free(vm->note);
	} else if (!(n = strdup(text)))
		return -ENOMEM;
	vm->note = n;
	return 0;
}

static bool iothread_found(const struct vm *vm, const char *id)
{
	FOREACH_ARRAY (t, vm->threads, vm->n_threads)
		if (t->role == ROLE_IOTHREAD && streq(t->iothread, id))
			return true;
	return false;
}

static bool iothreads_found(const struct vm *vm)
{
	for (size_t i = 0; i < vm->cmdline.n_iothreads; i++)
		if (!iothread_found(vm, vm->cmdline.iothreads[i]))
			return false;
	return true;
}

static int classify_finish(struct vm *vm, enum role_source best)
{
	char note[256];
	int r = 0;
	bool single = false, complete;

	vm->vcpus_found = 0;
	FOREACH_ARRAY (t, vm->threads, vm->n_threads) {
		if (t->role == ROLE_VCPU && t->source != ROLE_SOURCE_NONE)
			vm->vcpus_found++;
		if (t->role == ROLE_VCPU && streq(t->stat.comm, "ALL CPUs/TCG"))
			single = true;
	}
	if (vm->cmdline.tcg_single_thread || single) {
		vm->vcpus_found = vm->vcpus_found ? vm->vcpus_expected : 0;
		r = add_note(vm,
			     "single-threaded TCG: one thread runs every vCPU; it is treated as "
			     "vcpu0, and per-vCPU pinning or quota cannot apply");
	}
	/*
	 * Everything else is emulator: certain once every vCPU and every iothread of the command
	 * line is known. Until then any of them may be the missing one, except the main thread
	 * and kernel-made workers, which never are.
	 */
	complete = vm->vcpus_found >= vm->vcpus_expected && iothreads_found(vm);
	FOREACH_ARRAY (t, vm->threads, vm->n_threads)
		if (t->source == ROLE_SOURCE_NONE || t->role == ROLE_EMULATOR) {
			bool certain = complete || t->tid == vm->pid || is_user_worker(t);

			free(t->iothread);
			t->iothread = NULL;
			t->role = ROLE_EMULATOR;
			t->source = certain ? best : ROLE_SOURCE_NONE;
		}
	if (r >= 0 && vm->vcpus_found < vm->vcpus_expected) {
		(void)snprintf(note, sizeof(note),
			       "vCPU mapping unknown for %u of %u vCPUs: add debug-threads=on to "
			       "-name, or a QMP socket (-qmp unix:PATH,server=on,wait=off)",
			       vm->vcpus_expected - vm->vcpus_found, vm->vcpus_expected);
		r = add_note(vm, note);
	}
	if (r >= 0 && vm->cmdline.incomplete && best != ROLE_SOURCE_QMP)
		r = add_note(vm, "the command line uses -readconfig or -set, so its vCPUs and "
				 "iothreads may not all be known; a QMP socket would tell");
	for (size_t i = 0; r >= 0 && i < vm->cmdline.n_iothreads; i++)
		if (!iothread_found(vm, vm->cmdline.iothreads[i])) {
			(void)snprintf(note, sizeof(note),
				       "iothread %.64s: thread unknown%s; a QMP socket would tell",
				       vm->cmdline.iothreads[i],
				       strlen(vm->cmdline.iothreads[i]) > 12
					       ? " (QEMU names threads only for ids of up to 12 "
						 "characters)"
					       : "");
			r = add_note(vm, note);
		}
	return r;
}

/* The most trusted source that identified any thread. */
static enum role_source best_source(const struct vm *vm)
{
	enum role_source best = ROLE_SOURCE_NONE;

	FOREACH_ARRAY (t, vm->threads, vm->n_threads)
		if (t->source < best)
			best = t->source;
	return best;
}

int discover_classify(struct vm *vm, const struct qmp_info *qmp)
{
	int r = 0;

	free(vm->note);
	vm->note = NULL;
	FOREACH_ARRAY (t, vm->threads, vm->n_threads) {
		r = set_role(t, ROLE_EMULATOR, 0, NULL, ROLE_SOURCE_NONE);
		if (r < 0)
			return r;
	}
	/* How many vCPUs there are: QMP knows hot-plugged ones, and so do KVM's vCPU fds. */
	vm->vcpus_expected = MAX(vm->cmdline.vcpus, (unsigned)vm->n_vcpu_fds);
	if (vm->cmdline.tcg_single_thread)
		vm->vcpus_expected = 1;
	if (qmp) {
		vm->vcpus_expected = 0;
		for (size_t i = 0; i < qmp->n_cpus; i++)
			if (i == 0 || qmp->cpus[i].thread_id != qmp->cpus[0].thread_id)
				vm->vcpus_expected++;
		r = classify_qmp(vm, qmp);
	}
	if (r >= 0)
		r = classify_names(vm);
	if (r >= 0)
		r = classify_kvm(vm);
	if (r >= 0)
		r = classify_finish(vm, best_source(vm));
	return r;
}

/* ---- evidence from /proc ---- */

bool discover_binary_is_qemu(char *const *globs, size_t n, const char *exe)
{
	for (size_t i = 0; i < n; i++)
		if (fnmatch(globs[i], exe, FNM_PATHNAME) == 0)
			return true;
	return false;
}

/* APIC ids of the process's vCPU fds, and which fd each is. */
struct vcpu_fds {
	int *fd;
	int *id;
	size_t n;
};

static int read_vcpu_fds(int proc_fd, pid_t pid, struct vcpu_fds *ret)
{
	_cleanup_free_ int *fds = NULL;
	size_t n = 0;
	int r = proc_list_fds(proc_fd, pid, &fds, &n);

	if (r < 0)
		return r;
	ret->fd = calloc(n + 1, sizeof(int));
	ret->id = calloc(n + 1, sizeof(int));
	if (!ret->fd || !ret->id)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *link = NULL;
		char name[32];
		int64_t id;

		(void)snprintf(name, sizeof(name), "fd/%d", fds[i]);
		if (proc_read_link(proc_fd, pid, name, &link) < 0 ||
		    strncmp(link, "anon_inode:kvm-vcpu:", 20) != 0 ||
		    parse_int64(link + 20, &id) < 0 || id < 0 || id > INT32_MAX)
			continue;
		ret->fd[ret->n] = fds[i];
		ret->id[ret->n++] = (int)id;
	}
	return 0;
}

/*
 * The KVM evidence of one thread: the vCPU fd it sits in KVM_RUN on (syscall file
 * "16 <fd> 0xae80 ...": only while blocked there, so it is sampled a few times), and whether
 * its signal mask is a KVM vCPU's (SIGUSR1 and SIGBUS let through, most else blocked).
 */
static void read_kvm_evidence(int proc_fd, pid_t pid, struct vm_thread *t,
			      const struct vcpu_fds *fds)
{
	_cleanup_free_ char *sigblk = NULL;

	t->kvm_vcpu_id = -1;
	if (fds->n == 0 || is_user_worker(t) || t->tid == pid)
		return; /* kernel workers copy a vCPU's registers into their syscall file */
	if (proc_read_status_field(proc_fd, pid, t->tid, "SigBlk", &sigblk) >= 0) {
		uint64_t mask = strtoull(sigblk, NULL, 16);

		t->kvm_vcpu_signals = (mask & KVM_VCPU_UNBLOCKED) == 0 && (mask >> 32) != 0;
	}
	for (int i = 0; i < SYSCALL_SAMPLES && t->kvm_vcpu_id < 0; i++) {
		struct proc_syscall sc;

		if (proc_read_syscall(proc_fd, pid, t->tid, &sc) < 0 || sc.nr != SYS_ioctl_x86_64 ||
		    sc.args[1] != KVM_RUN_IOCTL)
			continue;
		for (size_t k = 0; k < fds->n; k++)
			if ((uint64_t)fds->fd[k] == sc.args[0])
				t->kvm_vcpu_id = fds->id[k];
	}
}

/* Clock ticks since boot, from /proc/uptime; 0 when unknown (fixtures). */
static uint64_t uptime_ticks(int proc_fd)
{
	_cleanup_free_ char *buf = NULL;
	long hz = sysconf(_SC_CLK_TCK);

	if (read_file_at(proc_fd, "uptime", 4096, &buf, NULL) < 0 || hz <= 0)
		return 0;
	return (uint64_t)(strtod(buf, NULL) * (double)hz);
}

static int read_threads(int proc_fd, uint64_t now, struct vm *vm, const struct vcpu_fds *fds)
{
	_cleanup_free_ pid_t *tids = NULL;
	size_t n = 0;
	int r = proc_list_tids(proc_fd, vm->pid, &tids, &n);

	if (r < 0)
		return r;
	vm->threads = calloc(n + 1, sizeof(struct vm_thread));
	if (!vm->threads)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct vm_thread *t = &vm->threads[vm->n_threads];

		*t = (struct vm_thread){ .tid = tids[i], .kvm_vcpu_id = -1 };
		if (proc_read_stat(proc_fd, vm->pid, tids[i], &t->stat) < 0)
			continue; /* gone meanwhile */
		/* A thread starts with its creator's name and renames itself within ms: names of
		 * threads younger than two clock ticks are not trusted yet. */
		t->young = now > 0 && now < t->stat.starttime + 2;
		read_kvm_evidence(proc_fd, vm->pid, t, fds);
		vm->n_threads++;
	}
	return 0;
}

/* The path of the first /proc/PID/cgroup line that names another manager's group, or NULL. */
static char *managed_group(const char *cgroup_file)
{
	for (const char *l = cgroup_file; l && *l;) {
		const char *end = strchrnul(l, '\n'), *path = memchr(l, ':', end - l);

		path = path ? memchr(path + 1, ':', end - path - 1) : NULL;
		if (path && (memmem(path, end - path, "machine-qemu", 12) ||
			     memmem(path, end - path, "/qemu.slice/", 12)))
			return strndup(path + 1, end - path - 1);
		l = *end ? end + 1 : end;
	}
	return NULL;
}

static int read_identity(const struct discover_opts *o, struct vm *vm)
{
	_cleanup_free_ char *cmdline = NULL, *uid = NULL, *cgroups = NULL;
	struct proc_stat st;
	size_t size;
	char path[64];
	int r;

	r = proc_read_stat(o->proc_fd, vm->pid, 0, &st);
	if (r < 0)
		return r;
	vm->starttime = st.starttime;
	r = proc_read_cmdline(o->proc_fd, vm->pid, &cmdline, &size);
	if (r >= 0)
		r = qemu_cmdline_parse_buf(cmdline, size, &vm->cmdline);
	if (r >= 0)
		r = proc_read_status_field(o->proc_fd, vm->pid, 0, "Uid", &uid);
	if (r < 0)
		return r;
	vm->uid = (uid_t)strtoul(uid, NULL, 10);
	(void)snprintf(path, sizeof(path), "%d/cgroup", (int)vm->pid);
	if (read_file_at(o->proc_fd, path, 65536, &cgroups, NULL) >= 0)
		vm->managed = managed_group(cgroups);
	/* On a hybrid host the unified line says "/" while v1 holds the placement. */
	if (proc_read_cgroup(o->proc_fd, vm->pid, 0, NULL, &vm->cgroup) < 0 ||
	    streq(vm->cgroup, "/")) {
		free(vm->cgroup);
		vm->cgroup = NULL;
		(void)proc_read_cgroup(o->proc_fd, vm->pid, 0, "cpu", &vm->cgroup);
	}
	/* An empty -name is none (spec §2): the uuid, then the pid name the VM. */
	if (vm->cmdline.name && *vm->cmdline.name)
		vm->name = strdup(vm->cmdline.name);
	else if (vm->cmdline.uuid && *vm->cmdline.uuid)
		vm->name = strdup(vm->cmdline.uuid);
	else if (asprintf(&vm->name, "pid-%d", (int)vm->pid) < 0)
		vm->name = NULL; /* asprintf leaves it undefined on failure */
	return vm->name ? 0 : -ENOMEM;
}

/* The QMP socket as an absolute path: relative ones are relative to QEMU's cwd. */
static int resolve_qmp_path(int proc_fd, struct vm *vm)
{
	_cleanup_free_ char *cwd = NULL;
	int r;

	if (!vm->cmdline.qmp_socket)
		return 0;
	if (vm->cmdline.qmp_socket[0] == '/') {
		vm->qmp_path = strdup(vm->cmdline.qmp_socket);
		return vm->qmp_path ? 0 : -ENOMEM;
	}
	r = proc_read_link(proc_fd, vm->pid, "cwd", &cwd);
	if (r < 0)
		return 0; /* unknown: QMP is not asked */
	return asprintf(&vm->qmp_path, "%s/%s", cwd, vm->cmdline.qmp_socket) < 0 ? -ENOMEM : 0;
}

int discover_vm(const struct discover_opts *o, pid_t pid, struct vm *ret)
{
	struct vm vm = { .pid = pid, .qmp_result = 1 };
	struct vcpu_fds fds = {};
	int r = proc_read_exe(o->proc_fd, pid, &vm.exe);

	if (r == -ENOENT && pid > 0) {
		/* Kernel threads have no exe; a zombie neither. Not a VM. */
		return 0;
	}
	if (r < 0)
		return r == -EACCES ? 0 : r;
	if (!discover_binary_is_qemu(o->qemu_binaries, o->n_qemu_binaries, vm.exe)) {
		free(vm.exe);
		return 0;
	}
	r = read_identity(o, &vm);
	if (r >= 0 && vm.managed && o->skip_managed)
		r = 0;
	else if (r >= 0) {
		r = read_vcpu_fds(o->proc_fd, pid, &fds);
		if (r >= 0)
			r = read_threads(o->proc_fd, o->boot_ticks ?: uptime_ticks(o->proc_fd), &vm,
					 &fds);
		if (r >= 0) {
			vm.vcpu_fd_ids = TAKE_PTR(fds.id);
			vm.n_vcpu_fds = fds.n;
			/* KVM vCPU fds say which accelerator of those tried runs. */
			(void)qemu_cmdline_accel(&vm.cmdline, fds.n > 0,
						 &vm.cmdline.tcg_single_thread);
		}
		if (r >= 0)
			r = resolve_qmp_path(o->proc_fd, &vm);
		if (r >= 0)
			r = discover_classify(&vm, NULL);
		if (r >= 0)
			r = 1;
	}
	free(fds.fd);
	free(fds.id);
	if (r <= 0) {
		vm_done(&vm);
		return r;
	}
	*ret = vm;
	return 1;
}

int discover_all(const struct discover_opts *o, struct vm **ret, size_t *ret_n)
{
	_cleanup_free_ pid_t *pids = NULL;
	struct vm *vms = NULL;
	size_t n = 0, n_vms = 0, allocated = 0;
	int r = proc_list_pids(o->proc_fd, &pids, &n);

	for (size_t i = 0; r >= 0 && i < n; i++) {
		struct vm vm;
		int k = discover_vm(o, pids[i], &vm);

		if (k == -ENOENT || k == -ESRCH || k == 0)
			continue; /* gone, or not a VM */
		if (k < 0) {
			r = k;
			break;
		}
		r = GROW_ARRAY(vms, allocated, n_vms + 1);
		if (r < 0) {
			vm_done(&vm);
			break;
		}
		vms[n_vms++] = vm;
	}
	if (r >= 0 && o->qmp)
		r = discover_ask_qmp(o, vms, n_vms);
	if (r < 0) {
		vms_free(vms, n_vms);
		return r;
	}
	*ret = vms;
	*ret_n = n_vms;
	return 0;
}

int discover_ask_qmp(const struct discover_opts *o, struct vm *vms, size_t n)
{
	_cleanup_free_ struct qmp_target *t = calloc(n + 1, sizeof(*t));
	_cleanup_free_ struct qmp_info *infos = calloc(n + 1, sizeof(*infos));
	_cleanup_free_ int *results = calloc(n + 1, sizeof(int));
	_cleanup_free_ size_t *which = calloc(n + 1, sizeof(size_t));
	size_t k = 0;
	int r = 0;

	if (!t || !infos || !results || !which)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (vms[i].cmdline.qmp_socket) {
			t[k] = (struct qmp_target){ .pid = vms[i].pid,
						    .starttime = vms[i].starttime,
						    .path = vms[i].cmdline.qmp_socket };
			which[k++] = i;
		}
	/* All at once: n silent sockets cost one timeout, not n. */
	qmp_query_many(o->proc_fd, t, k, o->qmp_timeout_usec, infos, results);
	for (size_t i = 0; i < k; i++) {
		struct vm *vm = &vms[which[i]];

		vm->qmp_result = results[i];
		if (r >= 0 && results[i] == 0)
			r = discover_classify(vm, &infos[i]);
		qmp_info_done(&infos[i]);
	}
	return r;
}

struct vm_identity vm_identity(const struct vm *vm)
{
	return (struct vm_identity){
		.name = vm->name,
		.uuid = vm->cmdline.uuid,
		.uid_set = true,
		.uid = vm->uid,
		.binary = vm->exe,
	};
}

void vm_done(struct vm *vm)
{
	FOREACH_ARRAY (t, vm->threads, vm->n_threads)
		free(t->iothread);
	free(vm->threads);
	free(vm->vcpu_fd_ids);
	free(vm->exe);
	free(vm->name);
	free(vm->cgroup);
	free(vm->managed);
	free(vm->qmp_path);
	free(vm->note);
	qemu_cmdline_done(&vm->cmdline);
	*vm = (struct vm){};
}

void vms_free(struct vm *vms, size_t n)
{
	for (size_t i = 0; i < n; i++)
		vm_done(&vms[i]);
	free(vms);
}
