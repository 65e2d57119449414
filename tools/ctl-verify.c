/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * kvmtunectl verify [VM...]: whether every VM is as its policy says, for monitoring (like
 * tuned-adm verify). Exit 0 when each one is enforced (or has no policy, or is another
 * manager's), 1 when one has drifted or cannot be enforced; each drift is named.
 */

#include <getopt.h>

#include "assess.h"
#include "ctl.h"

static const char verify_help[] =
	"Usage: kvmtunectl verify [--quiet] [VM...]\n"
	"\n"
	"Checks, by a dry run that changes nothing, that each VM (a name, pid or uuid; all when\n"
	"none) is as its policy says. Exit status 0 when every VM is enforced (VMs without a\n"
	"policy and other managers' VMs count as fine, and are named), 1 when one has drifted or\n"
	"cannot be enforced: each difference is printed as desired, actual and the policy\n"
	"file:line.\n"
	"\n"
	"Options:\n"
	"  -q, --quiet   Print nothing; the exit status says it\n"
	"  -h, --help    This text\n";

int verb_verify(struct ctl *c, int argc, char **argv)
{
	static const struct option options[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	_cleanup_(ctl_world_done) struct ctl_world w = {};
	_cleanup_free_ struct vm **vms = NULL;
	struct assessment *states = NULL;
	unsigned bad = 0;
	bool quiet = false;
	size_t n = 0;
	int opt, r;

	optind = 1;
	while ((opt = ctl_getopt("verify", argc, argv, ":qh", options)) >= 0)
		switch (opt) {
		case 'q':
			quiet = true;
			break;
		case 'h':
			fputs(verify_help, stdout);
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	r = ctl_world_load(c, &w);
	if (r == EXIT_OK)
		r = ctl_select_vms(&w, argv + optind, (size_t)(argc - optind), &vms, &n);
	if (r == EXIT_OK)
		r = ctl_assess(&w, vms, n, &states);
	if (r != EXIT_OK)
		return r;
	for (size_t i = 0; i < n; i++) {
		const struct assessment *a = &states[i];
		char state[512];

		bad += a->state == VM_DRIFT || a->state == VM_ERROR;
		if (quiet)
			continue;
		printf("%s (pid %d): %s\n", shown(vms[i]->name), (int)vms[i]->pid,
		       ctl_state_text(a, state, sizeof(state)));
		if (a->state == VM_DRIFT || a->state == VM_ERROR)
			ctl_print_findings(a, "  ");
	}
	ctl_assessments_free(states, n);
	if (!quiet && n == 0)
		printf("No QEMU VMs on this host.\n");
	fflush(stdout);
	if (!quiet && bad)
		fprintf(stderr, "kvmtunectl: %u VM%s not as %s polic%s says\n", bad,
			bad == 1 ? " is" : "s are", bad == 1 ? "its" : "their",
			bad == 1 ? "y" : "ies");
	return bad ? EXIT_INVALID : EXIT_OK;
}
