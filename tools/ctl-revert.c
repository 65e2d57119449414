/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* kvmtunectl revert VM [KEY...]: removes what kvmtunectl set wrote for a VM. */

#include <getopt.h>
#include <string.h>

#include "ctl.h"
#include "policy-dropin.h"

struct removal {
	char *const *keys;
	size_t n;
	const char *vm;
};

static int remove_keys(struct dropin *const *d, size_t n, void *userdata)
{
	const struct removal *rm = userdata;

	if (rm->n == 0) {
		for (size_t i = 0; i < n; i++)
			while (d[i]->n_entries > 0)
				(void)dropin_unset(d[i], d[i]->entries[0].key);
		return EXIT_OK;
	}
	for (size_t k = 0; k < rm->n; k++) {
		_cleanup_free_ char *canon = NULL, *error = NULL;
		size_t removed = 0;
		int r = dropin_key_parse(rm->keys[k], &canon, &error);

		if (r == -ENOMEM)
			return log_oom();
		/* A section, list or entry ("cputune", "cputune.vcpupin") covers its keys. */
		for (size_t i = 0; i < n; i++)
			removed += dropin_unset(d[i], canon ?: rm->keys[k]);
		if (removed > 0)
			continue;
		if (r < 0)
			fprintf(stderr, "kvmtunectl revert: %s\n", shown(error));
		else
			fprintf(stderr,
				"kvmtunectl revert: %s was not set for %s by kvmtunectl set "
				"(nothing changed)\n",
				shown(rm->keys[k]), shown(rm->vm));
		return r < 0 ? EXIT_USAGE : EXIT_INVALID;
	}
	return EXIT_OK;
}

static const char revert_help[] =
	"Usage: kvmtunectl revert [--runtime|--config] VM [KEY...]\n"
	"\n"
	"Removes what kvmtunectl set wrote for a VM (a name, pid or uuid): the KEYs named (a\n"
	"section, list or entry stands for every key below it: cputune, cputune.vcpupin,\n"
	"blkiotune.devices./dev/sda), or without KEY the whole drop-in, from the persistent and\n"
	"the runtime drop-ins both. Then kvmtuned reloads (or, without a daemon, the VM gets its\n"
	"policy at once): what no policy sets any more goes back to the kernel's default.\n"
	"\n"
	"Options:\n"
	"      --runtime  Only the runtime drop-in\n"
	"      --config   Only the persistent drop-in\n"
	"  -h, --help     This text\n";

int verb_revert(struct ctl *c, int argc, char **argv)
{
	enum {
		ARG_RUNTIME = 0x100,
		ARG_CONFIG
	};
	static const struct option options[] = {
		{ "runtime", no_argument, NULL, ARG_RUNTIME },
		{ "config", no_argument, NULL, ARG_CONFIG },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	unsigned scopes = 0;
	struct removal rm;
	int opt;

	optind = 0; /* 0: glibc starts afresh, permuting (main parsed with "+") */
	while ((opt = ctl_getopt("revert", argc, argv, ":h", options)) >= 0)
		switch (opt) {
		case ARG_RUNTIME:
			scopes |= CTL_DROPIN_RUNTIME;
			break;
		case ARG_CONFIG:
			scopes |= CTL_DROPIN_PERSISTENT;
			break;
		case 'h':
			fputs(revert_help, stdout);
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	if (optind >= argc) {
		fprintf(stderr, "kvmtunectl revert: needs a VM. Try 'kvmtunectl revert --help'.\n");
		return EXIT_USAGE;
	}
	rm = (struct removal){ .keys = argv + optind + 1,
			       .n = (size_t)(argc - optind - 1),
			       .vm = argv[optind] };
	return ctl_dropin_edit(c, argv[optind],
			       scopes ?: CTL_DROPIN_PERSISTENT | CTL_DROPIN_RUNTIME, remove_keys,
			       &rm);
}
