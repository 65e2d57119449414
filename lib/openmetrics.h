/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Writing metrics as text for Prometheus: OpenMetrics 1.0 (`kvmtunectl metrics`, what a scrape
 * asking for application/openmetrics-text reads) or the Prometheus text format 0.0.4, which
 * node_exporter's textfile collector and promtool read. The two differ in the metadata only:
 * OpenMetrics names a counter's family without "_total" and an info family without "_info",
 * has # UNIT and ends with # EOF; the samples are the same.
 *
 * Samples may be added in any order; each family is written once, with all of its samples
 * together, in the order the families were declared (or first used).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

enum om_type {
	OM_COUNTER,
	OM_GAUGE,
	OM_HISTOGRAM,
	OM_INFO, /* one sample of value 1 whose labels are the information */
};

enum om_format {
	OM_OPENMETRICS,
	OM_PROMETHEUS,
};

struct om_family {
	const char *name; /* the family: "kvmtune_cpu_usage_seconds" (no _total, no _info) */
	enum om_type type;
	const char *unit; /* "seconds", "bytes", or NULL; the name ends with it */
	const char *help;
};

struct om_writer {
	enum om_format format;
	struct om_entry {
		const struct om_family *family;
		struct strbuf samples;
	} * families;
	size_t n, allocated;
	int error; /* the first failure (-ENOMEM); later calls do nothing */
};

/*
 * labels: name, value pairs ending with a NULL name; a pair whose value is NULL is left out
 * (a label the host cannot give is absent). Names are [a-zA-Z_][a-zA-Z0-9_]*; values are
 * escaped.
 */
void om_declare(struct om_writer *w, const struct om_family *f);
void om_add_u64(struct om_writer *w, const struct om_family *f, const char *const *labels,
		uint64_t value);
void om_add_double(struct om_writer *w, const struct om_family *f, const char *const *labels,
		   double value);
/* A histogram: n upper bounds (ascending, +Inf implied) with the count in each bucket (not
 * cumulative; counts[n] is the +Inf bucket's), the sum of all observations. */
void om_add_histogram(struct om_writer *w, const struct om_family *f, const char *const *labels,
		      const double *bounds, const uint64_t *counts, size_t n, double sum);

/* The text (caller frees), or -errno. Families without samples are left out. */
int om_finish(struct om_writer *w, char **ret);
/* The families' text without # EOF, for appending to another writer's output. */
int om_finish_fragment(struct om_writer *w, char **ret);
void om_writer_done(struct om_writer *w);

/* Is name a valid metric or label name? */
bool om_name_is_valid(const char *name, bool label);
