/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The policy language's grammar: YAML text -> struct policy_file, every mistake reported with
 * its file:line:col. The only file that includes the YAML library's document API for policies.
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
