/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared by the kvmtunectl verbs: global options and the exit codes of spec §6. */

#include <stdbool.h>

#include "cgroup-fs.h"
#include "discover.h"
#include "fileio.h"
#include "policy-set.h"
#include "settings.h"
#include "topology.h"

enum {
	EXIT_OK = 0,
	EXIT_INVALID = 1, /* policy invalid, or enforcement failed */
	EXIT_USAGE = 2,
	EXIT_NO_VM = 3,
};

struct ctl {
	const char *config_dir;	 /* --config-dir, default /etc/kvmtune */
	const char *sys_root;	 /* --sys-root: a sysfs tree for tests; NULL = the host's */
	const char *proc_root;	 /* --proc-root: a procfs tree for tests; NULL = /proc */
	const char *runtime_dir; /* --runtime-dir: where kvmtuned's control socket is */
	bool verbose;
	struct topology topo;
};

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
	int proc_fd;
	struct cgroup_fs cgroups;
	const struct topology *topo; /* the ctl's */
	int backend;		     /* ctl_world_backend: BACKEND_SYSTEMD or BACKEND_CGROUPFS */
	struct unit_bus *bus;	     /* the systemd backend's connection */
};
int ctl_world_load(struct ctl *c, struct ctl_world *w);
/* Resolves the settings' backend for writing (apply, run); errors printed. An EXIT_ code. */
int ctl_world_backend(struct ctl_world *w);
void ctl_world_done(struct ctl_world *w);

/* The VMs the arguments name (name, pid or uuid); all when none. EXIT_NO_VM when one is unknown. */
int ctl_select_vms(struct ctl_world *w, char **args, size_t n, struct vm ***ret, size_t *ret_n);

/* status: what the VM's cgroups hold and where its memory sits (ctl-resources.c). */
struct json_object;
void print_resources(struct ctl_world *w, const struct vm *vm);
void resources_json(struct ctl_world *w, const struct vm *vm, struct json_object *o);

int verb_check(struct ctl *c, int argc, char **argv);
int verb_list(struct ctl *c, int argc, char **argv);
int verb_status(struct ctl *c, int argc, char **argv);
int verb_apply(struct ctl *c, int argc, char **argv);
int verb_run(struct ctl *c, int argc, char **argv);
int verb_reload(struct ctl *c, int argc, char **argv);
int verb_import_libvirt(struct ctl *c, int argc, char **argv);

/* An enforcer over the world's settings, policies, cgroups and topology. */
struct enforcer;
void ctl_enforcer(struct ctl_world *w, struct enforcer *e);
int verb_show(struct ctl *c, int argc, char **argv);

/* Prints "out of memory" and returns EXIT_INVALID. */
int log_oom(void);
