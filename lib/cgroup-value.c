/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "cgroup-read.h"
#include "cgroup-value.h"
#include "cgroup-write.h"
#include "cpuset.h"
#include "macro.h"

#define STR(x)	STR_(x)
#define STR_(x) #x

/* ---- matching ---- */

static bool lists_equal(const char *a, const char *b)
{
	struct cpuset x = {}, y = {};
	bool eq;

	if ((!*a || cpuset_parse(a, CPUSET_LIMIT, &x, NULL) >= 0) &&
	    (!*b || cpuset_parse(b, CPUSET_LIMIT, &y, NULL) >= 0))
		eq = cpuset_equal(&x, &y);
	else
		eq = streq(a, b);
	cpuset_done(&x);
	cpuset_done(&y);
	return eq;
}

/* The line of a multi-entry file that starts with "MAJ:MIN " (or "default "), or NULL. */
static const char *entry_line(const char *current, const char *key, size_t *ret_len)
{
	size_t k = strlen(key);

	for (const char *l = current; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, key, k) == 0 && l[k] == ' ') {
			*ret_len = strcspn(l, "\n");
			return l;
		}
	return NULL;
}

/* Multi-entry files (io.max, io.weight, blkio.throttle.*, *.weight_device): does the entry for
 * desired's key say the same? An absent entry equals "no limit" (0, or all "max"). */
static bool entry_matches(const char *current, const char *desired)
{
	char key[32];
	size_t len = 0, klen = strcspn(desired, " ");
	const char *line, *value = desired + klen + (desired[klen] == ' ');

	if (klen >= sizeof(key))
		return false;
	memcpy(key, desired, klen);
	key[klen] = '\0';
	line = entry_line(current, key, &len);
	if (!line) {
		/* v1 at default weight shows a bare number; a removed throttle shows nothing */
		if (streq(key, "default"))
			return current[strspn(current, "0123456789")] == '\0' &&
			       streq(current, value);
		return streq(value, "0") || streq(value, "default") ||
		       (strstr(value, "rbps=max wbps=max riops=max wiops=max") == value);
	}
	return len == strlen(desired) && strncmp(line, desired, len) == 0;
}

bool cgroup_value_matches(const char *file, const char *current, const char *desired)
{
	uint64_t a, b;

	if (streq(file, "cpuset.cpus") || streq(file, "cpuset.mems"))
		return lists_equal(current, desired);
	if (streq(file, "cgroup.subtree_control")) {
		/* "+cpu +cpuset" holds when each is listed */
		char copy[128], *save = NULL;

		(void)snprintf(copy, sizeof(copy), "%s", desired);
		for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
			const char *name = w + (*w == '+');
			size_t n = strlen(name);
			bool found = false;

			for (const char *c = current; c && *c;
			     c = strchr(c, ' '), c = c ? c + 1 : NULL)
				found = found ||
					(strncmp(c, name, n) == 0 && (c[n] == ' ' || !c[n]));
			if (!found)
				return false;
		}
		return true;
	}
	if (streq(file, "io.max") || streq(file, "io.weight") || streq(file, "io.bfq.weight") ||
	    strstr(file, "_device"))
		return entry_matches(current, desired);
	if (streq(file, "cpu.max")) {
		char q1[32], q2[32];
		unsigned long long p1, p2;

		return sscanf(current, "%31s %llu", q1, &p1) == 2 &&
		       sscanf(desired, "%31s %llu", q2, &p2) == 2 && p1 == p2 &&
		       cg_parse_limit(q1, &a) >= 0 && cg_parse_limit(q2, &b) >= 0 && a == b;
	}
	if (cg_parse_limit(current, &a) >= 0 && cg_parse_limit(desired, &b) >= 0)
		return a == b;
	return streq(current, desired);
}

const char *cgroup_value_show(const char *file, const char *value)
{
	static const char *const limits[] = {
		"memory.limit_in_bytes",
		"memory.soft_limit_in_bytes",
		"memory.memsw.limit_in_bytes",
		"memory.max",
		"memory.high",
		"memory.swap.max",
		"cpu.cfs_quota_us",
		"pids.max",
	};
	uint64_t v;

	if (!value)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(limits); i++)
		if (streq(file, limits[i]) && cg_parse_limit(value, &v) >= 0 && v == CG_UNLIMITED)
			return "unlimited";
	return value;
}

/* ---- a new group's values ---- */

const char *cgroup_value_default(const char *file, int version)
{
	static const struct {
		const char *file;
		const char *v1, *v2;
	} defaults[] = {
		{ "cpu.shares", STR(CG_DEFAULT_SHARES), NULL },
		{ "cpu.weight", NULL, STR(CG_DEFAULT_CPU_WEIGHT) },
		{ "cpu.cfs_period_us", STR(CG_DEFAULT_PERIOD_USEC), NULL },
		{ "cpu.cfs_quota_us", "-1", NULL },
		{ "cpu.max", NULL, "max " STR(CG_DEFAULT_PERIOD_USEC) },
		{ "cpuset.cpus", "", "" },
		{ "cpuset.mems", "", "" },
		{ "cpuset.memory_migrate", "0", NULL },
		{ "memory.limit_in_bytes", "-1", NULL },
		{ "memory.soft_limit_in_bytes", "-1", NULL },
		{ "memory.memsw.limit_in_bytes", "-1", NULL },
		{ "memory.max", NULL, "max" },
		{ "memory.low", NULL, "0" },
		{ "memory.min", NULL, "0" },
		{ "memory.swap.max", NULL, "max" },
		{ "blkio.bfq.weight", STR(CG_DEFAULT_IO_WEIGHT), NULL },
		{ "io.bfq.weight", NULL, "default " STR(CG_DEFAULT_IO_WEIGHT) },
		{ "io.weight", NULL, "default " STR(CG_DEFAULT_IO_WEIGHT) },
		{ "io.max", NULL, "" },
		{ "cgroup.type", NULL, "domain" },
		{ "cgroup.subtree_control", NULL, "" },
	};

	if (strstr(file, "_device"))
		return "";
	for (size_t i = 0; i < ARRAY_SIZE(defaults); i++)
		if (streq(defaults[i].file, file))
			return version == 1 ? defaults[i].v1 : defaults[i].v2;
	return NULL;
}

/* ---- the dry run's memory ---- */

struct overlay_entry {
	enum cgroup_controller controller;
	char *group;
	char *file; /* NULL: the group was made */
	char *value;
};

static struct overlay_entry *overlay_find(struct cgroup_overlay *o, enum cgroup_controller c,
					  const char *group, const char *file)
{
	if (!o)
		return NULL;
	for (size_t i = 0; i < o->n; i++)
		if (o->entries[i].controller == c && streq(o->entries[i].group, group) &&
		    streq(o->entries[i].file, file))
			return &o->entries[i];
	return NULL;
}

void cgroup_overlay_set(struct cgroup_overlay *o, enum cgroup_controller c, const char *group,
			const char *file, const char *value)
{
	struct overlay_entry *e = overlay_find(o, c, group, file);

	if (!o)
		return;
	if (!e) {
		if (GROW_ARRAY(o->entries, o->allocated, o->n + 1) < 0)
			return;
		e = &o->entries[o->n++];
		*e = (struct overlay_entry){ .controller = c,
					     .group = strdup(group),
					     .file = file ? strdup(file) : NULL };
	}
	free(e->value);
	e->value = value ? strdup(value) : NULL;
}

bool cgroup_overlay_has_group(struct cgroup_overlay *o, enum cgroup_controller c, const char *group)
{
	return overlay_find(o, c, group, NULL) != NULL;
}

void cgroup_overlay_done(struct cgroup_overlay *o)
{
	for (size_t i = 0; i < o->n; i++) {
		free(o->entries[i].group);
		free(o->entries[i].file);
		free(o->entries[i].value);
	}
	free(o->entries);
	*o = (struct cgroup_overlay){};
}

int cgroup_value_current(int fd, int version, enum cgroup_controller c, const char *group,
			 const char *file, bool dry_run, struct cgroup_overlay *overlay,
			 bool new_group_defaults, char **ret)
{
	int r = cgroup_read(fd, group, file, ret);
	const struct overlay_entry *e = dry_run ? overlay_find(overlay, c, group, file) : NULL;

	if (e) {
		/* A value this dry run would already have written. */
		free(*ret);
		*ret = e->value ? strdup(e->value) : NULL;
		return *ret ? 0 : -ENOMEM;
	}
	if (new_group_defaults && r == -ENOENT && dry_run && cgroup_exists(fd, group) == 0) {
		/* The group comes with this plan: compare with what a new group holds. */
		const char *fresh = cgroup_value_default(file, version);

		free(*ret);
		*ret = fresh ? strdup(fresh) : NULL;
		return *ret ? 0 : -ENOENT;
	}
	return r;
}
