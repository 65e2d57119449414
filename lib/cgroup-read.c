/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cgroup-fs.h"
#include "cgroup-read.h"
#include "fileio.h"
#include "macro.h"
#include "size.h"

#define CGROUP_FILE_MAX (1024 * 1024)

int cgroup_read(int hierarchy_fd, const char *group, const char *file, char **ret)
{
	char path[4096];
	_cleanup_close_ int fd = -EBADF;
	int r;

	while (*group == '/')
		group++;
	if ((size_t)snprintf(path, sizeof(path), "%s%s%s", group, *group ? "/" : "", file) >=
	    sizeof(path))
		return -ENAMETOOLONG;
	fd = cgroup_open(hierarchy_fd, path, O_RDONLY); /* never leaves the hierarchy */
	if (fd < 0)
		return fd;
	r = read_fd(fd, CGROUP_FILE_MAX, ret, NULL);
	if (r < 0)
		return r;
	strip_trailing_space(*ret);
	return 0;
}

int cgroup_has_threads(int hierarchy_fd, const char *group, int version)
{
	char path[4096], byte;
	_cleanup_close_ int fd = -EBADF;
	int r = 0;
	DIR *d;

	while (*group == '/')
		group++;
	if ((size_t)snprintf(path, sizeof(path), "%s%s%s", group, *group ? "/" : "",
			     version == 1 ? "tasks" : "cgroup.threads") >= sizeof(path))
		return -ENAMETOOLONG;
	fd = cgroup_open(hierarchy_fd, path, O_RDONLY);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fd;
	switch (read(fd, &byte, 1)) { /* one TID is enough */
	case -1:
		return -errno;
	case 0:
		break;
	default:
		return 1;
	}
	fd = safe_close(fd);
	fd = cgroup_open(hierarchy_fd, group, O_RDONLY | O_DIRECTORY);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fd;
	d = fdopendir(fd);
	if (!d)
		return -errno;
	TAKE_FD(fd);
	for (struct dirent *de; r == 0 && (de = readdir(d));) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s%s%s", group, *group ? "/" : "",
				     de->d_name) >= sizeof(path))
			r = -ENAMETOOLONG;
		else
			r = cgroup_has_threads(hierarchy_fd, path, version);
	}
	closedir(d);
	return r;
}

/* v1 reports "no limit" as LONG_MAX rounded down to a page: anything this large is unlimited. */
#define V1_UNLIMITED_FLOOR (UINT64_C(1) << 62)

int cg_parse_limit(const char *s, uint64_t *ret)
{
	int64_t v;

	if (streq(s, "max") || streq(s, "-1")) {
		*ret = CG_UNLIMITED;
		return 0;
	}
	if (s[0] == '-' || parse_int64(s, &v) < 0)
		return -EINVAL;
	*ret = (uint64_t)v >= V1_UNLIMITED_FLOOR ? CG_UNLIMITED : (uint64_t)v;
	return 0;
}

int cg_parse_cpu_max(const char *s, uint64_t *ret_quota, uint64_t *ret_period)
{
	const char *space = strchr(s, ' ');
	char quota[32];
	int64_t period;

	if (!space || (size_t)(space - s) >= sizeof(quota))
		return -EINVAL;
	memcpy(quota, s, (size_t)(space - s));
	quota[space - s] = '\0';
	if (parse_int64(space + 1, &period) < 0 || period <= 0 ||
	    cg_parse_limit(quota, ret_quota) < 0)
		return -EINVAL;
	*ret_period = (uint64_t)period;
	return 0;
}

int cg_parse_weight(const char *s, uint64_t *ret)
{
	const char *v = strncmp(s, "default ", 8) == 0 ? s + 8 : s;
	char first[32];
	size_t n = strcspn(v, "\n");

	if (n >= sizeof(first))
		return -EINVAL;
	memcpy(first, v, n);
	first[n] = '\0';
	return cg_parse_limit(first, ret);
}

static bool read_limit(int fd, const char *group, const char *file, uint64_t *ret)
{
	_cleanup_free_ char *s = NULL;

	return cgroup_read(fd, group, file, &s) >= 0 && cg_parse_limit(s, ret) >= 0;
}

int cg_read_cpu(int fd, int version, const char *group, struct cg_cpu *ret)
{
	struct cg_cpu c = {};
	_cleanup_free_ char *max = NULL;

	if (version == 1) {
		c.have_shares = read_limit(fd, group, "cpu.shares", &c.shares);
		c.have_bandwidth = read_limit(fd, group, "cpu.cfs_period_us", &c.period) &&
				   read_limit(fd, group, "cpu.cfs_quota_us", &c.quota);
	} else {
		c.have_weight = read_limit(fd, group, "cpu.weight", &c.weight);
		c.have_bandwidth = cgroup_read(fd, group, "cpu.max", &max) >= 0 &&
				   cg_parse_cpu_max(max, &c.quota, &c.period) >= 0;
	}
	*ret = c;
	return 0;
}

int cg_read_memory(int fd, int version, const char *group, struct cg_memory *ret)
{
	struct cg_memory m = {};

	if (version == 1) {
		m.have_limit = read_limit(fd, group, "memory.limit_in_bytes", &m.limit);
		m.have_soft = read_limit(fd, group, "memory.soft_limit_in_bytes", &m.soft);
		m.have_swap = read_limit(fd, group, "memory.memsw.limit_in_bytes", &m.swap);
		m.have_usage = read_limit(fd, group, "memory.usage_in_bytes", &m.usage);
	} else {
		m.have_limit = read_limit(fd, group, "memory.max", &m.limit);
		m.have_soft = read_limit(fd, group, "memory.low", &m.soft);
		m.have_swap = read_limit(fd, group, "memory.swap.max", &m.swap);
		m.have_min = read_limit(fd, group, "memory.min", &m.min);
		m.have_usage = read_limit(fd, group, "memory.current", &m.usage);
	}
	*ret = m;
	return 0;
}

/* Appends the lines of file (if any) that carry a setting. */
static void gather(int fd, const char *group, const char *file, char **devices)
{
	_cleanup_free_ char *s = NULL;
	char *joined;

	if (cgroup_read(fd, group, file, &s) < 0 || !*s)
		return;
	if (asprintf(&joined, "%s%s%s: %s", *devices ?: "", *devices ? "\n" : "", file, s) < 0)
		return;
	free(*devices);
	*devices = joined;
}

int cg_read_io(int fd, int version, const char *group, struct cg_io *ret)
{
	static const char *const v1_device_files[] = {
		"blkio.bfq.weight_device",	    "blkio.throttle.read_bps_device",
		"blkio.throttle.write_bps_device",  "blkio.throttle.read_iops_device",
		"blkio.throttle.write_iops_device",
	};
	_cleanup_free_ char *s = NULL;
	struct cg_io io = {};
	const char *weight_file = version == 1 ? "blkio.bfq.weight" : "io.bfq.weight";

	/* $ cat io.bfq.weight      $ cat io.weight
	 * default 100              default 100 */
	if (cgroup_read(fd, group, weight_file, &s) >= 0)
		io.bfq = true;
	else if (version == 1)
		(void)cgroup_read(fd, group, "blkio.weight", &s);
	else
		(void)cgroup_read(fd, group, "io.weight", &s);
	if (s)
		io.have_weight = cg_parse_weight(s, &io.weight) >= 0;
	if (version == 1)
		for (size_t i = 0; i < ARRAY_SIZE(v1_device_files); i++)
			gather(fd, group, v1_device_files[i], &io.devices);
	else
		gather(fd, group, "io.max", &io.devices);
	*ret = io;
	return 0;
}

int cg_read_cpuset(int fd, int version, const char *group, struct cg_cpuset *ret)
{
	struct cg_cpuset c = {};

	(void)cgroup_read(fd, group, "cpuset.cpus", &c.cpus);
	(void)cgroup_read(fd, group, "cpuset.mems", &c.mems);
	if (version == 2 && c.cpus && !*c.cpus) {
		free(c.cpus);
		c.cpus = NULL;
		(void)cgroup_read(fd, group, "cpuset.cpus.effective", &c.cpus);
	}
	if (version == 2 && c.mems && !*c.mems) {
		free(c.mems);
		c.mems = NULL;
		(void)cgroup_read(fd, group, "cpuset.mems.effective", &c.mems);
	}
	*ret = c;
	return 0;
}

static const char *const v1_entry_files[] = {
	"blkio.bfq.weight_device",	    "blkio.throttle.read_bps_device",
	"blkio.throttle.write_bps_device",  "blkio.throttle.read_iops_device",
	"blkio.throttle.write_iops_device",
};
static const char *const v2_entry_files[] = { "io.bfq.weight", "io.weight", "io.max" };

/* $ cat blkio.throttle.read_bps_device        $ cat io.weight
 * 8:0 1048576                                 default 100
 *                                             8:0 160 */
static int add_entries(int fd, const char *group, const char *file, struct cg_io_entry **v,
		       size_t *n, size_t *allocated)
{
	_cleanup_free_ char *s = NULL;

	if (cgroup_read(fd, group, file, &s) < 0)
		return 0; /* no such file here */
	for (char *save = NULL, *l = strtok_r(s, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		unsigned maj, min;

		if (sscanf(l, "%u:%u ", &maj, &min) != 2)
			continue; /* "default 100" */
		if (GROW_ARRAY(*v, *allocated, *n + 1) < 0)
			return -ENOMEM;
		(*v)[(*n)++] = (struct cg_io_entry){ .file = file, .major = maj, .minor = min };
	}
	return 0;
}

int cg_read_io_entries(int fd, int version, const char *group, struct cg_io_entry **ret,
		       size_t *ret_n)
{
	const char *const *files = version == 1 ? v1_entry_files : v2_entry_files;
	size_t n_files = version == 1 ? ARRAY_SIZE(v1_entry_files) : ARRAY_SIZE(v2_entry_files);
	struct cg_io_entry *v = NULL;
	size_t n = 0, allocated = 0;
	int r = 0;

	for (size_t i = 0; r >= 0 && i < n_files; i++)
		r = add_entries(fd, group, files[i], &v, &n, &allocated);
	if (r < 0) {
		free(v);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

void cg_io_done(struct cg_io *io)
{
	free(io->devices);
	*io = (struct cg_io){};
}

void cg_cpuset_done(struct cg_cpuset *c)
{
	free(c->cpus);
	free(c->mems);
	*c = (struct cg_cpuset){};
}
