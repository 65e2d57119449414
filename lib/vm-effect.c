/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"
#include "vm-effect.h"

/* The group a thread is in for controller c (v1 by its name, v2 the unified line). */
static int thread_group(const struct cgroup_fs *fs, int proc_fd, pid_t pid, pid_t tid,
			enum cgroup_controller c, char **ret)
{
	int fd, version, r = cgroup_fs_controller(fs, c, &fd, &version);

	if (r < 0)
		return r;
	return proc_read_cgroup(proc_fd, pid, tid,
				version == 1 ? cgroup_controller_v1_name(c) : NULL, ret);
}

/* The label of cgroup (as /proc shows it) below vm_group: "vm", "vcpu0"; NULL: not the VM's. */
static const char *label_of(const char *cgroup, const char *vm_group)
{
	size_t n = strlen(vm_group);

	cgroup += cgroup[0] == '/';
	if (!cgroup_path_is_in(cgroup, vm_group, true))
		return NULL;
	return cgroup[n] ? cgroup + n + 1 : "vm";
}

static int add_group(struct vm_effect *e, size_t *allocated, const char *label, const char *path)
{
	FOREACH_ARRAY (g, e->groups, e->n_groups)
		if (streq(g->path, path)) {
			g->n_threads++;
			return 0;
		}
	if (GROW_ARRAY(e->groups, *allocated, e->n_groups + 1) < 0)
		return -ENOMEM;
	e->groups[e->n_groups] =
		(struct effect_group){ .label = strdup(label), .path = strdup(path) };
	if (!e->groups[e->n_groups].label || !e->groups[e->n_groups].path) {
		free(e->groups[e->n_groups].label);
		free(e->groups[e->n_groups].path);
		return -ENOMEM;
	}
	e->groups[e->n_groups++].n_threads = streq(label, "vm") ? 0 : 1;
	return 0;
}

/* The VM group, then each distinct group of its threads below it. */
static int cpu_groups(const struct cgroup_fs *fs, int proc_fd, const struct vm *vm,
		      const char *vm_group, struct vm_effect *e)
{
	size_t allocated = 0;
	int fd, version, r;

	if (cgroup_fs_controller(fs, CGROUP_CPU, &fd, &version) < 0)
		return 0;
	r = add_group(e, &allocated, "vm", vm_group);
	FOREACH_ARRAY (t, vm->threads, vm->n_threads) {
		_cleanup_free_ char *cg = NULL;
		const char *label;

		if (r < 0)
			return r;
		if (thread_group(fs, proc_fd, vm->pid, t->tid, CGROUP_CPU, &cg) < 0)
			continue; /* gone */
		label = label_of(cg, vm_group);
		if (label && streq(label, "vm"))
			e->groups[0].n_threads++;
		else if (label)
			r = add_group(e, &allocated, label, cg + (cg[0] == '/'));
	}
	return r;
}

static void read_cpu(const struct cgroup_fs *fs, struct effect_group *g)
{
	int fd, version, acct_fd, acct_version;

	if (cgroup_fs_controller(fs, CGROUP_CPU, &fd, &version) < 0)
		return;
	/* cpuacct mounted with cpu has cpu's fd (cgroup-fs.h); v2 accounts in cpu.stat */
	if (version == 2 || cgroup_fs_controller(fs, CGROUP_CPUACCT, &acct_fd, &acct_version) < 0)
		acct_fd = fd;
	(void)cg_read_cpu(fd, version, g->path, &g->limits);
	(void)cg_read_cpu_stats(fd, acct_fd, version, g->path, &g->cpu);
	(void)cg_read_psi(fd, g->path, "cpu.pressure", &g->pressure);
}

/* Seconds since boot, from <proc>/uptime; negative when unknown. */
static double uptime(int proc_fd)
{
	_cleanup_free_ char *buf = NULL;

	if (read_file_at(proc_fd, "uptime", 4096, &buf, NULL) < 0)
		return -1;
	return strtod(buf, NULL);
}

/*
 * kernfs gives a cgroup directory its mtime when it is made, and changes to its files or
 * children leave it: the group's age. A VM older than its group was moved in.
 */
static void read_ages(int fd, int proc_fd, const struct vm *vm, struct vm_effect *e)
{
	_cleanup_close_ int dir = cgroup_open(fd, e->memory_group, O_PATH | O_DIRECTORY);
	long hz = sysconf(_SC_CLK_TCK);
	double up = uptime(proc_fd);
	struct timespec now;
	struct stat st;

	if (dir < 0 || fstat(dir, &st) < 0 || up < 0 || hz <= 0 ||
	    clock_gettime(CLOCK_REALTIME, &now) < 0)
		return;
	e->vm_age = up - (double)vm->starttime / (double)hz;
	e->group_age = (double)(now.tv_sec - st.st_mtim.tv_sec) +
		       (double)(now.tv_nsec - st.st_mtim.tv_nsec) / 1e9;
	e->have_ages = e->vm_age > e->group_age + 2.0; /* the clocks' grain */
}

/*
 * The process's anonymous memory is charged to some group: a usage below it means part of it
 * is charged to another. RssAnon is read before and after the usage and the smaller taken, so
 * that a VM allocating (one starting up) or freeing between the reads is not taken for one
 * charged elsewhere; the margin covers v1's per-CPU charge batches.
 */
#define CHARGE_MARGIN (UINT64_C(4) << 20)

static void check_charged(int fd, int version, int proc_fd, const struct vm *vm,
			  struct vm_effect *e)
{
	_cleanup_free_ char *anon = NULL, *anon_after = NULL, *usage = NULL;
	uint64_t anon_bytes, usage_bytes;

	read_ages(fd, proc_fd, vm, e);
	if (proc_read_status_field(proc_fd, vm->pid, 0, "RssAnon", &anon) < 0 ||
	    cgroup_read(fd, e->memory_group,
			version == 1 ? "memory.usage_in_bytes" : "memory.current", &usage) < 0 ||
	    cg_parse_limit(usage, &usage_bytes) < 0 ||
	    proc_read_status_field(proc_fd, vm->pid, 0, "RssAnon", &anon_after) < 0)
		return;
	anon_bytes = MIN(strtoull(anon, NULL, 10), strtoull(anon_after, NULL, 10)) * 1024; /* kB */
	if (anon_bytes > usage_bytes + CHARGE_MARGIN) {
		e->charged_elsewhere = true;
		e->elsewhere_bytes = anon_bytes - usage_bytes;
	}
}

/*
 * The VM group, when the process is in it or below for c: memory and I/O are the whole
 * process's, and both versions count a group's children in it (v2 threaded groups have their
 * memory in the VM group, the domain).
 */
static char *process_group(const struct cgroup_fs *fs, int proc_fd, const struct vm *vm,
			   const char *vm_group, enum cgroup_controller c)
{
	_cleanup_free_ char *cg = NULL;
	const char *label;

	if (thread_group(fs, proc_fd, vm->pid, 0, c, &cg) < 0)
		return NULL;
	label = label_of(cg, vm_group);
	return label ? strdup(vm_group) : NULL;
}

static int read_memory_io(const struct cgroup_fs *fs, int proc_fd, const struct vm *vm,
			  const char *vm_group, struct vm_effect *e)
{
	int fd, version;

	e->memory_group = process_group(fs, proc_fd, vm, vm_group, CGROUP_MEMORY);
	if (e->memory_group && cgroup_fs_controller(fs, CGROUP_MEMORY, &fd, &version) >= 0) {
		(void)cg_read_memory(fd, version, e->memory_group, &e->memory_limits);
		(void)cg_read_memory_stats(fd, version, e->memory_group, &e->memory);
		(void)cg_read_psi(fd, e->memory_group, "memory.pressure", &e->memory_pressure);
		check_charged(fd, version, proc_fd, vm, e);
	}
	e->io_group = process_group(fs, proc_fd, vm, vm_group, CGROUP_IO);
	if (e->io_group && cgroup_fs_controller(fs, CGROUP_IO, &fd, &version) >= 0) {
		int r = cg_read_io_stats(fd, version, e->io_group, &e->io);

		if (r < 0)
			return r;
		(void)cg_read_psi(fd, e->io_group, "io.pressure", &e->io_pressure);
	}
	return 0;
}

int vm_effect_read(const struct cgroup_fs *fs, int proc_fd, const struct vm *vm,
		   const char *vm_group, struct vm_effect *ret)
{
	struct vm_effect e = {};
	int r;

	*ret = e;
	if (!vm_group)
		return 0;
	vm_group += vm_group[0] == '/';
	r = cpu_groups(fs, proc_fd, vm, vm_group, &e);
	if (r >= 0)
		FOREACH_ARRAY (g, e.groups, e.n_groups)
			read_cpu(fs, g);
	if (r >= 0)
		r = read_memory_io(fs, proc_fd, vm, vm_group, &e);
	if (r < 0) {
		vm_effect_done(&e);
		return r;
	}
	/* A VM group the kernel does not have (not made yet) is no group of the VM's. */
	if (e.n_groups && !e.groups[0].n_threads && !e.groups[0].limits.have_shares &&
	    !e.groups[0].limits.have_weight && !e.groups[0].cpu.have_usage) {
		free(e.groups[0].label);
		free(e.groups[0].path);
		memmove(e.groups, e.groups + 1, --e.n_groups * sizeof(*e.groups));
	}
	*ret = e;
	return 0;
}

void vm_effect_done(struct vm_effect *e)
{
	FOREACH_ARRAY (g, e->groups, e->n_groups) {
		free(g->label);
		free(g->path);
	}
	free(e->groups);
	free(e->memory_group);
	free(e->io_group);
	cg_io_stats_done(&e->io);
	*e = (struct vm_effect){};
}
