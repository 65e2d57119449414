/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "cgroup-fs.h"
#include "cgroup-write.h"
#include "macro.h"

int cgroup_exists(int hierarchy_fd, const char *group)
{
	int fd = cgroup_open(hierarchy_fd, group, O_PATH | O_DIRECTORY);

	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fd;
	safe_close(fd);
	return 1;
}

/* Splits "a/b/c" into the parent's fd and "c". */
static int open_parent(int hierarchy_fd, const char *group, const char **ret_name)
{
	char parent[4096];
	const char *slash = strrchr(group, '/');

	if (!cgroup_path_is_safe(group) || !*group)
		return -EINVAL;
	if (!slash) {
		*ret_name = group;
		return cgroup_open(hierarchy_fd, "", O_PATH | O_DIRECTORY);
	}
	if ((size_t)(slash - group) >= sizeof(parent))
		return -ENAMETOOLONG;
	memcpy(parent, group, (size_t)(slash - group));
	parent[slash - group] = '\0';
	*ret_name = slash + 1;
	return cgroup_open(hierarchy_fd, parent, O_PATH | O_DIRECTORY);
}

int cgroup_mkdir(int hierarchy_fd, const char *group)
{
	const char *name;
	_cleanup_close_ int fd = open_parent(hierarchy_fd, group, &name);

	if (fd < 0)
		return fd;
	return mkdirat(fd, name, 0755) < 0 ? -errno : 0;
}

int cgroup_write(int hierarchy_fd, const char *group, const char *file, const char *value)
{
	_cleanup_close_ int dir = cgroup_open(hierarchy_fd, group, O_PATH | O_DIRECTORY);
	_cleanup_close_ int fd = -EBADF;
	size_t n = strlen(value);
	ssize_t w;

	if (dir < 0)
		return dir;
	if (strchr(file, '/'))
		return -EINVAL;
	fd = openat(dir, file, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	w = write(fd, value, n);
	if (w < 0)
		return -errno;
	return (size_t)w == n ? 0 : -EIO;
}

int cgroup_rmdir_tree(int hierarchy_fd, const char *group)
{
	const char *name;
	_cleanup_close_ int parent = open_parent(hierarchy_fd, group, &name);
	int dfd, r = 0;
	DIR *d;

	if (parent < 0)
		return parent;
	dfd = cgroup_open(hierarchy_fd, group, O_RDONLY | O_DIRECTORY);
	if (dfd == -ENOENT)
		return 0;
	if (dfd < 0)
		return dfd;
	d = fdopendir(dfd);
	if (!d) {
		safe_close(dfd);
		return -errno;
	}
	for (struct dirent *de; (de = readdir(d));) {
		char child[4096];

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		(void)snprintf(child, sizeof(child), "%s/%s", group, de->d_name);
		r = cgroup_rmdir_tree(hierarchy_fd, child);
		if (r < 0)
			break;
	}
	closedir(d);
	if (r < 0)
		return r;
	return unlinkat(parent, name, AT_REMOVEDIR) < 0 ? -errno : 0;
}
