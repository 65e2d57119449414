/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <limits.h>

#include "tests.h"

struct test *tests_head;
int tests_skipped;

const char *test_path(const char *relative)
{
	static char buf[PATH_MAX];

	(void)snprintf(buf, sizeof(buf), "%s/%s", SOURCE_TESTS_DIR, relative);
	return buf;
}

static int selected(const char *name)
{
	const char *filter = getenv("TESTFUNCS");
	size_t n = strlen(name);

	if (!filter || !*filter)
		return 1;
	for (const char *p = filter; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return 1;
	return 0;
}

int main(void)
{
	int ran = 0;

	for (struct test *t = tests_head; t; t = t->next) {
		int skipped = tests_skipped;

		if (!selected(t->name))
			continue;
		printf("=== %s\n", t->name);
		fflush(stdout);
		t->fn();
		ran++;
		printf("%s %s\n", tests_skipped > skipped ? "skip" : "ok", t->name);
	}
	if (ran > 0 && tests_skipped == ran)
		return 77;
	return 0;
}
