/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/*
 * Reads a whole file at dirfd/path (path relative; dirfd may be AT_FDCWD) into a NUL-terminated
 * buffer of at most max bytes. Returns 0, -EFBIG when the file is larger than max, or -errno.
 * Fills *ret_size (may be NULL) with the length. The caller frees *ret.
 */
int read_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_size);

/* Reads everything from fd, as above. */
int read_fd(int fd, size_t max, char **ret, size_t *ret_size);

/* Strips trailing whitespace (the newline of a sysfs/procfs file) in place; returns s. */
char *strip_trailing_space(char *s);
