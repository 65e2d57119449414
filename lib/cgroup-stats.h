/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What a cgroup's limits did: CPU used and throttled, memory used against the limits and how
 * often they were hit, I/O done per device, pressure stall time. Read from the kernel at that
 * moment, in one vocabulary for v1 and v2 (base units: nanoseconds, bytes, counts). Every figure
 * has a "have" flag: a figure this kernel or layout does not give is absent, never 0.
 */

#include <stdbool.h>
#include <stdint.h>

struct cg_cpu_stats {
	bool have_usage, have_throttling;
	uint64_t usage_ns;     /* v1 cpuacct.usage, v2 cpu.stat usage_usec */
	uint64_t nr_periods;   /* cpu.stat: periods in which the group ran with a quota */
	uint64_t nr_throttled; /* ... of those, the ones in which it used up its quota */
	uint64_t throttled_ns; /* v1 throttled_time (ns), v2 throttled_usec */
};

/* Pressure stall information of one resource: total stall time since the group was made. */
struct cg_psi {
	bool have_some, have_full;
	uint64_t some_ns, full_ns; /* the files' total= (µs), in ns */
};

enum cg_memory_event {
	CG_MEM_LOW,
	CG_MEM_HIGH,
	CG_MEM_MAX,
	CG_MEM_OOM,
	CG_MEM_OOM_KILL,
	_CG_MEM_EVENT_MAX,
};

struct cg_memory_stats {
	bool have_usage, have_peak, have_swap, have_failcnt;
	bool have_event[_CG_MEM_EVENT_MAX];
	uint64_t usage;	  /* bytes: v1 memory.usage_in_bytes, v2 memory.current */
	uint64_t peak;	  /* v1 memory.max_usage_in_bytes, v2 memory.peak (Linux 5.19+) */
	uint64_t swap;	  /* v2 memory.swap.current; v1 memory.memsw.usage_in_bytes - usage */
	uint64_t failcnt; /* v1 memory.failcnt: times usage hit the limit */
	/* v2 memory.events (low, high, max, oom, oom_kill); v1 has oom_kill in
	 * memory.oom_control only */
	uint64_t event[_CG_MEM_EVENT_MAX];
};

struct cg_io_device_stats {
	unsigned major, minor;
	bool have_bytes, have_ios;
	uint64_t rbytes, wbytes, rios, wios;
};

struct cg_io_stats {
	struct cg_io_device_stats *devices; /* in the kernel's order */
	size_t n;
};

/*
 * cpu_fd is the cpu controller's hierarchy, acct_fd cpuacct's (v1; the same fd when they are
 * mounted together, -EBADF when the host has no cpuacct); both unused halves are ignored on v2.
 * Returns 0 (what is missing is absent) or -ENOMEM.
 */
int cg_read_cpu_stats(int cpu_fd, int acct_fd, int version, const char *group,
		      struct cg_cpu_stats *ret);
int cg_read_memory_stats(int fd, int version, const char *group, struct cg_memory_stats *ret);
/* Per device, from v1 blkio.throttle.io_service_bytes/io_serviced (the _recursive ones where
 * the kernel has them) or v2 io.stat. Caller frees with cg_io_stats_done. */
int cg_read_io_stats(int fd, int version, const char *group, struct cg_io_stats *ret);
/* file: "cpu.pressure", "memory.pressure", "io.pressure" (v2; v1 where the kernel offers it). */
int cg_read_psi(int fd, const char *group, const char *file, struct cg_psi *ret);

const char *cg_memory_event_to_string(enum cg_memory_event e);

/* Parsers, for the readers and the tests: 0 or -EINVAL. */
int cg_parse_psi(const char *text, struct cg_psi *ret);
/* A "key value" per line (cpu.stat, memory.events, memory.oom_control): key's value. */
int cg_parse_keyed(const char *text, const char *key, uint64_t *ret);

void cg_io_stats_done(struct cg_io_stats *s);
