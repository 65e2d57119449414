/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>

#include "settings.h"
#include "tests.h"

static char dir[] = "/tmp/kvmtune-test-XXXXXX";
static bool dir_made;

static const char *write_settings(const char *text)
{
	static char path[512];
	int fd;

	/* Once: mkdtemp() may well end the name it makes in an 'X'. */
	if (!dir_made) {
		ASSERT_TRUE(mkdtemp(dir));
		dir_made = true;
	}
	snprintf(path, sizeof(path), "%s/kvmtuned.yaml", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(write(fd, text, strlen(text)), (long long)strlen(text));
	close(fd);
	return path;
}

TEST(defaults)
{
	struct settings s = {};

	ASSERT_OK(settings_defaults(&s));
	ASSERT_EQ(s.backend.value, BACKEND_AUTO);
	ASSERT_STREQ(s.cgroup_parent.value, "machine.slice");
	ASSERT_EQ(s.n_qemu_binaries, 4);
	ASSERT_STREQ(s.qemu_binaries[0], "/usr/bin/qemu-system-*");
	ASSERT_EQ(s.skip_managed.value, 1);
	ASSERT_EQ(s.rescan_interval_usec.value, 30000000);
	ASSERT_EQ(s.qmp.value, 1);
	settings_done(&s);
}

TEST(missing_file_keeps_defaults)
{
	struct settings s = {};
	struct diag_list d = {};

	ASSERT_OK(settings_defaults(&s));
	ASSERT_OK(settings_load("/nonexistent/kvmtuned.yaml", true, &s, &d));
	ASSERT_EQ(d.n, 0);
	ASSERT_STREQ(s.cgroup_parent.value, "machine.slice");
	settings_done(&s);
}

TEST(every_key)
{
	struct settings s = {};
	struct diag_list d = {};
	const char *p =
		write_settings("backend: cgroupfs\ncgroup_parent: /kvmtune-test.slice\n"
			       "qemu_binaries: [\"/opt/q/bin/qemu-*\"]\nskip_managed: false\n"
			       "rescan_interval: 5min\nqmp: false\n");
	char *text;
	int r;

	ASSERT_OK(settings_defaults(&s));
	r = settings_load(p, false, &s, &d);
	diag_list_print(&d, stdout);
	ASSERT_OK(r);
	ASSERT_EQ(d.n, 0);
	ASSERT_EQ(s.backend.value, BACKEND_CGROUPFS);
	ASSERT_STREQ(s.cgroup_parent.value, "kvmtune-test.slice");
	ASSERT_EQ(s.n_qemu_binaries, 1);
	ASSERT_EQ(s.skip_managed.value, 0);
	ASSERT_EQ(s.qmp.value, 0);
	ASSERT_EQ(s.rescan_interval_usec.value, 300000000);
	ASSERT_OK(settings_dump(&s, &text));
	ASSERT_STREQ(text, "backend: cgroupfs\ncgroup_parent: \"kvmtune-test.slice\"\n"
			   "qemu_binaries:\n  - \"/opt/q/bin/qemu-*\"\nskip_managed: false\n"
			   "rescan_interval: 5min\nqmp: false\n");
	free(text);
	settings_done(&s);
}

TEST(metrics_textfile)
{
	static const char *const bad[] = { "kvmtune.prom", "/var/lib/node/kvmtune.txt", "/.prom",
					   "/var/lib/node/" };
	struct settings s = {};
	struct diag_list d = {};
	const char *p = write_settings("metrics_textfile: /var/lib/prometheus/node-exporter/"
				       "kvmtune.prom\n");
	char *text;

	ASSERT_OK(settings_defaults(&s));
	ASSERT_TRUE(s.metrics_textfile.value == NULL); /* off by default */
	ASSERT_OK(settings_load(p, false, &s, &d));
	ASSERT_STREQ(s.metrics_textfile.value, "/var/lib/prometheus/node-exporter/kvmtune.prom");
	ASSERT_OK(settings_dump(&s, &text));
	ASSERT_TRUE(strstr(text, "\nmetrics_textfile: "
				 "\"/var/lib/prometheus/node-exporter/kvmtune.prom\"\n"));
	free(text);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char yaml[128];

		diag_list_done(&d);
		snprintf(yaml, sizeof(yaml), "metrics_textfile: \"%s\"\n", bad[i]);
		ASSERT_OK(settings_defaults(&s));
		ASSERT_ERROR(settings_load(write_settings(yaml), false, &s, &d), EINVAL);
		ASSERT_EQ(d.n_errors, 1);
		ASSERT_TRUE(
			strstr(d.items[0].message, "allowed: an absolute path ending in .prom"));
		ASSERT_TRUE(s.metrics_textfile.value == NULL);
	}
	diag_list_done(&d);
	settings_done(&s);
}

TEST(errors_keep_old_settings)
{
	struct settings s = {};
	struct diag_list d = {};
	const char *p = write_settings("backend: systemdd\ncgroup_parent: ../escape\n"
				       "qemu_binaries: [qemu]\nskip_managed: yes\n"
				       "rescan_interval: 0s\nqmp: true\nextra: 1\n");

	ASSERT_OK(settings_defaults(&s));
	ASSERT_ERROR(settings_load(p, false, &s, &d), EINVAL);
	diag_list_print(&d, stdout);
	ASSERT_EQ(d.n_errors, 6);
	ASSERT_TRUE(strstr(d.items[0].message, "did you mean 'systemd'"));
	ASSERT_EQ(d.items[1].line, 2);
	ASSERT_TRUE(strstr(d.items[1].message, "'..'"));
	ASSERT_TRUE(strstr(d.items[2].message, "not absolute"));
	ASSERT_TRUE(strstr(d.items[3].message, "allowed: true, false"));
	ASSERT_TRUE(strstr(d.items[4].message, "out of range"));
	ASSERT_STREQ(d.items[5].key, "extra");
	/* nothing half-applied */
	ASSERT_EQ(s.backend.value, BACKEND_AUTO);
	ASSERT_STREQ(s.cgroup_parent.value, "machine.slice");
	ASSERT_EQ(s.rescan_interval_usec.value, 30000000);
	diag_list_done(&d);
	settings_done(&s);
	ASSERT_OK(unlink(p) == 0 ? 0 : -errno);
	ASSERT_OK(rmdir(dir) == 0 ? 0 : -errno);
}
