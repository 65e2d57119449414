/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy-set.h"
#include "yaml-load.h"

/* Whether f fits beside what set holds (POLICY_SET_NODES_MAX); -EINVAL, named in diags, if not. */
static int check_nodes(const struct policy_set *set, const struct policy_file *f,
		       struct diag_list *diags)
{
	if (f->n_nodes <= POLICY_SET_NODES_MAX - set->n_nodes)
		return 0;
	return diag_add(diags, DIAG_ERROR, f->path, 0, 0, NULL,
			"with the policy files before it, more than %d YAML nodes; this file is "
			"left out (allowed: at most %d in all policy files together, %d in one)",
			POLICY_SET_NODES_MAX, POLICY_SET_NODES_MAX, YLOAD_NODES_MAX)
		       ?: -EINVAL;
}

/* Appends f to set, counting its nodes; f stays the caller's on failure. */
static int append(struct policy_set *set, struct policy_file *f)
{
	int r = GROW_ARRAY(set->files, set->allocated, set->n_files + 1);

	if (r < 0)
		return r;
	set->files[set->n_files++] = f;
	set->n_nodes += f->n_nodes;
	return 0;
}

int policy_set_add(struct policy_set *set, struct policy_file *f, struct diag_list *diags)
{
	int r = check_nodes(set, f, diags) ?: append(set, f);

	if (r < 0)
		policy_file_free(f);
	return r;
}

static int add_file(struct policy_set *set, const char *path, const struct policy_env *env,
		    struct diag_list *diags)
{
	struct policy_file *f = NULL;
	int r = policy_load_file(path, env, &f, diags);

	if (r >= 0)
		r = policy_set_add(set, f, diags);
	return r == -EINVAL ? 0 : r; /* reported; the file is left out as a whole */
}

int policy_set_load(struct policy_set *set, const char *const *paths, size_t n_paths,
		    const struct policy_env *env, struct diag_list *diags)
{
	for (size_t i = 0; i < n_paths; i++) {
		struct stat st;
		char **files = NULL;
		size_t n = 0;
		int r;

		if (stat(paths[i], &st) < 0 || !S_ISDIR(st.st_mode)) {
			r = add_file(set, paths[i], env, diags);
			if (r < 0)
				return r;
			continue;
		}
		r = policy_list_dir(paths[i], env, &files, &n, diags);
		if (r == -EINVAL)
			continue;
		if (r < 0)
			return r;
		for (size_t j = 0; j < n; j++) {
			if (r >= 0)
				r = add_file(set, files[j], env, diags);
			free(files[j]);
		}
		free(files);
		if (r < 0)
			return r;
	}
	return 0;
}

int policy_set_effective(const struct policy_set *set, const struct vm_identity *id,
			 struct policy *ret, struct policy_fit **ret_fits, size_t *ret_n_fits)
{
	struct policy_fit *fits = NULL;
	size_t n_fits = 0, allocated = 0;
	int merged = 0, r = 0;

	for (size_t i = 0; r >= 0 && i < set->n_files; i++)
		FOREACH_ARRAY (doc, set->files[i]->docs, set->files[i]->n_docs) {
			const char *missing = NULL;
			int fits_id = policy_matches(doc, id, &missing);

			if (!fits_id && !missing)
				continue;
			r = GROW_ARRAY(fits, allocated, n_fits + 1);
			if (r < 0)
				break;
			fits[n_fits++] = (struct policy_fit){ .doc = doc, .missing = missing };
			if (!fits_id)
				continue;
			r = policy_merge(ret, doc);
			if (r < 0)
				break;
			merged++;
		}
	if (r < 0) {
		free(fits);
		return r;
	}
	*ret_fits = fits;
	*ret_n_fits = n_fits;
	return merged;
}

char *policy_dir_of(const char *config_dir)
{
	char *dir;

	return asprintf(&dir, "%s/policy.d", config_dir) < 0 ? NULL : dir;
}

char *policy_runtime_dir_of(const char *runtime_dir)
{
	char *dir;

	if (!runtime_dir)
		return NULL;
	return asprintf(&dir, "%s/policy.d", runtime_dir) < 0 ? NULL : dir;
}

/* The policy directories that exist, /etc's first: 0 (n may be 0), or -ENOMEM. */
static int config_dirs(const char *config_dir, const char *runtime_dir, char *ret[static 2],
		       size_t *ret_n)
{
	char *dirs[2] = { policy_dir_of(config_dir), NULL };

	if (!dirs[0] || (runtime_dir && !(dirs[1] = policy_runtime_dir_of(runtime_dir)))) {
		free(dirs[0]);
		return -ENOMEM;
	}
	*ret_n = 0;
	for (size_t i = 0; i < 2; i++)
		if (dirs[i] && access(dirs[i], F_OK) == 0)
			ret[(*ret_n)++] = dirs[i];
		else
			free(dirs[i]);
	return 0;
}

int policy_set_load_config(struct policy_set *set, const char *config_dir, const char *runtime_dir,
			   const struct policy_env *env, struct diag_list *diags)
{
	char *dirs[2];
	size_t n;
	int r = config_dirs(config_dir, runtime_dir, dirs, &n);

	if (r < 0)
		return r;
	if (n == 0)
		return 1;
	r = policy_set_load(set, (const char *const *)dirs, n, env, diags);
	for (size_t i = 0; i < n; i++)
		free(dirs[i]);
	return r;
}

/* The index in set of the file of that path (its last good version), or -1. */
static ssize_t index_of(const struct policy_set *set, const char *path)
{
	for (size_t i = 0; i < set->n_files; i++)
		if (streq(set->files[i]->path, path))
			return (ssize_t)i;
	return -1;
}

static bool owned_by(const struct policy_set *set, const struct policy_file *f)
{
	for (size_t i = 0; i < set->n_files; i++)
		if (set->files[i] == f)
			return true;
	return false;
}

struct reload {
	struct policy_set fresh;
	bool *kept; /* set->files[i] is in fresh too (still set's until the reload succeeds) */
};

/*
 * One file of a reload: its new version, else its old one from set, else none. A version that
 * would bring the reload past POLICY_SET_NODES_MAX counts as a file with errors.
 */
static int reload_file(struct reload *rl, const struct policy_set *set, const char *path,
		       const struct policy_env *env, struct diag_list *diags, unsigned *bad)
{
	struct policy_file *f = NULL;
	ssize_t old;
	int r = policy_load_file(path, env, &f, diags);

	if (r == 0)
		r = policy_set_add(&rl->fresh, f, diags);
	if (r != -EINVAL)
		return r;
	(*bad)++;
	old = index_of(set, path);
	r = diag_add(diags, DIAG_WARNING, path, 0, 0, NULL,
		     old >= 0 ? "has errors; its last good version stays in force"
			      : "has errors; it is not applied");
	if (r < 0 || old < 0)
		return r;
	r = check_nodes(&rl->fresh, set->files[old], diags);
	if (r == -EINVAL)
		return diag_add(diags, DIAG_WARNING, path, 0, 0, NULL,
				"its last good version does not fit either; it is not applied");
	if (r < 0)
		return r;
	rl->kept[old] = true;
	return append(&rl->fresh, set->files[old]);
}

int policy_set_reload_config(struct policy_set *set, const char *config_dir,
			     const char *runtime_dir, const struct policy_env *env,
			     struct diag_list *diags, unsigned *ret_bad)
{
	struct reload rl = { .kept = calloc(set->n_files + 1, sizeof(bool)) };
	char *dirs[2], **paths = NULL;
	size_t n = 0, n_dirs = 0;
	int r = rl.kept ? config_dirs(config_dir, runtime_dir, dirs, &n_dirs) : -ENOMEM;

	if (r < 0 || n_dirs == 0) {
		free(rl.kept);
		if (r == 0)
			policy_set_done(set);
		return r < 0 ? r : 1;
	}
	for (size_t d = 0; r >= 0 && d < n_dirs; d++) {
		r = policy_list_dir(dirs[d], env, &paths, &n, diags);
		if (r < 0)
			(*ret_bad)++;
		for (size_t i = 0; r >= 0 && i < n; i++)
			r = reload_file(&rl, set, paths[i], env, diags, ret_bad);
		for (size_t i = 0; i < n; i++)
			free(paths[i]);
		free(paths);
		paths = NULL;
		n = 0;
	}
	for (size_t d = 0; d < n_dirs; d++)
		free(dirs[d]);
	if (r < 0) {
		/* What is in force stays: only the new versions go. */
		FOREACH_ARRAY (f, rl.fresh.files, rl.fresh.n_files)
			if (!owned_by(set, *f))
				policy_file_free(*f);
		free(rl.fresh.files);
		free(rl.kept);
		return r == -EINVAL ? -EIO : r; /* unreadable, or out of memory */
	}
	/* The old files fresh did not keep go. */
	for (size_t i = 0; i < set->n_files; i++)
		if (!rl.kept[i])
			policy_file_free(set->files[i]);
	free(rl.kept);
	free(set->files);
	*set = rl.fresh;
	return 0;
}

void policy_set_done(struct policy_set *set)
{
	for (size_t i = 0; i < set->n_files; i++)
		policy_file_free(set->files[i]);
	free(set->files);
	*set = (struct policy_set){};
}
