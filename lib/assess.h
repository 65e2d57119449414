/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What state a VM is in, computed, not assumed: its enforcement run as a dry run, compared with
 * what the kernel holds. enforced: nothing would change; drift: what would change, desired
 * against actual, each with its policy file:line; error: what cannot be enforced and why;
 * unmanaged: no policy fits; skipped: another manager's VM (libvirt's, Proxmox's). What
 * `kvmtunectl list`, `status` and `verify` say.
 */

#include "enforce.h"

enum vm_state {
	VM_ENFORCED,
	VM_DRIFT,
	VM_ERROR,
	VM_UNMANAGED,
	VM_SKIPPED,
	_VM_STATE_MAX,
};

const char *vm_state_to_string(enum vm_state s);

/* One thing that differs, cannot be done, or is warned about. */
struct assess_item {
	enum apply_outcome outcome; /* APPLY_WOULD (drift), APPLY_FAILED, APPLY_WARNING */
	char *what;		    /* "vcpu0 quota", "memory hard_limit" */
	char *where;		    /* "machine.slice/kvmtune-web.scope/cpu.shares", "tid 4711" */
	char *desired, *actual;	    /* as people read them; NULL when not one value */
	char *text;		    /* failures and warnings: the sentence kvmtuned would log */
	struct origin origin;	    /* the policy value; file NULL when none */
};

struct assessment {
	enum vm_state state;
	char *why;		 /* drift, error, unmanaged, skipped: in a few words */
	char *vm_group;		 /* where its policy puts it, below the parent; NULL: no policy */
	struct policy effective; /* its merged policy, when one fits */
	struct assess_item *items;
	size_t n, allocated;
	unsigned n_drift, n_errors, n_warnings;
};

/*
 * Assesses vm with the enforcer's settings (which this leaves as they were): a dry run that
 * writes nothing. With skip_managed (kvmtuned.yaml), another manager's VM is skipped, not
 * assessed. Returns 0 with *ret, or -ENOMEM.
 */
int assess_vm(struct enforcer *e, const struct vm *vm, bool skip_managed, struct assessment *ret);

void assessment_done(struct assessment *a);
