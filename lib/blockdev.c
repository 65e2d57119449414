/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "blockdev.h"
#include "fileio.h"
#include "macro.h"

/* $ cat /sys/dev/block/254:0/queue/scheduler
 * none [mq-deadline] kyber bfq */
static void read_scheduler(int sys_fd, unsigned major, unsigned minor, char *buf, size_t size)
{
	_cleanup_free_ char *s = NULL;
	char path[64];
	char *open, *close;

	(void)snprintf(buf, size, "?");
	(void)snprintf(path, sizeof(path), "dev/block/%u:%u/queue/scheduler", major, minor);
	if (read_file_at(sys_fd, path, 4096, &s, NULL) < 0)
		return;
	open = strchr(s, '[');
	close = open ? strchr(open, ']') : NULL;
	if (open && close)
		(void)snprintf(buf, size, "%.*s", (int)(close - open - 1), open + 1);
	else
		(void)snprintf(buf, size, "%s", strip_trailing_space(s));
}

/* $ ls /sys/dev/block/253:0/slaves
 * vda2 */
static bool has_slaves(int sys_fd, unsigned major, unsigned minor)
{
	char path[64];
	int fd;
	DIR *d;
	bool found = false;

	(void)snprintf(path, sizeof(path), "dev/block/%u:%u/slaves", major, minor);
	fd = openat(sys_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || !(d = fdopendir(fd))) {
		safe_close(fd);
		return false;
	}
	for (struct dirent *de; !found && (de = readdir(d));)
		found = de->d_name[0] != '.';
	closedir(d);
	return found;
}

int blockdev_resolve(int sys_fd, const char *path, struct blockdev *ret)
{
	struct stat st;
	char link[64], dev[64];
	unsigned major, minor;

	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISBLK(st.st_mode))
		return -ENOTBLK;
	major = major(st.st_rdev);
	minor = minor(st.st_rdev);
	/* A partition has a "partition" file; its disk is the parent directory, whose dev says
	 * the disk's MAJ:MIN. */
	(void)snprintf(link, sizeof(link), "dev/block/%u:%u/partition", major, minor);
	if (faccessat(sys_fd, link, F_OK, 0) == 0) {
		_cleanup_free_ char *s = NULL;

		(void)snprintf(dev, sizeof(dev), "dev/block/%u:%u/../dev", major, minor);
		if (read_file_at(sys_fd, dev, 64, &s, NULL) >= 0 &&
		    sscanf(s, "%u:%u", &major, &minor) != 2)
			return -EINVAL;
	}
	*ret = (struct blockdev){ .major = major,
				  .minor = minor,
				  .stacked = has_slaves(sys_fd, major, minor) };
	read_scheduler(sys_fd, major, minor, ret->scheduler, sizeof(ret->scheduler));
	return 0;
}
