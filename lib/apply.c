/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <numa.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "apply-disks.h"
#include "apply-run.h"
#include "apply-unit.h"
#include "cgroup-read.h"
#include "cgroup-value.h"
#include "cgroup-write.h"
#include "macro.h"
#include "numa-maps.h"
#include "proc.h"
#include "task-ref.h"

/* ---- acting only on the task the plan saw ---- */

/* APPLY_GONE when the task ended; APPLY_REPLACED when its TID now names another task. */
static enum apply_outcome not_the_task(const struct apply_run *run, const struct action *a)
{
	char path[16];
	struct stat st;

	(void)snprintf(path, sizeof(path), "%d", (int)a->tid);
	return fstatat(run->ctx->proc_fd, path, &st, 0) == 0 ? APPLY_REPLACED : APPLY_GONE;
}

/* The reference to a's task for this run: bound at its first use. 0, -ESRCH, -errno. */
static int target_of(struct apply_run *run, const struct action *a, const struct task_ref **ret)
{
	struct apply_target *t;

	FOREACH_ARRAY (x, run->targets, run->n_targets)
		if (x->ref.pid == a->pid && x->ref.tid == a->tid) {
			*ret = &x->ref;
			return x->result;
		}
	if (GROW_ARRAY(run->targets, run->allocated_targets, run->n_targets + 1) < 0)
		return -ENOMEM;
	t = &run->targets[run->n_targets++];
	t->ref = (struct task_ref){ .pid = a->pid, .tid = a->tid, .pidfd = -EBADF };
	t->result = task_ref_open(run->ctx->proc_fd, a->pid, a->tid, a->starttime, &t->ref);
	*ret = &t->ref;
	return t->result;
}

enum apply_outcome apply_verify_target(struct apply_run *run, const struct action *a,
				       const struct task_ref **ref, int *error)
{
	int r = target_of(run, a, ref);

	if (r >= 0)
		r = task_ref_check(*ref, run->ctx->proc_fd);
	if (r == -ESRCH)
		return not_the_task(run, a);
	if (r < 0) {
		*error = r;
		return APPLY_FAILED;
	}
	return APPLY_DONE;
}

enum apply_outcome apply_after_call(const struct apply_run *run, const struct task_ref *ref,
				    enum apply_outcome o)
{
	return o == APPLY_DONE && task_ref_check(ref, run->ctx->proc_fd) == -ESRCH ? APPLY_GONE : o;
}

static const struct cpuset_join *cpuset_joined(const struct apply_run *run, pid_t tid)
{
	FOREACH_ARRAY (j, run->cpuset_joins, run->n_cpuset_joins)
		if (j->tid == tid)
			return j;
	return NULL;
}

/* A thread's CPUs as a canonical list; NULL when unknown. */
static char *affinity_text(pid_t tid, struct cpuset *ret)
{
	cpu_set_t cur;
	struct cpuset have = {};
	char *s;

	if (sched_getaffinity(tid, sizeof(cur), &cur) < 0)
		return NULL;
	for (int i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &cur) && cpuset_add(&have, (unsigned)i) < 0) {
			cpuset_done(&have);
			return NULL;
		}
	s = cpuset_format(&have);
	if (ret)
		*ret = have;
	else
		cpuset_done(&have);
	return s;
}

/* A thread about to join a cpuset group: the kernel will set its CPUs, remember them first. */
static void note_cpuset_join(struct apply_run *run, pid_t tid)
{
	if (GROW_ARRAY(run->cpuset_joins, run->allocated, run->n_cpuset_joins + 1) >= 0)
		run->cpuset_joins[run->n_cpuset_joins++] =
			(struct cpuset_join){ .tid = tid, .cpus_before = affinity_text(tid, NULL) };
}

static void report(struct apply_run *run, const struct action *a, enum apply_outcome o,
		   const struct apply_step *s)
{
	const char *detail = s->detail;

	if (o == APPLY_FAILED && apply_explain(a, s->error))
		detail = apply_explain(a, s->error);

	run->stats->n[o]++;
	if (run->ctx->report && (o != APPLY_UNCHANGED || run->ctx->report_unchanged))
		run->ctx->report(run->ctx->userdata, a, o, s->old, s->error, detail);
}

static int hierarchy(const struct apply_ctx *ctx, enum cgroup_controller c, int *ret_version)
{
	int fd;

	return cgroup_fs_controller(ctx->fs, c, &fd, ret_version) < 0 ? -ENOENT : fd;
}

bool apply_process_gone(const struct apply_run *run, pid_t pid)
{
	_cleanup_free_ char *cgroup = NULL;

	return apply_is_gone(proc_read_cgroup(run->ctx->proc_fd, pid, 0, NULL, &cgroup));
}

static enum apply_outcome do_mkdir(struct apply_run *run, const struct action *a,
				   struct apply_step *s)
{
	int r = cgroup_exists(s->fd, a->group);

	if (r > 0 || (run->ctx->dry_run &&
		      cgroup_overlay_has_group(run->ctx->overlay, a->controller, a->group)))
		return APPLY_UNCHANGED;
	if (r < 0) {
		s->error = r;
		return APPLY_FAILED;
	}
	if (run->ctx->dry_run) {
		cgroup_overlay_set(run->ctx->overlay, a->controller, a->group, NULL, NULL);
		return APPLY_WOULD;
	}
	r = cgroup_mkdir(s->fd, a->group);
	if (r < 0 && r != -EEXIST) {
		s->error = r;
		return APPLY_FAILED;
	}
	return APPLY_DONE;
}

static enum apply_outcome do_write(struct apply_run *run, const struct action *a,
				   struct apply_step *s)
{
	int r = cgroup_value_current(s->fd, s->version, a->controller, a->group, a->file,
				     run->ctx->dry_run, run->ctx->overlay, true, &s->old);

	if (r == -ENOENT && a->optional && cgroup_exists(s->fd, a->group) > 0)
		return APPLY_UNCHANGED; /* the kernel has no such file: nothing to set */

	if (r < 0 && run->ctx->dry_run) {
		cgroup_overlay_set(run->ctx->overlay, a->controller, a->group, a->file, a->value);
		return APPLY_WOULD;
	}
	if (r >= 0 && a->only_if_empty && *s->old)
		return APPLY_UNCHANGED;
	if (r >= 0 && cgroup_value_matches(a->file, s->old, a->value))
		return APPLY_UNCHANGED;
	if (run->ctx->dry_run) {
		cgroup_overlay_set(run->ctx->overlay, a->controller, a->group, a->file, a->value);
		return APPLY_WOULD;
	}
	r = cgroup_write(s->fd, a->group, a->file, a->value);
	if (r < 0) {
		s->error = r;
		return APPLY_FAILED;
	}
	return APPLY_DONE;
}

/* The task's cgroup file, from this run's memory or read now (and remembered). */
static int cgroup_file_of(struct apply_run *run, pid_t pid, pid_t tid, const char **ret)
{
	struct cgroup_file *f;
	char *text;
	int r;

	FOREACH_ARRAY (x, run->cgroup_files, run->n_cgroup_files)
		if (x->pid == pid && x->tid == tid) {
			*ret = x->text;
			return 0;
		}
	r = proc_read_cgroup_file(run->ctx->proc_fd, pid, tid, &text);
	if (r < 0)
		return r;
	if (GROW_ARRAY(run->cgroup_files, run->allocated_cgroup_files, run->n_cgroup_files + 1) <
	    0) {
		free(text);
		return -ENOMEM;
	}
	f = &run->cgroup_files[run->n_cgroup_files++];
	*f = (struct cgroup_file){ .pid = pid, .tid = tid, .text = text };
	*ret = text;
	return 0;
}

/* After a move: what was read of the moved tasks (one thread, or all of a process) is old. */
static void forget_cgroup_files(struct apply_run *run, pid_t pid, pid_t tid)
{
	size_t kept = 0;

	FOREACH_ARRAY (x, run->cgroup_files, run->n_cgroup_files)
		if (x->pid == pid && (tid == 0 || x->tid == tid))
			free(x->text);
		else
			run->cgroup_files[kept++] = *x;
	run->n_cgroup_files = kept;
}

/* Is the thread's group for this hierarchy `group` (or below it, with subtree)? */
static int thread_in(struct apply_run *run, const struct action *a, pid_t tid, int version,
		     bool subtree, char **ret_where)
{
	_cleanup_free_ char *cur = NULL;
	const char *text;
	int r = cgroup_file_of(run, a->pid, tid, &text);

	if (r >= 0)
		r = proc_cgroup_parse(
			text, version == 1 ? cgroup_controller_v1_name(a->controller) : NULL, &cur);

	if (r < 0)
		return r;
	r = cgroup_path_is_in(cur, a->group, subtree);
	if (r == 0 && ret_where && !*ret_where)
		*ret_where =
			TAKE_PTR(cur); /* where it is, for the report: how systemd's moves show */
	return r;
}

/*
 * Is the process (or the thread) on its way out? A killed QEMU's threads exit one by one: a
 * move of the whole process skips those already exiting, and a thread that then stays behind
 * cannot join a v2 thread group of a domain its process is not in (EOPNOTSUPP). Such a failure
 * is the VM's end, not an error.
 */
static bool ending(const struct apply_run *run, pid_t pid, pid_t tid)
{
	struct proc_stat st;

	for (int i = 0; i < 2; i++) {
		if (proc_read_stat(run->ctx->proc_fd, pid, i == 0 ? tid : 0, &st) < 0 ||
		    (st.flags & PF_EXITING) || st.state == 'Z' || st.state == 'X')
			return true;
		if (tid == 0)
			break;
	}
	return false;
}

static enum apply_outcome do_attach(struct apply_run *run, const struct action *a,
				    struct apply_step *s)
{
	int version = s->version;
	bool process = a->kind == ACTION_ATTACH_PROCESS;
	const struct task_ref *ref;
	enum apply_outcome o;
	char id[16];
	int r;

	if (process) {
		_cleanup_free_ pid_t *tids = NULL;
		size_t n = 0;

		r = proc_list_tids(run->ctx->proc_fd, a->pid, &tids, &n);
		for (size_t i = 0; r >= 0 && i < n; i++) {
			/* v2: threads in the VM's thread groups are inside it already */
			int in = thread_in(run, a, tids[i], version, version == 2, &s->old);

			if (in == 0 || (in < 0 && !apply_is_gone(in)))
				r = -1;
		}
		if (r >= 0)
			return APPLY_UNCHANGED;
	} else {
		r = thread_in(run, a, a->tid, version, false, &s->old);
		if (r > 0)
			return APPLY_UNCHANGED;
		if (r < 0 && apply_is_gone(r))
			return APPLY_GONE;
	}
	o = apply_verify_target(run, a, &ref, &s->error);
	if (o != APPLY_DONE)
		return o;
	/* The cpuset's hierarchy may be cpu's ("cpu,cpuset"): then this move is its join. */
	if (!process && ((version == 1 && run->ctx->fs->v1_fd[CGROUP_CPUSET] >= 0 &&
			  cgroup_fs_hierarchy_of(run->ctx->fs, CGROUP_CPUSET) == a->controller) ||
			 (version == 2 && run->ctx->fs->v2[CGROUP_CPUSET])))
		note_cpuset_join(run, a->tid);
	if (run->ctx->dry_run)
		return APPLY_WOULD;
	(void)snprintf(id, sizeof(id), "%d", (int)(process ? a->pid : a->tid));
	r = cgroup_write(s->fd, a->group,
			 process	? "cgroup.procs"
			 : version == 1 ? "tasks"
					: "cgroup.threads",
			 id);
	forget_cgroup_files(run, a->pid, process ? 0 : a->tid);
	if (apply_is_gone(r) || (r < 0 && ending(run, a->pid, process ? 0 : a->tid)))
		return APPLY_GONE;
	if (r < 0) {
		s->error = r;
		return APPLY_FAILED;
	}
	return apply_after_call(run, ref, APPLY_DONE);
}

static enum apply_outcome do_affinity(struct apply_run *run, const struct action *a,
				      struct apply_step *s)
{
	static const char by_join[] = "by joining its cpuset group";
	const struct cpuset_join *join = cpuset_joined(run, a->tid);
	const struct task_ref *ref;
	cpu_set_t want;
	struct cpuset have = {};
	enum apply_outcome o = apply_verify_target(run, a, &ref, &s->error);
	bool equal;

	if (o != APPLY_DONE)
		return o;
	s->old = affinity_text(a->tid, &have);
	if (!s->old)
		return errno == ESRCH ? APPLY_GONE : (s->error = -(errno ?: ENOMEM), APPLY_FAILED);
	equal = cpuset_equal(&have, &a->cpus);
	cpuset_done(&have);
	/* The join set the CPUs (or, in a dry run, will): a change this run makes all the same. */
	if (equal && join && !run->ctx->dry_run && join->cpus_before &&
	    !streq(join->cpus_before, s->old)) {
		free(s->old);
		s->old = strdup(join->cpus_before);
		s->detail = strdup(by_join);
		return APPLY_DONE;
	}
	if (equal)
		return APPLY_UNCHANGED;
	if (run->ctx->dry_run) {
		if (join)
			s->detail = strdup(by_join);
		return APPLY_WOULD;
	}
	CPU_ZERO(&want);
	CPUSET_FOREACH (i, &a->cpus)
		if (i < CPU_SETSIZE)
			CPU_SET(i, &want);
	o = apply_verify_target(run, a, &ref, &s->error); /* the read above took a while */
	if (o != APPLY_DONE)
		return o;
	if (sched_setaffinity(a->tid, sizeof(want), &want) < 0)
		return errno == ESRCH ? APPLY_GONE : (s->error = -errno, APPLY_FAILED);
	return apply_after_call(run, ref, APPLY_DONE);
}

static enum apply_outcome do_scheduler(struct apply_run *run, const struct action *a,
				       struct apply_step *s)
{
	struct sched_param param = { .sched_priority = a->sched_priority };
	const struct task_ref *ref;
	struct sched_param cur = {};
	enum apply_outcome o = apply_verify_target(run, a, &ref, &s->error);
	int policy;

	if (o != APPLY_DONE)
		return o;
	policy = sched_getscheduler(a->tid);
	if (policy < 0 || sched_getparam(a->tid, &cur) < 0)
		return errno == ESRCH ? APPLY_GONE : (s->error = -errno, APPLY_FAILED);
	policy &= ~SCHED_RESET_ON_FORK;
	s->old = apply_sched_text(policy, cur.sched_priority);
	if (policy == a->sched_policy && cur.sched_priority == a->sched_priority)
		return APPLY_UNCHANGED;
	if (run->ctx->dry_run)
		return APPLY_WOULD;
	o = apply_verify_target(run, a, &ref, &s->error);
	if (o != APPLY_DONE)
		return o;
	if (sched_setscheduler(a->tid, a->sched_policy, &param) < 0)
		return errno == ESRCH ? APPLY_GONE : (s->error = -errno, APPLY_FAILED);
	return apply_after_call(run, ref, APPLY_DONE);
}

static enum apply_outcome do_rmdir(struct apply_run *run, const struct action *a,
				   struct apply_step *s)
{
	int r = cgroup_exists(s->fd, a->group);

	if (r == 0)
		return APPLY_UNCHANGED;
	if (run->ctx->dry_run)
		return APPLY_WOULD;
	r = cgroup_rmdir_tree(s->fd, a->group);
	if (r < 0 && r != -ENOENT) {
		s->error = r;
		return APPLY_FAILED;
	}
	return APPLY_DONE;
}

/* Memory outside the wanted nodes is moved there with migrate_pages(2), through libnuma. */
static enum apply_outcome do_migrate(struct apply_run *run, const struct action *a,
				     struct apply_step *s)
{
	uint64_t bytes[NUMA_MAPS_NODES];
	const struct task_ref *ref;
	struct bitmask *from, *to;
	uint64_t outside = 0;
	enum apply_outcome o = apply_verify_target(run, a, &ref, &s->error);
	int nodes, r;

	if (o != APPLY_DONE)
		return o;
	nodes = numa_maps_read(run->ctx->proc_fd, a->pid, bytes);
	if (nodes < 0)
		return apply_is_gone(nodes) ? APPLY_GONE : (s->error = nodes, APPLY_FAILED);
	for (int n = 0; n < nodes; n++)
		if (!cpuset_contains(&a->nodes, (unsigned)n))
			outside += bytes[n];
	if (asprintf(&s->old, "%" PRIu64 " bytes on other nodes", outside) < 0)
		s->old = NULL;
	if (outside == 0)
		return APPLY_UNCHANGED;
	if (run->ctx->dry_run)
		return APPLY_WOULD;
	if (numa_available() < 0) {
		s->error = -EOPNOTSUPP;
		return APPLY_FAILED;
	}
	from = numa_allocate_nodemask();
	to = numa_allocate_nodemask();
	for (int n = 0; from && to && n < nodes; n++)
		if (cpuset_contains(&a->nodes, (unsigned)n))
			numa_bitmask_setbit(to, (unsigned)n);
		else
			numa_bitmask_setbit(from, (unsigned)n);
	o = apply_verify_target(run, a, &ref, &s->error);
	r = o != APPLY_DONE ? 0 : from && to ? numa_migrate_pages(a->pid, from, to) : -1;
	if (r < 0)
		s->error = from && to ? -errno : -ENOMEM;
	if (from)
		numa_bitmask_free(from);
	if (to)
		numa_bitmask_free(to);
	if (o != APPLY_DONE)
		return o;
	if (r < 0)
		return apply_is_gone(s->error) ? APPLY_GONE : APPLY_FAILED;
	return apply_after_call(run, ref, APPLY_DONE);
}

/* ---- running a plan ---- */

static enum apply_outcome apply_one(struct apply_run *run, const struct action *a,
				    struct apply_step *s)
{
	static enum apply_outcome (*const executors[_ACTION_KIND_MAX])(
		struct apply_run *, const struct action *, struct apply_step *) = {
		[ACTION_MKDIR] = do_mkdir,
		[ACTION_WRITE] = do_write,
		[ACTION_ATTACH_PROCESS] = do_attach,
		[ACTION_ATTACH_THREAD] = do_attach,
		[ACTION_AFFINITY] = do_affinity,
		[ACTION_SCHEDULER] = do_scheduler,
		[ACTION_RMDIR] = do_rmdir,
		[ACTION_MIGRATE_PAGES] = do_migrate,
		[ACTION_SCOPE] = apply_unit_scope,
		[ACTION_UNIT_WRITE] = apply_unit_write,
		[ACTION_MACHINE] = apply_unit_machine,
		[ACTION_DISK_THROTTLE] = apply_disk_throttle,
	};

	if (a->kind == ACTION_WARN)
		return APPLY_WARNING;
	if (a->kind >= _ACTION_KIND_MAX || !executors[a->kind]) {
		s->error = -EINVAL;
		return APPLY_FAILED;
	}
	/* Actions on a group work in the hierarchy of its controller. */
	if (a->group && a->kind != ACTION_SCOPE && a->kind != ACTION_MACHINE) {
		s->fd = hierarchy(run->ctx, a->controller, &s->version);
		if (s->fd < 0) {
			s->error = s->fd;
			return APPLY_FAILED;
		}
	}
	return executors[a->kind](run, a, s);
}

/* The VM a plan is for: the process its group takes in. 0 when the plan moves none. */
static pid_t plan_pid(const struct plan *p)
{
	FOREACH_ARRAY (a, p->actions, p->n)
		if (a->kind == ACTION_ATTACH_PROCESS || a->kind == ACTION_SCOPE)
			return a->pid;
	return 0;
}

/*
 * Whether the VM ended (gone, or a zombie): a VM killed while its plan runs makes any later
 * action fail some way (a group systemd removed with its scope, a thread the kernel no longer
 * moves: EOPNOTSUPP, ENOENT), which is not a failure to enforce.
 */
static bool vm_ended(const struct apply_run *run, pid_t pid)
{
	struct proc_stat st;
	int r;

	if (pid <= 0)
		return false;
	r = proc_read_stat(run->ctx->proc_fd, pid, 0, &st);
	return apply_is_gone(r) || (r >= 0 && (st.state == 'Z' || st.state == 'X'));
}

int apply_plan(const struct apply_ctx *ctx, const struct plan *p, struct apply_stats *stats)
{
	struct apply_run run = { .ctx = ctx, .plan = p, .stats = stats };
	_cleanup_free_ bool *retry = calloc(p->n + 1, sizeof(bool));
	size_t n_retry = 0;

	if (!retry)
		return -ENOMEM;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < p->n; i++) {
			const struct action *a = &p->actions[i];
			struct apply_step s = { .fd = -EBADF };
			enum apply_outcome o;

			if (pass == 1 && !retry[i])
				continue;
			o = apply_one(&run, a, &s);
			/* A parent not yet wide enough: once more after the rest. */
			if (pass == 0 && o == APPLY_FAILED && a->kind == ACTION_WRITE &&
			    (s.error == -EINVAL || s.error == -EBUSY)) {
				retry[i] = true;
				n_retry++;
			} else {
				if (o == APPLY_FAILED && vm_ended(&run, plan_pid(p)))
					o = APPLY_GONE;
				report(&run, a, o, &s);
			}
			free(s.old);
			free(s.detail);
		}
		if (n_retry == 0)
			break;
	}
	FOREACH_ARRAY (j, run.cpuset_joins, run.n_cpuset_joins)
		free(j->cpus_before);
	free(run.cpuset_joins);
	FOREACH_ARRAY (t, run.targets, run.n_targets)
		task_ref_done(&t->ref);
	free(run.targets);
	FOREACH_ARRAY (x, run.cgroup_files, run.n_cgroup_files)
		free(x->text);
	free(run.cgroup_files);
	return 0;
}

char *apply_sched_text(int policy, int priority)
{
	static const char *const names[] = {
		[SCHED_OTHER] = "other", [SCHED_FIFO] = "fifo", [SCHED_RR] = "rr",
		[SCHED_BATCH] = "batch", [SCHED_IDLE] = "idle",
	};
	const char *name = policy >= 0 && (size_t)policy < ARRAY_SIZE(names) && names[policy]
				   ? names[policy]
				   : "?";
	char *s;

	if (policy == SCHED_FIFO || policy == SCHED_RR)
		return asprintf(&s, "%s %d", name, priority) < 0 ? NULL : s;
	return strdup(name);
}

const char *apply_explain(const struct action *a, int error)
{
	if (a->kind == ACTION_SCHEDULER && error == -EPERM)
		return "the kernel's real-time group scheduling gives this thread's cgroup no "
		       "real-time budget (cgroup v1: cpu.rt_runtime_us of the group and its "
		       "parents; "
		       "cgroup v2 with CONFIG_RT_GROUP_SCHED allows real-time tasks only in the "
		       "root "
		       "group)";
	if (a->kind == ACTION_ATTACH_THREAD && error == -ENOSPC)
		return "the group's cpuset has no CPUs or memory nodes yet";
	if (a->kind == ACTION_WRITE && error == -EOPNOTSUPP && strstr(a->file, "weight"))
		return "the device's I/O scheduler does not support weights (use bfq)";
	if (a->kind == ACTION_WRITE && error == -EINVAL && strstr(a->file, "memsw"))
		return "memory + swap may not be below the memory limit";
	/* A parent's cpuset shrunk under the VM (v1 refuses a child CPUs its parent lacks; on v2
	 * the thread's effective cpuset lacks them): the policy cannot hold until it is undone. */
	if (a->kind == ACTION_WRITE && (error == -EACCES || error == -EINVAL) &&
	    (streq(a->file, "cpuset.cpus") || streq(a->file, "cpuset.mems")))
		return "not all of them are in the parent group's cpuset (cgroup v1 gives a group "
		       "only its parent's CPUs and nodes): was a parent's cpuset shrunk? The VM "
		       "keeps what it has";
	if (a->kind == ACTION_AFFINITY && error == -EINVAL)
		return "the thread's cpuset holds none of these CPUs: its group's or a parent's "
		       "cpuset.cpus lacks them (was a parent's cpuset shrunk?)";
	return NULL;
}
