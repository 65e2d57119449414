/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Where a process's memory sits, per NUMA node: /proc/PID/numa_maps, like numastat -p. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NUMA_MAPS_NODES 64

/*
 * Adds up the "N<node>=<pages>" fields of every mapping, each in that mapping's
 * kernelpagesize_kB (so 2 MiB and 1 GiB pages count right):
 *   7f2c... default anon=256 dirty=256 N0=200 N1=56 kernelpagesize_kB=4
 * ret_bytes[node] for nodes below NUMA_MAPS_NODES. Returns the highest node seen plus one.
 */
int numa_maps_parse(const char *buf, uint64_t ret_bytes[static NUMA_MAPS_NODES]);

/* Reads /proc/PID/numa_maps below proc_fd and parses it. */
int numa_maps_read(int proc_fd, int pid, uint64_t ret_bytes[static NUMA_MAPS_NODES]);

/*
 * The memory policy most of a process's pages were placed under: the second field of each
 * mapping, weighed by its pages ("interleave:0-1", "prefer:1", "bind:0", "default"):
 *   55d2... interleave:0-1 heap anon=4096 dirty=4096 N0=2048 N1=2048 kernelpagesize_kB=4
 * Returns 0 with *ret (caller frees), -ENODATA when no page is mapped, -ENOMEM.
 */
int numa_maps_parse_policy(const char *buf, char **ret);

/* Reads /proc/PID/numa_maps below proc_fd and parses its policy. */
int numa_maps_read_policy(int proc_fd, int pid, char **ret);

/*
 * Whether a process's memory policy (numa_maps_parse_policy) is the one a launch-only numatune
 * asks for: "interleave:<nodes>", or with prefer "prefer:<first node>".
 */
struct cpuset;
bool numa_maps_policy_is(const char *memory_policy, bool prefer, const struct cpuset *nodes);
