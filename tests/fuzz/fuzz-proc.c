/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Fuzzes the parsers of /proc files, whose contents other processes influence (a thread's name,
 * its command line, the cgroup paths of its groups). The first byte picks the parser, the rest
 * is the file: 0 stat, 1 status, 2 syscall, 3 cgroup, 4 numa_maps, 5 a thread's name (comm),
 * 6 mountinfo.
 * Beyond not crashing, each result must keep its promises (NUL-terminated fields, one line).
 */

#include "discover.h"
#include "fuzz.h"
#include "macro.h"
#include "mountinfo.h"
#include "numa-maps.h"
#include "proc.h"

static void stat_file(const char *s)
{
	struct proc_stat st;

	if (proc_stat_parse(s, &st) == 0)
		FUZZ_ASSERT(strnlen(st.comm, sizeof(st.comm)) < sizeof(st.comm));
}

static void status_file(const char *s)
{
	static const char *const fields[] = { "Name", "Uid", "SigBlk", "Tgid", "" };

	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		char *v = NULL;
		int r = proc_status_field_parse(s, fields[i], &v);

		FUZZ_ASSERT(r == 0 || r == -ENODATA);
		FUZZ_ASSERT(r < 0 || !strchr(v, '\n'));
		free(v);
	}
}

static void syscall_file(const char *s)
{
	struct proc_syscall sc;
	int r = proc_syscall_parse(s, &sc);

	FUZZ_ASSERT(r == 0 || r == -EINVAL || r == -EBUSY);
	FUZZ_ASSERT(r < 0 || sc.nr >= 0);
}

static void cgroup_file(const char *s)
{
	static const char *const controllers[] = { NULL, "cpu", "cpuset", "memory", "" };

	for (size_t i = 0; i < ARRAY_SIZE(controllers); i++) {
		char *v = NULL;
		int r = proc_cgroup_parse(s, controllers[i], &v);

		FUZZ_ASSERT(r == 0 || r == -ENODATA);
		FUZZ_ASSERT(r < 0 || !strchr(v, '\n'));
		free(v);
	}
}

static void numa_maps_file(const char *s)
{
	uint64_t bytes[NUMA_MAPS_NODES];
	int n = numa_maps_parse(s, bytes);

	FUZZ_ASSERT(n >= 0 && n <= NUMA_MAPS_NODES);
}

static void comm(const char *s)
{
	int vcpu = discover_vcpu_from_name(s);

	FUZZ_ASSERT(vcpu >= -1);
	FUZZ_ASSERT(vcpu < 0 || strncmp(s, "CPU ", 4) == 0 || streq(s, "ALL CPUs/TCG"));
}

static void mountinfo_file(const char *s)
{
	struct mountinfo_cgroup *m = NULL;
	size_t n = 0;

	if (mountinfo_cgroup_parse(s, &m, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		FUZZ_ASSERT(m[i].path && m[i].controllers != 0);
		FUZZ_ASSERT(m[i].controllers < 1u << _CGROUP_CONTROLLER_MAX);
		FUZZ_ASSERT(strlen(m[i].path) <= strlen(s));
	}
	mountinfo_cgroup_free(m, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static void (*const parsers[])(const char *) = {
		stat_file,	status_file, syscall_file,   cgroup_file,
		numa_maps_file, comm,	     mountinfo_file,
	};
	char *s;

	if (size < 1)
		return 0;
	s = fuzz_string(data + 1, size - 1);
	if (s)
		parsers[data[0] % ARRAY_SIZE(parsers)](s);
	free(s);
	return 0;
}
