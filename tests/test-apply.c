/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The applier against a temporary directory standing in for a cgroup v1 hierarchy (no root
 * needed): what it writes, that it skips what already holds, that a dry run writes nothing and
 * remembers what it would have, and that a path never leads out of the hierarchy.
 */

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "apply.h"
#include "fileio.h"
#include "macro.h"
#include "tests.h"

static char root[] = "/tmp/kvmtune-apply-XXXXXX";

struct tally {
	unsigned n[_APPLY_OUTCOME_MAX];
	int error;
};

static void count(void *userdata, const struct action *a, enum apply_outcome o, const char *old,
		  int error, const char *detail)
{
	struct tally *t = userdata;

	t->n[o]++;
	if (o == APPLY_FAILED)
		t->error = error;
}

static void put(const char *rel, const char *text)
{
	char path[512];
	FILE *f;

	(void)snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "we");
	ASSERT_TRUE(f);
	fputs(text, f);
	fclose(f);
}

static char *get(const char *rel)
{
	char path[512], *s = NULL;

	(void)snprintf(path, sizeof(path), "%s/%s", root, rel);
	ASSERT_OK(read_file_at(AT_FDCWD, path, 4096, &s, NULL));
	return s;
}

static struct action write_action(const char *group, const char *file, const char *value)
{
	struct action a = { .kind = ACTION_WRITE, .controller = CGROUP_CPU };

	a.group = strdup(group);
	a.file = strdup(file);
	a.value = strdup(value);
	return a;
}

/* A plan of n actions, run once; the tally of what came of them. */
static struct tally run(struct action *actions, size_t n, bool dry_run,
			struct cgroup_overlay *overlay)
{
	struct cgroup_fs fs = { .layout = CGROUP_LEGACY, .unified_fd = -EBADF };
	struct plan p = { .actions = actions, .n = n };
	struct tally t = {};
	struct apply_stats stats = {};
	struct apply_ctx ctx = { .fs = &fs,
				 .proc_fd = -EBADF,
				 .dry_run = dry_run,
				 .overlay = overlay,
				 .report = count,
				 .userdata = &t,
				 .report_unchanged = true };

	for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++)
		fs.v1_fd[c] = -EBADF;
	fs.v1_fd[CGROUP_CPU] = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	ASSERT_TRUE(fs.v1_fd[CGROUP_CPU] >= 0);
	ASSERT_OK(apply_plan(&ctx, &p, &stats));
	close(fs.v1_fd[CGROUP_CPU]);
	return t;
}

static void setup(void)
{
	char path[512];

	ASSERT_TRUE(mkdtemp(root));
	(void)snprintf(path, sizeof(path), "%s/vm", root);
	ASSERT_OK(mkdir(path, 0755));
	/* No newline, unlike the kernel's files: what a write leaves is then exactly its bytes
	 * (a regular file is overwritten in place, not replaced as a cgroup file is). */
	put("vm/cpu.shares", "1024");
	put("vm/cpuset.cpus", "0-3\n");
}

static void teardown(void)
{
	char cmd[600];

	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	ASSERT_EQ(system(cmd), 0);
	memcpy(root + strlen(root) - 6, "XXXXXX", 6);
}

TEST(a_value_is_written_once_and_then_left_alone)
{
	struct action a[] = { write_action("vm", "cpu.shares", "2048"),
			      write_action("vm", "cpuset.cpus", "0,1,2,3") };
	struct tally t;
	char *s;

	setup();
	t = run(a, 2, false, NULL);
	ASSERT_EQ(t.n[APPLY_DONE], 1);
	ASSERT_EQ(t.n[APPLY_UNCHANGED], 1); /* "0,1,2,3" is the set 0-3 already */
	s = get("vm/cpu.shares");
	ASSERT_STREQ(s, "2048"); /* exactly the value: one write, no newline added */
	free(s);
	/* The kernel would now say "2048\n": read back, it holds; nothing is written again. */
	put("vm/cpu.shares", "2048\n");
	t = run(a, 2, false, NULL);
	ASSERT_EQ(t.n[APPLY_DONE], 0);
	ASSERT_EQ(t.n[APPLY_UNCHANGED], 2);
	FOREACH_ARRAY (x, a, 2)
		action_done(x);
	teardown();
}

TEST(a_dry_run_writes_nothing_and_remembers)
{
	struct action a[] = { write_action("vm", "cpu.shares", "512"),
			      { .kind = ACTION_MKDIR, .controller = CGROUP_CPU },
			      write_action("vm/vcpu0", "cpu.shares", "1024") };
	struct cgroup_overlay overlay = {};
	struct tally t;
	char *s;

	setup();
	a[1].group = strdup("vm/vcpu0");
	t = run(a, 3, true, &overlay);
	/* The new group would hold the kernel's default already: only two changes. */
	ASSERT_EQ(t.n[APPLY_WOULD], 2);
	ASSERT_EQ(t.n[APPLY_UNCHANGED], 1);
	s = get("vm/cpu.shares");
	ASSERT_STREQ(s, "1024");
	free(s);
	/* A second plan in the same dry run compares with what the first would have written. */
	t = run(a, 1, true, &overlay);
	ASSERT_EQ(t.n[APPLY_UNCHANGED], 1);
	cgroup_overlay_done(&overlay);
	FOREACH_ARRAY (x, a, 3)
		action_done(x);
	teardown();
}

TEST(no_path_leads_out_of_the_hierarchy)
{
	struct action a[] = { write_action("vm/../..", "cpu.shares", "2"),
			      write_action("link", "cpu.shares", "2") };
	char path[512], target[512];
	struct tally t;

	setup();
	(void)snprintf(path, sizeof(path), "%s/link", root);
	(void)snprintf(target, sizeof(target), "%s/vm", root);
	ASSERT_OK(symlink(target, path));
	t = run(a, 1, false, NULL);
	ASSERT_EQ(t.n[APPLY_FAILED], 1);
	ASSERT_EQ(t.error, -EINVAL); /* ".." is refused before any lookup */
	t = run(a + 1, 1, false, NULL);
	ASSERT_EQ(t.n[APPLY_FAILED], 1); /* a symlinked group is not followed */
	printf("  a symlinked group: %s\n", strerror(-t.error));
	ASSERT_TRUE(t.error == -ELOOP || t.error == -ENOTDIR || t.error == -EXDEV);
	FOREACH_ARRAY (x, a, 2)
		action_done(x);
	teardown();
}
