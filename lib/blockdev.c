/* SPDX-License-Identifier: LGPL-2.1-or-later */
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
	*ret = (struct blockdev){ .major = major, .minor = minor };
	read_scheduler(sys_fd, major, minor, ret->scheduler, sizeof(ret->scheduler));
	return 0;
}
