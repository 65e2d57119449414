/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared by the kvmtunectl verbs: global options and the exit codes of spec §6. */

#include <stdbool.h>

#include "cgroup-fs.h"
#include "discover.h"
#include "fileio.h"
#include "plan.h"
#include "policy-set.h"
#include "settings.h"
#include "topology.h"

enum {
	EXIT_OK = 0,
	EXIT_INVALID = 1, /* policy invalid, or enforcement failed */
	EXIT_USAGE = 2,
	EXIT_NO_VM = 3,
	EXIT_NOT_PERMITTED = 4, /* not root */
};

struct ctl {
	const char *config_dir;	 /* --config-dir, default /etc/kvmtune */
	const char *sys_root;	 /* --sys-root: a sysfs tree for tests; NULL = the host's */
	const char *proc_root;	 /* --proc-root: a procfs tree for tests; NULL = /proc */
	const char *runtime_dir; /* --runtime-dir: where kvmtuned's control socket is */
	bool verbose;
	struct topology topo;
};

/*
 * getopt_long for a verb (NULL: the global options) that says what was wrong itself: the
 * unknown option with the closest known one ("did you mean '--json'?"), or the option that
 * lacks its value. shortopts starts with ':' (after a '+'). Returns the option, -1 at the end,
 * '?' after a mistake (printed; the verb exits EXIT_USAGE).
 */
struct option;
int ctl_getopt(const char *verb, int argc, char **argv, const char *shortopts,
	       const struct option *longopts);

/* Of n candidates, the one word is a likely typo of; NULL when none is close. */
const char *ctl_suggest(const char *word, const char *const *candidates, size_t n);

/*
 * Verbs about running VMs read other users' /proc and write cgroups: as anyone but root they
 * would see nothing and say so wrongly. Prints why and returns EXIT_NOT_PERMITTED, or EXIT_OK.
 */
int ctl_need_root(void);

/* Loads ctl->topo from --sys-root or the host. Prints and returns an exit code on failure. */
int ctl_load_topology(struct ctl *c);

/* The environment policies are checked in: this host, devices and users and file modes. */
struct policy_env ctl_policy_env(const struct ctl *c);

/*
 * Everything a verb about running VMs needs: settings, policies, the VMs. Prints problems
 * (policy files with errors are left out, as the daemon would) and returns an exit code.
 */
struct ctl_world {
	struct settings settings;
	struct policy_set policies;
	struct diag_list diags;
	struct vm *vms;
	size_t n_vms;
	const struct vm **vm_list; /* those not skipped, as pointers (struct enforcer's vms) */
	size_t n_vm_list;
	const char *runtime_dir; /* the ctl's: kvmtuned's, where launches hold their lock */
	int proc_fd;
	bool host_proc; /* proc_fd is this kernel's /proc, not a --proc-root fixture */
	struct cgroup_fs cgroups;
	const struct topology *topo; /* the ctl's */
	int backend;		     /* ctl_world_backend: BACKEND_SYSTEMD or BACKEND_CGROUPFS */
	struct unit_bus *bus;	     /* the systemd backend's connection */
	int sys_fd;		     /* --sys-root, or /sys */
	char *parent;		     /* ctl_world_backend: where the backend puts VM groups */
	struct plan_host host;	     /* ctl_world_backend: this host's facts, read once */
};
int ctl_world_load(struct ctl *c, struct ctl_world *w);
/* Another manager's VM that kvmtune leaves alone (skip_managed in kvmtuned.yaml). */
bool ctl_vm_skipped(const struct ctl_world *w, const struct vm *vm);
/*
 * Resolves the settings' backend for writing (apply, run) and reads the host's facts for
 * planning; errors printed. An EXIT_ code.
 */
int ctl_world_backend(struct ctl_world *w);
void ctl_world_done(struct ctl_world *w);
/* "cgroupfs (cgroup v1 hybrid)", "systemd (machine.slice, cgroup v2)". Static. */
const char *ctl_backend_name(const struct ctl_world *w);

/* vm is the one arg names: its pid, name or uuid (without regard to case). */
bool ctl_vm_is(const struct vm *vm, const char *arg);

/* The VMs the arguments name (name, pid or uuid); all when none. EXIT_NO_VM when one is unknown. */
int ctl_select_vms(struct ctl_world *w, char **args, size_t n, struct vm ***ret, size_t *ret_n);

/*
 * The state of each of the n VMs (assess.h), computed with the backend apply would use; n
 * assessments in *ret. An EXIT_ code.
 */
struct assessment;
struct json_object;
int ctl_assess(struct ctl_world *w, struct vm **vms, size_t n, struct assessment **ret);
void ctl_assessments_free(struct assessment *a, size_t n);
/* "drift (2 things differ from the policy)" into buf. */
const char *ctl_state_text(const struct assessment *a, char *buf, size_t size);
/* The drift (desired, actual, policy file:line), what cannot be enforced, the warnings. */
void ctl_print_findings(const struct assessment *a, const char *indent);
void ctl_assessment_json(const struct assessment *a, struct json_object *o);

/* status: what the VM's cgroups hold and where its memory sits (ctl-resources.c). */
void print_resources(struct ctl_world *w, const struct vm *vm, const struct assessment *a);
/* QEMU's per-disk throttles (ctl-disks.c): each disk's, asked over QMP when a policy with
 * disks fits the VM (as: its assessment, may be NULL). */
void print_disks(struct ctl_world *w, const struct vm *vm, const struct assessment *as);
void disks_json(struct ctl_world *w, const struct vm *vm, const struct assessment *as,
		struct json_object *o);
void resources_json(struct ctl_world *w, const struct vm *vm, const struct assessment *a,
		    struct json_object *o);

/*
 * Asks kvmtuned to reload through its control socket and waits for it. *ret_absent when no daemon
 * listens there (nothing printed, EXIT_OK); otherwise problems are printed. An EXIT_ code.
 */
int ctl_daemon_reload(struct ctl *c, bool *ret_absent);

/*
 * The drop-in policies of `kvmtunectl set` (ctl-dropin.c): the persistent one in
 * <config-dir>/policy.d and the runtime one in <runtime-dir>/policy.d.
 */
enum {
	CTL_DROPIN_PERSISTENT = 1 << 0,
	CTL_DROPIN_RUNTIME = 1 << 1,
	CTL_DROPIN_CURRENT =
		1 << 2, /* virsh's --current: runtime when the VM runs, else persistent */
};
struct dropin;
/*
 * Changes one VM's drop-ins (scopes: CTL_DROPIN_ flags): edit gets each (persistent first) as it
 * is now, with the VM's identity, and changes it (an EXIT_ code; not EXIT_OK: nothing happens).
 * Then the whole policy set with the new versions is checked with the policy parser (errors with
 * file:line:col; nothing written on one), each changed drop-in written atomically (or removed
 * when it holds nothing), what changed printed, and kvmtuned reloaded; without a daemon the VM
 * gets the new policy at once (apply's report). An EXIT_ code.
 */
int ctl_dropin_edit(struct ctl *c, const char *vm, unsigned scopes,
		    int (*edit)(struct dropin *const *d, size_t n, void *userdata), void *userdata);

/*
 * The effective policy of a VM (for virsh-shaped verbs that print the current values): the
 * running VM arg names, or the identity name=arg. *ret (zeroed by the caller) and the world it
 * was computed in. An EXIT_ code.
 */
struct policy;
int ctl_dropin_effective(struct ctl *c, const char *vm, struct ctl_world *w, struct policy *ret,
			 const struct vm **ret_vm);

/*
 * set's work for n KEY, VALUE pairs (the virsh-shaped verbs' too): keys checked (did-you-mean on
 * stderr, EXIT_USAGE), then ctl_dropin_edit(). verb names the verb in errors. An EXIT_ code.
 */
int ctl_set(struct ctl *c, const char *verb, const char *vm, unsigned scopes,
	    const char *const *keys, const char *const *values, size_t n);

int verb_set(struct ctl *c, int argc, char **argv);
int verb_vcpupin(struct ctl *c, int argc, char **argv);
int verb_emulatorpin(struct ctl *c, int argc, char **argv);
int verb_iothreadpin(struct ctl *c, int argc, char **argv);
int verb_schedinfo(struct ctl *c, int argc, char **argv);
int verb_memtune(struct ctl *c, int argc, char **argv);
int verb_blkiotune(struct ctl *c, int argc, char **argv);
int verb_numatune(struct ctl *c, int argc, char **argv);
int verb_revert(struct ctl *c, int argc, char **argv);

/* status: what the limits did, per VM group and thread group (ctl-effect.c). */
void print_effect(struct ctl_world *w, const struct vm *vm, const struct assessment *a);
void effect_json(struct ctl_world *w, const struct vm *vm, const struct assessment *a,
		 struct json_object *o);

int verb_check(struct ctl *c, int argc, char **argv);
int verb_list(struct ctl *c, int argc, char **argv);
int verb_status(struct ctl *c, int argc, char **argv);
int verb_apply(struct ctl *c, int argc, char **argv);
int verb_run(struct ctl *c, int argc, char **argv);
int verb_reload(struct ctl *c, int argc, char **argv);
int verb_verify(struct ctl *c, int argc, char **argv);
int verb_metrics(struct ctl *c, int argc, char **argv);
int verb_import_libvirt(struct ctl *c, int argc, char **argv);

/*
 * apply's engine and report for n VMs of w (whose backend is resolved): each change printed with
 * the policy file:line asking for it (quiet: only the summaries), problems on stderr; with
 * remove_stale the groups of VMs that ended go too. An EXIT_ code.
 */
int ctl_apply_vms(struct ctl_world *w, struct vm **vms, size_t n, bool dry_run, bool quiet,
		  bool remove_stale);
/* EXIT_OK when w has a cgroup filesystem to write, else says so: EXIT_INVALID. */
int ctl_world_has_cgroups(const struct ctl_world *w);

/* An enforcer over the world's settings, policies, cgroups and topology. */
struct enforcer;
void ctl_enforcer(struct ctl_world *w, struct enforcer *e);
int verb_show(struct ctl *c, int argc, char **argv);

/* Prints "out of memory" and returns EXIT_INVALID. */
int log_oom(void);

/*
 * Other people's text (VM, thread, file names; cgroup paths) as it may be printed: itself, or
 * escaped (escape.h). The escaped copies live until SHOWN_SLOTS later calls: enough for the
 * arguments of one printf.
 */
#define SHOWN_SLOTS 16
const char *shown(const char *s);
/* A JSON string of other people's text: JSON must be UTF-8, so text that is not is escaped. */
struct json_object *json_shown(const char *s);
