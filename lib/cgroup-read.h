/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What a cgroup holds now, in one vocabulary for v1 and v2: what `kvmtunectl status` shows
 * (like virsh schedinfo, memtune, blkiotune, numatune) and what drift is measured against.
 * Every field has a "have_" flag: the file may not exist on this kernel or layout.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CG_UNLIMITED UINT64_MAX

struct cg_cpu {
	bool have_shares, have_weight, have_bandwidth;
	uint64_t shares; /* v1 cpu.shares */
	uint64_t weight; /* v2 cpu.weight */
	uint64_t period; /* µs */
	uint64_t quota;	 /* µs, CG_UNLIMITED for -1 / max */
};

struct cg_memory {
	bool have_limit, have_soft, have_swap, have_min, have_usage;
	uint64_t limit; /* bytes; v1 memory.limit_in_bytes, v2 memory.max */
	uint64_t soft;	/* v1 memory.soft_limit_in_bytes, v2 memory.low */
	uint64_t swap;	/* v1 memory.memsw.limit_in_bytes (memory + swap), v2 memory.swap.max */
	uint64_t min;	/* v2 memory.min */
	uint64_t usage; /* v1 memory.usage_in_bytes, v2 memory.current */
};

struct cg_io {
	bool have_weight;
	bool bfq;	 /* the weight is bfq's (blkio.bfq.weight / io.bfq.weight) */
	uint64_t weight; /* the cgroup's default weight */
	char *devices;	 /* per-device settings as the kernel lists them, one per line, or NULL */
};

struct cg_cpuset {
	char *cpus; /* cpuset.cpus (effective when cpus is empty on v2), or NULL */
	char *mems;
};

/*
 * Reads group/file in the hierarchy fd (group relative, "" for the root; a leading '/' is
 * ignored), without its trailing newline. No symlink is followed. Returns 0 or -errno.
 */
int cgroup_read(int hierarchy_fd, const char *group, const char *file, char **ret);

/*
 * 1 when a thread is in group or a group below it (v1 tasks, v2 cgroup.threads), 0 when none
 * is or group does not exist, -errno.
 */
int cgroup_has_threads(int hierarchy_fd, const char *group, int version);

/* Each reads group in the hierarchy fd of its controller, cgroup version 1 or 2. */
int cg_read_cpu(int fd, int version, const char *group, struct cg_cpu *ret);
int cg_read_memory(int fd, int version, const char *group, struct cg_memory *ret);
int cg_read_io(int fd, int version, const char *group, struct cg_io *ret);
int cg_read_cpuset(int fd, int version, const char *group, struct cg_cpuset *ret);

/* One per-device entry of an I/O file ("8:0 800", "8:0 rbps=1048576 wbps=max ..."). */
struct cg_io_entry {
	const char *file; /* static: "io.max", "blkio.throttle.read_bps_device", ... */
	unsigned major, minor;
};

/*
 * The per-device entries of group's weight and throttle files (v1: blkio.bfq.weight_device and
 * the four blkio.throttle.*_device; v2: io.bfq.weight, io.weight, io.max). Caller frees.
 */
int cg_read_io_entries(int fd, int version, const char *group, struct cg_io_entry **ret,
		       size_t *ret_n);

void cg_io_done(struct cg_io *io);
void cg_cpuset_done(struct cg_cpuset *c);

/*
 * The values of cgroup files, as read (the trailing newline stripped). Each returns 0 or -EINVAL.
 * A limit: "max" or "-1" → CG_UNLIMITED; v1's "unlimited" (the page-rounded INT64_MAX) too.
 */
int cg_parse_limit(const char *s, uint64_t *ret);
/* cpu.max: "max 100000" or "50000 100000" (quota, period µs; the period > 0). */
int cg_parse_cpu_max(const char *s, uint64_t *ret_quota, uint64_t *ret_period);
/* A weight file's default: "default 100\n8:0 200" (io.weight, io.bfq.weight) or "100". */
int cg_parse_weight(const char *s, uint64_t *ret);
