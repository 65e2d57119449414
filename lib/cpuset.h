/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A set of small non-negative integers: CPUs, NUMA nodes, vCPU indices. Value type: a zeroed
 * struct cpuset is the empty set; cpuset_done() frees it. Grows on demand, up to the limit the
 * caller passes to the parser.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CPUSET_LIMIT 8192 /* largest id any set may hold, plus one (systemd's CPU_SET limit) */

struct cpuset {
	uint64_t *words;
	size_t n_words;
};

/* Why a parse failed: byte offset into the input and a sentence for people. */
struct cpuset_error {
	size_t offset;
	char message[128];
};

/*
 * Parses libvirt's list syntax: comma-separated items "N", "N-M" or "^N" (exclude), with
 * whitespace allowed around items. Exclusions apply after all inclusions, wherever they stand.
 * Every id must be below limit. An empty input, a reversed range, a trailing separator or a
 * list that selects nothing is an error. An id given twice ("0,0", overlapping ranges) is
 * allowed, as in libvirt, but on success err (when given) then describes the first one as a
 * warning: err->message is empty otherwise. Returns 0 and fills *ret (which must be empty), or
 * -EINVAL with *err filled, or -ENOMEM.
 */
int cpuset_parse(const char *s, unsigned limit, struct cpuset *ret, struct cpuset_error *err);

/* Canonical form "0-3,8" (ranges of two are written "4-5"); "" for the empty set. NULL on OOM. */
char *cpuset_format(const struct cpuset *s);

int cpuset_add(struct cpuset *s, unsigned id);
int cpuset_add_range(struct cpuset *s, unsigned first, unsigned last);
void cpuset_remove(struct cpuset *s, unsigned id);
bool cpuset_contains(const struct cpuset *s, unsigned id);
unsigned cpuset_count(const struct cpuset *s);
bool cpuset_is_empty(const struct cpuset *s);
bool cpuset_equal(const struct cpuset *a, const struct cpuset *b);
bool cpuset_is_subset(const struct cpuset *sub, const struct cpuset *super);
bool cpuset_overlaps(const struct cpuset *a, const struct cpuset *b);
/* Returns the smallest id >= from in s, or -1. */
int cpuset_next(const struct cpuset *s, unsigned from);
int cpuset_copy(struct cpuset *dst, const struct cpuset *src);
int cpuset_union(struct cpuset *dst, const struct cpuset *src);
void cpuset_subtract(struct cpuset *dst, const struct cpuset *src);
void cpuset_done(struct cpuset *s);

#define CPUSET_FOREACH(id, set) \
	for (int id = cpuset_next((set), 0); id >= 0; id = cpuset_next((set), (unsigned)id + 1))
