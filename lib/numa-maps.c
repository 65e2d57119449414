/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "macro.h"
#include "numa-maps.h"

int numa_maps_parse(const char *buf, uint64_t ret_bytes[static NUMA_MAPS_NODES])
{
	int nodes = 0;

	memset(ret_bytes, 0, NUMA_MAPS_NODES * sizeof(uint64_t));
	for (const char *line = buf; line && *line;) {
		const char *end = strchr(line, '\n') ?: line + strlen(line);
		const char *kps = strstr(line, "kernelpagesize_kB=");
		uint64_t page = 4096;

		if (kps && kps < end)
			page = strtoull(kps + 18, NULL, 10) * 1024;
		for (const char *p = line; p < end; p++) {
			char *after;
			unsigned long node;
			unsigned long long pages;

			if (p[0] != 'N' || (p != line && p[-1] != ' '))
				continue;
			node = strtoul(p + 1, &after, 10);
			if (after == p + 1 || *after != '=' || node >= NUMA_MAPS_NODES)
				continue;
			pages = strtoull(after + 1, NULL, 10);
			ret_bytes[node] += pages * page;
			nodes = MAX(nodes, (int)node + 1);
		}
		line = *end ? end + 1 : NULL;
	}
	return nodes;
}

int numa_maps_read(int proc_fd, int pid, uint64_t ret_bytes[static NUMA_MAPS_NODES])
{
	_cleanup_free_ char *buf = NULL;
	char path[32];
	int r;

	(void)snprintf(path, sizeof(path), "%d/numa_maps", pid);
	r = read_file_at(proc_fd, path, 64 * 1024 * 1024, &buf, NULL);
	if (r < 0)
		return r;
	return numa_maps_parse(buf, ret_bytes);
}
