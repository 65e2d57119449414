/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared by the kvmtunectl verbs: global options and the exit codes of spec §6. */

#include <stdbool.h>

#include "policy-set.h"
#include "topology.h"

enum {
	EXIT_OK = 0,
	EXIT_INVALID = 1, /* policy invalid, or enforcement failed */
	EXIT_USAGE = 2,
	EXIT_NO_VM = 3,
};

struct ctl {
	const char *config_dir; /* --config-dir, default /etc/kvmtune */
	const char *sys_root;	/* --sys-root: a sysfs tree for tests; NULL = the host's */
	bool verbose;
	struct topology topo;
};

/* Loads ctl->topo from --sys-root or the host. Prints and returns an exit code on failure. */
int ctl_load_topology(struct ctl *c);

/* The environment policies are checked in: this host, devices and users and file modes. */
struct policy_env ctl_policy_env(const struct ctl *c);

int verb_check(struct ctl *c, int argc, char **argv);
int verb_show(struct ctl *c, int argc, char **argv);

/* Prints "out of memory" and returns EXIT_INVALID. */
int log_oom(void);
