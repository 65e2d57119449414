/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Reading policy files: YAML text → struct policy_file, with every mistake reported; and the
 * files themselves (owner, mode, size, count) checked the way sshd's StrictModes does.
 */

#include "diag.h"
#include "policy-yaml.h"

/* Opens, checks and parses one file. Same returns as policy_parse(). */
int policy_load_file(const char *path, const struct policy_env *env, struct policy_file **ret,
		     struct diag_list *diags);

/* The policy files of a directory: *.yaml and *.yml, no dot files, in lexical (C) order. */
int policy_list_dir(const char *dir, const struct policy_env *env, char ***ret_paths, size_t *ret_n,
		    struct diag_list *diags);
