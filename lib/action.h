/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The vocabulary between planning and applying: what a plan says should hold (an ordered list of
 * actions), and what carrying out one action came to (an outcome). The planners (plan.c for the
 * cgroup layout, plan-unit.c for what systemd owns) write plans; the appliers (apply.c for
 * cgroupfs and syscalls, apply-unit.c for systemd) carry them out. Nothing here does I/O.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup-fs.h"
#include "cpuset.h"
#include "value.h"

struct disk_io;

/* A unit property systemd is given (SetUnitProperties, StartTransientUnit). */
enum unit_property_type {
	UNIT_PROPERTY_U64,    /* t */
	UNIT_PROPERTY_CPUS,   /* ay, a bitmask: AllowedCPUs, AllowedMemoryNodes */
	UNIT_PROPERTY_DEVICE, /* a(st): one device path and its value */
};

#define UNIT_INFINITY UINT64_MAX

struct unit_property {
	const char *name; /* "CPUWeight": static */
	enum unit_property_type type;
	uint64_t value;	    /* U64, DEVICE; UNIT_INFINITY for "no limit" */
	struct cpuset cpus; /* CPUS */
	char *device;	    /* DEVICE: a path systemd resolves to the whole disk */
};

void unit_property_done(struct unit_property *p);

/*
 * What should hold. Each kind says which fields of struct action it uses; the others stay zero.
 * pid, tid and starttime name the task acted on as the plan saw it (the applier acts on that
 * task only); origin is the policy value an action comes from, or NULL.
 */
enum action_kind {
	ACTION_MKDIR, /* controller, group: the group exists */
	ACTION_WRITE, /* controller, group, file, value [, only_if_empty]: it holds value */
	ACTION_ATTACH_PROCESS, /* controller, group, pid: every thread is in group (cgroup.procs) */
	ACTION_ATTACH_THREAD,  /* controller, group, pid, tid: the thread is in group (v1 tasks,
				* v2 cgroup.threads) */
	ACTION_AFFINITY,       /* pid, tid, cpus: sched_setaffinity(tid) == cpus */
	ACTION_SCHEDULER,      /* pid, tid, sched_policy, sched_priority */
	ACTION_RMDIR,	       /* controller, group: the group and those below it are gone */
	ACTION_MIGRATE_PAGES,  /* pid, nodes: the process's memory is on nodes (no cpuset) */
	ACTION_WARN,	       /* warning: what cannot be enforced, and why */
	ACTION_SCOPE,	       /* group, slice, pid: the process is in systemd's scope group */
	ACTION_UNIT_WRITE,     /* controller, group, file, value, props: group/file holds value,
				* set through the scope's unit properties */
	ACTION_MACHINE,	       /* group, machine [, uuid], pid: machined knows the VM */
	ACTION_DISK_THROTTLE,  /* pid, disk, value [, socket]: QEMU throttles the disk so */
	_ACTION_KIND_MAX,
};

#define ACTION_PROPERTIES_MAX 4 /* io.max: four limits of one device */

struct action {
	enum action_kind kind;
	enum cgroup_controller controller; /* which hierarchy; all of v2 is one */
	char *group;			   /* relative to the hierarchy's root */
	char *file;
	char *value;	    /* the file's content */
	bool only_if_empty; /* WRITE: leave a value someone else set (an admin's parent cpuset) */
	bool optional;	    /* WRITE: a kernel without the file has nothing to set (a default) */
	char *slice;	    /* SCOPE */
	char *machine;	    /* MACHINE: its name */
	uint8_t uuid[16];   /* MACHINE, when has_uuid */
	bool has_uuid;
	char *warning;	     /* WARN */
	pid_t pid, tid;	     /* the process, and the thread (== pid for the process itself) */
	uint64_t starttime;  /* of that task when planned */
	struct cpuset cpus;  /* AFFINITY */
	struct cpuset nodes; /* MIGRATE_PAGES */
	int sched_policy;    /* SCHEDULER: SCHED_OTHER, ... */
	int sched_priority;
	struct unit_property props[ACTION_PROPERTIES_MAX]; /* UNIT_WRITE */
	size_t n_props;
	char *socket;	      /* DISK_THROTTLE: the VM's QMP socket as its command line names it */
	struct disk_io *disk; /* DISK_THROTTLE: what the disk should hold (value says it) */
	const struct origin *origin;
	char what[96]; /* for people: "vcpu0 quota", "memory hard_limit" */
};

struct plan {
	struct action *actions;
	size_t n, allocated;
	char *vm_group; /* <parent>/kvmtune-<name>.scope */
};

const char *action_kind_to_string(enum action_kind k);
void action_done(struct action *a);
void plan_done(struct plan *p);

/* A new zeroed action at the end of p (which may move the others), or NULL on OOM. */
struct action *plan_append(struct plan *p, enum action_kind kind);

/* Appends a warning for people (origin may be NULL). Returns 0 or -ENOMEM. */
int plan_warn(struct plan *p, const struct origin *origin, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* What carrying out one action came to. */
enum apply_outcome {
	APPLY_DONE,	 /* changed */
	APPLY_UNCHANGED, /* already so */
	APPLY_WOULD,	 /* dry run: would change */
	APPLY_GONE,	 /* the thread or process is gone: nothing to do */
	APPLY_REPLACED,	 /* its TID (or PID) names another task now: skipped, not applied */
	APPLY_FAILED,	 /* could not be enforced */
	APPLY_WARNING,	 /* a plan warning */
	_APPLY_OUTCOME_MAX,
};

struct apply_stats {
	unsigned n[_APPLY_OUTCOME_MAX];
};

const char *apply_outcome_to_string(enum apply_outcome o);
