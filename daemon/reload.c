/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Reading the configuration for the daemon: a file with errors is not applied at all, and the
 * daemon keeps that file's last good version (a new file with errors is left out). Settings
 * with errors keep the settings in force.
 */

#include <string.h>
#include <time.h>

#include "backend.h"
#include "log.h"
#include "manager.h"
#include "policy-load.h"

static void log_diags(const struct diag_list *diags)
{
	FOREACH_ARRAY (d, diags->items, diags->n) {
		_cleanup_free_ char *text = diag_format(d);

		log_about(d->severity == DIAG_ERROR ? LOG_ERR : LOG_WARNING,
			  &(struct log_about){ .policy = d->file }, "%s", text ?: "out of memory");
	}
}

static struct policy_file *take_old(struct policy_set *old, const char *path)
{
	for (size_t i = 0; i < old->n_files; i++)
		if (old->files[i] && streq(old->files[i]->path, path)) {
			struct policy_file *f = old->files[i];

			old->files[i] = NULL;
			return f;
		}
	return NULL;
}

static int add(struct policy_set *set, struct policy_file *f)
{
	int r = GROW_ARRAY(set->files, set->allocated, set->n_files + 1);

	if (r < 0) {
		policy_file_free(f);
		return r;
	}
	set->files[set->n_files++] = f;
	return 0;
}

static int load_policies(struct manager *m, unsigned *bad)
{
	_cleanup_(policy_set_done) struct policy_set fresh = {};
	_cleanup_free_ char *dir = NULL;
	struct policy_env env = {
		.topo = &m->topo, .check_devices = true, .check_users = true, .check_owner = true
	};
	char **paths = NULL;
	size_t n = 0;
	int r;

	if (asprintf(&dir, "%s/policy.d", m->config_dir) < 0)
		return -ENOMEM;
	if (access(dir, F_OK) < 0) {
		log_info("%s does not exist: no policies", dir);
		policy_set_done(&m->policies);
		return 0;
	}
	{
		_cleanup_(diag_list_done) struct diag_list diags = {};

		r = policy_list_dir(dir, &env, &paths, &n, &diags);
		log_diags(&diags);
		if (r < 0) {
			*bad += 1;
			log_error("%s cannot be read; the policies in force stay", dir);
			return 0;
		}
	}
	for (size_t i = 0; i < n && r >= 0; i++) {
		_cleanup_(diag_list_done) struct diag_list diags = {};
		struct policy_file *f = NULL;

		r = policy_load_file(paths[i], &env, &f, &diags);
		if (r == 0) {
			r = add(&fresh, f);
			continue;
		}
		if (r != -EINVAL)
			break;
		/* errors: logged, and the last good version of this file stays in force */
		log_diags(&diags);
		(*bad)++;
		f = take_old(&m->policies, paths[i]);
		if (f)
			log_warning("%s has errors; its last good version stays in force",
				    paths[i]);
		else
			log_warning("%s has errors; it is not applied", paths[i]);
		r = f ? add(&fresh, f) : 0;
	}
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	if (r < 0)
		return r;
	policy_set_done(&m->policies);
	m->policies = fresh;
	fresh = (struct policy_set){};
	return 0;
}

/* The backend the settings ask for, on this host; an unusable one keeps the one in force. */
static int choose_backend(struct manager *m)
{
	struct unit_bus *bus = NULL;
	_cleanup_free_ char *why = NULL;
	int r = backend_open(&m->settings, &m->cgroups, &bus, &why);

	if (r < 0) {
		log_error("backend %s: %s%s", backend_to_string(m->settings.backend.value),
			  why ?: strerror(-r), m->started ? "; the backend in force stays" : "");
		return r;
	}
	{
		char *parent;

		if (backend_parent(&m->settings, r, &parent) < 0) {
			if (bus)
				unit_bus_free(bus);
			return -ENOMEM;
		}
		free(m->parent);
		m->parent = parent;
	}
	if (m->bus)
		unit_bus_free(m->bus);
	m->bus = bus;
	if ((r != m->backend || !m->started) && why)
		log_info("backend: %s (auto: %s)", backend_to_string(r), why);
	else if (r != m->backend || !m->started)
		log_info("backend: %s%s", backend_to_string(r),
			 m->settings.backend.value == BACKEND_AUTO ? " (auto)" : "");
	m->backend = r;
	return 0;
}

int manager_load_config(struct manager *m)
{
	_cleanup_(diag_list_done) struct diag_list diags = {};
	_cleanup_free_ char *path = NULL;
	unsigned bad = 0;
	int r;

	if (asprintf(&path, "%s/kvmtuned.yaml", m->config_dir) < 0)
		return -ENOMEM;
	r = settings_load(path, true, &m->settings, &diags);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		log_diags(&diags);
		log_warning("%s has errors; the settings in force stay", path);
		bad++;
	}
	r = load_policies(m, &bad);
	if (r < 0)
		return r;
	r = choose_backend(m);
	if (r < 0 && !m->started)
		return r;
	log_info("configuration: %zu policy file(s) in force, %u with errors", m->policies.n_files,
		 bad);
	return (int)bad;
}
