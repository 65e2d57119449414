/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Which backend writes a host's VM groups (spec §5 `backend`). systemd: every VM group is a
 * delegated transient scope, its own values unit properties; it needs systemd as PID 1 whose
 * bus answers, the unified cgroup hierarchy (on v1, systemd 252 delegates a scope's cpu,
 * cpuacct, memory and pids groups only: cpuset and blkio would stay outside the unit; README
 * has what the v1 guests measured), and a slice as cgroup_parent. cgroupfs: kvmtune writes it
 * all.
 */

#include "cgroup-fs.h"
#include "settings.h"
#include "unit-bus.h"

/*
 * Resolves s->backend on this host. Returns BACKEND_SYSTEMD (with *ret_bus connected) or
 * BACKEND_CGROUPFS (*ret_bus NULL); with auto, *ret_why says why systemd was not chosen. When
 * systemd was asked for and cannot be had, or auto finds a systemd v2 host whose bus does not
 * answer: -errno, with *ret_why. Caller frees *ret_why.
 */
int backend_open(const struct settings *s, const struct cgroup_fs *fs, struct unit_bus **ret_bus,
		 char **ret_why);

/*
 * Where the VM groups of backend go, relative to the hierarchies' roots: cgroup_parent for
 * cgroupfs; for systemd the cgroup systemd gives the slice cgroup_parent names ("a-b.slice" is
 * in "a.slice/a-b.slice"). Returns 0 or -errno. Caller frees.
 */
int backend_parent(const struct settings *s, int backend, char **ret);
