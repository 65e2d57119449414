/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit-name.h"

char *unit_name_escape(const char *s)
{
	char *r = malloc(strlen(s) * 4 + 1), *t = r;

	if (!r)
		return NULL;
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c == '/')
			*t++ = '-';
		else if ((c == (const unsigned char *)s && *c == '.') ||
			 !(isalnum(*c) || *c == ':' || *c == '_' || *c == '.'))
			t += sprintf(t, "\\x%02x", *c);
		else
			*t++ = (char)*c;
	}
	*t = '\0';
	return r;
}

char *vm_scope_name(const char *vm_name)
{
	char *escaped = unit_name_escape(vm_name), *r = NULL;

	if (escaped && asprintf(&r, "kvmtune-%s.scope", escaped) < 0)
		r = NULL;
	free(escaped);
	return r;
}
