/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "fileio.h"
#include "macro.h"
#include "proc.h"
#include "size.h"

#define PROC_FILE_MAX (1024 * 1024)

static void task_path(char *buf, size_t size, pid_t pid, pid_t tid, const char *file)
{
	if (tid > 0)
		(void)snprintf(buf, size, "%d/task/%d/%s", (int)pid, (int)tid, file);
	else
		(void)snprintf(buf, size, "%d/%s", (int)pid, file);
}

static int read_task_file(int proc_fd, pid_t pid, pid_t tid, const char *file, char **ret)
{
	char path[64];

	task_path(path, sizeof(path), pid, tid, file);
	return read_file_at(proc_fd, path, PROC_FILE_MAX, ret, NULL);
}

int proc_stat_parse(const char *buf, struct proc_stat *ret)
{
	const char *open = strchr(buf, '('), *close = strrchr(buf, ')');
	struct proc_stat s = {};
	unsigned long long v[50];
	const char *p;
	size_t n = 0;

	if (!open || !close || close < open || close[1] != ' ' || !close[2])
		return -EINVAL;
	(void)snprintf(s.comm, sizeof(s.comm), "%.*s", (int)(close - open - 1), open + 1);
	s.state = close[2];
	/* Fields 4.. are numbers (some negative: print them as unsigned, we read few). */
	for (p = close + 3; *p && n < ARRAY_SIZE(v); n++) {
		char *end;

		while (*p == ' ')
			p++;
		if (!*p || *p == '\n')
			break;
		v[n] = strtoull(p, &end, 10);
		if (end == p)
			return -EINVAL;
		p = end;
	}
	/* v[i] is field i + 4 (1-based, as proc(5) counts). */
	if (n < 41 - 3)
		return -EINVAL;
	s.ppid = (pid_t)v[0];
	s.flags = (unsigned)v[9 - 4];
	s.utime = v[14 - 4];
	s.stime = v[15 - 4];
	s.starttime = v[22 - 4];
	s.processor = (int)v[39 - 4];
	s.rt_priority = (unsigned)v[40 - 4];
	s.policy = (unsigned)v[41 - 4];
	*ret = s;
	return 0;
}

int proc_read_stat(int proc_fd, pid_t pid, pid_t tid, struct proc_stat *ret)
{
	_cleanup_free_ char *buf = NULL;
	int r = read_task_file(proc_fd, pid, tid, "stat", &buf);

	if (r < 0)
		return r;
	return proc_stat_parse(buf, ret);
}

static int compare_pids(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

static int list_numeric(int dir_fd, pid_t **ret, size_t *ret_n)
{
	_cleanup_free_ pid_t *v = NULL;
	size_t n = 0, allocated = 0;
	DIR *d = fdopendir(dir_fd);
	int r = 0;

	if (!d) {
		safe_close(dir_fd);
		return -errno;
	}
	for (struct dirent *de; (errno = 0, de = readdir(d));) {
		int64_t id;

		if (!isdigit((unsigned char)de->d_name[0]) || parse_int64(de->d_name, &id) < 0 ||
		    id <= 0 || id > INT32_MAX)
			continue;
		r = GROW_ARRAY(v, allocated, n + 1);
		if (r < 0)
			break;
		v[n++] = (pid_t)id;
	}
	if (r == 0 && errno)
		r = -errno;
	closedir(d);
	if (r < 0)
		return r;
	if (n > 0)
		qsort(v, n, sizeof(pid_t), compare_pids);
	*ret = TAKE_PTR(v);
	*ret_n = n;
	return 0;
}

int proc_list_pids(int proc_fd, pid_t **ret, size_t *ret_n)
{
	int fd = openat(proc_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	return list_numeric(fd, ret, ret_n);
}

static int list_subdir(int proc_fd, pid_t pid, const char *sub, pid_t **ret, size_t *ret_n)
{
	char path[32];
	int fd;

	(void)snprintf(path, sizeof(path), "%d/%s", (int)pid, sub);
	fd = openat(proc_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return list_numeric(fd, ret, ret_n);
}

int proc_list_tids(int proc_fd, pid_t pid, pid_t **ret, size_t *ret_n)
{
	return list_subdir(proc_fd, pid, "task", ret, ret_n);
}

int proc_list_fds(int proc_fd, pid_t pid, int **ret, size_t *ret_n)
{
	_Static_assert(sizeof(pid_t) == sizeof(int), "fd numbers are listed as pid_t");
	return list_subdir(proc_fd, pid, "fd", (pid_t **)ret, ret_n);
}

int proc_read_link(int proc_fd, pid_t pid, const char *name, char **ret)
{
	char path[64], buf[4097];
	ssize_t n;

	(void)snprintf(path, sizeof(path), "%d/%s", (int)pid, name);
	n = readlinkat(proc_fd, path, buf, sizeof(buf) - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	*ret = strdup(buf);
	return *ret ? 0 : -ENOMEM;
}

int proc_read_exe(int proc_fd, pid_t pid, char **ret)
{
	static const char deleted[] = " (deleted)";
	char *exe;
	int r = proc_read_link(proc_fd, pid, "exe", &exe);

	if (r < 0)
		return r;
	if (has_suffix(exe, deleted))
		exe[strlen(exe) - (sizeof(deleted) - 1)] = '\0';
	*ret = exe;
	return 0;
}

int proc_read_cmdline(int proc_fd, pid_t pid, char **ret, size_t *ret_size)
{
	char path[32];

	(void)snprintf(path, sizeof(path), "%d/cmdline", (int)pid);
	return read_file_at(proc_fd, path, PROC_FILE_MAX, ret, ret_size);
}

int proc_read_comm(int proc_fd, pid_t pid, pid_t tid, char **ret)
{
	char *buf;
	int r = read_task_file(proc_fd, pid, tid, "comm", &buf);

	if (r < 0)
		return r;
	/* Only the newline: a comm may end in spaces. */
	buf[strcspn(buf, "\n")] = '\0';
	*ret = buf;
	return 0;
}

int proc_status_field_parse(const char *buf, const char *field, char **ret)
{
	size_t n = strlen(field);

	for (const char *line = buf; line && *line;
	     line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
		if (strncmp(line, field, n) == 0 && line[n] == ':') {
			const char *v = line + n + 1;

			v += strspn(v, " \t");
			*ret = strndup(v, strcspn(v, "\n"));
			return *ret ? 0 : -ENOMEM;
		}
	return -ENODATA;
}

int proc_read_status_field(int proc_fd, pid_t pid, pid_t tid, const char *field, char **ret)
{
	_cleanup_free_ char *buf = NULL;
	int r = read_task_file(proc_fd, pid, tid, "status", &buf);

	if (r < 0)
		return r;
	return proc_status_field_parse(buf, field, ret);
}

int proc_syscall_parse(const char *buf, struct proc_syscall *ret)
{
	struct proc_syscall s = {};
	const char *p = buf;
	char *end;

	if (strncmp(buf, "running", 7) == 0)
		return -EBUSY;
	s.nr = strtol(p, &end, 10);
	if (end == p)
		return -EINVAL;
	if (s.nr < 0)
		return -EBUSY; /* "-1 sp pc": not in a system call */
	p = end;
	for (size_t i = 0; i < ARRAY_SIZE(s.args); i++) {
		while (*p == ' ')
			p++;
		s.args[i] = strtoull(p, &end, 16);
		if (end == p)
			return -EINVAL;
		p = end;
	}
	*ret = s;
	return 0;
}

int proc_read_syscall(int proc_fd, pid_t pid, pid_t tid, struct proc_syscall *ret)
{
	_cleanup_free_ char *buf = NULL;
	int r = read_task_file(proc_fd, pid, tid, "syscall", &buf);

	if (r < 0)
		return r;
	return proc_syscall_parse(buf, ret);
}

/* Is controller in the comma-separated list ("cpu,cpuacct")? */
static bool list_has(const char *list, const char *controller)
{
	size_t n = strlen(controller);

	for (const char *c = list; c; c = strchr(c, ','), c = c ? c + 1 : NULL)
		if (strncmp(c, controller, n) == 0 && (c[n] == ',' || c[n] == '\0'))
			return true;
	return false;
}

/*
 * $ cat /proc/self/cgroup
 * 12:cpuset:/kvmtune-test
 * 4:cpu,cpuacct:/
 * 0::/
 * controller NULL asks for the unified ("0::") line.
 */
int proc_cgroup_parse(const char *buf, const char *controller, char **ret)
{
	for (const char *line = buf; line && *line;
	     line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		size_t len = strcspn(line, "\n");
		const char *ctrls = memchr(line, ':', len), *path;
		_cleanup_free_ char *list = NULL;

		if (!ctrls || !(path = memchr(ctrls + 1, ':', len - (size_t)(ctrls + 1 - line))))
			continue;
		list = strndup(ctrls + 1, (size_t)(path - ctrls - 1));
		if (!list)
			return -ENOMEM;
		if (controller ? list_has(list, controller) : *list == '\0') {
			path++;
			*ret = strndup(path, len - (size_t)(path - line));
			return *ret ? 0 : -ENOMEM;
		}
	}
	return -ENODATA;
}

int proc_read_cgroup_file(int proc_fd, pid_t pid, pid_t tid, char **ret)
{
	return read_task_file(proc_fd, pid, tid, "cgroup", ret);
}

int proc_read_cgroup(int proc_fd, pid_t pid, pid_t tid, const char *controller, char **ret)
{
	_cleanup_free_ char *buf = NULL;
	int r = proc_read_cgroup_file(proc_fd, pid, tid, &buf);

	if (r < 0)
		return r;
	return proc_cgroup_parse(buf, controller, ret);
}
