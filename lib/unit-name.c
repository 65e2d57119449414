/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
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

int slice_path(const char *slice, char **ret)
{
	size_t n = strlen(slice), len, parts = 1;
	char *p, *t;

	if (!has_suffix(slice, ".slice") || strchr(slice, '/'))
		return -EINVAL;
	if (streq(slice, "-.slice"))
		return (*ret = strdup("")) ? 0 : -ENOMEM;
	len = n - 6;
	if (slice[0] == '-' || slice[len - 1] == '-')
		return -EINVAL;
	for (size_t i = 0; i < len; i++)
		if (!(isalnum((unsigned char)slice[i]) || strchr(":_.\\-", slice[i])) ||
		    (slice[i] == '-' && slice[i + 1] == '-'))
			return -EINVAL;
	/* Each '-' starts a parent: "a-b-c" lives in a.slice/a-b.slice/a-b-c.slice. Each of
	 * those is at most n long, with its '/'. */
	for (size_t i = 0; i < len; i++)
		parts += slice[i] == '-';
	p = t = malloc(parts * (n + 1) + 1);
	if (!p)
		return -ENOMEM;
	for (size_t i = 0; i <= len; i++)
		if (i == len || slice[i] == '-')
			t += sprintf(t, "%s%.*s.slice", t == p ? "" : "/", (int)i, slice);
	*ret = p;
	return 0;
}

bool machine_name_is_valid(const char *name)
{
	/* machined's rule is systemd's hostname_is_valid(): labels of letters, digits and '-',
	 * joined by '.', none empty, none starting or ending with '-'; at most 64. */
	bool label_start = true, hyphen = false;
	size_t n = 0;

	for (const char *c = name; *c; c++, n++) {
		if (*c == '.') {
			if (label_start || hyphen)
				return false;
			label_start = true;
		} else if (*c == '-') {
			if (label_start)
				return false;
			hyphen = true;
		} else if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			   (*c >= '0' && *c <= '9')) {
			label_start = hyphen = false;
		} else
			return false;
	}
	return n > 0 && n <= 64 && !label_start && !hyphen;
}
