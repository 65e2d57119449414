/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "mountinfo.h"

#define FIELDS_MAX 64 /* a line has 10 and a few optional fields ("shared:15 master:3") */

/* The kernel escapes space, tab, newline and backslash in paths as \ooo. */
static char *unescape(const char *s, size_t n)
{
	char *out = malloc(n + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 3 < n && s[i + 1] >= '0' && s[i + 1] <= '3' &&
		    s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
			*o++ = (char)((s[i + 1] - '0') << 6 | (s[i + 2] - '0') << 3 |
				      (s[i + 3] - '0'));
			i += 3;
		} else
			*o++ = s[i];
	}
	*o = '\0';
	return out;
}

/* Which of kvmtune's controllers a super option list ("rw,cpu,cpuacct") names. */
static unsigned controllers_of(const char *opts, size_t n)
{
	unsigned mask = 0;

	for (size_t i = 0; i < n;) {
		const char *comma = memchr(opts + i, ',', n - i);
		size_t len = comma ? (size_t)(comma - opts - i) : n - i;

		for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++) {
			const char *name = cgroup_controller_v1_name(c);

			if (strlen(name) == len && strncmp(opts + i, name, len) == 0)
				mask |= 1u << c;
		}
		i += len + 1;
	}
	return mask;
}

/* One line, split at spaces into at most FIELDS_MAX fields; 1 for a v1 root mount of ours. */
static int parse_line(const char *line, size_t len, struct mountinfo_cgroup *ret)
{
	const char *f[FIELDS_MAX];
	size_t flen[FIELDS_MAX], n = 0, sep = 0;
	unsigned major, minor;
	char dev[32];

	for (size_t i = 0; i < len && n < FIELDS_MAX;) {
		while (i < len && line[i] == ' ')
			i++;
		if (i == len)
			break;
		f[n] = line + i;
		while (i < len && line[i] != ' ')
			i++;
		flen[n] = (size_t)(line + i - f[n]);
		if (flen[n] == 1 && f[n][0] == '-' && !sep && n >= 6)
			sep = n;
		n++;
	}
	/* id parent major:minor root mountpoint options [optional...] - type source super */
	if (!sep || n < sep + 4 || flen[sep + 1] != 6 || strncmp(f[sep + 1], "cgroup", 6) != 0)
		return 0;
	if (flen[3] != 1 || f[3][0] != '/' || flen[2] >= sizeof(dev))
		return 0;
	memcpy(dev, f[2], flen[2]);
	dev[flen[2]] = '\0';
	if (sscanf(dev, "%u:%u", &major, &minor) != 2)
		return 0;
	ret->controllers = controllers_of(f[sep + 3], flen[sep + 3]);
	if (!ret->controllers)
		return 0;
	ret->major = major;
	ret->minor = minor;
	ret->path = unescape(f[4], flen[4]);
	return ret->path ? 1 : -ENOMEM;
}

int mountinfo_cgroup_parse(const char *text, struct mountinfo_cgroup **ret, size_t *ret_n)
{
	struct mountinfo_cgroup *m = NULL;
	size_t n = 0, allocated = 0;

	for (const char *line = text; *line;) {
		size_t len = strcspn(line, "\n");
		struct mountinfo_cgroup one = {};
		int r = parse_line(line, len, &one);

		if (r > 0 && n == allocated) {
			size_t more = allocated ? 2 * allocated : 8;
			struct mountinfo_cgroup *grown = reallocarray(m, more, sizeof(*m));

			if (!grown) {
				free(one.path);
				r = -ENOMEM;
			} else {
				m = grown;
				allocated = more;
			}
		}
		if (r < 0) {
			mountinfo_cgroup_free(m, n);
			return r;
		}
		if (r > 0)
			m[n++] = one;
		line += len;
		line += *line == '\n';
	}
	*ret = m;
	*ret_n = n;
	return 0;
}

void mountinfo_cgroup_free(struct mountinfo_cgroup *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(m[i].path);
	free(m);
}
