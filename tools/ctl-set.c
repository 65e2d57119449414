/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * kvmtunectl set VM KEY=VALUE... [--runtime]: a VM's values in a drop-in policy, in the spirit
 * of systemctl set-property. The keys are the policy's own names (policy-dropin.h).
 */

#include <getopt.h>
#include <string.h>

#include "ctl.h"
#include "policy-dropin.h"

struct assignments {
	char **keys; /* canonical */
	const char *const *values;
	size_t n;
};

static int assign(struct dropin *const *d, size_t n, void *userdata)
{
	const struct assignments *a = userdata;

	for (size_t j = 0; j < n; j++)
		for (size_t i = 0; i < a->n; i++)
			if (dropin_set(d[j], a->keys[i], a->values[i]) < 0)
				return log_oom();
	return EXIT_OK;
}

static void free_keys(char **keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
}

int ctl_set(struct ctl *c, const char *verb, const char *vm, unsigned scopes,
	    const char *const *keys, const char *const *values, size_t n)
{
	struct assignments a = { .keys = calloc(n + 1, sizeof(char *)), .values = values, .n = n };
	int r = EXIT_OK;

	if (!a.keys)
		return log_oom();
	for (size_t i = 0; i < n && r == EXIT_OK; i++) {
		_cleanup_free_ char *error = NULL;
		int k = dropin_key_parse(keys[i], &a.keys[i], &error);

		if (k == -ENOMEM)
			r = log_oom();
		else if (k < 0) {
			fprintf(stderr, "kvmtunectl %s: %s. See kvmtune.policy(5).\n", verb,
				shown(error));
			r = EXIT_USAGE;
		} else if (!*values[i]) {
			fprintf(stderr,
				"kvmtunectl %s: '%s=' has no value (to remove it: kvmtunectl "
				"revert "
				"%s %s)\n",
				verb, shown(keys[i]), shown(vm), shown(a.keys[i]));
			r = EXIT_USAGE;
		}
	}
	if (r == EXIT_OK)
		r = ctl_dropin_edit(c, vm, scopes, assign, &a);
	free_keys(a.keys, n);
	return r;
}

static const char set_help[] =
	"Usage: kvmtunectl set [--runtime] VM KEY=VALUE...\n"
	"\n"
	"Sets policy values for one VM (a name, pid or uuid) in a drop-in policy that matches it\n"
	"by name and uuid: <config-dir>/policy.d/90-set-<vm>.yaml, or with --runtime\n"
	"<runtime-dir>/policy.d/90-set-<vm>.yaml (gone at reboot, read after the config dir).\n"
	"Values set earlier stay unless named again. The whole policy set is checked first\n"
	"(file:line:col errors; nothing is written on one), then kvmtuned reloads, or, when no\n"
	"daemon runs, the VM gets the policy at once and every change is printed.\n"
	"\n"
	"KEY is the policy's own name, dotted (kvmtune.policy(5)):\n"
	"  cputune.shares=2048  cputune.quota=50000  cputune.emulatorpin=0-1\n"
	"  cputune.vcpupin.VCPUS=CPUS            cputune.vcpupin.0=4-5\n"
	"  cputune.iothreadpin.ID=CPUS           cputune.iothreadpin.io1=3\n"
	"  cputune.vcpusched.VCPUS.FIELD=V       cputune.vcpusched.0-1.scheduler=fifo\n"
	"  cputune.emulatorsched.FIELD=V         cputune.emulatorsched.scheduler=batch\n"
	"  memtune.hard_limit=4G                 (a bare number is KiB)\n"
	"  blkiotune.weight=500\n"
	"  blkiotune.devices.PATH.FIELD=V        blkiotune.devices./dev/sda.read_bytes_sec=50M\n"
	"  numatune.memory.mode=strict           (or numatune.mode=strict)\n"
	"\n"
	"Options:\n"
	"      --runtime  The runtime drop-in, gone at reboot\n"
	"  -h, --help     This text\n";

int verb_set(struct ctl *c, int argc, char **argv)
{
	enum {
		ARG_RUNTIME = 0x100
	};
	static const struct option options[] = {
		{ "runtime", no_argument, NULL, ARG_RUNTIME },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	_cleanup_free_ const char **keys = NULL, **values = NULL;
	bool runtime = false;
	size_t n = 0;
	int opt, r = EXIT_OK;

	optind = 0; /* 0: glibc starts afresh, permuting (main parsed with "+") */
	while ((opt = ctl_getopt("set", argc, argv, ":h", options)) >= 0)
		switch (opt) {
		case ARG_RUNTIME:
			runtime = true;
			break;
		case 'h':
			fputs(set_help, stdout);
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	if (argc - optind < 2) {
		fprintf(stderr, "kvmtunectl set: needs a VM and at least one KEY=VALUE. Try "
				"'kvmtunectl set --help'.\n");
		return EXIT_USAGE;
	}
	keys = calloc((size_t)argc, sizeof(char *));
	values = calloc((size_t)argc, sizeof(char *));
	if (!keys || !values)
		return log_oom();
	for (int i = optind + 1; i < argc && r == EXIT_OK; i++) {
		char *eq = strchr(argv[i], '=');

		if (!eq || eq == argv[i]) {
			fprintf(stderr,
				"kvmtunectl set: '%s' is not KEY=VALUE (like "
				"cputune.shares=2048)\n",
				shown(argv[i]));
			return EXIT_USAGE;
		}
		*eq = '\0';
		keys[n] = argv[i];
		values[n++] = eq + 1;
	}
	return ctl_set(c, "set", argv[optind], runtime ? CTL_DROPIN_RUNTIME : CTL_DROPIN_PERSISTENT,
		       keys, values, n);
}
