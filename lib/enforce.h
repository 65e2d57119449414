/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Enforcing the policies on the VMs of a host: what `kvmtunectl apply`, `kvmtunectl run` and
 * kvmtuned all do. For each VM: merge its policy, check the merged rules, add the VM's own
 * facts (the block devices it names, its group's memory limits) to the host's facts of this
 * pass, plan (and, for the systemd backend, plan what systemd owns), apply. And remove the
 * groups of VMs that no longer run. What happens goes to the caller's report function (printed
 * by the tool, logged by the daemon).
 */

#include "apply.h"
#include "discover.h"
#include "policy-set.h"
#include "settings.h"

struct enforcer {
	const struct policy_set *policies;
	const struct plan_host *host; /* this pass's facts (host_facts_read) */
	const struct cgroup_fs *cgroups;
	int proc_fd, sys_fd;
	const char *slice;    /* the systemd backend: the VMs' slice unit; NULL: cgroupfs */
	struct unit_bus *bus; /* the systemd backend's connection */
	bool dry_run;
	bool wait_for_units;	 /* a command: wait until systemd has written what it was given */
	bool launching;		 /* kvmtunectl run: the process is not QEMU yet */
	bool skip_disks;	 /* leave the per-disk throttles (QMP) out of this pass */
	const char *runtime_dir; /* where launches hold their lock (launch-lock.h), or NULL */
	struct cgroup_overlay overlay; /* a dry run's memory across VMs; the enforcer's */
	apply_report_fn report;
	void *userdata; /* for report */
	/* The VMs of this host as last seen: two with the same name never share a group
	 * (enforce_vm), and the groups of none of them are stale. May be empty. */
	const struct vm *const *vms;
	size_t n_vms;
};

/* What enforcing one VM did. */
struct enforce_result {
	struct apply_stats stats;
	bool no_policy;	  /* no policy fits: the VM was left as it is */
	bool rule_broken; /* its merged policy breaks a rule: not applied (diags say why) */
	bool ended;	  /* the VM ended meanwhile; its groups were removed */
	const struct vm *group_taken_by; /* another VM of the same name has its group: refused */
	char *vm_group;			 /* the VM's group, below the parent */
	struct policy effective;	 /* its merged policy, when one fits */
};

/* The VM group of vm: <parent>/kvmtune-<escaped name>.scope. Caller frees; NULL on OOM. */
char *enforce_vm_group(const struct enforcer *e, const struct vm *vm);

/*
 * Plans an effective policy for vm with the host's facts and the VM's own (the block devices
 * it names, the group's current memory limits). Returns 0 or -errno.
 */
int enforce_plan(struct enforcer *e, const struct policy *effective, const struct vm *vm,
		 struct plan *ret);

/*
 * Enforces vm's effective policy. Rule violations of the merged policy are appended to diags.
 * A VM whose name another VM of e->vms has taken is refused (ret->group_taken_by): a name is
 * no identity, and two VMs in one group would share its limits. Returns 0 (see *ret), or
 * -ENOMEM.
 */
int enforce_vm(struct enforcer *e, const struct vm *vm, struct diag_list *diags,
	       struct enforce_result *ret);

/*
 * Enforces only what vm's plan under effective (its merged policy, as enforce_vm found it) says
 * for thread tid: its moves into its groups, its affinity and scheduler; nothing of the rest of
 * the VM is read or written. For a thread that appeared or renamed itself in a VM already
 * enforced, whose groups exist. Returns 1 when done (outcomes in stats and e->report), 0 when
 * the plan has nothing for tid or a group it needs is missing (enforce the whole VM instead),
 * or -errno.
 */
int enforce_thread(struct enforcer *e, const struct policy *effective, const struct vm *vm,
		   pid_t tid, struct apply_stats *stats);

/*
 * The rules a policy must keep on this host, beyond those of the policy language (spec §4):
 * min_guarantee needs cgroup v2. Errors go to diags with the value's file:line:col. Returns 0
 * or -ENOMEM.
 */
int enforce_check_host(const struct plan_host *host, const struct policy *p,
		       struct diag_list *diags);

/*
 * Of the VMs whose names make the same group: the one whose process is in it keeps it, else
 * the one that started first (then the lower pid). Returns the VM that holds vm's group.
 */
const struct vm *enforce_group_holder(const struct enforcer *e, const struct vm *vm);

/*
 * Removes the kvmtune-*.scope groups below the parent that no VM of e->vms has and no thread
 * is in (a VM not seen yet: one just started by `kvmtunectl run`). None while a launch holds
 * the lock in e->runtime_dir: its groups are not its VM's yet.
 */
int enforce_remove_stale(struct enforcer *e, struct apply_stats *stats);

/* Removes the groups of one VM group path (its VM has ended). */
int enforce_remove(struct enforcer *e, const char *vm_group, struct apply_stats *stats);

void enforce_result_done(struct enforce_result *r);
void enforcer_done(struct enforcer *e);
