/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdbool.h>
#include <stdint.h>
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
 * The code point of the UTF-8 sequence at c and its length, or -1 for a byte that does not
 * start a well-formed sequence (then it stands for itself).
 */
static int32_t utf8_decode(const unsigned char *c, size_t *ret_len)
{
	int32_t cp;
	size_t n;

	if (c[0] < 0x80) {
		*ret_len = 1;
		return c[0];
	}
	if ((c[0] & 0xe0) == 0xc0)
		n = 2, cp = c[0] & 0x1f;
	else if ((c[0] & 0xf0) == 0xe0)
		n = 3, cp = c[0] & 0x0f;
	else if ((c[0] & 0xf8) == 0xf0)
		n = 4, cp = c[0] & 0x07;
	else
		return -1;
	for (size_t i = 1; i < n; i++) {
		if ((c[i] & 0xc0) != 0x80) /* also the terminating NUL */
			return -1;
		cp = cp << 6 | (c[i] & 0x3f);
	}
	if (cp < (n == 2   ? 0x80
		  : n == 3 ? 0x800
			   : 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) ||
	    cp > 0x10ffff) /* overlong, a surrogate, beyond Unicode */
		return -1;
	*ret_len = n;
	return cp;
}

/*
 * Whether a YAML reader gives the code point back as it is, written bare in a double-quoted
 * scalar: YAML 1.1's printable set less the characters it treats apart, the line breaks NEL,
 * LS and PS (folded) and the BOM (dropped). Quotes and backslashes are the caller's.
 */
static bool yaml_bare(int32_t cp)
{
	if (cp == 0x85 || cp == 0x2028 || cp == 0x2029 || cp == 0xfeff)
		return false;
	return (cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xd7ff) ||
	       (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

int strbuf_append_quoted(struct strbuf *b, const char *s)
{
	int r = strbuf_append(b, "\"");

	for (const unsigned char *c = (const unsigned char *)s; r >= 0 && *c;) {
		size_t n = 1;
		int32_t cp = utf8_decode(c, &n);

		if (cp < 0) /* not UTF-8 (a name from /proc): readable YAML, the byte shown */
			r = strbuf_printf(b, "\\x%02x", *c);
		else if (cp == '"' || cp == '\\')
			r = strbuf_printf(b, "\\%c", (char)cp);
		else if (yaml_bare(cp))
			r = strbuf_printf(b, "%.*s", (int)n, (const char *)c);
		else if (cp <= 0xff)
			r = strbuf_printf(b, "\\x%02x", (unsigned)cp);
		else if (cp <= 0xffff)
			r = strbuf_printf(b, "\\u%04X", (unsigned)cp);
		else
			r = strbuf_printf(b, "\\U%08X", (unsigned)cp);
		c += n;
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
