/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* kvmtunectl show --match KEY=VALUE,...: the merged policy a VM with that identity gets. */

#include <getopt.h>
#include <pwd.h>
#include <string.h>

#include "ctl.h"
#include "size.h"

struct identity_args {
	struct vm_identity id;
	char *text; /* owns the strings id points into */
};

static int parse_match(const char *arg, struct identity_args *a)
{
	char *save = NULL;

	free(a->text);
	a->text = strdup(arg);
	if (!a->text)
		return log_oom();
	for (char *kv = strtok_r(a->text, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *value = strchr(kv, '=');

		if (!value || value[1] == '\0') {
			fprintf(stderr,
				"kvmtunectl: --match: '%s' is not KEY=VALUE (keys: name, uuid, "
				"user, binary)\n",
				kv);
			return EXIT_USAGE;
		}
		*value++ = '\0';
		if (streq(kv, "name"))
			a->id.name = value;
		else if (streq(kv, "uuid"))
			a->id.uuid = value;
		else if (streq(kv, "binary"))
			a->id.binary = value;
		else if (streq(kv, "user")) {
			struct passwd *pw = getpwnam(value);
			int64_t uid;

			if (pw)
				a->id.uid = pw->pw_uid;
			else if (parse_int64(value, &uid) == 0 && uid >= 0 && uid < UINT32_MAX)
				a->id.uid = (uid_t)uid;
			else {
				fprintf(stderr, "kvmtunectl: --match: no user '%s'\n", value);
				return EXIT_USAGE;
			}
			a->id.uid_set = true;
		} else {
			fprintf(stderr,
				"kvmtunectl: --match: unknown key '%s' (keys: name, uuid, "
				"user, binary)\n",
				kv);
			return EXIT_USAGE;
		}
	}
	return -1;
}

static void print_fits(const struct policy_fit *fits, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct origin *o = &fits[i].doc->origin;

		if (fits[i].missing)
			printf("# not considered: %s:%u matches on %s, which --match does not "
			       "give\n",
			       o->file, o->line, fits[i].missing);
		else
			printf("# applies: %s:%u\n", o->file, o->line);
	}
}

int verb_show(struct ctl *c, int argc, char **argv)
{
	static const struct option options[] = {
		{ "match", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	_cleanup_(diag_list_done) struct diag_list diags = {};
	_cleanup_(policy_set_done) struct policy_set set = {};
	_cleanup_(policy_done) struct policy effective = {};
	_cleanup_free_ struct policy_fit *fits = NULL;
	_cleanup_free_ char *dir = NULL, *text = NULL;
	struct identity_args a = {};
	struct policy_env env;
	size_t n_fits = 0;
	int opt, r = -1, merged;

	optind = 1;
	while (r < 0 && (opt = getopt_long(argc, argv, "m:h", options, NULL)) >= 0)
		switch (opt) {
		case 'm':
			r = parse_match(optarg, &a);
			break;
		case 'h':
			printf("Usage: kvmtunectl show --match "
			       "name=NAME[,uuid=U,user=U,binary=PATH]\n");
			r = EXIT_OK;
			break;
		default:
			r = EXIT_USAGE;
		}
	if (r < 0 && optind < argc) {
		fprintf(stderr,
			"kvmtunectl: show %s: showing a running VM needs VM discovery, "
			"which this version does not have yet; use --match name=NAME\n",
			argv[optind]);
		r = EXIT_USAGE;
	}
	if (r < 0 && !a.text) {
		fprintf(stderr,
			"kvmtunectl: show needs --match name=NAME[,uuid=U,user=U,binary=P]\n");
		r = EXIT_USAGE;
	}
	if (r < 0)
		r = ctl_load_topology(c);
	if (r >= 0 && r != EXIT_OK) {
		free(a.text);
		return r;
	}
	env = ctl_policy_env(c);
	if (asprintf(&dir, "%s/policy.d", c->config_dir) < 0)
		return log_oom();
	if (access(dir, F_OK) == 0 &&
	    policy_set_load(&set, (const char *const *)&dir, 1, &env, &diags) < 0)
		return log_oom();
	diag_list_print(&diags, stderr);
	if (diags.n_errors > 0)
		fprintf(stderr, "kvmtunectl: files with errors are left out below.\n");
	merged = policy_set_effective(&set, &a.id, &effective, &fits, &n_fits);
	if (merged < 0 || policy_dump(&effective, true, &text) < 0) {
		free(a.text);
		return log_oom();
	}
	printf("# effective policy for %s%s%s%s%s\n", a.id.name ? "name=" : "", a.id.name ?: "",
	       a.id.uuid ? " uuid=" : "", a.id.uuid ?: "", a.id.uid_set ? " (user given)" : "");
	print_fits(fits, n_fits);
	if (merged == 0)
		printf("# no policy applies: the VM would be left as it is\n");
	fputs(text, stdout);
	diag_list_done(&diags);
	if (policy_check_effective(&effective, &diags) < 0) {
		free(a.text);
		return log_oom();
	}
	fflush(stdout);
	diag_list_print(&diags, stderr);
	free(a.text);
	return diags.n_errors > 0 ? EXIT_INVALID : EXIT_OK;
}
