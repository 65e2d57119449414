/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * kvmtune's metrics (README, "Metrics"): per VM and per group the effect of the limits
 * (vm-effect.h), and kvmtuned's own counters. `kvmtunectl metrics` prints them, kvmtuned
 * writes them to node_exporter's textfile directory. Labels: vm, uuid, group (vm, emulator,
 * vcpuN, iothread-ID), device (MAJ:MIN).
 */

#include <stdbool.h>
#include <stdint.h>

#include "discover.h"
#include "openmetrics.h"
#include "vm-effect.h"

/* The VM families, declared first so that their order never depends on which VM has what. */
void metrics_declare_vms(struct om_writer *w);
/* One VM's samples; e from vm_effect_read. */
void metrics_add_vm(struct om_writer *w, const struct vm *vm, const struct vm_effect *e);

/* What drift kvmtuned put back, by what it was. */
enum revert_kind {
	REVERT_VALUE,	  /* a cgroup file or unit property someone changed */
	REVERT_PLACEMENT, /* a thread or process moved out of its group */
	REVERT_AFFINITY,
	REVERT_SCHEDULER,
	_REVERT_KIND_MAX,
};

const char *revert_kind_to_string(enum revert_kind k);

/* new thread -> placed: upper bounds, seconds */
#define PLACEMENT_BUCKETS 11

struct daemon_counters {
	uint64_t vms, threads; /* enforced now */
	uint64_t errors;       /* enforcement errors since start */
	uint64_t reverts[_REVERT_KIND_MAX];
	uint64_t events; /* process events handled */
	uint64_t passes; /* full passes (start, rescans, reloads) */
	bool have_last_pass;
	double last_pass_seconds;
	uint64_t placed[PLACEMENT_BUCKETS + 1]; /* per bucket, the last one +Inf */
	double placed_sum;
	double start_time; /* seconds since the epoch */
};

/* Counts one new thread placed after seconds. */
void daemon_counters_placed(struct daemon_counters *c, double seconds);
void metrics_add_daemon(struct om_writer *w, const struct daemon_counters *c);

/*
 * Writes text to path atomically: a temporary file in the same directory, fsync, rename, so
 * that a reader (node_exporter) sees the old file or the new one, never half of one. The file
 * is made 0644. Returns 0 or -errno.
 */
int metrics_write_file(const char *path, const char *text);
