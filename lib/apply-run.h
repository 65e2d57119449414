/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What the executors of one apply_plan() run share (apply.c runs the plan and carries out the
 * cgroupfs and syscall actions; apply-unit.c the systemd ones). Internal to those two files.
 */

#include "apply.h"
#include "task-ref.h"

struct apply_run {
	const struct apply_ctx *ctx;
	const struct plan *plan;
	struct apply_stats *stats;
	bool scope_started; /* this run made the VM's scope, with every unit property */
	/* Threads that join (dry run: would join) a cpuset group in this run, whose affinity the
	 * kernel then sets to that group's CPUs by itself; with their CPUs before. */
	struct cpuset_join {
		pid_t tid;
		char *cpus_before; /* NULL: unknown */
	} * cpuset_joins;
	size_t n_cpuset_joins, allocated;
	/* The tasks this run acts on, each bound at its first action (result < 0: not the task
	 * the plan saw, so none of its actions is carried out). */
	struct apply_target {
		struct task_ref ref;
		int result;
	} * targets;
	size_t n_targets, allocated_targets;
	/* Each task's /proc cgroup file, read once per run for all its hierarchies; forgotten
	 * when this run moves the task. */
	struct cgroup_file {
		pid_t pid, tid;
		char *text;
	} * cgroup_files;
	size_t n_cgroup_files, allocated_cgroup_files;
	int qmp_error; /* the VM's QMP socket timed out in this run (apply-disks.c), or 0 */
};

/* One action being carried out: where, and what the executor found. The runner frees. */
struct apply_step {
	int fd, version; /* the action's hierarchy and cgroup version, when it has one */
	char *old;	 /* what was there before (the kernel's value, a thread's CPUs, ...) */
	char *detail;	 /* why it failed, in the refusing service's words; or how it was done */
	int error;	 /* -errno of a failure */
};

/*
 * Before a call that changes a's task: is it still the task the plan saw? APPLY_DONE when it
 * is (go on, *ref is its reference), else the outcome to report (gone, replaced, or failed with
 * *error).
 */
enum apply_outcome apply_verify_target(struct apply_run *run, const struct action *a,
				       const struct task_ref **ref, int *error);

/*
 * After the call: the task still alive means it held the TID throughout. If it ended meanwhile
 * the call may have reached a task that took the TID in between; nothing can tell, so the
 * outcome says the task is gone rather than that the change was made.
 */
enum apply_outcome apply_after_call(const struct apply_run *run, const struct task_ref *ref,
				    enum apply_outcome o);

/* A thread, a process, a group or a unit that is gone: nothing to enforce, not a failure. */
static inline bool apply_is_gone(int error)
{
	return error == -ESRCH || error == -ENOENT;
}

/* Whether the process pid has ended. */
bool apply_process_gone(const struct apply_run *run, pid_t pid);
