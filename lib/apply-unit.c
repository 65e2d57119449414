/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "apply-unit.h"
#include "cgroup-read.h"
#include "cgroup-value.h"
#include "cgroup-write.h"
#include "macro.h"
#include "proc.h"
#include "unit-bus.h"

#define UNIT_WRITE_WAIT_TRIES 500 /* of 2 ms: systemd writes the cgroup after it answers */

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

enum apply_outcome apply_unit_scope(struct apply_run *run, const struct action *a,
				    struct apply_step *s)
{
	_cleanup_free_ struct unit_property *props = NULL;
	_cleanup_free_ char *cgroup = NULL, *description = NULL;
	const char *unit = unit_of(a->group);
	const struct task_ref *ref;
	enum apply_outcome o;
	size_t n = 0;
	int r = proc_read_cgroup(run->ctx->proc_fd, a->pid, 0, NULL, &s->old);

	if (r < 0)
		return apply_is_gone(r) ? APPLY_GONE : (s->error = r, APPLY_FAILED);
	if (!run->ctx->bus)
		return (s->error = -ENOTCONN, APPLY_FAILED);
	/* In the group, and the group is the unit's: not, after the cgroupfs backend made it. */
	if (cgroup_path_is_in(s->old, a->group, true) && unit_owns(run->ctx->bus, a->group))
		return APPLY_UNCHANGED;
	if (run->ctx->dry_run)
		return APPLY_WOULD;
	if (plan_properties(run->plan, &props, &n) < 0 ||
	    asprintf(&description, "kvmtune: QEMU pid %d", (int)a->pid) < 0)
		return (s->error = -ENOMEM, APPLY_FAILED);
	o = apply_verify_target(run, a, &ref, &s->error); /* systemd takes the PID as a number */
	if (o != APPLY_DONE)
		return o;
	r = unit_start_scope(run->ctx->bus, unit, a->slice, a->pid, description, props, n,
			     &s->detail);
	if (r >= 0)
		run->scope_started = true;
	else if (r == -EEXIST) /* a scope of that name, still there: the process joins it */
		r = unit_attach_process(run->ctx->bus, unit, a->pid, &s->detail);
	if (r >= 0)
		r = unit_control_group(run->ctx->bus, unit, &cgroup, &s->detail);
	if (r >= 0 && !cgroup_path_is_in(cgroup, a->group, true)) {
		free(s->detail);
		if (asprintf(&s->detail, "systemd made it '%s'", cgroup) < 0)
			s->detail = NULL;
		r = -EXDEV;
	}
	if (r < 0 && (r == -ESRCH || apply_process_gone(run, a->pid)))
		return APPLY_GONE; /* the VM ended meanwhile */
	if (r < 0)
		return (s->error = r, APPLY_FAILED);
	return apply_after_call(run, ref, APPLY_DONE);
}

/*
 * systemd writes the cgroup after answering. kvmtunectl waits for it, briefly; kvmtuned does
 * not wait in its event loop: its next pass finds whether the value arrived.
 */
static int wait_until_written(const struct apply_run *run, const struct action *a, int fd,
			      char **current)
{
	int r = -EIO;

	for (int i = 0; i < (run->ctx->wait_for_units ? UNIT_WRITE_WAIT_TRIES : 1); i++) {
		if (i > 0)
			(void)nanosleep(&(struct timespec){ .tv_nsec = 2 * 1000 * 1000 }, NULL);
		free(*current);
		*current = NULL;
		r = cgroup_read(fd, a->group, a->file, current);
		if (r >= 0 && cgroup_value_matches(a->file, *current, a->value))
			return 0;
	}
	if (!run->ctx->wait_for_units && r >= 0)
		return 0; /* taken; written when systemd gets to it */
	return r < 0 ? r : -EIO;
}

enum apply_outcome apply_unit_write(struct apply_run *run, const struct action *a,
				    struct apply_step *s)
{
	_cleanup_free_ char *now = NULL;
	/* No new-group defaults: a scope this run makes gets every property at once. */
	int r = cgroup_value_current(s->fd, s->version, a->controller, a->group, a->file,
				     run->ctx->dry_run, run->ctx->overlay, false, &s->old);

	if (r < 0 && run->ctx->dry_run) {
		cgroup_overlay_set(run->ctx->overlay, a->controller, a->group, a->file, a->value);
		return APPLY_WOULD;
	}
	if (r >= 0 && cgroup_value_matches(a->file, s->old, a->value)) {
		if (!run->scope_started)
			return APPLY_UNCHANGED;
		/* Set now, by the scope this run made with it. */
		free(s->old);
		s->old = NULL;
		return APPLY_DONE;
	}
	if (r == -ENOENT && cgroup_exists(s->fd, a->group) == 0)
		return APPLY_GONE; /* the VM ended: systemd removed its scope */
	if (run->ctx->dry_run) {
		cgroup_overlay_set(run->ctx->overlay, a->controller, a->group, a->file, a->value);
		return APPLY_WOULD;
	}
	if (!run->ctx->bus)
		return (s->error = -ENOTCONN, APPLY_FAILED);
	r = unit_set_properties(run->ctx->bus, unit_of(a->group), a->props, a->n_props, &s->detail);
	if (r >= 0) {
		r = wait_until_written(run, a, s->fd, &now);
		if (r < 0 && asprintf(&s->detail, "systemd took the property but %s holds '%s'",
				      a->file, now ?: "?") < 0)
			s->detail = NULL;
	}
	if (r < 0 && apply_is_gone(r) && cgroup_exists(s->fd, a->group) == 0)
		return APPLY_GONE; /* NoSuchUnit, and its group gone: the VM ended meanwhile */
	if (r < 0)
		return (s->error = r, APPLY_FAILED);
	return APPLY_DONE;
}

enum apply_outcome apply_unit_machine(struct apply_run *run, const struct action *a,
				      struct apply_step *s)
{
	_cleanup_free_ char *cgroup = NULL;
	const struct task_ref *ref;
	enum apply_outcome o;
	int r = proc_read_cgroup(run->ctx->proc_fd, a->pid, 0, NULL, &cgroup);

	if (r < 0)
		return apply_is_gone(r) ? APPLY_GONE : (s->error = r, APPLY_FAILED);
	if (!cgroup_path_is_in(cgroup, a->group, true)) {
		/* machined would take whatever unit the process is in now (a session, say). */
		if (run->ctx->dry_run)
			return APPLY_WOULD;
		s->detail = strdup("not registered: the VM is not in its scope");
		return (s->error = -EXDEV, APPLY_FAILED);
	}
	if (!run->ctx->bus)
		return (s->error = -ENOTCONN, APPLY_FAILED);
	r = machine_of_pid(run->ctx->bus, a->pid, &s->old);
	if (r == -EHOSTDOWN || r > 0)
		return APPLY_UNCHANGED; /* no machined on this host, or it knows the VM */
	if (r < 0)
		return (s->error = r, APPLY_FAILED);
	if (run->ctx->dry_run)
		return APPLY_WOULD;
	o = apply_verify_target(run, a, &ref, &s->error); /* machined takes a number */
	if (o != APPLY_DONE)
		return o;
	r = machine_register(run->ctx->bus, a->machine, a->has_uuid ? a->uuid : NULL, a->pid,
			     &s->detail);
	if (r == -EHOSTDOWN)
		return APPLY_UNCHANGED;
	if (r < 0 && (r == -ESRCH || apply_process_gone(run, a->pid)))
		return APPLY_GONE;
	if (r < 0)
		return (s->error = r, APPLY_FAILED);
	return apply_after_call(run, ref, APPLY_DONE);
}
