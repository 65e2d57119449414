/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>
#include <sys/stat.h>

#include "policy-set.h"

static int add_file(struct policy_set *set, const char *path, const struct policy_env *env,
		    struct diag_list *diags)
{
	struct policy_file *f = NULL;
	int r = policy_load_file(path, env, &f, diags);

	if (r == -EINVAL)
		return 0; /* reported; the file is left out as a whole */
	if (r < 0)
		return r;
	r = GROW_ARRAY(set->files, set->allocated, set->n_files + 1);
	if (r < 0) {
		policy_file_free(f);
		return r;
	}
	set->files[set->n_files++] = f;
	return 0;
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

void policy_set_done(struct policy_set *set)
{
	for (size_t i = 0; i < set->n_files; i++)
		policy_file_free(set->files[i]);
	free(set->files);
	*set = (struct policy_set){};
}
