/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* kvmtunectl check [FILE|DIR...]: every mistake of every file, or "configuration OK". */

#include <getopt.h>
#include <libgen.h>
#include <string.h>

#include "backend.h"
#include "cgroup-mounts.h"
#include "cgrules.h"
#include "ctl.h"
#include "enforce.h"
#include "policy-dump.h"
#include "settings.h"

#define SETTINGS_NAME "kvmtuned.yaml"

static bool is_settings_path(const char *path)
{
	const char *slash = strrchr(path, '/');

	return streq(slash ? slash + 1 : path, SETTINGS_NAME);
}

/*
 * What kvmtuned would refuse on this host beyond the files themselves: a backend it cannot have
 * (backend: systemd without systemd as PID 1 on cgroup v2, ...). *ret_chosen is what it runs.
 */
static int check_backend(const struct settings *s, struct diag_list *diags, char **ret_chosen)
{
	_cleanup_(cgroup_fs_done) struct cgroup_fs fs = { .unified_fd = -EBADF };
	_cleanup_free_ char *why = NULL;
	struct unit_bus *bus = NULL;
	int r;

	for (int i = 0; i < _CGROUP_CONTROLLER_MAX; i++)
		fs.v1_fd[i] = -EBADF;
	(void)cgroup_fs_open_host(&fs, NULL);
	r = backend_open(s, &fs, &bus, &why);
	if (bus)
		unit_bus_free(bus);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return diag_add(diags, DIAG_ERROR, s->path, s->backend.origin.line,
				s->backend.origin.column, "backend",
				"%s cannot serve this host: %s (allowed here: cgroupfs%s)",
				backend_to_string(s->backend.value), why ?: strerror(-r),
				s->backend.value == BACKEND_SYSTEMD ? ", auto" : "");
	if (s->backend.value != BACKEND_AUTO)
		r = asprintf(ret_chosen, "%s", backend_to_string(r));
	else if (why)
		r = asprintf(ret_chosen, "%s (auto: %s)", backend_to_string(r), why);
	else
		r = asprintf(ret_chosen, "%s (auto)", backend_to_string(r));
	return r < 0 ? -ENOMEM : 0;
}

/* The settings' effective values, as comments: stdout stays a stream of policy documents. */
static int print_settings(const struct settings *s, const char *backend)
{
	_cleanup_free_ char *text = NULL;
	int r = settings_dump(s, &text);

	if (r < 0)
		return r;
	printf("# settings from %s (backend on this host: %s):\n", s->path, backend);
	for (char *line = text, *nl; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		printf("#   %.*s\n", (int)(nl - line), line);
	}
	return 0;
}

static int print_policies(const struct policy_set *set)
{
	for (size_t i = 0; i < set->n_files; i++)
		FOREACH_ARRAY (doc, set->files[i]->docs, set->files[i]->n_docs) {
			_cleanup_free_ char *text = NULL;
			int r = policy_dump(doc, false, &text);

			if (r < 0)
				return r;
			printf("---\n# %s:%u\n%s", set->files[i]->path, doc->origin.line, text);
		}
	return 0;
}

static const char check_help[] =
	"Usage: kvmtunectl check [-v] [FILE|DIR...]\n"
	"\n"
	"Validates policy files and kvmtuned.yaml (default: the configuration directory's\n"
	"policy.d/ and kvmtuned.yaml) without touching any VM: every error as file:line:col with\n"
	"what is allowed there; and the rules that depend on this host's cgroups (min_guarantee\n"
	"needs cgroup v2) when the topology is this host's. Exit 1 when there are errors.\n"
	"\n"
	"Options:\n"
	"  -v, --verbose  Also print each policy normalized, as kvmtuned reads it\n"
	"  -h, --help     This text\n";

static int parse_args(struct ctl *c, int argc, char **argv)
{
	static const struct option options[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	int opt;

	optind = 1;
	while ((opt = ctl_getopt("check", argc, argv, ":vh", options)) >= 0)
		switch (opt) {
		case 'v':
			c->verbose = true;
			break;
		case 'h':
			fputs(check_help, stdout);
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	return -1;
}

/*
 * What the daemon would refuse on this host (not for another: --sys-root names one): the rules
 * that depend on its cgroup layout.
 */
static int check_for_this_host(const struct ctl *c, const struct policy_set *set,
			       struct diag_list *diags)
{
	_cleanup_(cgroup_fs_done) struct cgroup_fs fs = { .unified_fd = -EBADF };
	struct plan_host host = {};
	int r = 0;

	for (int i = 0; i < _CGROUP_CONTROLLER_MAX; i++)
		fs.v1_fd[i] = -EBADF;
	if (c->sys_root || cgroup_fs_open_host(&fs, NULL) < 0)
		return 0;
	for (int i = 0; i < _CGROUP_CONTROLLER_MAX; i++) {
		int fd, version;

		if (cgroup_fs_controller(&fs, i, &fd, &version) >= 0) {
			host.version[i] = version;
			host.with[i] = version == 1 ? fs.v1_with[i] : 0;
		}
	}
	for (size_t i = 0; r >= 0 && i < set->n_files; i++)
		FOREACH_ARRAY (doc, set->files[i]->docs, set->files[i]->n_docs)
			if (r >= 0)
				r = enforce_check_host(&host, doc, diags);
	return r;
}

int verb_check(struct ctl *c, int argc, char **argv)
{
	_cleanup_(diag_list_done) struct diag_list diags = {};
	_cleanup_(policy_set_done) struct policy_set set = {};
	_cleanup_(settings_done) struct settings settings = {};
	_cleanup_free_ char *dir = NULL, *settings_path = NULL, *backend = NULL;
	struct policy_env env;
	const char *const *paths;
	size_t n_paths;
	bool have_settings = false, checked_settings = false, settings_ok = true;
	int r = parse_args(c, argc, argv);

	if (r >= 0)
		return r;
	r = ctl_load_topology(c);
	if (r != EXIT_OK)
		return r;
	env = ctl_policy_env(c);
	if (optind < argc) {
		paths = (const char *const *)argv + optind;
		n_paths = (size_t)(argc - optind);
	} else {
		if (!(dir = policy_dir_of(c->config_dir)) ||
		    asprintf(&settings_path, "%s/%s", c->config_dir, SETTINGS_NAME) < 0)
			return log_oom();
		paths = (const char *const *)&dir;
		n_paths = 1;
		if (access(dir, F_OK) < 0) {
			fprintf(stderr, "kvmtunectl: %s does not exist: no policies.\n", dir);
			n_paths = 0;
		}
	}
	if (settings_defaults(&settings) < 0)
		return log_oom();
	for (size_t i = 0; i < n_paths; i++) {
		if (is_settings_path(paths[i])) {
			r = settings_load(paths[i], true, &settings, &diags);
			have_settings = have_settings || r == 0;
			settings_ok = settings_ok && r == 0;
			checked_settings = true;
		} else
			r = policy_set_load(&set, &paths[i], 1, &env, &diags);
		if (r == -ENOMEM)
			return log_oom();
	}
	if (settings_path) {
		r = settings_load(settings_path, true, &settings, &diags);
		if (r == -ENOMEM)
			return log_oom();
		have_settings = r == 0 && settings.path;
		settings_ok = settings_ok && r == 0;
		checked_settings = true;
	}
	if (check_for_this_host(c, &set, &diags) < 0 ||
	    (checked_settings && settings_ok &&
	     check_backend(&settings, &diags, &backend) == -ENOMEM))
		return log_oom();
	/* A rule that matches QEMU is this host's business: not for --sys-root fixtures */
	if (!c->sys_root && cgrules_check(CGRULES_CONF, settings.qemu_binaries,
					  settings.n_qemu_binaries, &diags) < 0)
		return log_oom();
	diag_list_print(&diags, stderr);
	if (diags.n_errors > 0) {
		fprintf(stderr,
			"kvmtunectl: %zu error%s; a file with errors is not applied at all.\n",
			diags.n_errors, diags.n_errors == 1 ? "" : "s");
		return EXIT_INVALID;
	}
	if (c->verbose) {
		if ((have_settings && settings.path && print_settings(&settings, backend) < 0) ||
		    print_policies(&set) < 0)
			return log_oom();
		fflush(stdout);
		fprintf(stderr, "configuration OK\n");
	} else
		printf("configuration OK\n");
	return EXIT_OK;
}
