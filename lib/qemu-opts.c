/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "qemu-opts.h"

/* A value from p up to the first ',' that is not ",,"; *end is at that ',' or the NUL. */
static char *value_at(const char *p, const char **end)
{
	size_t n = 0;
	char *v = malloc(strlen(p) + 1);

	if (!v)
		return NULL;
	for (; *p; p++) {
		if (*p == ',' && p[1] != ',')
			break;
		if (*p == ',')
			p++;
		v[n++] = *p;
	}
	v[n] = '\0';
	*end = p;
	return v;
}

/* One item at *p as get_opt_name_value() reads it; *p is left after it and its ','. */
static int item_at(const char **p, const char *implied_key, char **ret_key, char **ret_value)
{
	const char *s = *p, *end;
	size_t len = strcspn(s, "=,");
	char *key, *value;

	if (s[len] == '=') {
		key = strndup(s, len);
		value = value_at(s + len + 1, &end);
	} else if (implied_key) {
		key = strdup(implied_key);
		value = value_at(s, &end);
	} else {
		bool no = strncmp(s, "no", 2) == 0 && len >= 2;

		key = strndup(s + (no ? 2 : 0), len - (no ? 2 : 0));
		value = strdup(no ? "off" : "on");
		end = s + len;
	}
	if (!key || !value) {
		free(key);
		free(value);
		return -ENOMEM;
	}
	*p = *end == ',' ? end + 1 : end;
	*ret_key = key;
	*ret_value = value;
	return 0;
}

void qemu_opts_done(struct qemu_opts *o)
{
	FOREACH_ARRAY (i, o->items, o->n) {
		free(i->key);
		free(i->value);
	}
	free(o->items);
	free(o->id);
	*o = (struct qemu_opts){};
}

/* The first id=, read with no implied key, as opts_parse_id() does. */
static int find_id(const char *s, char **ret)
{
	for (const char *p = s; *p;) {
		char *key, *value;
		int r = item_at(&p, NULL, &key, &value);

		if (r < 0)
			return r;
		if (streq(key, "id")) {
			free(key);
			*ret = value;
			return 0;
		}
		free(key);
		free(value);
	}
	return 0;
}

int qemu_opts_parse(const char *s, const char *implied_key, struct qemu_opts *ret)
{
	struct qemu_opts o = {};
	int r = find_id(s, &o.id);

	for (const char *p = s; r >= 0 && *p; implied_key = NULL) {
		char *key, *value;

		r = item_at(&p, implied_key, &key, &value);
		if (r < 0)
			break;
		if (streq(key, "id")) {
			free(key);
			free(value);
			continue;
		}
		r = EXTEND_ARRAY(o.items, o.n);
		if (r < 0) {
			free(key);
			free(value);
			break;
		}
		o.items[o.n++] = (struct qemu_opt){ .key = key, .value = value };
	}
	if (r < 0) {
		qemu_opts_done(&o);
		return r;
	}
	*ret = o;
	return 0;
}

const char *qemu_opts_get(const struct qemu_opts *o, const char *key)
{
	for (size_t i = o->n; i > 0; i--)
		if (streq(o->items[i - 1].key, key))
			return o->items[i - 1].value;
	return NULL;
}

int qemu_parse_bool(const char *v)
{
	if (streq(v, "on") || streq(v, "yes") || streq(v, "true") || streq(v, "y"))
		return 1;
	if (streq(v, "off") || streq(v, "no") || streq(v, "false") || streq(v, "n"))
		return 0;
	return -EINVAL;
}

int qemu_parse_number(const char *v, int64_t *ret)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(v, &end, 0);
	if (end == v || *end != '\0' || errno != 0)
		return -EINVAL;
	*ret = n;
	return 0;
}
