/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "size.h"
#include "tests.h"

#define KiB UINT64_C(1024)
#define MiB (KiB * 1024)
#define GiB (MiB * 1024)
#define TiB (GiB * 1024)

static const struct {
	const char *input;
	uint64_t bare_unit;
	int error; /* 0, EINVAL or ERANGE */
	uint64_t bytes;
	size_t offset; /* for EINVAL */
} cases[] = {
	{ "0", 1024, 0, 0 },
	{ "1", 1024, 0, KiB }, /* memtune: bare number is KiB */
	{ "1", 1, 0, 1 },      /* throttles: bare number is bytes */
	{ "1048576", 1024, 0, GiB },
	{ "1b", 1024, 0, 1 },
	{ "7bytes", 1024, 0, 7 },
	{ "1K", 1, 0, KiB },
	{ "1k", 1, 0, KiB },
	{ "1KiB", 1, 0, KiB },
	{ "1KB", 1, 0, 1000 },
	{ "1kb", 1, 0, 1000 },
	{ "768M", 1, 0, 768 * MiB },
	{ "768 MiB", 1, EINVAL, 0, 3 }, /* no space before the unit, as virsh */
	{ "100MB", 1, 0, 100000000 },
	{ "1G", 1, 0, GiB },
	{ "2GiB", 1, 0, 2 * GiB },
	{ "3GB", 1, 0, 3000000000 },
	{ "1T", 1, 0, TiB },
	{ "1TiB", 1, 0, TiB },
	{ "1TB", 1, 0, 1000000000000 },
	{ "unlimited", 1, 0, SIZE_UNLIMITED },
	{ "UNLIMITED", 1, 0, SIZE_UNLIMITED },
	{ "8388607T", 1, 0, 8388607 * TiB },
	{ "8388608T", 1, ERANGE }, /* 2^63: over the kernel's signed counters */
	{ "9223372036854775807", 1, 0, INT64_MAX },
	{ "9223372036854775808", 1, ERANGE },
	{ "99999999999999999999999", 1, ERANGE }, /* overflow is an error, not a wrap */
	{ "9007199254740992", 1024, ERANGE },	  /* 2^53 KiB = 2^63 bytes */
	{ "", 1, EINVAL, 0, 0 },
	{ "G", 1, EINVAL, 0, 0 },
	{ "-1", 1, EINVAL, 0, 0 },
	{ "1.5G", 1, EINVAL, 0, 1 },
	{ "1P", 1, EINVAL, 0, 1 },
	{ "1 G B", 1, EINVAL, 0, 1 },
	{ "12Q", 1, EINVAL, 0, 2 },
	{ " 1G", 1, EINVAL, 0, 0 },
};

TEST(parse_table)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 42;
		size_t offset = 99;
		int r = size_parse(cases[i].input, cases[i].bare_unit, &v, &offset);

		printf("  '%s' (bare x%" PRIu64 ") -> %d\n", cases[i].input, cases[i].bare_unit, r);
		if (cases[i].error) {
			ASSERT_EQ(r, -cases[i].error);
			if (cases[i].error == EINVAL)
				ASSERT_EQ(offset, cases[i].offset);
			continue;
		}
		ASSERT_OK(r);
		ASSERT_EQ_U64(v, cases[i].bytes);
	}
}

TEST(format)
{
	static const struct {
		uint64_t bytes;
		const char *text;
	} f[] = {
		{ 0, "0" },
		{ 1, "1b" },
		{ 1000, "1000b" },
		{ KiB, "1K" },
		{ 1536 * KiB, "1536K" },
		{ 768 * MiB, "768M" },
		{ GiB, "1G" },
		{ 3 * TiB, "3T" },
		{ 1024 * TiB, "1024T" },
		{ SIZE_UNLIMITED, "unlimited" },
	};
	char buf[SIZE_FORMAT_MAX];

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		uint64_t back;
		size_t offset;

		ASSERT_STREQ(size_format(f[i].bytes, buf), f[i].text);
		/* what we print parses back to the same number, whatever the bare unit */
		ASSERT_OK(size_parse(buf, 1024, &back, &offset));
		ASSERT_EQ_U64(back, f[i].bytes);
	}
}

TEST(parse_int64)
{
	int64_t v;

	ASSERT_OK(parse_int64("0", &v));
	ASSERT_EQ(v, 0);
	ASSERT_OK(parse_int64("-1", &v));
	ASSERT_EQ(v, -1);
	ASSERT_OK(parse_int64("17592186044415", &v));
	ASSERT_EQ(v, 17592186044415LL);
	ASSERT_OK(parse_int64("9223372036854775807", &v));
	ASSERT_EQ(v, INT64_MAX);
	ASSERT_OK(parse_int64("-9223372036854775808", &v));
	ASSERT_EQ(v, INT64_MIN);
	ASSERT_ERROR(parse_int64("9223372036854775808", &v), ERANGE);
	ASSERT_ERROR(parse_int64("", &v), EINVAL);
	ASSERT_ERROR(parse_int64("-", &v), EINVAL);
	ASSERT_ERROR(parse_int64("12a", &v), EINVAL);
	ASSERT_ERROR(parse_int64(" 1", &v), EINVAL);
	ASSERT_ERROR(parse_int64("1.0", &v), EINVAL);
	ASSERT_ERROR(parse_int64("+1", &v), EINVAL);
}

TEST(format_human)
{
	char buf[SIZE_FORMAT_MAX];

	ASSERT_STREQ(size_format_human(0, buf), "0B");
	ASSERT_STREQ(size_format_human(1023, buf), "1023B");
	ASSERT_STREQ(size_format_human(1536, buf), "1.5K");
	ASSERT_STREQ(size_format_human(300589056, buf), "286.7M");
	ASSERT_STREQ(size_format_human(UINT64_C(5) << 40, buf), "5.0T");
}
