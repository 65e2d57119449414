/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The metrics writer: both text formats, escaping, histograms, the textfile's atomic write. */

#include <fcntl.h>
#include <sys/stat.h>

#include "fileio.h"
#include "macro.h"
#include "metrics.h"
#include "openmetrics.h"
#include "tests.h"

static const struct om_family used = { "test_cpu_usage_seconds", OM_COUNTER, "seconds",
				       "CPU \"used\"\\here\nnext line" };
static const struct om_family level = { "test_level", OM_GAUGE, NULL, "A level" };
static const struct om_family info = { "test_vm", OM_INFO, NULL, "Who" };
static const struct om_family never = { "test_never", OM_GAUGE, NULL, "Never sampled" };

static char *write_all(enum om_format format)
{
	struct om_writer w = { .format = format };
	char *text = NULL;

	om_declare(&w, &never);
	om_declare(&w, &level); /* declared before used: written before it */
	om_add_double(&w, &used, (const char *const[]){ "vm", "a\"b\\c\nd", "uuid", NULL, NULL },
		      1.5);
	om_add_u64(&w, &info, (const char *const[]){ "vm", "web", NULL }, 1);
	om_add_u64(&w, &level, NULL, 7);
	om_add_double(&w, &used, (const char *const[]){ "vm", "web", "group", "vcpu0", NULL },
		      35.123456789);
	ASSERT_OK(om_finish(&w, &text));
	om_writer_done(&w);
	return text;
}

TEST(openmetrics_text)
{
	_cleanup_free_ char *text = write_all(OM_OPENMETRICS);

	printf("%s", text);
	ASSERT_STREQ(text, "# HELP test_level A level\n"
			   "# TYPE test_level gauge\n"
			   "test_level 7\n"
			   "# HELP test_cpu_usage_seconds CPU \\\"used\\\"\\\\here\\nnext line\n"
			   "# TYPE test_cpu_usage_seconds counter\n"
			   "# UNIT test_cpu_usage_seconds seconds\n"
			   "test_cpu_usage_seconds_total{vm=\"a\\\"b\\\\c\\nd\"} 1.5\n"
			   "test_cpu_usage_seconds_total{vm=\"web\",group=\"vcpu0\"} 35.123456789\n"
			   "# HELP test_vm Who\n"
			   "# TYPE test_vm info\n"
			   "test_vm_info{vm=\"web\"} 1\n"
			   "# EOF\n");
}

TEST(prometheus_text)
{
	_cleanup_free_ char *text = write_all(OM_PROMETHEUS);

	printf("%s", text);
	/* 0.0.4: the series' names in HELP and TYPE, no UNIT, no EOF, quotes not escaped in
	 * HELP, info as a gauge */
	ASSERT_STREQ(text, "# HELP test_level A level\n"
			   "# TYPE test_level gauge\n"
			   "test_level 7\n"
			   "# HELP test_cpu_usage_seconds_total CPU \"used\"\\\\here\\nnext line\n"
			   "# TYPE test_cpu_usage_seconds_total counter\n"
			   "test_cpu_usage_seconds_total{vm=\"a\\\"b\\\\c\\nd\"} 1.5\n"
			   "test_cpu_usage_seconds_total{vm=\"web\",group=\"vcpu0\"} 35.123456789\n"
			   "# HELP test_vm_info Who\n"
			   "# TYPE test_vm_info gauge\n"
			   "test_vm_info{vm=\"web\"} 1\n");
}

TEST(daemon_histogram)
{
	struct daemon_counters c = { .vms = 2, .threads = 9, .errors = 1, .events = 40 };
	struct om_writer w = { .format = OM_OPENMETRICS };
	_cleanup_free_ char *text = NULL;

	c.reverts[REVERT_AFFINITY] = 3;
	daemon_counters_placed(&c, 0.0004); /* <= 1 ms */
	daemon_counters_placed(&c, 0.001);  /* the bound itself is in its bucket */
	daemon_counters_placed(&c, 0.02);   /* <= 25 ms */
	daemon_counters_placed(&c, 3600);   /* +Inf */
	metrics_add_daemon(&w, &c);
	ASSERT_OK(om_finish(&w, &text));
	om_writer_done(&w);
	printf("%s", text);
	ASSERT_TRUE(strstr(text,
			   "# TYPE kvmtune_daemon_thread_placement_seconds histogram\n"
			   "# UNIT kvmtune_daemon_thread_placement_seconds seconds\n"
			   "kvmtune_daemon_thread_placement_seconds_bucket{le=\"0.001\"} 2\n"
			   "kvmtune_daemon_thread_placement_seconds_bucket{le=\"0.0025\"} 2\n"));
	ASSERT_TRUE(strstr(text, "_bucket{le=\"0.025\"} 3\n"));
	ASSERT_TRUE(strstr(text, "_bucket{le=\"60\"} 3\n"
				 "kvmtune_daemon_thread_placement_seconds_bucket{le=\"+Inf\"} 4\n"
				 "kvmtune_daemon_thread_placement_seconds_count 4\n"
				 "kvmtune_daemon_thread_placement_seconds_sum 3600.0214\n"));
	ASSERT_TRUE(strstr(text, "kvmtune_daemon_drift_reverts_total{kind=\"affinity\"} 3\n"));
	ASSERT_TRUE(strstr(text, "kvmtune_daemon_vms 2\n"));
	ASSERT_TRUE(strstr(text, "kvmtune_daemon_enforcement_errors_total 1\n"));
	/* no pass yet: no duration, rather than a 0 */
	ASSERT_FALSE(strstr(text, "last_full_pass_duration_seconds "));
	ASSERT_TRUE(strstr(text, "# EOF\n"));
}

TEST(names)
{
	ASSERT_TRUE(om_name_is_valid("kvmtune_cpu_usage_seconds", false));
	ASSERT_TRUE(om_name_is_valid("a:b", false));
	ASSERT_FALSE(om_name_is_valid("a:b", true));
	ASSERT_FALSE(om_name_is_valid("0abc", true));
	ASSERT_FALSE(om_name_is_valid("a-b", false));
}

TEST(textfile_atomic)
{
	char dir[] = "/tmp/kvmtune-textfile-XXXXXX", path[256], tmp[256];
	_cleanup_free_ char *text = NULL;
	_cleanup_close_ int old = -EBADF;
	struct stat st;

	ASSERT_TRUE(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/kvmtune.prom", dir);
	snprintf(tmp, sizeof(tmp), "%s/.kvmtune.prom.tmp", dir);
	ASSERT_OK(metrics_write_file(path, "a 1\n"));
	old = open(path, O_RDONLY | O_CLOEXEC); /* a reader in the middle of the old file */
	ASSERT_TRUE(old >= 0);
	ASSERT_OK(metrics_write_file(path, "a 2\n"));
	ASSERT_OK(read_file_at(AT_FDCWD, path, 4096, &text, NULL));
	ASSERT_STREQ(text, "a 2\n");
	free(text);
	ASSERT_OK(read_fd(old, 4096, &text, NULL)); /* it still reads the old whole file */
	ASSERT_STREQ(text, "a 1\n");
	ASSERT_EQ(stat(path, &st), 0);
	ASSERT_EQ(st.st_mode & 07777, 0644);
	ASSERT_TRUE(access(tmp, F_OK) < 0); /* the temporary name is gone */
	/* a missing directory is an error, not a file somewhere else */
	snprintf(path, sizeof(path), "%s/none/kvmtune.prom", dir);
	ASSERT_EQ(metrics_write_file(path, "x\n"), -ENOENT);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	ASSERT_EQ(system(path), 0);
}
