/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <yaml.h>

#include "macro.h"
#include "strbuf.h"
#include "tests.h"

static char *quoted(const char *s)
{
	struct strbuf b = {};

	ASSERT_OK(strbuf_append_quoted(&b, s));
	return strbuf_steal(&b);
}

/* What libyaml reads back from a document that is only the scalar; NULL if it refuses it. */
static char *read_back(const char *doc)
{
	yaml_parser_t p;
	yaml_event_t e;
	char *value = NULL;
	bool done = false;

	ASSERT_TRUE(yaml_parser_initialize(&p));
	yaml_parser_set_input_string(&p, (const unsigned char *)doc, strlen(doc));
	while (!done && yaml_parser_parse(&p, &e)) {
		if (e.type == YAML_SCALAR_EVENT && !value)
			value = strndup((const char *)e.data.scalar.value, e.data.scalar.length);
		done = e.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&e);
	}
	yaml_parser_delete(&p);
	if (!done) {
		free(value);
		return NULL;
	}
	return value;
}

static size_t utf8_encode(uint32_t cp, char *out)
{
	if (cp < 0x80)
		return out[0] = (char)cp, 1;
	if (cp < 0x800)
		return out[0] = (char)(0xc0 | cp >> 6), out[1] = (char)(0x80 | (cp & 0x3f)), 2;
	if (cp < 0x10000)
		return out[0] = (char)(0xe0 | cp >> 12), out[1] = (char)(0x80 | (cp >> 6 & 0x3f)),
		       out[2] = (char)(0x80 | (cp & 0x3f)), 3;
	return out[0] = (char)(0xf0 | cp >> 18), out[1] = (char)(0x80 | (cp >> 12 & 0x3f)),
	       out[2] = (char)(0x80 | (cp >> 6 & 0x3f)), out[3] = (char)(0x80 | (cp & 0x3f)), 4;
}

TEST(table)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "", "\"\"" },
		{ "web-1", "\"web-1\"" },
		{ "a\"b\\c", "\"a\\\"b\\\\c\"" },
		{ "tab\there", "\"tab\\x09here\"" },
		{ "\x7f", "\"\\x7f\"" },
		{ "caf\xc3\xa9", "\"caf\xc3\xa9\"" },		/* é stays as it is */
		{ "\xc2\x80", "\"\\x80\"" },			/* a C1 control */
		{ "\xc2\x85", "\"\\x85\"" },			/* NEL: a line break to YAML */
		{ "\xe2\x80\xa8", "\"\\u2028\"" },		/* LS */
		{ "\xef\xbb\xbf", "\"\\uFEFF\"" },		/* BOM: dropped by a reader */
		{ "\xef\xbf\xbe", "\"\\uFFFE\"" },		/* a noncharacter, not printable */
		{ "\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"" }, /* U+1F600 stays */
		{ "\xff", "\"\\xff\"" },			/* not UTF-8 (a name from /proc) */
		{ "\xc3", "\"\\xc3\"" },			/* a sequence cut short */
		{ "\xc0\xaf", "\"\\xc0\\xaf\"" },		/* overlong */
		{ "\xed\xa0\x80", "\"\\xed\\xa0\\x80\"" },	/* a surrogate */
	};

	FOREACH_ARRAY (c, cases, ARRAY_SIZE(cases)) {
		char *q = quoted(c->in);

		printf("  %s\n", q);
		ASSERT_STREQ(q, c->out);
		free(q);
	}
}

static uint32_t next_sample(uint32_t cp)
{
	if (cp < 0xffff || cp == 0x10ffff)
		return cp + 1;
	return MIN(cp + 97, 0x10ffffu);
}

/*
 * Every code point a YAML string can hold comes back from libyaml as it went in: the whole BMP,
 * and above it every 97th and the last (the guest's TCG makes a million parses a minute).
 */
TEST(every_code_point_reads_back)
{
	size_t checked = 0;

	for (uint32_t cp = 1; cp <= 0x10ffff; cp = next_sample(cp)) {
		char in[8] = "a", *q, *back;
		size_t n;

		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		n = utf8_encode(cp, in + 1);
		in[1 + n] = 'b';
		q = quoted(in);
		back = read_back(q);
		if (!back || strcmp(back, in) != 0)
			FAIL_AT("U+%04X: %s read back as %s", cp, q, back ?: "(refused)");
		free(q);
		free(back);
		checked++;
	}
	printf("  %zu code points\n", checked);
}
