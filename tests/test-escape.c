/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "escape.h"
#include "macro.h"
#include "tests.h"

static void check(const char *in, const char *out)
{
	char *e = escape_untrusted(in);

	ASSERT_STREQ(e, out);
	ASSERT_EQ(escape_not_needed(in), streq(in, out));
	free(e);
}

TEST(plain_text_prints_as_itself)
{
	check("web-01", "web-01");
	check("CPU 0/KVM", "CPU 0/KVM");
	check("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x90\xa7",
	      "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x90\xa7");
	check("", "");
}

TEST(controls_and_backslash_are_escaped)
{
	check("a\x1b[2Jb", "a\\x1b[2Jb");
	check("line\nforged line", "line\\x0aforged line");
	check("\r\t\x7f", "\\x0d\\x09\\x7f");
	check("back\\slash", "back\\\\slash");
	/* systemd's escapes in unit names print as systemd prints them */
	check("kvmtune-web\\x2d01.scope", "kvmtune-web\\x2d01.scope");
	check("\\x2", "\\\\x2");
	/* C1 controls written in UTF-8: U+009B is CSI on many terminals. */
	check("x\xc2\x9b"
	      "31m",
	      "x\\xc2\\x9b31m");
	check("\xc2\xa0", "\xc2\xa0"); /* U+00A0 is not a control */
}

TEST(what_is_not_utf8_is_escaped_byte_by_byte)
{
	check("\xff\xfe", "\\xff\\xfe");
	check("\xc3", "\\xc3");			  /* cut short */
	check("\xc0\xaf", "\\xc0\\xaf");	  /* overlong '/' */
	check("\xed\xa0\x80", "\\xed\\xa0\\x80"); /* a surrogate */
	ASSERT_FALSE(utf8_is_valid("\xff"));
	ASSERT_TRUE(utf8_is_valid("caf\xc3\xa9\x1b"));
}
