/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "macro.h"
#include "policy-set.h"
#include "tests.h"

static char dir[] = "/tmp/kvmtune-policy-set-XXXXXX";

static void put_in(const char *d, const char *name, const char *text)
{
	char path[300];
	FILE *f;

	(void)snprintf(path, sizeof(path), "%s/policy.d/%s", d, name);
	f = fopen(path, "we");
	ASSERT_TRUE(f);
	fputs(text, f);
	fclose(f);
}

static void put(const char *name, const char *text)
{
	put_in(dir, name, text);
}

static int64_t shares_of(const struct policy_set *set)
{
	struct vm_identity id = { .name = "web" };
	struct policy p = {};
	struct policy_fit *fits = NULL;
	size_t n = 0;
	int64_t v;

	ASSERT_OK(policy_set_effective(set, &id, &p, &fits, &n));
	v = p.cputune.shares.set ? p.cputune.shares.value : -1;
	policy_done(&p);
	free(fits);
	return v;
}

static size_t warnings(const struct diag_list *d, const char *text)
{
	size_t n = 0;

	FOREACH_ARRAY (x, d->items, d->n)
		n += x->severity == DIAG_WARNING && strstr(x->message, text) != NULL;
	return n;
}

TEST(a_reload_keeps_each_broken_file_last_good_version)
{
	struct policy_env env = {};
	struct policy_set set = {};
	struct diag_list diags = {};
	char sub[300];
	unsigned bad = 0;

	ASSERT_TRUE(mkdtemp(dir));
	(void)snprintf(sub, sizeof(sub), "%s/policy.d", dir);
	ASSERT_OK(mkdir(sub, 0755));
	put("10-web.yaml", "cputune: { shares: 512 }\n");
	ASSERT_EQ(policy_set_reload_config(&set, dir, NULL, &env, &diags, &bad), 0);
	ASSERT_EQ(bad, 0);
	ASSERT_EQ(shares_of(&set), 512);

	/* Broken: the version in force stays, and a warning says so. */
	put("10-web.yaml", "cputune: { shares: 1 }\n");
	put("20-new.yaml", "cputune: { nonsense: 1 }\n");
	ASSERT_EQ(policy_set_reload_config(&set, dir, NULL, &env, &diags, &bad), 0);
	ASSERT_EQ(bad, 2);
	ASSERT_EQ(shares_of(&set), 512);
	ASSERT_EQ(set.n_files, 1);
	ASSERT_EQ(warnings(&diags, "its last good version stays in force"), 1);
	ASSERT_EQ(warnings(&diags, "it is not applied"), 1);

	/* Mended: the new version; removed: gone. */
	put("10-web.yaml", "cputune: { shares: 4096 }\n");
	put("20-new.yaml", "memtune: { hard_limit: 1G }\n");
	bad = 0;
	ASSERT_EQ(policy_set_reload_config(&set, dir, NULL, &env, &diags, &bad), 0);
	ASSERT_EQ(bad, 0);
	ASSERT_EQ(shares_of(&set), 4096);
	ASSERT_EQ(set.n_files, 2);
	(void)snprintf(sub, sizeof(sub), "%s/policy.d/10-web.yaml", dir);
	ASSERT_OK(unlink(sub));
	ASSERT_EQ(policy_set_reload_config(&set, dir, NULL, &env, &diags, &bad), 0);
	ASSERT_EQ(shares_of(&set), -1);
	ASSERT_EQ(set.n_files, 1);

	/* No policy.d at all: no policies. */
	(void)snprintf(sub, sizeof(sub), "%s/policy.d/20-new.yaml", dir);
	ASSERT_OK(unlink(sub));
	(void)snprintf(sub, sizeof(sub), "%s/policy.d", dir);
	ASSERT_OK(rmdir(sub));
	ASSERT_EQ(policy_set_reload_config(&set, dir, NULL, &env, &diags, &bad), 1);
	ASSERT_EQ(set.n_files, 0);
	ASSERT_OK(rmdir(dir));
	diag_list_done(&diags);
	policy_set_done(&set);
}

TEST(the_runtime_dir_is_read_after_the_config_dir)
{
	char etc[] = "/tmp/kvmtune-etc-XXXXXX", run[] = "/tmp/kvmtune-run-XXXXXX", sub[300];
	struct policy_env env = {};
	struct policy_set set = {};
	struct diag_list diags = {};
	unsigned bad = 0;

	ASSERT_TRUE(mkdtemp(etc));
	ASSERT_TRUE(mkdtemp(run));
	/* Only the runtime dir: its policies alone, not "no policies". */
	(void)snprintf(sub, sizeof(sub), "%s/policy.d", run);
	ASSERT_OK(mkdir(sub, 0755));
	put_in(run, "90-set-web.yaml", "cputune: { shares: 300 }\n");
	ASSERT_EQ(policy_set_load_config(&set, etc, run, &env, &diags), 0);
	ASSERT_EQ(shares_of(&set), 300);
	policy_set_done(&set);

	/* Both: a runtime file named before an /etc one still comes after it. */
	(void)snprintf(sub, sizeof(sub), "%s/policy.d", etc);
	ASSERT_OK(mkdir(sub, 0755));
	put_in(etc, "99-late.yaml", "cputune: { shares: 700 }\n");
	ASSERT_EQ(policy_set_load_config(&set, etc, run, &env, &diags), 0);
	ASSERT_EQ(set.n_files, 2);
	ASSERT_EQ(shares_of(&set), 300);
	ASSERT_EQ(policy_set_reload_config(&set, etc, run, &env, &diags, &bad), 0);
	ASSERT_EQ(shares_of(&set), 300);

	/* The runtime dir cleared (a reboot): /etc's value again, on load and on reload. */
	(void)snprintf(sub, sizeof(sub), "%s/policy.d/90-set-web.yaml", run);
	ASSERT_OK(unlink(sub));
	ASSERT_EQ(policy_set_reload_config(&set, etc, run, &env, &diags, &bad), 0);
	ASSERT_EQ(shares_of(&set), 700);
	ASSERT_EQ(bad, 0);
	(void)snprintf(sub, sizeof(sub), "%s/policy.d", run);
	ASSERT_OK(rmdir(sub));
	ASSERT_EQ(policy_set_reload_config(&set, etc, run, &env, &diags, &bad), 0);
	ASSERT_EQ(shares_of(&set), 700);
	policy_set_done(&set);
	ASSERT_EQ(policy_set_load_config(&set, etc, NULL, &env, &diags), 0);
	ASSERT_EQ(shares_of(&set), 700);

	(void)snprintf(sub, sizeof(sub), "%s/policy.d/99-late.yaml", etc);
	ASSERT_OK(unlink(sub));
	(void)snprintf(sub, sizeof(sub), "%s/policy.d", etc);
	ASSERT_OK(rmdir(sub));
	ASSERT_OK(rmdir(etc));
	ASSERT_OK(rmdir(run));
	ASSERT_EQ(diags.n_errors, 0);
	diag_list_done(&diags);
	policy_set_done(&set);
}
