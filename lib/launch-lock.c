/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>

#include "launch-lock.h"
#include "macro.h"

static int launch_lock(const char *runtime_dir, int how)
{
	_cleanup_close_ int dir = open(runtime_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int fd = -EBADF;

	if (dir < 0)
		return -errno;
	fd = openat(dir, "launch.lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (flock(fd, how) < 0)
		if (errno != EINTR)
			return -errno;
	return TAKE_FD(fd);
}

int launch_lock_shared(const char *runtime_dir)
{
	return launch_lock(runtime_dir, LOCK_SH);
}

int launch_lock_exclusive(const char *runtime_dir)
{
	return launch_lock(runtime_dir, LOCK_EX | LOCK_NB);
}
