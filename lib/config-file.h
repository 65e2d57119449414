/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Opening configuration files the careful way. A name in a configuration directory could be a
 * FIFO (open would block for ever), a device (open alone can act: a watchdog, a tape), or a
 * symlink into a directory someone else may write: so every file is looked up with O_PATH
 * first, only a regular file is opened for reading, and (as sshd's StrictModes does, but all
 * the way up) the file and every directory above it, where the name is and where a symlink
 * leads, must be root's and not writable by group or others. A sticky directory (/tmp) counts
 * as safe for the root-owned entries in it: nobody else may rename or remove them.
 */

#include <stdbool.h>

#include "diag.h"

/*
 * Opens path for reading. Returns the fd; -ENOENT when there is no such file (nothing added to
 * diags: the caller says whether that is fine); -EINVAL with what is wrong added to diags;
 * -ENOMEM.
 */
int config_file_open(const char *path, bool check_owner, struct diag_list *diags);

/*
 * Checks the directory fd (opened from path) and every directory above it as above. Returns 0,
 * -EINVAL with diags added, -ENOMEM.
 */
int config_dir_check(int dir_fd, const char *path, struct diag_list *diags);

/* Checks fd (opened from path) alone: root's, writable by root only. Same returns. */
int config_check_owner(int fd, const char *path, struct diag_list *diags);
