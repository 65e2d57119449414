/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the host has: the CPUs and NUMA nodes a policy may name. */

#include "cpuset.h"

struct topology {
	struct cpuset cpus;  /* online CPUs */
	struct cpuset nodes; /* NUMA nodes with memory */
};

/*
 * Reads the topology below a sysfs root (sys_fd is the directory that holds "devices"):
 * devices/system/cpu/online, devices/system/node/has_memory (falling back to node/online; a
 * kernel without NUMA has node 0 only). Tests point sys_fd at fixture trees.
 */
int topology_read(int sys_fd, struct topology *ret);

/* The running host: CPUs from /sys as above, NUMA nodes (with memory) from libnuma. */
int topology_read_host(struct topology *ret);

void topology_done(struct topology *t);
