/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "diag.h"
#include "policy-dropin.h"
#include "policy-yaml.h"
#include "tests.h"

static char *canon(const char *key)
{
	char *c = NULL, *e = NULL;

	ASSERT_OK(dropin_key_parse(key, &c, &e));
	ASSERT_TRUE(e == NULL);
	return c;
}

static char *key_error(const char *key)
{
	char *c = NULL, *e = NULL;

	ASSERT_ERROR(dropin_key_parse(key, &c, &e), EINVAL);
	ASSERT_TRUE(c == NULL && e != NULL);
	return e;
}

static void expect_canon(const char *key, const char *want)
{
	char *c = canon(key);

	if (!streq(c, want))
		FAIL_AT("%s: canonical '%s', expected '%s'", key, c, want);
	free(c);
}

static void expect_error(const char *key, const char *part)
{
	char *e = key_error(key);

	if (!strstr(e, part))
		FAIL_AT("%s: error '%s' lacks '%s'", key, e, part);
	free(e);
}

TEST(keys_in_the_policys_own_dotted_names)
{
	expect_canon("cputune.shares", "cputune.shares");
	expect_canon("cputune.vcpupin.0", "cputune.vcpupin.0");
	expect_canon("cputune.vcpupin.2-3", "cputune.vcpupin.2-3");
	expect_canon("cputune.iothreadpin.io.1", "cputune.iothreadpin.io.1");
	expect_canon("cputune.vcpusched.0-1.priority", "cputune.vcpusched.0-1.priority");
	expect_canon("cputune.emulatorsched.scheduler", "cputune.emulatorsched.scheduler");
	expect_canon("memtune.hard_limit", "memtune.hard_limit");
	expect_canon("blkiotune.devices./dev/disk/by-path/pci-0000:00:1f.2-ata-1.weight",
		     "blkiotune.devices./dev/disk/by-path/pci-0000:00:1f.2-ata-1.weight");
	expect_canon("numatune.mode", "numatune.memory.mode");
	expect_canon("numatune.memory.nodeset", "numatune.memory.nodeset");
}

TEST(a_wrong_key_says_what_was_meant_and_what_is_allowed)
{
	expect_error("cputune.shars", "did you mean 'cputune.shares'?");
	expect_error("cputune.shars", "allowed: cputune.shares, cputune.weight,");
	expect_error("cputun.shares", "did you mean 'cputune'?");
	expect_error("memtune.hard_limt", "did you mean 'memtune.hard_limit'?");
	expect_error("cputune.shares.x", "takes a value, not keys below it");
	expect_error("cputune.vcpupin", "needs what the entry is for (its vcpu)");
	expect_error("blkiotune.devices./dev/sda", "needs a field");
	expect_error("blkiotune.devices./dev/sda.weigth",
		     "did you mean 'blkiotune.devices./dev/sda.weight'?");
	expect_error("numatune.memory.mod", "did you mean 'numatune.memory.mode'?");
	expect_error("cputune", "unknown key");
}

static const char expected_yaml[] =
	"# Written by kvmtunectl set; kvmtunectl revert removes what it set.\n"
	"match:\n"
	"  name: \"web\\\\*01\"\n"
	"  uuid: \"6b29fc40-ca47-1067-b31d-00dd010662da\"\n"
	"cputune:\n"
	"  shares: 2048\n"
	"  vcpupin:\n"
	"    - vcpu: 0\n"
	"      cpuset: \"1\"\n"
	"    - vcpu: \"2-3\"\n"
	"      cpuset: \"0,1\"\n"
	"  emulatorpin: \"0\"\n"
	"memtune:\n"
	"  hard_limit: \"4G\"\n"
	"  soft_limit: 1048576\n"
	"blkiotune:\n"
	"  devices:\n"
	"    - path: \"/dev/null\"\n"
	"      weight: 300\n"
	"      read_bytes_sec: \"10M\"\n"
	"numatune:\n"
	"  memory:\n"
	"    mode: \"strict\"\n"
	"    nodeset: \"0\"\n";

static void fill(struct dropin *d)
{
	d->name = strdup("web*01");
	d->uuid = strdup("6b29fc40-ca47-1067-b31d-00dd010662da");
	ASSERT_TRUE(d->name && d->uuid);
	/* Set out of order: the file has the policy's order all the same. */
	ASSERT_OK(dropin_set(d, "numatune.memory.nodeset", "0"));
	ASSERT_OK(dropin_set(d, "memtune.hard_limit", "4G"));
	ASSERT_OK(dropin_set(d, "cputune.vcpupin.0", "1"));
	ASSERT_OK(dropin_set(d, "cputune.emulatorpin", "0"));
	ASSERT_OK(dropin_set(d, "blkiotune.devices./dev/null.weight", "300"));
	ASSERT_OK(dropin_set(d, "cputune.shares", "1024"));
	ASSERT_OK(dropin_set(d, "cputune.vcpupin.2-3", "0,1"));
	ASSERT_OK(dropin_set(d, "memtune.soft_limit", "1048576"));
	ASSERT_OK(dropin_set(d, "numatune.memory.mode", "strict"));
	ASSERT_OK(dropin_set(d, "blkiotune.devices./dev/null.read_bytes_sec", "10M"));
	ASSERT_OK(dropin_set(d, "cputune.shares", "2048")); /* a later set replaces */
}

TEST(a_dropin_is_written_in_the_policys_order_and_read_back)
{
	struct dropin d = {}, back = {};
	char *text = NULL, *again = NULL, *err = NULL;

	fill(&d);
	ASSERT_OK(dropin_format(&d, &text));
	if (!streq(text, expected_yaml))
		FAIL_AT("formatted:\n%s", text);
	ASSERT_OK(dropin_parse("t.yaml", text, strlen(text), &back, &err));
	ASSERT_TRUE(err == NULL);
	ASSERT_TRUE(streq(back.name, "web*01"));
	ASSERT_EQ(back.n_entries, d.n_entries);
	FOREACH_ARRAY (e, d.entries, d.n_entries) {
		const char *v = dropin_get(&back, e->key);

		if (!v || !streq(v, e->value))
			FAIL_AT("%s: read back '%s', written '%s'", e->key, v ?: "(none)",
				e->value);
	}
	ASSERT_OK(dropin_format(&back, &again));
	ASSERT_TRUE(streq(again, text));
	free(text);
	free(again);
	dropin_done(&back);
	dropin_done(&d);
}

TEST(the_written_dropin_is_a_valid_policy_that_fits_only_that_vm)
{
	struct dropin d = {};
	struct policy_env env = {};
	struct diag_list diags = {};
	struct policy_file *f = NULL;
	struct vm_identity id = { .name = "web*01",
				  .uuid = "6B29FC40-CA47-1067-B31D-00DD010662DA" };
	struct vm_identity other = { .name = "webX01", .uuid = id.uuid };
	struct vm_identity no_uuid = { .name = "web*01",
				       .uuid = "00000000-0000-0000-0000-000000000000" };
	const char *missing = NULL;
	char *text = NULL;

	fill(&d);
	ASSERT_OK(dropin_format(&d, &text));
	ASSERT_OK(policy_parse("t.yaml", text, strlen(text), &env, &f, &diags));
	ASSERT_EQ(diags.n_errors, 0);
	ASSERT_EQ(f->n_docs, 1);
	ASSERT_EQ(f->docs[0].cputune.shares.value, 2048);
	ASSERT_EQ(f->docs[0].cputune.shares.origin.line, 6);
	ASSERT_EQ(policy_matches(&f->docs[0], &id, &missing), 1);
	ASSERT_EQ(policy_matches(&f->docs[0], &other, &missing), 0);
	ASSERT_EQ(policy_matches(&f->docs[0], &no_uuid, &missing), 0);
	policy_file_free(f);
	free(text);
	dropin_done(&d);
}

TEST(revert_removes_a_key_or_everything_below_it)
{
	struct dropin d = {};

	fill(&d);
	ASSERT_EQ(dropin_unset(&d, "cputune.vcpupin.0"), 1);
	ASSERT_EQ(dropin_unset(&d, "cputune.vcpupin.0"), 0);
	ASSERT_EQ(dropin_unset(&d, "blkiotune.devices./dev/null"), 2);
	ASSERT_EQ(dropin_unset(&d, "cputune.share"), 0); /* a key boundary, not a prefix */
	ASSERT_EQ(dropin_unset(&d, "cputune"), 3);
	ASSERT_TRUE(dropin_get(&d, "memtune.hard_limit") != NULL);
	dropin_done(&d);
}

TEST(a_hand_edited_dropin_is_refused_with_its_line)
{
	static const char text[] = "match:\n  name: web\ncputune:\n  shares: 2\n  bogus: 1\n";
	struct dropin d = {};
	char *err = NULL;

	ASSERT_ERROR(dropin_parse("x.yaml", text, strlen(text), &d, &err), EINVAL);
	if (!strstr(err, "x.yaml:5:3: bogus is not as kvmtunectl set writes it"))
		FAIL_AT("error: %s", err);
	free(err);
	dropin_done(&d);
}

TEST(the_file_name_is_the_escaped_vm_name)
{
	char *n = dropin_file_name("web-01/a b"), *dot = dropin_file_name(".hidden");

	ASSERT_TRUE(n && streq(n, "90-set-web-01\\x2fa\\x20b.yaml"));
	ASSERT_TRUE(dot && streq(dot, "90-set-\\x2ehidden.yaml"));
	free(n);
	free(dot);
}
