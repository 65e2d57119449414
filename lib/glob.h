/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Checks for the globs and paths of policies and settings, so that one that can never match, or
 * means something else than it seems to, is an error when it is read rather than a policy that
 * silently fits nothing. Matching itself is fnmatch()'s: flags 0 for VM names, FNM_PATHNAME for
 * executables (/proc/PID/exe).
 */

#include <stdbool.h>
#include <stddef.h>

/* Why a glob or path was refused: a byte offset into it and a phrase for people. */
struct glob_error {
	size_t offset;
	const char *why; /* static text */
};

/*
 * Checks the syntax of glob g as fnmatch() reads it: '*', '?', '\' escaping the next
 * character, and sets "[...]" ("[!...]" or "[^...]" negated; ']' first is itself; ranges
 * "a-z"; classes "[:alpha:]"). Refused: an empty glob, a '[' without its ']' (fnmatch would
 * match the bracket itself), a reversed range (matches nothing), an unknown class, "[." and
 * "[=", a trailing '\'. With path (FNM_PATHNAME), also a '/' inside a set, which never matches
 * there, and everything path_check() refuses. Returns 0, or -EINVAL with *err.
 */
int glob_check(const char *g, bool path, struct glob_error *err);

/*
 * Checks that p is an absolute path in the canonical form the kernel shows (/proc/PID/exe, a
 * device node): it starts with '/' and has no empty, "." or ".." component and no trailing
 * '/'. Returns 0, or -EINVAL with *err.
 */
int path_check(const char *p, struct glob_error *err);

/* Whether the last component of path glob g matches any name: only '*', '?' and sets in it. */
bool glob_basename_is_wild(const char *g);
