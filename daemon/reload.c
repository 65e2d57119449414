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

static int load_policies(struct manager *m, unsigned *bad)
{
	_cleanup_(diag_list_done) struct diag_list diags = {};
	struct policy_env env = {
		.topo = &m->topo, .check_devices = true, .check_users = true, .check_owner = true
	};
	int r = policy_set_reload_config(&m->policies, m->config_dir, m->runtime_dir, &env, &diags,
					 bad);

	log_diags(&diags);
	if (r == 1)
		log_info("neither %s/policy.d nor %s/policy.d exists: no policies", m->config_dir,
			 m->runtime_dir);
	else if (r == -EIO)
		log_error("%s/policy.d or %s/policy.d cannot be read; the policies in force stay",
			  m->config_dir, m->runtime_dir);
	return r == -ENOMEM ? r : 0;
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
	/* The merged policies point into the files about to be replaced. */
	manager_forget_effective(m);
	r = settings_load(path, true, &m->settings, &diags);
	if (r == -ENOMEM)
		return r;
	log_diags(&diags); /* errors, or warnings of settings that are used */
	if (r < 0) {
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
