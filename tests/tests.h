/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A minimal test harness in the style of systemd's tests.h. TEST(name) { ... } registers a
 * function; ASSERT_* print file:line and the expression, then abort. $TESTFUNCS (comma-separated)
 * selects tests. Exit codes: 0 pass, 77 skip (meson's), anything else fail. A test skips itself
 * with SKIP("why"), which prints the reason.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct test {
	const char *name;
	void (*fn)(void);
	struct test *next;
};

extern struct test *tests_head;
extern int tests_skipped;

#define TEST(n)                                                             \
	static void test_##n(void);                                         \
	static struct test test_entry_##n = { .name = #n, .fn = test_##n }; \
	__attribute__((constructor)) static void test_register_##n(void)    \
	{                                                                   \
		struct test **t = &tests_head;                              \
		while (*t)                                                  \
			t = &(*t)->next;                                    \
		*t = &test_entry_##n;                                       \
	}                                                                   \
	static void test_##n(void)

#define FAIL_AT(...)                                            \
	do {                                                    \
		fflush(stdout);                                 \
		fprintf(stderr, "%s:%d: ", __FILE__, __LINE__); \
		fprintf(stderr, __VA_ARGS__);                   \
		fputc('\n', stderr);                            \
		abort();                                        \
	} while (0)

#define ASSERT_TRUE(expr)                                       \
	do {                                                    \
		if (!(expr))                                    \
			FAIL_AT("assertion failed: %s", #expr); \
	} while (0)

#define ASSERT_FALSE(expr) ASSERT_TRUE(!(expr))

#define ASSERT_OK(expr)                                                      \
	do {                                                                 \
		long long _r = (long long)(expr);                            \
		if (_r < 0)                                                  \
			FAIL_AT("%s failed: %s", #expr, strerror((int)-_r)); \
	} while (0)

#define ASSERT_ERROR(expr, err)                                                 \
	do {                                                                    \
		long long _r = (long long)(expr);                               \
		if (_r != -(err))                                               \
			FAIL_AT("%s: expected -%s, got %lld", #expr, #err, _r); \
	} while (0)

#define ASSERT_EQ(a, b)                                                    \
	do {                                                               \
		long long _a = (long long)(a), _b = (long long)(b);        \
		if (_a != _b)                                              \
			FAIL_AT("%s == %s: %lld != %lld", #a, #b, _a, _b); \
	} while (0)

#define ASSERT_EQ_U64(a, b)                                                           \
	do {                                                                          \
		uint64_t _a = (a), _b = (b);                                          \
		if (_a != _b)                                                         \
			FAIL_AT("%s == %s: %" PRIu64 " != %" PRIu64, #a, #b, _a, _b); \
	} while (0)

#define ASSERT_STREQ(a, b)                                                            \
	do {                                                                          \
		const char *_a = (a), *_b = (b);                                      \
		if (!_a || !_b || strcmp(_a, _b) != 0)                                \
			FAIL_AT("%s == %s: \"%s\" != \"%s\"", #a, #b, _a ?: "(null)", \
				_b ?: "(null)");                                      \
	} while (0)

#define SKIP(...)                    \
	do {                         \
		printf("skipped: "); \
		printf(__VA_ARGS__); \
		printf("\n");        \
		tests_skipped++;     \
		return;              \
	} while (0)

/* Path of a file in the source tree's tests/ directory (SOURCE_TESTS_DIR is set by meson). */
const char *test_path(const char *relative);
