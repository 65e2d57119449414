/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * All policy files in force, in order (files lexically, documents in file order), and the
 * effective policy of a VM merged from the documents that fit it (spec §3).
 */

#include "policy-load.h"

/*
 * YAML nodes all policy files in force may hold together (each file holds at most
 * YLOAD_NODES_MAX): what a reload reads and keeps stays bounded whatever policy.d holds.
 */
#define POLICY_SET_NODES_MAX 400000

struct policy_set {
	struct policy_file **files;
	size_t n_files, allocated;
	size_t n_nodes; /* of all files, for POLICY_SET_NODES_MAX */
};

/*
 * Adds f (taking it) at the end. A file that would bring the set past POLICY_SET_NODES_MAX is
 * freed instead, and an error naming it appended to diags: -EINVAL. Returns 0 or -ENOMEM.
 */
int policy_set_add(struct policy_set *set, struct policy_file *f, struct diag_list *diags);

/*
 * Loads each path (a file, or a directory of .yaml/.yml files) in order. Files with errors are left
 * out and their problems appended to diags. Returns 0 (even when some files had errors: check
 * diags->n_errors), or -ENOMEM. A directory that does not exist is -ENOENT.
 */
int policy_set_load(struct policy_set *set, const char *const *paths, size_t n_paths,
		    const struct policy_env *env, struct diag_list *diags);

/* What happened to one document when computing an effective policy. */
struct policy_fit {
	const struct policy *doc;
	const char *missing; /* non-NULL: not considered, the identity lacks this key */
};

/*
 * Merges every document that fits id into *ret (which must be zeroed). *ret_fits lists the
 * documents that fit and those that could not be judged (the caller frees the array). Returns
 * the number of documents merged, or -ENOMEM.
 */
int policy_set_effective(const struct policy_set *set, const struct vm_identity *id,
			 struct policy *ret, struct policy_fit **ret_fits, size_t *ret_n_fits);

/* The policy directory of a configuration directory: "<config_dir>/policy.d". Caller frees. */
char *policy_dir_of(const char *config_dir);

/*
 * The runtime policy directory, "<runtime_dir>/policy.d" (/run/kvmtune/policy.d: drop-ins that
 * are gone at reboot, kvmtunectl set --runtime). NULL when runtime_dir is NULL or on -ENOMEM.
 */
char *policy_runtime_dir_of(const char *runtime_dir);

/*
 * Loads the policies of a configuration directory and then those of the runtime directory
 * (runtime_dir NULL: none), as policy_set_load() does: every file of <config_dir>/policy.d in
 * lexical order, then every file of <runtime_dir>/policy.d, so a runtime drop-in's values win.
 * Returns 0 (check diags->n_errors), 1 when neither policy.d exists (no policies), -ENOMEM.
 */
int policy_set_load_config(struct policy_set *set, const char *config_dir, const char *runtime_dir,
			   const struct policy_env *env, struct diag_list *diags);

/*
 * A reload (kvmtuned's): the policies of config_dir and runtime_dir anew, in the order of
 * policy_set_load_config(), each file with errors keeping the
 * version *set has of it, its last good one (a warning in diags says so), or left out when
 * there is none. *ret_bad counts the files with errors. Returns 0, 1 when neither policy.d exists
 * (the set is then empty), -errno when the directory cannot be read or on -ENOMEM (then *set
 * is as it was).
 */
int policy_set_reload_config(struct policy_set *set, const char *config_dir,
			     const char *runtime_dir, const struct policy_env *env,
			     struct diag_list *diags, unsigned *ret_bad);

void policy_set_done(struct policy_set *set);
