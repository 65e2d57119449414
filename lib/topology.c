/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <numa.h>

#include "fileio.h"
#include "macro.h"
#include "topology.h"

/*
 * $ cat /sys/devices/system/cpu/online
 * 0-1
 * (an empty file stands for the empty set)
 */
static int read_list(int sys_fd, const char *path, struct cpuset *ret)
{
	_cleanup_free_ char *buf = NULL;
	int r = read_file_at(sys_fd, path, 65536, &buf, NULL);

	if (r < 0)
		return r;
	if (*strip_trailing_space(buf) == '\0') {
		cpuset_done(ret);
		return 0;
	}
	return cpuset_parse(buf, CPUSET_LIMIT, ret, NULL);
}

static int read_cpus(int sys_fd, struct topology *t)
{
	return read_list(sys_fd, "devices/system/cpu/online", &t->cpus);
}

int topology_read(int sys_fd, struct topology *ret)
{
	_cleanup_(topology_done) struct topology t = {};
	int r = read_cpus(sys_fd, &t);

	if (r < 0)
		return r;
	r = read_list(sys_fd, "devices/system/node/has_memory", &t.nodes);
	if (r == -ENOENT)
		r = read_list(sys_fd, "devices/system/node/online", &t.nodes);
	if (r == -ENOENT)
		r = cpuset_add(&t.nodes, 0);
	if (r < 0)
		return r;
	*ret = t;
	t = (struct topology){};
	return 0;
}

/* Route libnuma's messages away from stderr: the library does not log. */
void numa_warn(int number _unused_, char *where _unused_, ...)
{
}

void numa_error(char *where _unused_)
{
}

int topology_read_host(struct topology *ret)
{
	_cleanup_(topology_done) struct topology t = {};
	_cleanup_close_ int sys_fd = open("/sys", O_PATH | O_DIRECTORY | O_CLOEXEC);
	int r;

	if (sys_fd < 0)
		return -errno;
	r = read_cpus(sys_fd, &t);
	if (r < 0)
		return r;
	if (numa_available() < 0) {
		/* No NUMA support in this kernel: all memory is node 0. */
		r = cpuset_add(&t.nodes, 0);
	} else {
		for (int node = 0; r >= 0 && node <= numa_max_node(); node++)
			if (numa_bitmask_isbitset(numa_nodes_ptr, (unsigned)node) &&
			    numa_node_size64(node, NULL) > 0)
				r = cpuset_add(&t.nodes, (unsigned)node);
	}
	if (r < 0)
		return r;
	*ret = t;
	t = (struct topology){};
	return 0;
}

void topology_done(struct topology *t)
{
	cpuset_done(&t->cpus);
	cpuset_done(&t->nodes);
}
