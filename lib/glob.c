/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>

#include "glob.h"
#include "macro.h"

static int fail(struct glob_error *err, size_t offset, const char *why)
{
	*err = (struct glob_error){ .offset = offset, .why = why };
	return -EINVAL;
}

int path_check(const char *p, struct glob_error *err)
{
	const char *c = p;

	if (*c != '/')
		return fail(err, 0, "not absolute (it must start with '/')");
	while (*c) {
		size_t n;

		c++; /* the '/' */
		n = strcspn(c, "/");
		if (n == 0)
			return fail(err, (size_t)(c - p),
				    *c ? "an empty component ('//')" : "a trailing '/'");
		if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return fail(
				err, (size_t)(c - p),
				"a '.' or '..' component (the kernel shows paths without them)");
		c += n;
	}
	return 0;
}

static bool class_known(const char *name, size_t n)
{
	static const char *const classes[] = {
		"alnum", "alpha", "blank", "cntrl", "digit", "graph",
		"lower", "print", "punct", "space", "upper", "xdigit"
	};

	for (size_t i = 0; i < ARRAY_SIZE(classes); i++)
		if (strlen(classes[i]) == n && strncmp(classes[i], name, n) == 0)
			return true;
	return false;
}

/* One element of a set at *p: a character (maybe escaped) or a class. Sets *ret_char, or -1. */
static int set_element(const char *g, const char **p, int *ret_char, struct glob_error *err)
{
	const char *c = *p;

	if (c[0] == '[' && (c[1] == '.' || c[1] == '='))
		return fail(
			err, (size_t)(c - g),
			"collating symbols and equivalence classes ('[.' '[=') are not supported");
	if (c[0] == '[' && c[1] == ':') {
		const char *end = strstr(c + 2, ":]");

		if (!end || !class_known(c + 2, (size_t)(end - c - 2)))
			return fail(
				err, (size_t)(c - g),
				"an unknown class (fnmatch knows [:alpha:], [:digit:], [:alnum:], "
				"[:lower:], [:upper:], [:space:] and six more)");
		*p = end + 2;
		*ret_char = -1;
		return 0;
	}
	if (c[0] == '\\' && c[1])
		c++;
	*ret_char = (unsigned char)*c;
	*p = c + 1;
	return 0;
}

/* The set opening at g[offset] == '['; *ret_end is after its ']'. */
static int check_set(const char *g, size_t offset, bool path, size_t *ret_end,
		     struct glob_error *err)
{
	const char *p = g + offset + 1;
	bool first = true;

	if (*p == '!' || *p == '^')
		p++;
	for (;; first = false) {
		const char *start = p;
		int lo, hi;
		int r;

		if (*p == '\0')
			return fail(err, offset,
				    "a '[' without its ']' (write '\\[' for a bracket itself)");
		if (*p == ']' && !first)
			break;
		if (path && *p == '/')
			return fail(err, (size_t)(p - g),
				    "a '/' inside [...] never matches a path");
		r = set_element(g, &p, &lo, err);
		if (r < 0)
			return r;
		if (lo < 0 || p[0] != '-' || p[1] == ']' || p[1] == '\0')
			continue;
		p++;
		r = set_element(g, &p, &hi, err);
		if (r < 0)
			return r;
		if (hi >= 0 && hi < lo)
			return fail(err, (size_t)(start - g),
				    "a reversed range (it matches nothing)");
	}
	*ret_end = (size_t)(p - g) + 1;
	return 0;
}

int glob_check(const char *g, bool path, struct glob_error *err)
{
	size_t i = 0;
	int r;

	if (*g == '\0')
		return fail(err, 0, "empty (it matches nothing)");
	if (path) {
		r = path_check(g, err);
		if (r < 0)
			return r;
	}
	while (g[i]) {
		if (g[i] == '\\') {
			if (g[i + 1] == '\0')
				return fail(err, i, "a trailing '\\' (it escapes nothing)");
			i += 2;
		} else if (g[i] == '[') {
			r = check_set(g, i, path, &i, err);
			if (r < 0)
				return r;
		} else
			i++;
	}
	return 0;
}

bool glob_basename_is_wild(const char *g)
{
	const char *base = strrchr(g, '/');

	base = base ? base + 1 : g;
	for (const char *c = base; *c; c++) {
		if (*c == '*' || *c == '?')
			continue;
		if (*c == '[') {
			const char *set = c + 1 + (c[1] == '!' || c[1] == '^');
			const char *end = *set ? strchr(set + 1, ']') : NULL;

			if (!end)
				return false;
			c = end;
			continue;
		}
		return false;
	}
	return true;
}
