/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Carrying out a plan. Each action is first compared with what the kernel holds and skipped
 * when it already holds (so a second apply writes nothing); then done once (one write() per
 * value), or only reported under dry_run. Threads and processes that vanish meanwhile are not
 * failures. Writes refused for ordering (EINVAL, EBUSY: a parent's quota or cpuset not yet
 * wide enough) are tried once more after the rest of the plan.
 */

#include "cgroup-fs.h"
#include "cgroup-value.h"
#include "plan.h"

/*
 * Called for every action carried out (not for unchanged ones unless report_unchanged):
 * old is what was there before (may be NULL), error the -errno of a failure, detail (may be
 * NULL) a sentence on why it failed: kvmtune's explanation of a kernel error people meet, or
 * what the refusing service said.
 */
typedef void (*apply_report_fn)(void *userdata, const struct action *a, enum apply_outcome o,
				const char *old, int error, const char *detail);

struct apply_ctx {
	const struct cgroup_fs *fs;
	int proc_fd;
	bool dry_run;
	struct cgroup_overlay *overlay; /* dry run: may be NULL (one plan only) */
	bool report_unchanged;
	struct unit_bus *bus; /* the systemd backend: scopes, unit properties, machined */
	bool wait_for_units;  /* wait (briefly) until systemd has written what it was given */
	apply_report_fn report;
	void *userdata;
};

/* Returns 0 (see stats for what happened) or -ENOMEM. */
int apply_plan(const struct apply_ctx *ctx, const struct plan *p, struct apply_stats *stats);

/* A scheduler as people write it in policies: "fifo 10", "other". Caller frees. */
char *apply_sched_text(int policy, int priority);

/* A sentence on why an action failed, for the kernel errors people meet (RT budget, ...). */
const char *apply_explain(const struct action *a, int error);
