/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * All policy files in force, in order (files lexically, documents in file order), and the
 * effective policy of a VM merged from the documents that fit it (spec §3).
 */

#include "policy-load.h"

struct policy_set {
	struct policy_file **files;
	size_t n_files, allocated;
};

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

void policy_set_done(struct policy_set *set);
