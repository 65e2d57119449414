/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Enforcing the policies on the VMs of a host: what `kvmtunectl apply` and kvmtuned both do.
 * For each VM: merge its policy, gather the host facts the planner needs, plan, apply. And
 * remove the groups of VMs that no longer run. What happens goes to the caller's report
 * function (printed by the tool, logged by the daemon).
 */

#include "apply.h"
#include "discover.h"
#include "policy-set.h"
#include "settings.h"

struct enforcer {
	const struct settings *settings;
	const struct policy_set *policies;
	const struct topology *topo;
	const struct cgroup_fs *cgroups;
	int proc_fd;
	bool dry_run;
	bool wait_for_units;  /* a command: wait until systemd has written what it was given */
	struct unit_bus *bus; /* the systemd backend (cgroup v2), or NULL: cgroupfs */
	struct cgroup_overlay overlay; /* a dry run's memory across VMs; the enforcer's */
	struct plan_host host;	       /* the host's facts for this pass, read once (host_facts) */
	bool have_host;
	char *slice_group; /* the systemd backend: where the parent slice's cgroup is */
	apply_report_fn report;
	void *userdata; /* for report */
	/* The VMs of this host as last seen, so that two with the same name never share a group
	 * (enforce_vm); may be empty. */
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
	char *vm_group;			 /* the VM's group, below the parent (caller frees) */
};

/*
 * Plans an effective policy for vm with the host's facts (controllers, swap accounting, BFQ,
 * the block devices it names, the group's current memory limits). launching: for
 * `kvmtunectl run`, whose process is not QEMU yet. Returns 0 or -errno.
 */
int enforce_plan(struct enforcer *e, const struct policy *effective, const struct vm *vm,
		 bool launching, struct plan *ret);

/*
 * Enforces vm's effective policy. Rule violations of the merged policy are appended to diags.
 * A VM whose name another VM of e->vms has taken is refused (ret->group_taken_by): a name is
 * no identity, and two VMs in one group would share its limits. Returns 0 (see *ret), or
 * -ENOMEM.
 */
int enforce_vm(struct enforcer *e, const struct vm *vm, struct diag_list *diags,
	       struct enforce_result *ret);

/*
 * Of the VMs whose names make the same group: the one whose process is in it keeps it, else
 * the one that started first (then the lower pid). Returns the VM that holds vm's group.
 */
const struct vm *enforce_group_holder(struct enforcer *e, const struct vm *vm);

/* Removes kvmtune-*.scope groups below the parent whose VM is not among vms. */
int enforce_remove_stale(struct enforcer *e, const struct vm *vms, size_t n_vms,
			 struct apply_stats *stats);

/* Removes the groups of one VM group path (its VM has ended). */
int enforce_remove(struct enforcer *e, const char *vm_group, struct apply_stats *stats);

void enforce_result_done(struct enforce_result *r);
void enforcer_done(struct enforcer *e);
