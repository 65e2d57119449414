/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What carrying out an action came to, as one sentence for people: the same words in kvmtuned's
 * log and kvmtunectl's messages. Text other people chose is left as it is here: printing
 * escapes it (escape.h).
 */

#include <stdbool.h>

#include "action.h"

/*
 * The sentence for outcome o of a (old, error, detail as apply_report_fn has them; drift: the
 * change undid someone else's): "could not enforce vcpu0 quota (G/cpu.max): Invalid argument:
 * ...", "set G/cpu.shares: 1024 -> 2048", "skipped vcpu1 affinity: tid 4711 now names another
 * task ...". NULL when there is nothing to say (unchanged, gone) or on OOM. Caller frees.
 */
char *apply_describe(const struct action *a, enum apply_outcome o, const char *old, int error,
		     const char *detail, bool drift);
