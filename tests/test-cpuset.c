/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cpuset.h"
#include "tests.h"

static const struct {
	const char *input;
	const char *canonical; /* NULL: must fail */
	size_t offset;	       /* where the error points, when it fails */
	const char *message;   /* a part of the error message */
} cases[] = {
	{ "0", "0" },
	{ "0-3", "0-3" },
	{ "0-3,8", "0-3,8" },
	{ " 0-3 , 8 ", "0-3,8" },
	{ "1,\t2", "1-2" },
	{ "1,2,3", "1-3" },
	{ "3,1,2", "1-3" },
	{ "0-3,2-5", "0-5" },
	{ "0-3,4-7", "0-7" },
	{ "5,5,5", "5" },
	{ "0-7,^3", "0-2,4-7" },
	{ "^3,0-7", "0-2,4-7" },
	{ "0-7,^3,^5", "0-2,4,6-7" },
	{ "0-7, ^ 3", "0-2,4-7" },
	{ "63-65", "63-65" },
	{ "8191", "8191" },
	{ "8000-8191", "8000-8191" },
	{ "8192", NULL, 0, "out of range (largest allowed: 8191)" },
	{ "8000-8192", NULL, 5, "out of range" },
	{ "18446744073709551617", NULL, 0, "out of range" },
	{ "3-0", NULL, 0, "range '3-0' is reversed" },
	{ "1,8-3", NULL, 2, "reversed" },
	{ "", NULL, 0, "empty list" },
	{ "   ", NULL, 0, "empty list" },
	{ ",", NULL, 0, "empty item" },
	{ "0-3,", NULL, 3, "trailing ','" },
	{ "0-3, ", NULL, 3, "trailing ','" },
	{ "0-3,,4", NULL, 4, "empty item" },
	{ "^", NULL, 0, "'^' needs a number" },
	{ "^,1", NULL, 0, "'^' needs a number" },
	{ "^3", NULL, 0, "selects nothing" },
	{ "0-3,^0-3", NULL, 4, "single number" },
	{ "0,^0", NULL, 0, "selects nothing" },
	{ "garbage", NULL, 0, "expected a number" },
	{ "1-", NULL, 2, "has no end" },
	{ "1 2", NULL, 2, "expected ','" },
	{ "0x3", NULL, 1, "expected ','" },
	{ "-1", NULL, 0, "expected a number" },
	{ "1-3-5", NULL, 3, "expected ','" },
	{ "1;2", NULL, 1, "expected ','" },
};

TEST(parse_table)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cpuset s = {};
		struct cpuset_error e = {};
		int r = cpuset_parse(cases[i].input, CPUSET_LIMIT, &s, &e);

		printf("  '%s' -> %s\n", cases[i].input, r == 0 ? "ok" : e.message);
		if (!cases[i].canonical) {
			ASSERT_ERROR(r, EINVAL);
			ASSERT_EQ(e.offset, cases[i].offset);
			ASSERT_TRUE(strstr(e.message, cases[i].message));
			ASSERT_TRUE(cpuset_is_empty(&s));
			continue;
		}
		ASSERT_OK(r);
		char *text = cpuset_format(&s);
		ASSERT_STREQ(text, cases[i].canonical);
		free(text);
		cpuset_done(&s);
	}
}

/* format(parse(x)) == x for every canonical form. */
TEST(round_trip)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cpuset s = {};
		char *text;

		if (!cases[i].canonical)
			continue;
		ASSERT_OK(cpuset_parse(cases[i].canonical, CPUSET_LIMIT, &s, NULL));
		text = cpuset_format(&s);
		ASSERT_STREQ(text, cases[i].canonical);
		free(text);
		cpuset_done(&s);
	}
}

TEST(limit_is_the_callers)
{
	struct cpuset s = {};
	struct cpuset_error e;

	ASSERT_OK(cpuset_parse("0-3", 4, &s, &e));
	cpuset_done(&s);
	ASSERT_ERROR(cpuset_parse("4", 4, &s, &e), EINVAL);
	ASSERT_TRUE(strstr(e.message, "largest allowed: 3"));
}

TEST(set_operations)
{
	struct cpuset a = {}, b = {}, c = {};
	char *text;

	ASSERT_OK(cpuset_parse("0-7", CPUSET_LIMIT, &a, NULL));
	ASSERT_OK(cpuset_parse("4-5,100", CPUSET_LIMIT, &b, NULL));
	ASSERT_EQ(cpuset_count(&a), 8);
	ASSERT_TRUE(cpuset_overlaps(&a, &b));
	ASSERT_FALSE(cpuset_is_subset(&b, &a));
	cpuset_remove(&b, 100);
	ASSERT_TRUE(cpuset_is_subset(&b, &a));
	cpuset_subtract(&a, &b);
	text = cpuset_format(&a);
	ASSERT_STREQ(text, "0-3,6-7");
	free(text);
	ASSERT_OK(cpuset_copy(&c, &a));
	ASSERT_TRUE(cpuset_equal(&a, &c));
	ASSERT_OK(cpuset_union(&c, &b));
	text = cpuset_format(&c);
	ASSERT_STREQ(text, "0-7");
	free(text);
	/* equal() ignores how many words each set allocated */
	ASSERT_OK(cpuset_add(&c, 1000));
	cpuset_remove(&c, 1000);
	ASSERT_FALSE(cpuset_equal(&a, &c));
	cpuset_subtract(&c, &b);
	ASSERT_TRUE(cpuset_equal(&a, &c));
	ASSERT_EQ(cpuset_next(&c, 4), 6);
	ASSERT_EQ(cpuset_next(&c, 8), -1);
	cpuset_done(&a);
	cpuset_done(&b);
	cpuset_done(&c);
	text = cpuset_format(&a);
	ASSERT_STREQ(text, "");
	free(text);
}
