/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The policy model (spec §3): one struct policy per YAML document, and the same struct holds the
 * merged, effective policy of a VM. Every value remembers where it came from (file:line:column)
 * so `kvmtunectl show` can say why a VM gets it.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cpuset.h"
#include "diag.h"
#include "policy-disks.h"
#include "value.h"

/* Limits on what a policy can make us allocate (all documented in the README). */
#define POLICY_VCPU_LIMIT	  4096 /* vCPU indices 0..4095 */
#define POLICY_IOTHREAD_ID_MAX	  128  /* bytes in an iothread id */
#define POLICY_LIST_MAX		  4096 /* entries in vcpupin, iothreadpin, devices, ... */
#define POLICY_DOCUMENTS_PER_FILE 256
#define POLICY_FILE_SIZE_MAX	  (1024 * 1024)
#define POLICY_FILES_MAX	  1024
#define POLICY_STRING_MAX	  4096 /* bytes in a name glob, path, ... */

/* Ranges (spec §3, research/anchors.md b.1, b.4). */
#define CPU_SHARES_MIN	 2
#define CPU_SHARES_MAX	 262144
#define CPU_WEIGHT_MIN	 1
#define CPU_WEIGHT_MAX	 10000
#define CFS_PERIOD_MIN	 1000
#define CFS_PERIOD_MAX	 1000000
#define CFS_QUOTA_MIN	 1000
#define CFS_QUOTA_MAX	 INT64_C(17592186044415) /* 2^44 - 1 µs, the kernel's MAX_BW */
#define BLKIO_WEIGHT_MIN 10
#define BLKIO_WEIGHT_MAX 1000
#define RT_PRIORITY_MIN	 1
#define RT_PRIORITY_MAX	 99
#define MEMORY_LIMIT_MIN (UINT64_C(1) << 20) /* a smaller hard limit kills the VM at once */

enum sched_policy {
	SCHED_POLICY_OTHER,
	SCHED_POLICY_BATCH,
	SCHED_POLICY_IDLE,
	SCHED_POLICY_FIFO,
	SCHED_POLICY_RR,
	_SCHED_POLICY_MAX,
	_SCHED_POLICY_INVALID = -EINVAL,
};

struct psched {
	bool set;
	enum sched_policy policy;
	int priority; /* 1..99 for fifo/rr, 0 otherwise */
	struct origin origin;
};

struct vcpu_pin {
	struct cpuset vcpus; /* which vCPUs this entry is for */
	struct pcpus cpus;
};

struct vcpu_sched {
	struct cpuset vcpus;
	struct psched sched;
};

struct iothread_pin {
	char *id;
	struct pcpus cpus;
};

struct iothread_sched {
	char *id;
	struct psched sched;
};

struct blkio_device {
	char *path;
	struct origin origin; /* of the entry */
	struct pint weight;
	struct psize read_bytes_sec, write_bytes_sec;
	struct psize read_iops_sec, write_iops_sec; /* counts, not bytes; "unlimited" allowed */
};

enum numa_mode {
	NUMA_MODE_STRICT,
	NUMA_MODE_RESTRICTIVE,
	NUMA_MODE_PREFERRED,
	NUMA_MODE_INTERLEAVE,
	_NUMA_MODE_MAX,
	_NUMA_MODE_INVALID = -EINVAL,
};

enum numa_placement {
	NUMA_PLACEMENT_STATIC,
	NUMA_PLACEMENT_AUTO,
	_NUMA_PLACEMENT_MAX,
	_NUMA_PLACEMENT_INVALID = -EINVAL,
};

/* Which VMs a policy fits; every key given must match. */
struct policy_match {
	struct pstr name;   /* glob on the VM name */
	struct pstr uuid;   /* lower-case canonical form */
	struct pstr user;   /* as written */
	uid_t uid;	    /* resolved when user is set */
	struct pstr binary; /* glob on /proc/PID/exe */
};

struct policy {
	struct origin origin; /* the document's first line */
	struct policy_match match;

	struct {
		struct pint shares, weight; /* at most one is set */
		struct pint period, quota;
		struct pint global_period, global_quota;
		struct pint emulator_period, emulator_quota;
		struct pint iothread_period, iothread_quota;
		struct pcpus cpuset, emulatorpin;
		struct vcpu_pin *vcpupin;
		size_t n_vcpupin;
		struct iothread_pin *iothreadpin;
		size_t n_iothreadpin;
		struct vcpu_sched *vcpusched;
		size_t n_vcpusched;
		struct psched emulatorsched;
		struct iothread_sched *iothreadsched;
		size_t n_iothreadsched;
	} cputune;

	struct {
		struct psize hard_limit, soft_limit, swap_hard_limit, min_guarantee;
	} memtune;

	struct {
		struct pint weight;
		struct blkio_device *devices;
		size_t n_devices;
	} blkiotune;

	struct {
		struct penum mode;	/* enum numa_mode */
		struct pcpus nodeset;	/* with placement static */
		struct penum placement; /* enum numa_placement */
	} numatune;

	struct disk_list disks; /* QEMU's own per-disk throttling (policy-disks.h) */
};

/* One file of policies, as loaded. */
struct policy_file {
	char *path;
	struct policy *docs;
	size_t n_docs;
	size_t n_nodes; /* YAML nodes read, aliases counted as what they repeat (yaml-load.h) */
};

/* Who a VM is, for matching. NULL / !uid_set = not known (a policy that asks for it won't fit). */
struct vm_identity {
	const char *name;
	const char *uuid;
	bool uid_set;
	uid_t uid;
	const char *binary;
};

const char *sched_policy_to_string(enum sched_policy p);
enum sched_policy sched_policy_from_string(const char *s);
const char *numa_mode_to_string(enum numa_mode m);
enum numa_mode numa_mode_from_string(const char *s);
const char *numa_placement_to_string(enum numa_placement p);
enum numa_placement numa_placement_from_string(const char *s);

void policy_done(struct policy *p);
struct policy_file *policy_file_free(struct policy_file *f);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct policy_file *, policy_file_free)

/*
 * Returns 1 when every key of p->match fits id, 0 when not. When a key is given but the identity
 * does not know it, *ret_missing (may be NULL) names the key ("user") and 0 is returned.
 */
int policy_matches(const struct policy *p, const struct vm_identity *id, const char **ret_missing);

/*
 * Merges src into dst by spec §3: a scalar set in src replaces dst's; vcpupin, vcpusched merge
 * per vCPU, iothreadpin and iothreadsched per iothread id, devices per path and then per field,
 * disks per id (disk_list_merge).
 * Origins come along. Returns 0 or -ENOMEM (dst is then partially merged and must be freed).
 */
int policy_merge(struct policy *dst, const struct policy *src);

/*
 * Checks the rules that span keys within one document: swap_hard_limit >= hard_limit, and QEMU's
 * rules for each disk of `disks:` (disk_list_check). Problems
 * are appended to diags (naming the origins). Returns 0 or -ENOMEM.
 */
int policy_check_document(const struct policy *p, struct diag_list *diags);

/* The same on a merged policy, plus: a numatune mode needs a nodeset or placement auto. */
int policy_check_effective(const struct policy *p, struct diag_list *diags);
