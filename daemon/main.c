/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* kvmtuned: enforces kvmtune's policies on the QEMU VMs of this host, continuously. */

#include <getopt.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "manager.h"

static const char *arg_config_dir = KVMTUNE_CONFIG_DIR;
static const char *arg_runtime_dir = "/run/kvmtune";
static int arg_log_level = LOG_INFO;

static void help(void)
{
	printf("Usage: kvmtuned [OPTIONS]\n"
	       "\n"
	       "Enforces the policies of %s/policy.d on the QEMU VMs of this host.\n"
	       "\n"
	       "  -C, --config-dir DIR   Configuration directory\n"
	       "      --runtime-dir DIR  Where the control socket lives (default /run/kvmtune)\n"
	       "  -v, --verbose          Log every action, not only changes\n"
	       "  -h, --help             This text\n"
	       "      --version          Print the version\n",
	       KVMTUNE_CONFIG_DIR);
}

static int parse_argv(int argc, char **argv)
{
	enum {
		ARG_RUNTIME_DIR = 0x100,
		ARG_VERSION
	};
	static const struct option options[] = {
		{ "config-dir", required_argument, NULL, 'C' },
		{ "runtime-dir", required_argument, NULL, ARG_RUNTIME_DIR },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, ARG_VERSION },
		{},
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "C:vh", options, NULL)) >= 0)
		switch (opt) {
		case 'C':
			arg_config_dir = optarg;
			break;
		case ARG_RUNTIME_DIR:
			arg_runtime_dir = optarg;
			break;
		case 'v':
			arg_log_level = LOG_DEBUG;
			break;
		case 'h':
			help();
			return 0;
		case ARG_VERSION:
			printf("kvmtuned %s\n", KVMTUNE_VERSION);
			return 0;
		default:
			return -EINVAL;
		}
	if (optind < argc) {
		fprintf(stderr, "kvmtuned: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 1;
}

static int run(void)
{
	_cleanup_(manager_freep) struct manager *m = NULL;
	int r = manager_new(arg_config_dir, arg_runtime_dir, &m);

	if (r >= 0)
		r = manager_start(m);
	if (r >= 0)
		r = manager_run(m);
	if (r < 0) {
		log_error("%s", strerror(-r));
		(void)sd_notifyf(0, "STATUS=failed: %s\nERRNO=%d", strerror(-r), -r);
	}
	return r;
}

int main(int argc, char **argv)
{
	int r = parse_argv(argc, argv);

	if (r <= 0)
		return r < 0 ? 2 : 0;
	log_setup(arg_log_level);
	r = run();
	log_flush();
	return r < 0 ? 1 : 0;
}
