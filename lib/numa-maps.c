/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpuset.h"
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

/* The pages of one line: the sum of its N<node>= counts. */
static uint64_t line_pages(const char *line, const char *end)
{
	uint64_t pages = 0;

	for (const char *p = line; p < end; p++)
		if (p[0] == 'N' && p[-1] == ' ' && p[1] >= '0' && p[1] <= '9') {
			const char *eq = p + 1 + strspn(p + 1, "0123456789");

			if (*eq == '=')
				pages += strtoull(eq + 1, NULL, 10);
		}
	return pages;
}

int numa_maps_parse_policy(const char *buf, char **ret)
{
	struct {
		char policy[64];
		uint64_t pages;
	} seen[8] = {};
	size_t n = 0, best = 0;

	for (const char *line = buf; line && *line;) {
		const char *end = strchr(line, '\n') ?: line + strlen(line);
		const char *field = strchr(line, ' ');
		size_t len = field && field < end ? strcspn(field + 1, " \n") : 0, i;
		uint64_t pages = field ? line_pages(field, end) : 0;

		line = *end ? end + 1 : NULL;
		if (len == 0 || len >= sizeof(seen[0].policy) || pages == 0)
			continue;
		for (i = 0; i < n; i++)
			if (strlen(seen[i].policy) == len &&
			    strncmp(seen[i].policy, field + 1, len) == 0)
				break;
		if (i == n) {
			if (n == ARRAY_SIZE(seen))
				continue;
			memcpy(seen[n].policy, field + 1, len);
			n++;
		}
		seen[i].pages += pages;
	}
	if (n == 0)
		return -ENODATA;
	for (size_t i = 1; i < n; i++)
		if (seen[i].pages > seen[best].pages)
			best = i;
	*ret = strdup(seen[best].policy);
	return *ret ? 0 : -ENOMEM;
}

int numa_maps_read_policy(int proc_fd, int pid, char **ret)
{
	_cleanup_free_ char *buf = NULL;
	char path[32];
	int r;

	(void)snprintf(path, sizeof(path), "%d/numa_maps", pid);
	r = read_file_at(proc_fd, path, 64 * 1024 * 1024, &buf, NULL);
	if (r < 0)
		return r;
	return numa_maps_parse_policy(buf, ret);
}

bool numa_maps_policy_is(const char *memory_policy, bool prefer, const struct cpuset *nodes)
{
	_cleanup_free_ char *list = NULL;
	char want[128];

	if (!memory_policy)
		return false;
	if (prefer)
		(void)snprintf(want, sizeof(want), "prefer:%u", cpuset_next(nodes, 0));
	else if ((list = cpuset_format(nodes)))
		(void)snprintf(want, sizeof(want), "interleave:%s", list);
	else
		return false;
	return streq(memory_policy, want);
}
