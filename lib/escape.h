/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Text that other people chose (VM names, thread names, command-line values, cgroup paths, file
 * names), made safe to print on a terminal or in a log line: control characters (C0, DEL, C1),
 * bytes that are not UTF-8 and the backslash itself are written \xNN (or \\), so nothing
 * printed can move the cursor, retitle the terminal or forge a line of its own. A backslash
 * that starts systemd's unit-name escape (\x2d in "kvmtune-web\x2d01.scope") stays as it is,
 * as systemd prints those names; so "\x1b" in a name reads the same whether the name holds
 * those four characters or an escape character, and never is one.
 */

#include <stdbool.h>

/* Whether s prints as itself (nothing to escape). */
bool escape_not_needed(const char *s);

/* s escaped as above. Caller frees; NULL on OOM. */
char *escape_untrusted(const char *s);

/* Whether s is valid UTF-8 (JSON text must be). */
bool utf8_is_valid(const char *s);
