/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The loader's budgets (yaml-load.h, README "Limits"): each hostile input ends in one error at its
 * place, after bounded work, and ordinary uses of the same features still load.
 */

#include "policy-set.h"
#include "strbuf.h"
#include "tests.h"
#include "yaml-load.h"

/* Parses text as one policy file; returns policy_parse()'s result, diagnostics in *d. */
static int parse(const char *text, size_t size, struct diag_list *d, struct policy_file **ret)
{
	struct policy_env env = {};
	struct policy_file *f = NULL;
	int r = policy_parse("t.yaml", text, size, &env, &f, d);

	diag_list_print(d, stdout);
	if (ret)
		*ret = f;
	else
		policy_file_free(f);
	return r;
}

/* Exactly one diagnostic, an error at line:column whose message contains what. */
static void assert_one_error(const char *text, unsigned line, unsigned column, const char *what)
{
	struct diag_list d = {};

	ASSERT_ERROR(parse(text, strlen(text), &d, NULL), EINVAL);
	ASSERT_EQ(d.n, 1);
	ASSERT_EQ(d.items[0].severity, DIAG_ERROR);
	ASSERT_EQ(d.items[0].line, line);
	ASSERT_EQ(d.items[0].column, column);
	ASSERT_TRUE(strstr(d.items[0].message, what));
	diag_list_done(&d);
}

static char *repeat(const char *head, const char *item, const char *sep, size_t n, const char *tail)
{
	struct strbuf b = {};

	ASSERT_OK(strbuf_append(&b, head));
	for (size_t i = 0; i < n; i++)
		ASSERT_OK(strbuf_printf(&b, "%s%s", i ? sep : "", item));
	ASSERT_OK(strbuf_append(&b, tail));
	return strbuf_steal(&b);
}

TEST(aliases_are_expanded)
{
	struct diag_list d = {};
	struct policy_file *f;
	const char *text = "cputune:\n  cpuset: &pin \"2-3\"\n  emulatorpin: *pin\n"
			   "  vcpupin:\n    - &first { vcpu: 0, cpuset: *pin }\n"
			   "---\ncputune:\n  vcpupin: [ { vcpu: 1, cpuset: \"0\" } ]\n";

	ASSERT_OK(parse(text, strlen(text), &d, &f));
	ASSERT_EQ(d.n, 0);
	ASSERT_EQ(f->n_docs, 2);
	ASSERT_TRUE(f->docs[0].cputune.emulatorpin.set);
	ASSERT_EQ(cpuset_count(&f->docs[0].cputune.emulatorpin.cpus), 2);
	ASSERT_EQ(f->docs[0].cputune.n_vcpupin, 1);
	/* The alias points at the anchor's place, as an error about it would. */
	ASSERT_EQ(f->docs[0].cputune.emulatorpin.origin.line, 2);
	/* Every key, value and collection once; the aliases once each (they repeat a scalar). */
	ASSERT_EQ(f->n_nodes, 14 + 10);
	policy_file_free(f);
	diag_list_done(&d);
}

/* One anchored mapping of 1000 keys, repeated 1000 times: a million nodes to walk, before. */
TEST(alias_repetition_stops_at_the_node_limit)
{
	_cleanup_free_ char *keys = NULL, *refs = NULL, *text = NULL;
	struct strbuf b = {};

	keys = repeat("x: &a {", "k: 0", ", ", 1000, "}\n");
	refs = repeat("cputune: {vcpupin: [", "*a", ",", 1000, "]}\n");
	ASSERT_OK(strbuf_printf(&b, "%s%s", keys, refs));
	text = strbuf_steal(&b);
	/*
	 * Line 1 is 2003 nodes (x, the mapping and its 2000 scalars, the root), line 2 four before
	 * its first alias, each alias 2001: the 49th crosses 100000.
	 */
	assert_one_error(text, 2, 1 + (unsigned)strlen("cputune: {vcpupin: [") + 3 * 48,
			 "more than 100000 YAML nodes in one file, an alias counting");
}

/* The "billion laughs": each level ten aliases of the one below. */
TEST(nested_aliases_stop_at_the_node_limit)
{
	struct strbuf b = {};
	_cleanup_free_ char *text = NULL;

	ASSERT_OK(strbuf_append(&b, "x:\n  - &l0 [a, a, a, a, a, a, a, a, a, a]\n"));
	for (int i = 1; i < 9; i++)
		ASSERT_OK(strbuf_printf(&b,
					"  - &l%d [*l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, "
					"*l%d, *l%d]\n",
					i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1,
					i - 1, i - 1));
	text = strbuf_steal(&b);
	/*
	 * Level k holds 1 + 10 * (level k-1) nodes: 11, 111, 1111, 11111. After 12347 nodes (the
	 * root, x, its list, levels 0-3), the 8th alias of level 3 in level 4's list crosses
	 * 100000.
	 */
	assert_one_error(text, 6, 1 + (unsigned)strlen("  - &l4 [") + 5 * 7,
			 "more than 100000 YAML nodes");
}

TEST(alias_loops_and_unknown_anchors)
{
	assert_one_error("x: &a [1, *a]\n", 1, 11, "stands inside the node it names, a loop");
	assert_one_error("x: *b\n", 1, 4, "has no anchor &b before it");
	/* Anchors belong to their document. */
	assert_one_error("match: {name: &a x}\n---\nmatch: {name: *a}\n", 3, 15,
			 "has no anchor &a before it");
}

TEST(anchors_per_document)
{
	_cleanup_free_ char *ok =
		repeat("match: {name: &n0 a}\nx: [", "&a b", ", ", YLOAD_ANCHORS_MAX - 1, "]\n");
	_cleanup_free_ char *bad = repeat("x: [", "&a b", ", ", YLOAD_ANCHORS_MAX + 1, "]\n");
	struct diag_list d = {};

	/* 100 anchors: only the unknown key x is wrong. */
	ASSERT_ERROR(parse(ok, strlen(ok), &d, NULL), EINVAL);
	ASSERT_EQ(d.n, 1);
	ASSERT_TRUE(strstr(d.items[0].message, "unknown key"));
	diag_list_done(&d);
	assert_one_error(bad, 1, 5 + 6 * YLOAD_ANCHORS_MAX,
			 "more than 100 anchors in one document");
}

TEST(nesting_depth)
{
	_cleanup_free_ char *deep = repeat("cputune: ", "[", "", 300000, "\n");
	_cleanup_free_ char *open16 = repeat("x: ", "[", "", YLOAD_DEPTH_MAX - 1, "");
	_cleanup_free_ char *close16 = repeat(open16, "]", "", YLOAD_DEPTH_MAX - 1, "\n");
	_cleanup_free_ char *close17 = repeat("x: [", close16 + 3, "", 1, "]\n");
	struct diag_list d = {};

	/* 300 000 unclosed '[': stopped at the 17th level, long before the end of the text. */
	assert_one_error(deep, 1, 9 + YLOAD_DEPTH_MAX, "nested more than 16 levels deep");
	/* 16 levels (the document's mapping and 15 lists) load: the error is about x. */
	ASSERT_ERROR(parse(close16, strlen(close16), &d, NULL), EINVAL);
	ASSERT_EQ(d.n, 1);
	ASSERT_TRUE(strstr(d.items[0].message, "unknown key"));
	diag_list_done(&d);
	assert_one_error(close17, 1, 3 + YLOAD_DEPTH_MAX, "nested more than 16 levels deep");
}

TEST(tags_and_directives)
{
	assert_one_error("cputune: { shares: !!str 2048 }\n", 1, 20,
			 "the YAML tag 'tag:yaml.org,2002:str'");
	assert_one_error("memtune:\n  hard_limit: !!binary aGVsbG8=\n", 2, 15,
			 "the YAML tag 'tag:yaml.org,2002:binary'");
	assert_one_error("cputune: !local { shares: 2 }\n", 1, 10, "the YAML tag '!local'");
	assert_one_error("%TAG !e! tag:example.com,2000:\n---\ncputune: {}\n", 1, 1,
			 "a %TAG directive");
}

TEST(encodings)
{
	static const char utf16[] = "\xff\xfe"
				    "c\0p\0u\0t\0u\0n\0e\0:\0 \0{\0}\0\n\0";
	static const char bom8[] = "\xef\xbb\xbf"
				   "cputune: { shares: 2048 }\n";
	struct diag_list d = {};
	struct policy_file *f;

	ASSERT_ERROR(parse(utf16, sizeof(utf16) - 1, &d, NULL), EINVAL);
	ASSERT_EQ(d.n, 1);
	ASSERT_TRUE(strstr(d.items[0].message, "UTF-16 text"));
	diag_list_done(&d);
	/* UTF-16 without a byte-order mark: its NUL bytes are not UTF-8 text. */
	ASSERT_ERROR(parse(utf16 + 2, sizeof(utf16) - 3, &d, NULL), EINVAL);
	ASSERT_EQ(d.n, 1);
	ASSERT_TRUE(strstr(d.items[0].message, "not valid UTF-8 text"));
	diag_list_done(&d);
	/* A UTF-8 byte-order mark is UTF-8 (YAML allows it). */
	ASSERT_OK(parse(bom8, sizeof(bom8) - 1, &d, &f));
	ASSERT_EQ(f->docs[0].cputune.shares.value, 2048);
	policy_file_free(f);
	diag_list_done(&d);
}

/* Lists are counted before their entries are checked against each other. */
TEST(long_lists)
{
	struct strbuf b = {};
	_cleanup_free_ char *text = NULL;

	ASSERT_OK(strbuf_append(&b, "cputune:\n  vcpupin:\n"));
	for (int i = 0; i <= POLICY_LIST_MAX; i++)
		ASSERT_OK(strbuf_printf(&b, "    - { vcpu: %d, cpuset: \"0\" }\n", i));
	text = strbuf_steal(&b);
	assert_one_error(text, 3, 5, "4097 entries (allowed: at most 4096)");
}

/* A file shows its first DIAG_SHOWN_PER_FILE diagnostics, then how many more there were. */
TEST(errors_per_file)
{
	_cleanup_free_ char *keys = repeat("x: &a {", "k: 0", ", ", 100, "}\n");
	_cleanup_free_ char *refs = repeat("cputune: {vcpupin: [", "*a", ",", 50, "]}\n");
	_cleanup_free_ char *text = NULL;
	struct diag_list d = {};
	struct strbuf b = {};

	ASSERT_OK(strbuf_printf(&b, "%s%s", keys, refs));
	text = strbuf_steal(&b);
	ASSERT_ERROR(parse(text, strlen(text), &d, NULL), EINVAL);
	/* x, then in each of the 50 entries 100 unknown keys and the two missing ones. */
	ASSERT_EQ(d.n_errors, 1 + 50 * (100 + 2));
	ASSERT_EQ(d.n, DIAG_SHOWN_PER_FILE + 1);
	ASSERT_EQ(d.items[DIAG_SHOWN_PER_FILE].severity, DIAG_NOTE);
	ASSERT_STREQ(d.items[DIAG_SHOWN_PER_FILE].message,
		     "and 5051 more errors, not shown (at most 50 are shown per file)");
	/* The cap is per file: the next file shows its own. */
	ASSERT_ERROR(parse("y: 1\n", 5, &d, NULL), EINVAL);
	ASSERT_EQ(d.n, DIAG_SHOWN_PER_FILE + 2);
	diag_list_done(&d);
}

/* All files together: the file that would bring the set past the budget is left out, named. */
TEST(set_budget)
{
	struct policy_set set = {};
	struct diag_list d = {};
	size_t per_file = YLOAD_NODES_MAX;

	for (size_t i = 0; i <= POLICY_SET_NODES_MAX / per_file; i++) {
		struct policy_file *f = calloc(1, sizeof(*f));

		ASSERT_TRUE(f);
		ASSERT_TRUE(asprintf(&f->path, "%zu.yaml", i) > 0);
		f->n_nodes = per_file;
		if (i < POLICY_SET_NODES_MAX / per_file)
			ASSERT_OK(policy_set_add(&set, f, &d));
		else
			ASSERT_ERROR(policy_set_add(&set, f, &d), EINVAL);
	}
	diag_list_print(&d, stdout);
	ASSERT_EQ(set.n_files, POLICY_SET_NODES_MAX / per_file);
	ASSERT_EQ(set.n_nodes, POLICY_SET_NODES_MAX);
	ASSERT_EQ(d.n, 1);
	ASSERT_STREQ(d.items[0].file, "4.yaml");
	ASSERT_TRUE(
		strstr(d.items[0].message, "more than 400000 YAML nodes; this file is left out"));
	policy_set_done(&set);
	diag_list_done(&d);
}
