/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * `kvmtunectl run` makes a VM's groups and joins them before the process is QEMU: until its
 * exec, no VM has those groups, and a pass that removes stale groups would take them for an
 * ended VM's (rmdir between the mkdir and the join; QEMU then starts outside, and on v1 its
 * first memory stays charged where it started). A launch holds this lock shared from before
 * its first mkdir to its exec, where the descriptor closes; whoever removes stale groups
 * holds it exclusive, without waiting, or removes none in that pass.
 *
 * The lock is the file launch.lock in the runtime directory (kvmtuned's, /run/kvmtune).
 */

/* Shared, waiting for a removal under way. An O_CLOEXEC fd, -ENOENT when runtime_dir does not
 * exist (no kvmtuned there to race with), or -errno. */
int launch_lock_shared(const char *runtime_dir);

/* Exclusive, not waiting. An O_CLOEXEC fd, -EWOULDBLOCK while a launch holds it, -ENOENT when
 * runtime_dir does not exist, or -errno. */
int launch_lock_exclusive(const char *runtime_dir);
