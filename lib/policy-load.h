/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Reading policy files: YAML text → struct policy_file, with every mistake reported; and the
 * files themselves (owner, mode, size, count) checked the way sshd's StrictModes does.
 */

#include "diag.h"
#include "policy.h"
#include "topology.h"

struct policy_env {
	const struct topology *topo; /* NULL: CPU and node ids are not checked against a host */
	bool check_devices;	     /* device paths must be block devices */
	bool check_users;	     /* user names must resolve */
	bool check_owner; /* files and the directories above them: root's (config-file.h) */
};

/*
 * Parses text (size bytes) as the policy file path. Every problem is appended to diags. Returns
 * 0 and *ret when the file has no error; -EINVAL when it has (nothing is returned: a file with
 * an error is not applied at all); -ENOMEM.
 */
int policy_parse(const char *path, const char *text, size_t size, const struct policy_env *env,
		 struct policy_file **ret, struct diag_list *diags);

/* Opens, checks and parses one file. Same returns as policy_parse(). */
int policy_load_file(const char *path, const struct policy_env *env, struct policy_file **ret,
		     struct diag_list *diags);

/* The policy files of a directory: *.yaml and *.yml, no dot files, in lexical (C) order. */
int policy_list_dir(const char *dir, const struct policy_env *env, char ***ret_paths, size_t *ret_n,
		    struct diag_list *diags);
