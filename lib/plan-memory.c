/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * memtune → the VM group's memory files (spec §4): v1's limit_in_bytes, memsw and soft limit
 * in the order the kernel accepts, v2's max/low/min/swap.max. Unset keys are planned at the
 * kernel's defaults, so that removing one undoes it.
 */

#include <inttypes.h>
#include <stdio.h>

#include "cgroup-value.h"
#include "plan-build.h"
#include "size.h"

#define PAGE_SIZE_BYTES UINT64_C(4096)

/* Memory limits in bytes, page-aligned as the kernel stores them, or the unlimited word. */
static void limit_text(uint64_t bytes, const char *unlimited, char buf[static 32])
{
	if (bytes == SIZE_UNLIMITED)
		(void)snprintf(buf, 32, "%s", unlimited);
	else
		(void)snprintf(buf, 32, "%" PRIu64, bytes & ~(PAGE_SIZE_BYTES - 1));
}

void plan_memory(struct builder *b, const char *vm_group)
{
	const struct policy *p = b->policy;
	const struct psize *hard = &p->memtune.hard_limit, *soft = &p->memtune.soft_limit;
	const struct psize *swap = &p->memtune.swap_hard_limit, *min = &p->memtune.min_guarantee;
	uint64_t h = hard->set ? hard->bytes : SIZE_UNLIMITED;
	uint64_t s = swap->set ? swap->bytes : SIZE_UNLIMITED;
	char v[32];

	if (b->host->version[CGROUP_MEMORY] == 0) {
		if (hard->set || soft->set || swap->set || min->set)
			builder_warn(b, NULL, "memtune: this host has no memory controller");
		return;
	}
	if (b->host->version[CGROUP_MEMORY] == 1) {
		bool memsw = b->host->memsw;

		/* A moved task's memory stays charged where it was on v1: new kernels refuse
		 * memory.move_charge_at_immigrate. Only memory allocated afterwards counts
		 * against the limits of an adopted VM; `kvmtunectl run` has it all counted. */
		/* memsw >= limit at every step: a new limit that fits under the current memsw
		 * goes first; a larger one waits until memsw has grown. */
		bool limit_first = !memsw || h <= b->host->memsw_limit;

		if (swap->set && !memsw)
			builder_warn(b, &swap->origin,
				     "memtune.swap_hard_limit: this kernel has no swap accounting "
				     "(memory.memsw.*): boot with swapaccount=1");
		limit_text(h, "-1", v);
		if (limit_first)
			builder_write(b, CGROUP_MEMORY, vm_group, "memory.limit_in_bytes",
				      hard->set ? &hard->origin : NULL, "memory hard_limit", "%s",
				      v);
		if (memsw) {
			limit_text(s, "-1", v);
			builder_write(b, CGROUP_MEMORY, vm_group, "memory.memsw.limit_in_bytes",
				      swap->set ? &swap->origin : NULL, "memory swap_hard_limit",
				      "%s", v);
		}
		if (!limit_first) {
			limit_text(h, "-1", v);
			builder_write(b, CGROUP_MEMORY, vm_group, "memory.limit_in_bytes",
				      &hard->origin, "memory hard_limit", "%s", v);
		}
		limit_text(soft->set ? soft->bytes : SIZE_UNLIMITED, "-1", v);
		builder_write(b, CGROUP_MEMORY, vm_group, "memory.soft_limit_in_bytes",
			      soft->set ? &soft->origin : NULL, "memory soft_limit", "%s", v);
		return;
	}
	limit_text(h, "max", v);
	builder_write(b, CGROUP_MEMORY, vm_group, "memory.max", hard->set ? &hard->origin : NULL,
		      "memory hard_limit", "%s", v);
	limit_text(soft->set && soft->bytes != SIZE_UNLIMITED ? soft->bytes : 0, "max", v);
	builder_write(b, CGROUP_MEMORY, vm_group, "memory.low", soft->set ? &soft->origin : NULL,
		      "memory soft_limit", "%s", v);
	limit_text(min->set ? min->bytes : 0, "max", v);
	builder_write(b, CGROUP_MEMORY, vm_group, "memory.min", min->set ? &min->origin : NULL,
		      "memory min_guarantee", "%s", v);
	/* v2 limits swap alone: memory + swap minus memory. */
	if (swap->set && !hard->set)
		builder_warn(b, &swap->origin,
			     "memtune.swap_hard_limit: on cgroup v2 it needs a hard_limit "
			     "(memory.swap.max "
			     "= "
			     "swap_hard_limit - hard_limit); left unlimited");
	limit_text(swap->set && hard->set && s != SIZE_UNLIMITED && h != SIZE_UNLIMITED
			   ? s - h
			   : SIZE_UNLIMITED,
		   "max", v);
	builder_write(b, CGROUP_MEMORY, vm_group, "memory.swap.max",
		      swap->set ? &swap->origin : NULL, "memory swap_hard_limit", "%s", v);
}
