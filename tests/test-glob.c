/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Globs and paths of policies and settings: what can match is accepted, what cannot refused. */

#include <fnmatch.h>

#include "glob.h"
#include "macro.h"
#include "tests.h"

static const struct {
	const char *glob;
	bool path;
	const char *matching; /* a name fnmatch() matches with it, proving it can; NULL = refused */
	size_t offset;	      /* when refused */
} cases[] = {
	{ "web-*", false, "web-01" },
	{ "db-[0-9]", false, "db-7" },
	{ "[!a]x", false, "bx" },
	{ "[^a]x", false, "bx" },
	{ "[]a]", false, "]" },
	{ "[a-]", false, "-" },
	{ "\\[x\\]", false, "[x]" },
	{ "[[:alpha:]]?", false, "a1" },
	{ "[\\]]", false, "]" },
	{ "a/b", false, "a/b" }, /* a VM name may hold a '/' */
	{ "/usr/bin/qemu-system-*", true, "/usr/bin/qemu-system-x86_64" },
	{ "/opt/q*/bin/qemu-[a-z]*", true, "/opt/qemu-9/bin/qemu-kvm" },
	{ "", false, NULL, 0 },
	{ "web-[9-0]", false, NULL, 5 },
	{ "db-[0-9", false, NULL, 3 },
	{ "[", false, NULL, 0 },
	{ "[]", false, NULL, 0 },
	{ "vm\\", false, NULL, 2 },
	{ "[[:letter:]]", false, NULL, 1 },
	{ "[[.a.]]", false, NULL, 1 },
	{ "qemu", true, NULL, 0 },
	{ "/usr//bin/qemu", true, NULL, 5 },
	{ "/usr/bin/", true, NULL, 9 },
	{ "/usr/./bin/qemu", true, NULL, 5 },
	{ "/usr/bin/../qemu", true, NULL, 9 },
	{ "/usr/bin[/]qemu", true, NULL, 9 },
};

TEST(check_table)
{
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct glob_error e = {};
		int r = glob_check(cases[i].glob, cases[i].path, &e);

		printf("  '%s'%s -> %s\n", cases[i].glob, cases[i].path ? " (path)" : "",
		       r < 0 ? e.why : "ok");
		if (cases[i].matching) {
			ASSERT_OK(r);
			ASSERT_EQ(fnmatch(cases[i].glob, cases[i].matching,
					  cases[i].path ? FNM_PATHNAME : 0),
				  0);
		} else {
			ASSERT_ERROR(r, EINVAL);
			ASSERT_EQ(e.offset, cases[i].offset);
		}
	}
}

TEST(paths)
{
	struct glob_error e;

	ASSERT_OK(path_check("/dev/disk/by-id/wwn-0x5000c500a1b2c3d4", &e));
	ASSERT_ERROR(path_check("/", &e), EINVAL); /* a directory: never an exe or a device */
	ASSERT_ERROR(path_check("/dev/../dev/sda", &e), EINVAL);
	ASSERT_EQ(e.offset, 5);
	ASSERT_ERROR(path_check("dev/sda", &e), EINVAL);
}

TEST(wild_basenames)
{
	ASSERT_TRUE(glob_basename_is_wild("/*"));
	ASSERT_TRUE(glob_basename_is_wild("/usr/bin/*"));
	ASSERT_TRUE(glob_basename_is_wild("/usr/bin/?*[a-z]"));
	ASSERT_TRUE(glob_basename_is_wild("/usr/bin/[!]]*"));
	ASSERT_FALSE(glob_basename_is_wild("/usr/bin/qemu-*"));
	ASSERT_FALSE(glob_basename_is_wild("/*/bin/qemu-kvm"));
	ASSERT_FALSE(glob_basename_is_wild("/usr/bin/*kvm"));
}
