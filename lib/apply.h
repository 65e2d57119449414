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
#include "plan.h"

enum apply_outcome {
	APPLY_DONE,	 /* changed */
	APPLY_UNCHANGED, /* already so */
	APPLY_WOULD,	 /* dry run: would change */
	APPLY_GONE,	 /* the thread or process is gone: nothing to do */
	APPLY_REPLACED,	 /* its TID (or PID) names another task now: skipped, not applied */
	APPLY_FAILED,	 /* could not be enforced */
	APPLY_WARNING,	 /* a plan warning */
	_APPLY_OUTCOME_MAX,
};

struct apply_stats {
	unsigned n[_APPLY_OUTCOME_MAX];
};

/*
 * Called for every action carried out (not for unchanged ones unless report_unchanged):
 * old is what the kernel held (may be NULL), error the -errno of a failure. For a failure, old
 * is instead what the refusing service said (systemd's error), or NULL.
 */
typedef void (*apply_report_fn)(void *userdata, const struct action *a, enum apply_outcome o,
				const char *old, int error);

/*
 * What a dry run would have done so far, so that plans after the first (several VMs under one
 * parent) compare with it rather than with a kernel that was not changed. Owned by the caller;
 * a zeroed struct is empty.
 */
struct apply_overlay {
	struct overlay_entry *entries;
	size_t n, allocated;
};

void apply_overlay_done(struct apply_overlay *o);

struct apply_ctx {
	const struct cgroup_fs *fs;
	int proc_fd;
	bool dry_run;
	struct apply_overlay *overlay; /* dry run: may be NULL (one plan only) */
	bool report_unchanged;
	struct unit_bus *bus; /* the systemd backend: scopes, unit properties, machined */
	apply_report_fn report;
	void *userdata;
};

/* Returns 0 (see stats for what happened) or -ENOMEM. */
int apply_plan(const struct apply_ctx *ctx, const struct plan *p, struct apply_stats *stats);

/* A sentence on why an action failed, for the kernel errors people meet (RT budget, ...). */
const char *apply_explain(const struct action *a, int error);

/* For a report of a failure: apply_explain's sentence, else what a refusing service said. */
const char *apply_failure_detail(const struct action *a, int error, const char *old);

const char *apply_outcome_to_string(enum apply_outcome o);

/* Whether current (the file's content) already holds desired for that cgroup file. */
bool cgroup_value_matches(const char *file, const char *current, const char *desired);
