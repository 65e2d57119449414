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

/* What one file may show: a person reads the first mistakes; the rest only costs memory. */
#define DIAG_SHOWN_PER_FILE 50

struct diag_list {
	struct diag *items;
	size_t n, allocated;
	size_t n_errors; /* every error, shown or not */
	/* Between diag_file_begin() and diag_file_end(): past DIAG_SHOWN_PER_FILE, only counted. */
	bool capped;
	size_t file_first, hidden_errors, hidden_warnings;
};

/* Appends a diagnostic. Returns 0 or -ENOMEM. */
_printf_(7, 8) int diag_add(struct diag_list *l, enum diag_severity severity, const char *file,
			    unsigned line, unsigned column, const char *key, const char *fmt, ...);

/*
 * Caps what is added until diag_file_end(): the first DIAG_SHOWN_PER_FILE diagnostics are kept,
 * later ones only counted (errors still count in n_errors). diag_file_end() appends, when some
 * were not kept, the note "FILE: note: and N more errors, not shown (...)". Returns 0 or -ENOMEM.
 */
void diag_file_begin(struct diag_list *l);
int diag_file_end(struct diag_list *l, const char *file);
/* Whether a diagnostic of severity s would not be kept now (it is counted): saves formatting it. */
bool diag_hidden(struct diag_list *l, enum diag_severity s);

/* "FILE:LINE:COL: error: KEY: MESSAGE" (parts that are unknown are left out). Caller frees. */
char *diag_format(const struct diag *d);
/* Prints every diagnostic, one per line. */
void diag_list_print(const struct diag_list *l, FILE *f);
/* Moves all of src's diagnostics to the end of dst. */
int diag_list_move(struct diag_list *dst, struct diag_list *src);
void diag_list_done(struct diag_list *l);
