/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The effect of a VM's limits, per group kvmtune made for it: the VM group ("vm") and each
 * thread group below it ("emulator", "vcpu0", "iothread-io1"), as the threads' cgroup files
 * say they are placed, not as a policy says they should be. CPU is read per group; memory and
 * I/O belong to the whole process (its memory and blkio/io group). What `kvmtunectl status`
 * shows under "Effect" and `kvmtunectl metrics` exports.
 */

#include "cgroup-fs.h"
#include "cgroup-read.h"
#include "cgroup-stats.h"
#include "discover.h"

struct effect_group {
	char *label; /* "vm", or the path below the VM group: "vcpu0", "iothread-io1" */
	char *path;  /* below the hierarchy's root, without a leading '/' */
	unsigned n_threads;
	struct cg_cpu limits; /* quota and period, to tell a throttle from no quota */
	struct cg_cpu_stats cpu;
	struct cg_psi pressure;
};

struct vm_effect {
	struct effect_group *groups; /* the VM group first, when it exists */
	size_t n_groups;

	char *memory_group; /* NULL: the process is not in the VM group of that controller */
	struct cg_memory memory_limits;
	struct cg_memory_stats memory;
	struct cg_psi memory_pressure;
	/*
	 * Part of the VM's memory is charged to another group: memory does not move with a task,
	 * so a VM adopted by kvmtune (not started with `kvmtunectl run`) keeps what it had charged
	 * where it was, and the usage here is only what it allocated since. Known when the
	 * group's usage is below the process's own anonymous memory (RssAnon), which is charged
	 * to some group: at least elsewhere_bytes of it to another.
	 */
	bool charged_elsewhere;
	uint64_t elsewhere_bytes;
	bool have_ages;		  /* the VM ran before its memory group was made: */
	double vm_age, group_age; /* seconds */

	char *io_group;
	struct cg_io_stats io;
	struct cg_psi io_pressure;
};

/*
 * Reads the effect for vm, whose VM group is vm_group (relative to the hierarchies' roots, as
 * struct assessment has it). proc_fd is /proc or a fixture (with an "uptime" file). Returns
 * 0 (an empty effect when nothing is in the VM group), or -ENOMEM.
 */
int vm_effect_read(const struct cgroup_fs *fs, int proc_fd, const struct vm *vm,
		   const char *vm_group, struct vm_effect *ret);

void vm_effect_done(struct vm_effect *e);
