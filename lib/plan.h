/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The plan: what a VM's effective policy means for the kernel (spec §4), as an ordered list of
 * actions. Building it does no I/O: everything it needs about the host is in struct plan_host,
 * gathered beforehand. The same plan serves apply, the daemon, --dry-run and drift reports;
 * the applier compares each action with what the kernel holds and skips what is already so.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "blockdev.h"
#include "cgroup-fs.h"
#include "discover.h"
#include "policy.h"
#include "topology.h"
#include "unit-bus.h"

enum action_kind {
	ACTION_MKDIR,	       /* group exists in the hierarchy of controller */
	ACTION_WRITE,	       /* group/file holds value */
	ACTION_ATTACH_PROCESS, /* every thread of pid is in group (cgroup.procs) */
	ACTION_ATTACH_THREAD,  /* tid is in group (v1 tasks, v2 cgroup.threads) */
	ACTION_AFFINITY,       /* sched_setaffinity(tid) == cpus */
	ACTION_SCHEDULER,      /* sched_setscheduler(tid) == policy, priority */
	ACTION_RMDIR,	       /* group is gone */
	ACTION_MIGRATE_PAGES,  /* pid's memory is on the nodes in cpus (no cpuset controller) */
	ACTION_WARN,	       /* cannot be enforced, and why (value) */
	ACTION_SCOPE, /* pid is in group, systemd's scope in slice value (StartTransientUnit) */
	ACTION_UNIT_WRITE, /* group/file holds value, set through the scope's unit props */
	ACTION_MACHINE,	   /* machined knows pid's VM, as value (RegisterMachine) */
	_ACTION_KIND_MAX,
};

#define ACTION_PROPERTIES_MAX 4 /* io.max: four limits of one device */

struct action {
	enum action_kind kind;
	enum cgroup_controller controller; /* which hierarchy; all of v2 is one */
	char *group;			   /* relative to the hierarchy's root */
	char *file;
	char *value;
	bool only_if_empty; /* WRITE: leave a value someone else set (an admin's parent cpuset) */
	pid_t pid, tid;	    /* the process, and the thread (== pid for the process itself) */
	uint64_t starttime; /* of that task when planned: the applier acts only on it */
	struct cpuset cpus;
	int sched_policy; /* SCHED_OTHER, ... */
	int sched_priority;
	const struct origin *origin; /* the policy value this comes from, or NULL */
	struct unit_property props[ACTION_PROPERTIES_MAX]; /* UNIT_WRITE, and SCOPE's creation */
	size_t n_props;
	uint8_t uuid[16]; /* MACHINE, when has_uuid */
	bool has_uuid;
	char what[96]; /* for people: "vcpu0 quota", "memory hard_limit" */
};

struct plan {
	struct action *actions;
	size_t n, allocated;
	char *vm_group; /* <parent>/kvmtune-<name>.scope */
};

/* A device a policy names, resolved by the caller. */
struct plan_device {
	const char *path;
	int result; /* 0, or -errno when it could not be resolved */
	struct blockdev dev;
};

struct plan_host {
	int version[_CGROUP_CONTROLLER_MAX]; /* 0 when the host lacks it, else 1 or 2 */
	bool memsw;			     /* v1 memory.memsw.* (swap accounting) */
	bool launching; /* kvmtunectl run: launch-only memory policies are the launcher's job */
	bool bfq;	/* bfq weight files exist */
	/* The systemd backend (cgroup v2): the VM group is a delegated scope in slice, parent is
	 * the slice's group; systemd owns the scope's own files and every ancestor. */
	bool systemd;
	const char *slice;
	const struct topology *topo;
	const char *parent; /* cgroup_parent */
	const struct plan_device *devices;
	size_t n_devices;
	/* Current limits of the VM's memory group (v1 hard limit and memsw), to order the
	 * writes so none fails midway; unknown = CG_UNLIMITED. */
	uint64_t memory_limit, memsw_limit;
};

/* Builds the plan for vm under effective. Returns 0 or -ENOMEM. */
int plan_vm(const struct policy *effective, const struct vm *vm, const struct plan_host *host,
	    struct plan *ret);

/* Removing the groups of a VM that no longer runs: group is <parent>/kvmtune-...scope. */
int plan_remove(const char *group, const struct plan_host *host, struct plan *ret);

/* The thread group of a thread: "emulator", "vcpu3", "iothread-io1". */
const char *thread_group_name(const struct vm_thread *t, char *buf, size_t size);

const char *action_kind_to_string(enum action_kind k);
void plan_done(struct plan *p);
