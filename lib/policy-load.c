/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "config-file.h"
#include "fileio.h"
#include "policy-load.h"

int policy_load_file(const char *path, const struct policy_env *env, struct policy_file **ret,
		     struct diag_list *diags)
{
	_cleanup_close_ int fd = config_file_open(path, env->check_owner, diags);
	_cleanup_free_ char *text = NULL;
	size_t size;
	int r;

	if (fd == -ENOENT)
		return diag_add(diags, DIAG_ERROR, path, 0, 0, NULL,
				"cannot open: No such file or directory")
			       ?: -EINVAL;
	if (fd < 0)
		return fd;
	r = read_fd(fd, POLICY_FILE_SIZE_MAX, &text, &size);
	if (r == -EFBIG)
		return diag_add(diags, DIAG_ERROR, path, 0, 0, NULL,
				"larger than %d bytes (allowed: at most %d bytes; split it)",
				POLICY_FILE_SIZE_MAX, POLICY_FILE_SIZE_MAX)
			       ?: -EINVAL;
	if (r < 0)
		return diag_add(diags, DIAG_ERROR, path, 0, 0, NULL, "cannot read: %s",
				strerror(-r))
			       ?: -EINVAL;
	return policy_parse(path, text, size, env, ret, diags);
}

static bool is_policy_name(const char *name)
{
	if (name[0] == '.')
		return false;
	return has_suffix(name, ".yaml") || has_suffix(name, ".yml");
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int policy_list_dir(const char *dir, const struct policy_env *env, char ***ret_paths, size_t *ret_n,
		    struct diag_list *diags)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char **paths = NULL;
	size_t n = 0, allocated = 0;
	DIR *d;
	int r = 0;

	if (fd < 0)
		return -errno;
	if (env->check_owner) {
		r = config_dir_check(fd, dir, diags);
		if (r < 0)
			return r;
	}
	d = fdopendir(fd);
	if (!d)
		return -errno;
	fd = -EBADF; /* owned by d now */
	for (struct dirent *de; (errno = 0, de = readdir(d));) {
		if (!is_policy_name(de->d_name))
			continue;
		if (n >= POLICY_FILES_MAX) {
			r = diag_add(diags, DIAG_ERROR, dir, 0, 0, NULL,
				     "more than %d policy files (allowed: at most %d)",
				     POLICY_FILES_MAX, POLICY_FILES_MAX)
				    ?: -EINVAL;
			break;
		}
		r = GROW_ARRAY(paths, allocated, n + 1);
		if (r < 0)
			break;
		if (asprintf(&paths[n], "%s/%s", dir, de->d_name) < 0) {
			r = -ENOMEM;
			break;
		}
		n++;
	}
	if (r == 0 && errno != 0)
		r = -errno;
	closedir(d);
	if (r < 0) {
		free_strv(paths, n);
		return r;
	}
	if (n > 0)
		qsort(paths, n, sizeof(char *), compare_strings);
	*ret_paths = paths;
	*ret_n = n;
	return 0;
}
