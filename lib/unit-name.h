/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/*
 * A VM name as part of a cgroup or unit name, escaped as systemd escapes unit names
 * (systemd-escape): "/" becomes "-", anything but [A-Za-z0-9:_.] becomes \xNN, a leading "."
 * too. No VM name can then leave the parent group or collide with kernel files.
 */

/* "kvmtune-<escaped name>.scope". Caller frees; NULL on OOM. */
char *vm_scope_name(const char *vm_name);

/* The escaping alone. Caller frees; NULL on OOM. */
char *unit_name_escape(const char *s);

/*
 * Where systemd puts a slice unit's cgroup, below the root: "machine.slice" ->
 * "machine.slice", "a-b.slice" -> "a.slice/a-b.slice", "-.slice" -> "". Returns 0, -EINVAL
 * when slice is not a slice unit's name, -ENOMEM.
 */
int slice_path(const char *slice, char **ret);

/* Whether machined takes name as a machine name (a valid hostname, at most 64 characters). */
bool machine_name_is_valid(const char *name);
