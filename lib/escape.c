/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"

/* Length of the UTF-8 sequence at s (1..4), or 0 when it is not one (overlong, surrogate, cut). */
static size_t utf8_length(const unsigned char *s)
{
	uint32_t c;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, c = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	return n;
}

/*
 * systemd's escape in unit names ("kvmtune-web\x2d01.scope") is printed as itself, as systemd
 * prints it: such names are in every cgroup path of the systemd backend.
 */
static bool is_unit_escape(const unsigned char *s)
{
	return s[0] == '\\' && s[1] == 'x' && isxdigit(s[2]) && isxdigit(s[3]);
}

/*
 * A character printed as itself: no control (C0, DEL, or C1 = U+0080..U+009F), no '\\' but the
 * one of a unit-name escape (then all four characters).
 */
static size_t plain_length(const unsigned char *s)
{
	size_t n = utf8_length(s);

	if (is_unit_escape(s))
		return 4;
	if (n == 0 || s[0] < 0x20 || s[0] == 0x7f || s[0] == '\\' ||
	    (n == 2 && s[0] == 0xc2 && s[1] < 0xa0))
		return 0;
	return n;
}

bool escape_not_needed(const char *s)
{
	for (const unsigned char *c = (const unsigned char *)s; *c;) {
		size_t n = plain_length(c);

		if (n == 0)
			return false;
		c += n;
	}
	return true;
}

bool utf8_is_valid(const char *s)
{
	for (const unsigned char *c = (const unsigned char *)s; *c;) {
		size_t n = utf8_length(c);

		if (n == 0)
			return false;
		c += n;
	}
	return true;
}

char *escape_untrusted(const char *s)
{
	char *r = malloc(strlen(s) * 4 + 1), *t = r;

	if (!r)
		return NULL;
	for (const unsigned char *c = (const unsigned char *)s; *c;) {
		size_t n = plain_length(c);

		if (n > 0) {
			memcpy(t, c, n);
			t += n;
			c += n;
		} else if (*c == '\\') {
			t = stpcpy(t, "\\\\");
			c++;
		} else if (utf8_length(c) == 2) { /* a C1 control: both bytes */
			t += sprintf(t, "\\x%02x\\x%02x", c[0], c[1]);
			c += 2;
		} else {
			t += sprintf(t, "\\x%02x", *c);
			c++;
		}
	}
	*t = '\0';
	return r;
}
