/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A growable NUL-terminated string. A zeroed struct is empty; strbuf_done() frees it. */

#include <stdarg.h>
#include <stddef.h>

#include "macro.h"

struct strbuf {
	char *buf;
	size_t len;
	size_t allocated;
};

int strbuf_append(struct strbuf *b, const char *s);
_printf_(2, 3) int strbuf_printf(struct strbuf *b, const char *fmt, ...);
_printf_(2, 0) int strbuf_vprintf(struct strbuf *b, const char *fmt, va_list ap);
/* Appends s as a double-quoted YAML scalar, escaping what needs it. */
int strbuf_append_quoted(struct strbuf *b, const char *s);
/* Returns the string (caller frees) and leaves b empty. Never NULL after a successful append. */
char *strbuf_steal(struct strbuf *b);
void strbuf_done(struct strbuf *b);
