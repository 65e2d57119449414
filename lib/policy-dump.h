/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A policy as text again: what `kvmtunectl check -v` and `show` print. */

#include "policy.h"

/*
 * Writes p as YAML in the canonical form (`kvmtunectl check -v`): keys in schema order, lists
 * and sizes normalized. With origins, each value gets a "# file:line" comment (`show`). The text
 * parses again to an equal policy. Returns 0 or -ENOMEM; *ret is the caller's.
 */
int policy_dump(const struct policy *p, bool origins, char **ret);
