/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Living beside cgrulesengd (libcgroup's rules daemon): it moves a process into the group a
 * rule of /etc/cgrules.conf names when the process execs or changes its uid, which would pull
 * QEMU out of kvmtune's groups. kvmtune registers each VM it adopts or starts as "unchanged"
 * with the daemon (cgrules_keep), and `check` warns about the rules that match QEMU.
 */

#include <stddef.h>
#include <sys/types.h>

#include "diag.h"

#define CGRULES_CONF "/etc/cgrules.conf"

/*
 * Warns (into diags, with path:line) about each rule of path, a cgrules.conf, whose process
 * matches one of the qemu_binaries globs: a full path the glob matches, or a command name some
 * glob's last component matches; and about rules for every user ("*") without a process,
 * which match QEMU too. A missing file is no problem (returns 0). Returns 0 or -ENOMEM.
 */
int cgrules_check(const char *path, char *const *globs, size_t n_globs, struct diag_list *diags);

/*
 * Tells a running cgrulesengd to leave pid and its children where they are (libcgroup's
 * cgroup_register_unchanged_process; nothing when the daemon does not run). Returns 0, or a
 * negative libcgroup error when a daemon was there and refused.
 */
int cgrules_keep(pid_t pid);
