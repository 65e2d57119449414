/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "macro.h"
#include "qmp.h"
#include "tests.h"

#define GREETING "{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n"

static struct qmp_exchange *exchange(void)
{
	struct qmp_exchange *e;

	ASSERT_OK(qmp_exchange_new_detached(&e));
	return e;
}

static int feed(struct qmp_exchange *e, const char *s)
{
	return qmp_exchange_feed(e, s, strlen(s));
}

/* What the client sends: the three commands at once, after the greeting. */
static void expect_commands(struct qmp_exchange *e)
{
	static const char want[] = "{\"execute\": \"qmp_capabilities\", \"id\": 1}\n"
				   "{\"execute\": \"query-cpus-fast\", \"id\": 2}\n"
				   "{\"execute\": \"query-iothreads\", \"id\": 3}\n";
	size_t n;
	const char *out = qmp_exchange_take_output(e, &n);

	ASSERT_EQ(n, strlen(want));
	ASSERT_TRUE(memcmp(out, want, n) == 0);
}

static void expect_nothing_to_send(struct qmp_exchange *e)
{
	size_t n;

	(void)qmp_exchange_take_output(e, &n);
	ASSERT_EQ(n, 0);
}

TEST(a_whole_conversation_in_pieces)
{
	struct qmp_exchange *e = exchange();
	struct qmp_info info;

	ASSERT_EQ(feed(e, "{\"QMP\": {\"ver"), 0); /* a partial frame */
	ASSERT_EQ(feed(e, "sion\": {}}}\r\n"), 0);
	expect_commands(e);
	ASSERT_EQ(feed(e,
		       "{\"event\": \"RESUME\", \"timestamp\": {}}\n{\"return\": {}, \"id\": 1}\n"),
		  0);
	expect_nothing_to_send(e);
	ASSERT_EQ(feed(e, "{\"return\": [{\"cpu-index\": 1, \"thread-id\": 11}, "
			  "{\"cpu-index\": 0, \"thread-id\": 10}], \"id\": 2}\n"),
		  0);
	expect_nothing_to_send(e);
	ASSERT_EQ(feed(e, "{\"return\": [{\"id\": \"io1\", \"thread-id\": 12}], \"id\": 3}\n"), 1);
	ASSERT_OK(qmp_exchange_result(e, &info));
	ASSERT_EQ(info.n_cpus, 2);
	ASSERT_EQ(info.cpus[0].cpu_index, 1);
	ASSERT_EQ(info.cpus[0].thread_id, 11);
	ASSERT_EQ(info.n_iothreads, 1);
	ASSERT_STREQ(info.iothreads[0].id, "io1");
	ASSERT_EQ(feed(e, "more\n"), 1); /* ended: stays so */
	qmp_info_done(&info);
	qmp_exchange_free(e);
}

TEST(events_without_end_are_cut_at_the_budget)
{
	struct qmp_exchange *e = exchange();
	int r = feed(e, GREETING);

	for (int i = 0; r == 0 && i < 10 * QMP_EVENTS_MAX; i++)
		r = feed(e, "{\"event\": \"X\"}\n");
	ASSERT_EQ(r, -EMSGSIZE);
	qmp_exchange_free(e);
}

TEST(a_line_without_end_is_cut_at_the_budget)
{
	struct qmp_exchange *e = exchange();
	char chunk[65536];
	int r;

	memset(chunk, 'x', sizeof(chunk));
	r = feed(e, GREETING);
	for (size_t sent = 0; r == 0 && sent < 2 * (size_t)QMP_LINE_MAX; sent += sizeof(chunk))
		r = qmp_exchange_feed(e, chunk, sizeof(chunk));
	ASSERT_EQ(r, -EMSGSIZE);
	qmp_exchange_free(e);
}

TEST(all_bytes_are_counted)
{
	struct qmp_exchange *e = exchange();
	char chunk[1024];
	int r;

	/* Short lines, each a whole JSON value the client skips: blank lines. */
	memset(chunk, '\n', sizeof(chunk));
	r = feed(e, GREETING);
	for (size_t sent = 0; r == 0 && sent < 2 * (size_t)QMP_BYTES_MAX; sent += sizeof(chunk))
		r = qmp_exchange_feed(e, chunk, sizeof(chunk));
	ASSERT_EQ(r, -EMSGSIZE);
	qmp_exchange_free(e);
}

TEST(what_is_not_the_protocol_ends_it)
{
	static const char *const bad[] = {
		"{\"return\": {}, \"id\": 1}\n",			 /* no greeting first */
		GREETING "{\"return\": {}, \"id\": 7}\n",		 /* another id */
		GREETING "{\"return\": {}}\n",				 /* no id */
		GREETING "{\"error\": {\"class\": \"x\"}, \"id\": 1}\n", /* an error reply */
		GREETING "[1, 2]\n",					 /* not an object */
		GREETING "{\"return\": {}, \"id\": 1} trailing\n",	 /* more on the line */
		GREETING "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]\n", /* too deep */
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct qmp_exchange *e = exchange();

		ASSERT_EQ(feed(e, bad[i]), -EPROTO);
		qmp_exchange_free(e);
	}
}

TEST(answers_are_checked)
{
	static const char *const bad[] = {
		"{\"return\": [{\"cpu-index\": -1, \"thread-id\": 3}], \"id\": 2}\n",
		"{\"return\": [{\"cpu-index\": 0, \"thread-id\": 0}], \"id\": 2}\n",
		"{\"return\": [{\"cpu-index\": 0, \"thread-id\": \"3\"}], \"id\": 2}\n",
		"{\"return\": {}, \"id\": 2}\n",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct qmp_exchange *e = exchange();

		ASSERT_EQ(feed(e, GREETING "{\"return\": {}, \"id\": 1}\n"), 0);
		ASSERT_EQ(feed(e, bad[i]), -EPROTO);
		qmp_exchange_free(e);
	}
}
