/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "strbuf.h"

static int strbuf_reserve(struct strbuf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->allocated)
		return 0;
	return GROW_ARRAY(b->buf, b->allocated, b->len + extra + 1);
}

int strbuf_append(struct strbuf *b, const char *s)
{
	size_t n = strlen(s);
	int r = strbuf_reserve(b, n);

	if (r < 0)
		return r;
	memcpy(b->buf + b->len, s, n + 1);
	b->len += n;
	return 0;
}

int strbuf_vprintf(struct strbuf *b, const char *fmt, va_list ap)
{
	va_list aq;
	int n, r;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		return -EINVAL;
	r = strbuf_reserve(b, (size_t)n);
	if (r < 0)
		return r;
	(void)vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int strbuf_printf(struct strbuf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = strbuf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

/*
 * UTF-8 sequences a YAML reader does not give back as they are: NEL, LS and PS are line breaks
 * to it (folded in a quoted scalar), and a BOM is dropped. Their escape, and their length.
 */
static const char *yaml_unsafe(const unsigned char *c, size_t *ret_len)
{
	static const struct {
		const char *utf8, *escape;
	} table[] = {
		{ "\xc2\x85", "\\N" },
		{ "\xe2\x80\xa8", "\\L" },
		{ "\xe2\x80\xa9", "\\P" },
		{ "\xef\xbb\xbf", "\\uFEFF" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
		*ret_len = strlen(table[i].utf8);
		if (strncmp((const char *)c, table[i].utf8, *ret_len) == 0)
			return table[i].escape;
	}
	return NULL;
}

int strbuf_append_quoted(struct strbuf *b, const char *s)
{
	int r = strbuf_append(b, "\"");

	for (const unsigned char *c = (const unsigned char *)s; r >= 0 && *c; c++) {
		const char *escape;
		size_t n;

		if (*c == '"' || *c == '\\')
			r = strbuf_printf(b, "\\%c", *c);
		else if (*c < 0x20 || *c == 0x7f)
			r = strbuf_printf(b, "\\x%02x", *c);
		else if ((escape = yaml_unsafe(c, &n))) {
			r = strbuf_append(b, escape);
			c += n - 1;
		} else
			r = strbuf_printf(b, "%c", *c);
	}
	return r < 0 ? r : strbuf_append(b, "\"");
}

char *strbuf_steal(struct strbuf *b)
{
	char *s = b->buf;

	*b = (struct strbuf){};
	return s;
}

void strbuf_done(struct strbuf *b)
{
	free(b->buf);
	*b = (struct strbuf){};
}
