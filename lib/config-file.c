/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "config-file.h"
#include "macro.h"

/* The file or directory st (what: "" or "directory D is ") is root's, and only root may
 * change it. -EINVAL with a diagnostic when not. */
static int check_node(const struct stat *st, const char *path, const char *what,
		      struct diag_list *diags)
{
	bool sticky_dir = S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX);

	if (st->st_uid != 0)
		return diag_add(diags, DIAG_ERROR, path, 0, 0, NULL,
				"%sowned by uid %u, refused (allowed: owned by root)", what,
				(unsigned)st->st_uid)
			       ?: -EINVAL;
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) && !sticky_dir)
		return diag_add(diags, DIAG_ERROR, path, 0, 0, NULL,
				"%swritable by %s (mode %04o), refused (allowed: writable by root "
				"only%s; chmod go-w)",
				what, st->st_mode & S_IWOTH ? "others" : "its group",
				(unsigned)(st->st_mode & 07777),
				S_ISDIR(st->st_mode) ? ", or sticky as /tmp" : "")
			       ?: -EINVAL;
	return 0;
}

int config_check_owner(int fd, const char *path, struct diag_list *diags)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return diag_add(diags, DIAG_ERROR, path, 0, 0, NULL, "cannot stat: %m") ?: -EINVAL;
	return check_node(&st, path, "", diags);
}

/* dir (a real path: no symlinks) and each directory above it, up to /. */
static int check_ancestors(const char *dir, const char *path, struct diag_list *diags)
{
	char p[PATH_MAX], what[PATH_MAX + 16];

	if ((size_t)snprintf(p, sizeof(p), "%s", dir) >= sizeof(p))
		return diag_add(diags, DIAG_ERROR, path, 0, 0, NULL,
				"its directory's name is too long")
			       ?: -EINVAL;
	for (;;) {
		struct stat st;
		char *slash;
		int r;

		if (lstat(p, &st) < 0)
			return diag_add(diags, DIAG_ERROR, path, 0, 0, NULL, "cannot stat %s: %m",
					p)
				       ?: -EINVAL;
		(void)snprintf(what, sizeof(what), "directory %s is ", p);
		r = check_node(&st, path, what, diags);
		if (r < 0 || streq(p, "/"))
			return r;
		slash = strrchr(p, '/');
		if (!slash)
			return 0;
		slash[slash == p] = '\0'; /* "/etc" -> "/" */
	}
}

/* Where fd really is ("/etc/kvmtune/policy.d/10-web.yaml"), from /proc/self/fd. */
static int real_path(int fd, char ret[static PATH_MAX])
{
	char link[64];
	ssize_t n;

	(void)snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, ret, PATH_MAX - 1);
	if (n < 0)
		return -errno;
	ret[n] = '\0';
	return 0;
}

int config_dir_check(int dir_fd, const char *path, struct diag_list *diags)
{
	char real[PATH_MAX];
	int r = config_check_owner(dir_fd, path, diags);

	if (r < 0)
		return r;
	r = real_path(dir_fd, real);
	if (r < 0)
		return diag_add(diags, DIAG_ERROR, path, 0, 0, NULL, "cannot resolve: %s",
				strerror(-r))
			       ?: -EINVAL;
	/* The directory itself is checked above; from its parent up now. */
	return streq(real, "/") ? 0 : check_ancestors(dirname(real), path, diags);
}

static const char *type_of(mode_t m)
{
	return S_ISDIR(m)    ? "a directory"
	       : S_ISFIFO(m) ? "a FIFO"
	       : S_ISCHR(m)  ? "a character device"
	       : S_ISBLK(m)  ? "a block device"
	       : S_ISSOCK(m) ? "a socket"
			     : "something else";
}

/* The file's owner and mode; the directories above where it is, and above where its name is. */
static int check_file(int fd, const struct stat *st, const char *path, struct diag_list *diags)
{
	char real[PATH_MAX], named[PATH_MAX], copy[PATH_MAX];
	int r = check_node(st, path, "", diags);

	if (r < 0)
		return r;
	r = real_path(fd, real);
	if (r >= 0)
		r = check_ancestors(dirname(real), path, diags);
	if (r < 0)
		return r;
	/* The directory holding the name: a symlink there could be replaced by its writers. */
	(void)snprintf(copy, sizeof(copy), "%s", path);
	if (!realpath(dirname(copy), named))
		return diag_add(diags, DIAG_ERROR, path, 0, 0, NULL, "cannot resolve: %m")
			       ?: -EINVAL;
	return check_ancestors(named, path, diags);
}

int config_file_open(const char *path, bool check_owner, struct diag_list *diags)
{
	_cleanup_close_ int pfd = open(path, O_PATH | O_CLOEXEC);
	char reopen[64];
	struct stat st;
	int fd, r;

	if (pfd < 0 && errno == ENOENT)
		return -ENOENT;
	if (pfd < 0)
		return diag_add(diags, DIAG_ERROR, path, 0, 0, NULL, "cannot open: %m") ?: -EINVAL;
	if (fstat(pfd, &st) < 0)
		return diag_add(diags, DIAG_ERROR, path, 0, 0, NULL, "cannot stat: %m") ?: -EINVAL;
	if (!S_ISREG(st.st_mode))
		return diag_add(diags, DIAG_ERROR, path, 0, 0, NULL,
				"not a regular file but %s, not read (allowed: a YAML file)",
				type_of(st.st_mode))
			       ?: -EINVAL;
	if (check_owner) {
		r = check_file(pfd, &st, path, diags);
		if (r < 0)
			return r;
	}
	/* The very inode looked at, opened for reading now that it is known to be a file. */
	(void)snprintf(reopen, sizeof(reopen), "/proc/self/fd/%d", pfd);
	fd = open(reopen, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return diag_add(diags, DIAG_ERROR, path, 0, 0, NULL, "cannot open: %m") ?: -EINVAL;
	return fd;
}
