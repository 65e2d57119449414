/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Diagnostics for people: each names the file, line and column (1-based; 0 = not known), the
 * key it concerns, what is wrong and what is allowed. Parsers append to a diag_list and go on,
 * so a user sees every mistake of a file in one run.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "macro.h"

enum diag_severity {
	DIAG_ERROR,
	DIAG_WARNING,
	DIAG_NOTE,
};

struct diag {
	enum diag_severity severity;
	char *file;
	unsigned line, column;
	char *key;     /* "cputune.vcpupin[1].cpuset", or NULL */
	char *message; /* "range '8-3' is reversed (allowed: ...)" */
};

struct diag_list {
	struct diag *items;
	size_t n, allocated;
	size_t n_errors;
};

/* Appends a diagnostic. Returns 0 or -ENOMEM. */
_printf_(7, 8) int diag_add(struct diag_list *l, enum diag_severity severity, const char *file,
			    unsigned line, unsigned column, const char *key, const char *fmt, ...);

/* "FILE:LINE:COL: error: KEY: MESSAGE" (parts that are unknown are left out). Caller frees. */
char *diag_format(const struct diag *d);
/* Prints every diagnostic, one per line. */
void diag_list_print(const struct diag_list *l, FILE *f);
/* Moves all of src's diagnostics to the end of dst. */
int diag_list_move(struct diag_list *dst, struct diag_list *src);
void diag_list_done(struct diag_list *l);
