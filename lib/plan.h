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

#include "action.h"
#include "blockdev.h"
#include "cgroup-fs.h"
#include "cgroup-read.h"
#include "discover.h"
#include "policy.h"
#include "topology.h"

/* A device a policy names, resolved by the caller. */
struct plan_device {
	const char *path;
	int result; /* 0, or -errno when it could not be resolved */
	struct blockdev dev;
	const char *refused; /* why the backend sets nothing for it ("is built on ..."), or NULL */
};

struct plan_host {
	int version[_CGROUP_CONTROLLER_MAX]; /* 0 when the host lacks it, else 1 or 2 */
	/* v1 controllers mounted together: 1 + the earlier controller whose hierarchy each later
	 * one is in, 0 = its own (cgroup_fs.v1_with). The hierarchy's groups and moves are that
	 * controller's; the later ones only write their files in them. */
	unsigned char with[_CGROUP_CONTROLLER_MAX];
	bool memsw;	/* v1 memory.memsw.* (swap accounting) */
	bool launching; /* kvmtunectl run: launch-only memory policies are the launcher's job */
	bool bfq;	/* bfq weight files exist */
	char *iocost; /* v2: the root's io.cost.qos ("8:0 enable=1 ..."), or NULL (host-facts.h) */
	const struct topology *topo;
	const char *parent; /* cgroup_parent */
	const struct plan_device *devices;
	size_t n_devices;
	/* Current limits of the VM's memory group (v1 hard limit and memsw), to order the
	 * writes so none fails midway; unknown = CG_UNLIMITED. */
	uint64_t memory_limit, memsw_limit;
	/* The per-device I/O entries the VM's group holds now (weights, throttles): those a
	 * policy no longer names are removed. */
	const struct cg_io_entry *io_entries;
	size_t n_io_entries;
	/* The memory policy the VM runs under ("interleave:0-1", from numa_maps), or NULL: a
	 * launch-only numatune the VM already has is in force, not a warning. */
	const char *memory_policy;
};

/* Builds the plan for vm under effective. Returns 0 or -ENOMEM. */
int plan_vm(const struct policy *effective, const struct vm *vm, const struct plan_host *host,
	    struct plan *ret);

/* Removing the groups of a VM that no longer runs: group is <parent>/kvmtune-...scope. */
int plan_remove(const char *group, const struct plan_host *host, struct plan *ret);

/* The thread group of a thread: "emulator", "vcpu3", "iothread-io1". */
const char *thread_group_name(const struct vm_thread *t, char *buf, size_t size);
