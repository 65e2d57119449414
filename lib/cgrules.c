/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <libcgroup.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgrules.h"
#include "fileio.h"
#include "macro.h"

/* A rule's process: "/usr/bin/qemu-system-x86_64" or "qemu-system-x86_64" (its comm). */
static const char *matching_glob(const char *process, char *const *globs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *slash = strrchr(globs[i], '/');

		if (process[0] == '/' ? fnmatch(globs[i], process, 0) == 0
				      : fnmatch(slash ? slash + 1 : globs[i], process, 0) == 0)
			return globs[i];
	}
	return NULL;
}

/*
 * $ cat /etc/cgrules.conf
 * # <user>[:<process>]   <controllers>   <destination>
 * @qemu:qemu-system-x86_64  cpu,memory  vms/
 * %                      blkio       vms/
 * *                      cpu         users/
 */
static int check_line(const char *path, unsigned line, char *text, char *const *globs,
		      size_t n_globs, char *last_user, struct diag_list *diags)
{
	char who[256], ctrls[256], dest[1024];
	const char *process, *glob = NULL;
	char *colon;

	if (sscanf(text, "%255s %255s %1023s", who, ctrls, dest) != 3 || who[0] == '#')
		return 0;
	if (streq(who, "%")) /* the previous rule's user and process, more controllers */
		snprintf(who, sizeof(who), "%s", last_user);
	else
		snprintf(last_user, 256, "%s", who);
	colon = strchr(who, ':');
	process = colon ? colon + 1 : NULL;
	if (colon)
		*colon = '\0';
	if (process && *process)
		glob = matching_glob(process, globs, n_globs);
	else if (!streq(who, "*"))
		return 0; /* a user's rule: QEMU of that user only, said when it is known */
	if (process && *process && !glob)
		return 0;
	return diag_add(diags, DIAG_WARNING, path, line, 0, NULL,
			"cgrulesengd moves %s (%s) into %s of %s: it would pull QEMU out of "
			"kvmtune's groups when it execs or changes its uid (kvmtune registers the "
			"VMs it adopts and starts with the daemon as unchanged; a rule for QEMU "
			"is still best removed)",
			process && *process ? process : "every process of every user",
			glob ? glob : "user *", dest, ctrls);
}

int cgrules_check(const char *path, char *const *globs, size_t n_globs, struct diag_list *diags)
{
	_cleanup_free_ char *text = NULL;
	char last_user[256] = "";
	unsigned line = 1;
	int r;

	r = read_file_at(AT_FDCWD, path, 1024 * 1024, &text, NULL);
	if (r < 0)
		return r == -ENOMEM ? r : 0;
	for (char *l = text, *nl; l && *l; l = nl ? nl + 1 : NULL, line++) {
		nl = strchr(l, '\n');
		if (nl)
			*nl = '\0';
		r = check_line(path, line, l, globs, n_globs, last_user, diags);
		if (r < 0)
			return r;
	}
	return 0;
}

int cgrules_keep(pid_t pid)
{
	int r = cgroup_register_unchanged_process(pid, CGROUP_DAEMON_UNCHANGE_CHILDREN);

	return r == 0 ? 0 : -abs(r);
}
