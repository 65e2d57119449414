/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* kvmtunectl show --match KEY=VALUE,...: the merged policy a VM with that identity gets. */

#include <getopt.h>
#include <pwd.h>
#include <string.h>

#include "ctl.h"
#include "policy-dump.h"
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

/* The effective policy for id, with origins. EXIT_INVALID when the merge breaks a rule. */
static int print_effective(const struct policy_set *set, const struct vm_identity *id,
			   const char *who)
{
	_cleanup_(diag_list_done) struct diag_list diags = {};
	_cleanup_(policy_done) struct policy effective = {};
	_cleanup_free_ struct policy_fit *fits = NULL;
	_cleanup_free_ char *text = NULL;
	size_t n_fits = 0;
	int merged = policy_set_effective(set, id, &effective, &fits, &n_fits);

	if (merged < 0 || policy_dump(&effective, true, &text) < 0 ||
	    policy_check_effective(&effective, &diags) < 0)
		return log_oom();
	printf("# effective policy for %s\n", shown(who));
	print_fits(fits, n_fits);
	if (merged == 0)
		printf("# no policy applies: the VM is left as it is\n");
	fputs(text, stdout);
	fflush(stdout);
	diag_list_print(&diags, stderr);
	return diags.n_errors > 0 ? EXIT_INVALID : EXIT_OK;
}

static int show_running(struct ctl *c, char **args, size_t n)
{
	_cleanup_(ctl_world_done) struct ctl_world w = {};
	_cleanup_free_ struct vm **vms = NULL;
	size_t n_vms = 0;
	int r = ctl_world_load(c, &w);

	if (r == EXIT_OK)
		r = ctl_select_vms(&w, args, n, &vms, &n_vms);
	for (size_t i = 0; r == EXIT_OK && i < n_vms; i++) {
		struct vm_identity id = vm_identity(vms[i]);
		char who[512];

		(void)snprintf(who, sizeof(who), "VM %s (pid %d, binary %s)", vms[i]->name,
			       (int)vms[i]->pid, vms[i]->exe);
		r = print_effective(&w.policies, &id, who);
	}
	return r;
}

static int show_match(struct ctl *c, const struct vm_identity *id)
{
	_cleanup_(diag_list_done) struct diag_list diags = {};
	_cleanup_(policy_set_done) struct policy_set set = {};
	char who[512];
	struct policy_env env;
	int r = ctl_load_topology(c);

	if (r != EXIT_OK)
		return r;
	env = ctl_policy_env(c);
	if (policy_set_load_config(&set, c->config_dir, c->runtime_dir, &env, &diags) < 0)
		return log_oom();
	diag_list_print(&diags, stderr);
	if (diags.n_errors > 0)
		fprintf(stderr, "kvmtunectl: files with errors are left out below.\n");
	(void)snprintf(who, sizeof(who), "%s%s%s%s%s", id->name ? "name=" : "", id->name ?: "",
		       id->uuid ? " uuid=" : "", id->uuid ?: "",
		       id->uid_set ? " (user given)" : "");
	return print_effective(&set, id, who);
}

static const char show_help[] =
	"Usage: kvmtunectl show VM...\n"
	"       kvmtunectl show --match name=NAME[,uuid=U,user=U,binary=PATH]\n"
	"\n"
	"The effective policy, merged from every policy file that fits, each value with the\n"
	"file:line it comes from: for running VMs (a name, pid or uuid), or for an identity no\n"
	"VM has yet.\n"
	"\n"
	"Options:\n"
	"  -m, --match KEY=VALUE,...  The identity to merge for (keys: name, uuid, user, binary)\n"
	"  -h, --help                 This text\n";

int verb_show(struct ctl *c, int argc, char **argv)
{
	static const struct option options[] = {
		{ "match", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct identity_args a = {};
	int opt, r = -1;

	optind = 1;
	while (r < 0 && (opt = ctl_getopt("show", argc, argv, ":m:h", options)) >= 0)
		switch (opt) {
		case 'm':
			r = parse_match(optarg, &a);
			break;
		case 'h':
			fputs(show_help, stdout);
			r = EXIT_OK;
			break;
		default:
			r = EXIT_USAGE;
		}
	if (r < 0 && optind < argc && a.text) {
		fprintf(stderr, "kvmtunectl: show takes running VMs or --match, not both\n");
		r = EXIT_USAGE;
	} else if (r < 0 && optind < argc)
		r = show_running(c, argv + optind, (size_t)(argc - optind));
	else if (r < 0 && a.text)
		r = show_match(c, &a.id);
	else if (r < 0) {
		fprintf(stderr, "kvmtunectl: show needs a VM (name, pid or uuid) or --match "
				"name=NAME[,uuid=U,user=U,binary=P]\n");
		r = EXIT_USAGE;
	}
	free(a.text);
	return r;
}
