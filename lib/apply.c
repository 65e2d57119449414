/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <numa.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "apply.h"
#include "cgroup-read.h"
#include "cgroup-write.h"
#include "macro.h"
#include "numa-maps.h"
#include "proc.h"

static const char *const outcome_names[_APPLY_OUTCOME_MAX] = {
	[APPLY_DONE] = "done", [APPLY_UNCHANGED] = "unchanged", [APPLY_WOULD] = "would",
	[APPLY_GONE] = "gone", [APPLY_FAILED] = "failed",	[APPLY_WARNING] = "warning",
};

const char *apply_outcome_to_string(enum apply_outcome o)
{
	return o < _APPLY_OUTCOME_MAX ? outcome_names[o] : NULL;
}

/* ---- comparing with the kernel ---- */

static bool lists_equal(const char *a, const char *b)
{
	struct cpuset x = {}, y = {};
	bool eq;

	if ((!*a || cpuset_parse(a, CPUSET_LIMIT, &x, NULL) >= 0) &&
	    (!*b || cpuset_parse(b, CPUSET_LIMIT, &y, NULL) >= 0))
		eq = cpuset_equal(&x, &y);
	else
		eq = streq(a, b);
	cpuset_done(&x);
	cpuset_done(&y);
	return eq;
}

/* The line of a multi-entry file that starts with "MAJ:MIN " (or "default "), or NULL. */
static const char *entry_line(const char *current, const char *key, size_t *ret_len)
{
	size_t k = strlen(key);

	for (const char *l = current; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, key, k) == 0 && l[k] == ' ') {
			*ret_len = strcspn(l, "\n");
			return l;
		}
	return NULL;
}

/* Multi-entry files (io.max, io.weight, blkio.throttle.*, *.weight_device): does the entry for
 * desired's key say the same? An absent entry equals "no limit" (0, or all "max"). */
static bool entry_matches(const char *current, const char *desired)
{
	char key[32];
	size_t len = 0, klen = strcspn(desired, " ");
	const char *line, *value = desired + klen + (desired[klen] == ' ');

	if (klen >= sizeof(key))
		return false;
	memcpy(key, desired, klen);
	key[klen] = '\0';
	line = entry_line(current, key, &len);
	if (!line) {
		/* v1 at default weight shows a bare number; a removed throttle shows nothing */
		if (streq(key, "default"))
			return current[strspn(current, "0123456789")] == '\0' &&
			       streq(current, value);
		return streq(value, "0") ||
		       (strstr(value, "rbps=max wbps=max riops=max wiops=max") == value);
	}
	return len == strlen(desired) && strncmp(line, desired, len) == 0;
}

bool cgroup_value_matches(const char *file, const char *current, const char *desired)
{
	uint64_t a, b;

	if (streq(file, "cpuset.cpus") || streq(file, "cpuset.mems"))
		return lists_equal(current, desired);
	if (streq(file, "cgroup.subtree_control")) {
		/* "+cpu +cpuset" holds when each is listed */
		char copy[128], *save = NULL;

		(void)snprintf(copy, sizeof(copy), "%s", desired);
		for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
			const char *name = w + (*w == '+');
			size_t n = strlen(name);
			bool found = false;

			for (const char *c = current; c && *c;
			     c = strchr(c, ' '), c = c ? c + 1 : NULL)
				found = found ||
					(strncmp(c, name, n) == 0 && (c[n] == ' ' || !c[n]));
			if (!found)
				return false;
		}
		return true;
	}
	if (streq(file, "io.max") || streq(file, "io.weight") || streq(file, "io.bfq.weight") ||
	    strstr(file, "_device"))
		return entry_matches(current, desired);
	if (streq(file, "cpu.max")) {
		char q1[32], q2[32];
		unsigned long long p1, p2;

		return sscanf(current, "%31s %llu", q1, &p1) == 2 &&
		       sscanf(desired, "%31s %llu", q2, &p2) == 2 && p1 == p2 &&
		       cg_parse_limit(q1, &a) >= 0 && cg_parse_limit(q2, &b) >= 0 && a == b;
	}
	if (cg_parse_limit(current, &a) >= 0 && cg_parse_limit(desired, &b) >= 0)
		return a == b;
	return streq(current, desired);
}

/* ---- the dry run's memory ---- */

struct overlay_entry {
	enum cgroup_controller controller;
	char *group;
	char *file; /* NULL: the group was made */
	char *value;
};

static struct overlay_entry *overlay_find(struct apply_overlay *o, const struct action *a,
					  const char *file)
{
	if (!o)
		return NULL;
	for (size_t i = 0; i < o->n; i++)
		if (o->entries[i].controller == a->controller &&
		    streq(o->entries[i].group, a->group) && streq(o->entries[i].file, file))
			return &o->entries[i];
	return NULL;
}

static void overlay_set(struct apply_overlay *o, const struct action *a, const char *file,
			const char *value)
{
	struct overlay_entry *e = overlay_find(o, a, file);

	if (!o)
		return;
	if (!e) {
		if (GROW_ARRAY(o->entries, o->allocated, o->n + 1) < 0)
			return;
		e = &o->entries[o->n++];
		*e = (struct overlay_entry){ .controller = a->controller,
					     .group = strdup(a->group),
					     .file = file ? strdup(file) : NULL };
	}
	free(e->value);
	e->value = value ? strdup(value) : NULL;
}

void apply_overlay_done(struct apply_overlay *o)
{
	for (size_t i = 0; i < o->n; i++) {
		free(o->entries[i].group);
		free(o->entries[i].file);
		free(o->entries[i].value);
	}
	free(o->entries);
	*o = (struct apply_overlay){};
}

/* ---- carrying out ---- */

struct run {
	const struct apply_ctx *ctx;
	const struct plan *plan;
	struct apply_stats *stats;
	bool scope_started; /* this run made the VM's scope, with every unit property */
	/* Dry run: threads that would join a cpuset group, whose affinity the kernel then sets
	 * to that group's CPUs by itself. */
	pid_t *cpuset_joins;
	size_t n_cpuset_joins, allocated;
};

static bool would_join_cpuset(const struct run *run, pid_t tid)
{
	for (size_t i = 0; i < run->n_cpuset_joins; i++)
		if (run->cpuset_joins[i] == tid)
			return true;
	return false;
}

static void report(struct run *run, const struct action *a, enum apply_outcome o, const char *old,
		   int error)
{
	run->stats->n[o]++;
	if (run->ctx->report && (o != APPLY_UNCHANGED || run->ctx->report_unchanged))
		run->ctx->report(run->ctx->userdata, a, o, old, error);
}

static int hierarchy(const struct apply_ctx *ctx, enum cgroup_controller c, int *ret_version)
{
	int fd;

	return cgroup_fs_controller(ctx->fs, c, &fd, ret_version) < 0 ? -ENOENT : fd;
}

static bool is_gone(int error)
{
	return error == -ESRCH || error == -ENOENT;
}

static enum apply_outcome do_mkdir(struct run *run, const struct action *a, int fd, int *error)
{
	int r = cgroup_exists(fd, a->group);

	if (r > 0 || (run->ctx->dry_run && overlay_find(run->ctx->overlay, a, NULL)))
		return APPLY_UNCHANGED;
	if (r < 0) {
		*error = r;
		return APPLY_FAILED;
	}
	if (run->ctx->dry_run) {
		overlay_set(run->ctx->overlay, a, NULL, NULL);
		return APPLY_WOULD;
	}
	r = cgroup_mkdir(fd, a->group);
	if (r < 0 && r != -EEXIST) {
		*error = r;
		return APPLY_FAILED;
	}
	return APPLY_DONE;
}

/*
 * What a file holds in a group the kernel has just made, for a dry run to compare with: a
 * group this plan would create does not exist yet. NULL when it depends on more than the file.
 */
static const char *new_group_value(const char *file, int version)
{
	static const struct {
		const char *file;
		const char *v1, *v2;
	} defaults[] = {
		{ "cpu.shares", "1024", NULL },
		{ "cpu.weight", NULL, "100" },
		{ "cpu.cfs_period_us", "100000", NULL },
		{ "cpu.cfs_quota_us", "-1", NULL },
		{ "cpu.max", NULL, "max 100000" },
		{ "cpuset.cpus", "", "" },
		{ "cpuset.mems", "", "" },
		{ "cpuset.memory_migrate", "0", NULL },
		{ "memory.limit_in_bytes", "-1", NULL },
		{ "memory.soft_limit_in_bytes", "-1", NULL },
		{ "memory.memsw.limit_in_bytes", "-1", NULL },
		{ "memory.max", NULL, "max" },
		{ "memory.low", NULL, "0" },
		{ "memory.min", NULL, "0" },
		{ "memory.swap.max", NULL, "max" },
		{ "blkio.bfq.weight", "100", NULL },
		{ "io.bfq.weight", NULL, "default 100" },
		{ "io.weight", NULL, "default 100" },
		{ "io.max", NULL, "" },
		{ "cgroup.type", NULL, "domain" },
		{ "cgroup.subtree_control", NULL, "" },
	};

	if (strstr(file, "_device"))
		return "";
	for (size_t i = 0; i < ARRAY_SIZE(defaults); i++)
		if (streq(defaults[i].file, file))
			return version == 1 ? defaults[i].v1 : defaults[i].v2;
	return NULL;
}

/*
 * What a file holds, to compare with what the plan wants: the kernel's value; in a dry run what
 * the run would already have written, or, with new_group_defaults, what a group this plan
 * makes would hold. Returns 0 with *current, or -errno.
 */
static int read_current(struct run *run, const struct action *a, int fd, int version,
			bool new_group_defaults, char **current)
{
	int r = cgroup_read(fd, a->group, a->file, current);
	const struct overlay_entry *e =
		run->ctx->dry_run ? overlay_find(run->ctx->overlay, a, a->file) : NULL;

	if (e) {
		/* A value this dry run would already have written. */
		free(*current);
		*current = e->value ? strdup(e->value) : NULL;
		return *current ? 0 : -ENOMEM;
	}
	if (new_group_defaults && r == -ENOENT && run->ctx->dry_run &&
	    cgroup_exists(fd, a->group) == 0) {
		/* The group comes with this plan: compare with what a new group holds. */
		const char *fresh = new_group_value(a->file, version);

		free(*current);
		*current = fresh ? strdup(fresh) : NULL;
		return *current ? 0 : -ENOENT;
	}
	return r;
}

static enum apply_outcome do_write(struct run *run, const struct action *a, int fd, int version,
				   char **old, int *error)
{
	int r = read_current(run, a, fd, version, true, old);

	if (r < 0 && run->ctx->dry_run) {
		overlay_set(run->ctx->overlay, a, a->file, a->value);
		return APPLY_WOULD;
	}
	if (r >= 0 && a->only_if_empty && **old)
		return APPLY_UNCHANGED;
	if (r >= 0 && cgroup_value_matches(a->file, *old, a->value))
		return APPLY_UNCHANGED;
	if (run->ctx->dry_run) {
		overlay_set(run->ctx->overlay, a, a->file, a->value);
		return APPLY_WOULD;
	}
	r = cgroup_write(fd, a->group, a->file, a->value);
	if (r < 0) {
		*error = r;
		return APPLY_FAILED;
	}
	return APPLY_DONE;
}

/* Is cgroup (as /proc/PID/cgroup shows it) group itself, or, with subtree, below it? */
static bool cgroup_is_in(const char *cgroup, const char *group, bool subtree)
{
	size_t n = strlen(group);

	cgroup += cgroup[0] == '/';
	return strncmp(cgroup, group, n) == 0 &&
	       (cgroup[n] == '\0' || (subtree && cgroup[n] == '/'));
}

/*
 * Is the thread's group for this hierarchy `group` (or below it, with subtree)? When it is not,
 * *where (if not NULL and still NULL) gets the group it is in, for the report: on v1 under
 * systemd that is how a move by systemd shows.
 */
static int thread_in(const struct apply_ctx *ctx, const struct action *a, pid_t tid, int version,
		     bool subtree, char **where)
{
	_cleanup_free_ char *cur = NULL;
	int r = proc_read_cgroup(ctx->proc_fd, a->pid, tid,
				 version == 1 ? cgroup_controller_v1_name(a->controller) : NULL,
				 &cur);

	if (r < 0)
		return r;
	r = cgroup_is_in(cur, a->group, subtree);
	if (r == 0 && where && !*where)
		*where = TAKE_PTR(cur);
	return r;
}

static enum apply_outcome do_attach(struct run *run, const struct action *a, int fd, int version,
				    char **old, int *error)
{
	bool process = a->kind == ACTION_ATTACH_PROCESS;
	char id[16];
	int r;

	if (process) {
		_cleanup_free_ pid_t *tids = NULL;
		size_t n = 0;

		r = proc_list_tids(run->ctx->proc_fd, a->pid, &tids, &n);
		for (size_t i = 0; r >= 0 && i < n; i++) {
			/* v2: threads in the VM's thread groups are inside it already */
			int in = thread_in(run->ctx, a, tids[i], version, version == 2, old);

			if (in == 0 || (in < 0 && !is_gone(in)))
				r = -1;
		}
		if (r >= 0)
			return APPLY_UNCHANGED;
	} else {
		r = thread_in(run->ctx, a, a->tid, version, false, old);
		if (r > 0)
			return APPLY_UNCHANGED;
		if (r < 0 && is_gone(r))
			return APPLY_GONE;
	}
	if (run->ctx->dry_run) {
		bool cpuset = a->controller == CGROUP_CPUSET ||
			      (version == 2 && run->ctx->fs->v2[CGROUP_CPUSET]);

		if (!process && cpuset &&
		    GROW_ARRAY(run->cpuset_joins, run->allocated, run->n_cpuset_joins + 1) >= 0)
			run->cpuset_joins[run->n_cpuset_joins++] = a->tid;
		return APPLY_WOULD;
	}
	(void)snprintf(id, sizeof(id), "%d", (int)(process ? a->pid : a->tid));
	r = cgroup_write(fd, a->group,
			 process	? "cgroup.procs"
			 : version == 1 ? "tasks"
					: "cgroup.threads",
			 id);
	if (is_gone(r))
		return APPLY_GONE;
	if (r < 0) {
		*error = r;
		return APPLY_FAILED;
	}
	return APPLY_DONE;
}

static enum apply_outcome do_affinity(struct run *run, const struct action *a, char **old,
				      int *error)
{
	cpu_set_t cur, want;
	struct cpuset have = {};

	if (sched_getaffinity(a->tid, sizeof(cur), &cur) < 0)
		return errno == ESRCH ? APPLY_GONE : (*error = -errno, APPLY_FAILED);
	for (int i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &cur) && cpuset_add(&have, (unsigned)i) < 0)
			return (*error = -ENOMEM, APPLY_FAILED);
	*old = cpuset_format(&have);
	if (cpuset_equal(&have, &a->cpus)) {
		cpuset_done(&have);
		return APPLY_UNCHANGED;
	}
	cpuset_done(&have);
	if (run->ctx->dry_run)
		return would_join_cpuset(run, a->tid) ? APPLY_UNCHANGED : APPLY_WOULD;
	CPU_ZERO(&want);
	CPUSET_FOREACH (i, &a->cpus)
		if (i < CPU_SETSIZE)
			CPU_SET(i, &want);
	if (sched_setaffinity(a->tid, sizeof(want), &want) < 0)
		return errno == ESRCH ? APPLY_GONE : (*error = -errno, APPLY_FAILED);
	return APPLY_DONE;
}

static enum apply_outcome do_scheduler(struct run *run, const struct action *a, char **old,
				       int *error)
{
	struct sched_param param = { .sched_priority = a->sched_priority };
	int policy = sched_getscheduler(a->tid);
	struct sched_param cur = {};

	if (policy < 0 || sched_getparam(a->tid, &cur) < 0)
		return errno == ESRCH ? APPLY_GONE : (*error = -errno, APPLY_FAILED);
	policy &= ~SCHED_RESET_ON_FORK;
	if (asprintf(old, "policy %d priority %d", policy, cur.sched_priority) < 0)
		*old = NULL;
	if (policy == a->sched_policy && cur.sched_priority == a->sched_priority)
		return APPLY_UNCHANGED;
	if (run->ctx->dry_run)
		return APPLY_WOULD;
	if (sched_setscheduler(a->tid, a->sched_policy, &param) < 0)
		return errno == ESRCH ? APPLY_GONE : (*error = -errno, APPLY_FAILED);
	return APPLY_DONE;
}

static enum apply_outcome do_rmdir(struct run *run, const struct action *a, int fd, int *error)
{
	int r = cgroup_exists(fd, a->group);

	if (r == 0)
		return APPLY_UNCHANGED;
	if (run->ctx->dry_run)
		return APPLY_WOULD;
	r = cgroup_rmdir_tree(fd, a->group);
	if (r < 0 && r != -ENOENT) {
		*error = r;
		return APPLY_FAILED;
	}
	return APPLY_DONE;
}

/* Memory outside the wanted nodes is moved there with migrate_pages(2), through libnuma. */
static enum apply_outcome do_migrate(struct run *run, const struct action *a, char **old,
				     int *error)
{
	uint64_t bytes[NUMA_MAPS_NODES];
	struct bitmask *from, *to;
	uint64_t outside = 0;
	int nodes = numa_maps_read(run->ctx->proc_fd, a->pid, bytes), r;

	if (nodes < 0)
		return is_gone(nodes) ? APPLY_GONE : (*error = nodes, APPLY_FAILED);
	for (int n = 0; n < nodes; n++)
		if (!cpuset_contains(&a->cpus, (unsigned)n))
			outside += bytes[n];
	if (asprintf(old, "%" PRIu64 " bytes on other nodes", outside) < 0)
		*old = NULL;
	if (outside == 0)
		return APPLY_UNCHANGED;
	if (run->ctx->dry_run)
		return APPLY_WOULD;
	if (numa_available() < 0) {
		*error = -EOPNOTSUPP;
		return APPLY_FAILED;
	}
	from = numa_allocate_nodemask();
	to = numa_allocate_nodemask();
	for (int n = 0; from && to && n < nodes; n++)
		if (cpuset_contains(&a->cpus, (unsigned)n))
			numa_bitmask_setbit(to, (unsigned)n);
		else
			numa_bitmask_setbit(from, (unsigned)n);
	r = from && to ? numa_migrate_pages(a->pid, from, to) : -1;
	if (r < 0)
		*error = from && to ? -errno : -ENOMEM;
	if (from)
		numa_bitmask_free(from);
	if (to)
		numa_bitmask_free(to);
	if (r < 0)
		return is_gone(*error) ? APPLY_GONE : APPLY_FAILED;
	return APPLY_DONE;
}

/* ---- the systemd backend ---- */

static const char *unit_of(const char *group)
{
	const char *slash = strrchr(group, '/');

	return slash ? slash + 1 : group;
}

/*
 * The unit properties the scope starts with: all but AllowedMemoryNodes. The kernel (cgroup v2,
 * 6.1 measured) migrates a process's memory when the cpuset.mems of its group changes, not
 * when the process joins a group whose cpuset.mems is set already: systemd sets the nodes
 * once the process is in, through the UNIT_WRITE that follows.
 */
static int plan_properties(const struct plan *p, struct unit_property **ret, size_t *ret_n)
{
	struct unit_property *props = NULL;
	size_t n = 0, allocated = 0;

	FOREACH_ARRAY (a, p->actions, p->n)
		for (size_t i = 0; a->kind == ACTION_UNIT_WRITE && i < a->n_props; i++) {
			if (streq(a->props[i].name, "AllowedMemoryNodes"))
				continue;
			if (GROW_ARRAY(props, allocated, n + 1) < 0) {
				free(props);
				return -ENOMEM;
			}
			props[n++] = a->props[i]; /* shallow: the plan keeps owning them */
		}
	*ret = props;
	*ret_n = n;
	return 0;
}

/* Is group the cgroup of systemd's unit of that name (not a directory someone else made)? */
static bool unit_owns(struct unit_bus *bus, const char *group)
{
	_cleanup_free_ char *cgroup = NULL;

	return unit_control_group(bus, unit_of(group), &cgroup, NULL) >= 0 && cgroup[0] == '/' &&
	       streq(cgroup + 1, group);
}

static bool process_gone(const struct run *run, pid_t pid)
{
	_cleanup_free_ char *cgroup = NULL;

	return is_gone(proc_read_cgroup(run->ctx->proc_fd, pid, 0, NULL, &cgroup));
}

static enum apply_outcome do_scope(struct run *run, const struct action *a, char **old, int *error)
{
	_cleanup_free_ struct unit_property *props = NULL;
	_cleanup_free_ char *cgroup = NULL, *description = NULL, *detail = NULL;
	const char *unit = unit_of(a->group);
	size_t n = 0;
	int r = proc_read_cgroup(run->ctx->proc_fd, a->pid, 0, NULL, old);

	if (r < 0)
		return is_gone(r) ? APPLY_GONE : (*error = r, APPLY_FAILED);
	if (!run->ctx->bus)
		return (*error = -ENOTCONN, APPLY_FAILED);
	/* In the group, and the group is the unit's: not, after the cgroupfs backend made it. */
	if (cgroup_is_in(*old, a->group, true) && unit_owns(run->ctx->bus, a->group))
		return APPLY_UNCHANGED;
	if (run->ctx->dry_run)
		return APPLY_WOULD;
	if (plan_properties(run->plan, &props, &n) < 0 ||
	    asprintf(&description, "kvmtune: QEMU pid %d", (int)a->pid) < 0)
		return (*error = -ENOMEM, APPLY_FAILED);
	r = unit_start_scope(run->ctx->bus, unit, a->value, a->pid, description, props, n, &detail);
	if (r >= 0)
		run->scope_started = true;
	else if (r == -EEXIST) /* a scope of that name, still there: the process joins it */
		r = unit_attach_process(run->ctx->bus, unit, a->pid, &detail);
	if (r >= 0)
		r = unit_control_group(run->ctx->bus, unit, &cgroup, &detail);
	if (r >= 0 && !cgroup_is_in(cgroup, a->group, true)) {
		if (asprintf(&detail, "systemd made it '%s'", cgroup) < 0)
			detail = NULL;
		r = -EXDEV;
	}
	if (r < 0 && (r == -ESRCH || process_gone(run, a->pid)))
		return APPLY_GONE; /* the VM ended meanwhile */
	if (r < 0) {
		/* For a failure, old says why. */
		free(*old);
		*old = TAKE_PTR(detail);
		*error = r;
		return APPLY_FAILED;
	}
	return APPLY_DONE;
}

/* systemd writes the cgroup after answering: wait for it, briefly. */
static int read_until_matches(int fd, const struct action *a, char **current)
{
	int r = -EIO;

	for (int i = 0; i < 500; i++) {
		free(*current);
		*current = NULL;
		r = cgroup_read(fd, a->group, a->file, current);
		if (r >= 0 && cgroup_value_matches(a->file, *current, a->value))
			return 0;
		(void)nanosleep(&(struct timespec){ .tv_nsec = 2 * 1000 * 1000 }, NULL);
	}
	return r < 0 ? r : -EIO;
}

static enum apply_outcome do_unit_write(struct run *run, const struct action *a, int fd,
					int version, char **old, int *error)
{
	_cleanup_free_ char *now = NULL, *detail = NULL;
	/* No new-group defaults: a scope this run makes gets every property at once. */
	int r = read_current(run, a, fd, version, false, old);

	if (r < 0 && run->ctx->dry_run) {
		overlay_set(run->ctx->overlay, a, a->file, a->value);
		return APPLY_WOULD;
	}
	if (r >= 0 && cgroup_value_matches(a->file, *old, a->value)) {
		if (!run->scope_started)
			return APPLY_UNCHANGED;
		/* Set now, by the scope this run made with it. */
		free(*old);
		*old = NULL;
		return APPLY_DONE;
	}
	if (r == -ENOENT && cgroup_exists(fd, a->group) == 0)
		return APPLY_GONE; /* the VM ended: systemd removed its scope */
	if (run->ctx->dry_run) {
		overlay_set(run->ctx->overlay, a, a->file, a->value);
		return APPLY_WOULD;
	}
	if (!run->ctx->bus)
		return (*error = -ENOTCONN, APPLY_FAILED);
	r = unit_set_properties(run->ctx->bus, unit_of(a->group), a->props, a->n_props, &detail);
	if (r >= 0) {
		r = read_until_matches(fd, a, &now);
		if (r < 0 && asprintf(&detail, "systemd took the property but %s holds '%s'",
				      a->file, now ?: "?") < 0)
			detail = NULL;
	}
	if (r < 0 && is_gone(r) && cgroup_exists(fd, a->group) == 0)
		return APPLY_GONE; /* NoSuchUnit, and its group gone: the VM ended meanwhile */
	if (r < 0) {
		/* For a failure, old says why. */
		free(*old);
		*old = TAKE_PTR(detail);
		*error = r;
		return APPLY_FAILED;
	}
	return APPLY_DONE;
}

static enum apply_outcome do_machine(struct run *run, const struct action *a, char **old,
				     int *error)
{
	_cleanup_free_ char *cgroup = NULL;
	int r = proc_read_cgroup(run->ctx->proc_fd, a->pid, 0, NULL, &cgroup);

	if (r < 0)
		return is_gone(r) ? APPLY_GONE : (*error = r, APPLY_FAILED);
	if (!cgroup_is_in(cgroup, a->group, true)) {
		/* machined would take whatever unit the process is in now (a session, say). */
		if (run->ctx->dry_run)
			return APPLY_WOULD;
		*old = strdup("not registered: the VM is not in its scope");
		return (*error = -EXDEV, APPLY_FAILED);
	}
	if (!run->ctx->bus)
		return (*error = -ENOTCONN, APPLY_FAILED);
	r = machine_of_pid(run->ctx->bus, a->pid, old);
	if (r == -EHOSTDOWN || r > 0)
		return APPLY_UNCHANGED; /* no machined on this host, or it knows the VM */
	if (r < 0)
		return (*error = r, APPLY_FAILED);
	if (run->ctx->dry_run)
		return APPLY_WOULD;
	r = machine_register(run->ctx->bus, a->value, a->has_uuid ? a->uuid : NULL, a->pid, old);
	if (r == -EHOSTDOWN)
		return APPLY_UNCHANGED;
	if (r < 0 && (r == -ESRCH || process_gone(run, a->pid)))
		return APPLY_GONE;
	if (r < 0)
		return (*error = r, APPLY_FAILED);
	return APPLY_DONE;
}

static enum apply_outcome apply_one(struct run *run, const struct action *a, char **old, int *error)
{
	int version = 0, fd = -EBADF;

	if (a->kind == ACTION_WARN)
		return APPLY_WARNING;
	if (a->kind != ACTION_AFFINITY && a->kind != ACTION_SCHEDULER &&
	    a->kind != ACTION_MIGRATE_PAGES && a->kind != ACTION_SCOPE &&
	    a->kind != ACTION_MACHINE) {
		fd = hierarchy(run->ctx, a->controller, &version);
		if (fd < 0) {
			*error = fd;
			return APPLY_FAILED;
		}
	}
	switch (a->kind) {
	case ACTION_MKDIR:
		return do_mkdir(run, a, fd, error);
	case ACTION_WRITE:
		return do_write(run, a, fd, version, old, error);
	case ACTION_ATTACH_PROCESS:
	case ACTION_ATTACH_THREAD:
		return do_attach(run, a, fd, version, old, error);
	case ACTION_AFFINITY:
		return do_affinity(run, a, old, error);
	case ACTION_SCHEDULER:
		return do_scheduler(run, a, old, error);
	case ACTION_RMDIR:
		return do_rmdir(run, a, fd, error);
	case ACTION_MIGRATE_PAGES:
		return do_migrate(run, a, old, error);
	case ACTION_SCOPE:
		return do_scope(run, a, old, error);
	case ACTION_UNIT_WRITE:
		return do_unit_write(run, a, fd, version, old, error);
	case ACTION_MACHINE:
		return do_machine(run, a, old, error);
	default:
		*error = -EINVAL;
		return APPLY_FAILED;
	}
}

int apply_plan(const struct apply_ctx *ctx, const struct plan *p, struct apply_stats *stats)
{
	struct run run = { .ctx = ctx, .plan = p, .stats = stats };
	_cleanup_free_ bool *retry = calloc(p->n + 1, sizeof(bool));
	size_t n_retry = 0;

	if (!retry)
		return -ENOMEM;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < p->n; i++) {
			const struct action *a = &p->actions[i];
			_cleanup_free_ char *old = NULL;
			int error = 0;
			enum apply_outcome o;

			if (pass == 1 && !retry[i])
				continue;
			o = apply_one(&run, a, &old, &error);
			/* A parent not yet wide enough: once more after the rest. */
			if (pass == 0 && o == APPLY_FAILED && a->kind == ACTION_WRITE &&
			    (error == -EINVAL || error == -EBUSY)) {
				retry[i] = true;
				n_retry++;
				continue;
			}
			report(&run, a, o, old, error);
		}
		if (n_retry == 0)
			break;
	}
	free(run.cpuset_joins);
	return 0;
}

const char *apply_failure_detail(const struct action *a, int error, const char *old)
{
	const char *why = apply_explain(a, error);

	if (why)
		return why;
	return a->kind == ACTION_SCOPE || a->kind == ACTION_UNIT_WRITE || a->kind == ACTION_MACHINE
		       ? old
		       : NULL;
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
	return NULL;
}
