/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Values read from configuration: each knows whether it was set and where (file:line:column),
 * so merged results can name their origin.
 */

#include <stdbool.h>
#include <stdint.h>

#include "cpuset.h"

/* Where a value was written. file points into the owning policy_file's path. */
struct origin {
	const char *file;
	unsigned line, column;
};

struct pint {
	bool set;
	int64_t value;
	struct origin origin;
};

struct psize {
	bool set;
	uint64_t bytes; /* SIZE_UNLIMITED for "unlimited" */
	struct origin origin;
};

struct pcpus {
	bool set;
	struct cpuset cpus;
	struct origin origin;
};

struct penum {
	bool set;
	int value;
	struct origin origin;
};

struct pstr {
	char *value; /* NULL = not set */
	struct origin origin;
};
