/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <getopt.h>
#include <string.h>

#include "ctl.h"

static const struct {
	const char *name;
	int (*run)(struct ctl *c, int argc, char **argv);
} verbs[] = {
	{ "check", verb_check },   { "show", verb_show },
	{ "list", verb_list },	   { "status", verb_status },
	{ "apply", verb_apply },   { "run", verb_run },
	{ "reload", verb_reload }, { "import-libvirt", verb_import_libvirt },
};

static void help(void)
{
	printf("Usage: kvmtunectl [OPTIONS] COMMAND [ARGS...]\n"
	       "\n"
	       "Resource control for bare QEMU/KVM virtual machines.\n"
	       "\n"
	       "Commands:\n"
	       "  check [FILE|DIR...]       Validate policies and settings (default: the\n"
	       "                            configuration directory); -v prints them normalized\n"
	       "  show --match KEY=VALUE,.. The effective policy for a VM identity, each value\n"
	       "                            with the file:line it comes from\n"
	       "                            (keys: name, uuid, user, binary)\n"
	       "  list [--json]             The QEMU VMs on this host\n"
	       "  status [--json] [VM...]   Each VM's threads: role, where it runs, its cgroup\n"
	       "  apply [--dry-run] [VM...] Enforce the policies now (--dry-run: say what would\n"
	       "                            change, change nothing)\n"
	       "  run [--policy FILE] NAME -- QEMU-COMMAND...\n"
	       "                            Start QEMU already inside its VM group\n"
	       "  reload                    Make kvmtuned re-read its configuration and\n"
	       "                            re-enforce; returns when that is done\n"
	       "  import-libvirt [--strict] FILE|-\n"
	       "                            A libvirt domain XML's tuning as a policy on\n"
	       "                            stdout; what cannot be carried over on stderr\n"
	       "\n"
	       "Options:\n"
	       "  -C, --config-dir DIR      Configuration directory (default %s)\n"
	       "      --sys-root DIR        Read the host topology from DIR instead of /sys\n"
	       "      --proc-root DIR       Read processes from DIR instead of /proc\n"
	       "      --runtime-dir DIR     kvmtuned's control socket directory (/run/kvmtune)\n"
	       "  -v, --verbose             More output\n"
	       "  -h, --help                This text\n"
	       "      --version             Print the version\n"
	       "\n"
	       "Exit status: 0 ok, 1 invalid policy or enforcement error, 2 usage, 3 no such VM.\n",
	       KVMTUNE_CONFIG_DIR);
}

int ctl_load_topology(struct ctl *c)
{
	int r;

	if (c->sys_root) {
		_cleanup_close_ int fd = open(c->sys_root, O_PATH | O_DIRECTORY | O_CLOEXEC);

		if (fd < 0) {
			fprintf(stderr, "kvmtunectl: %s: %m\n", c->sys_root);
			return EXIT_USAGE;
		}
		r = topology_read(fd, &c->topo);
	} else
		r = topology_read_host(&c->topo);
	if (r < 0) {
		fprintf(stderr, "kvmtunectl: cannot read the host's CPUs and NUMA nodes: %s\n",
			strerror(-r));
		return EXIT_INVALID;
	}
	return EXIT_OK;
}

struct policy_env ctl_policy_env(const struct ctl *c)
{
	return (struct policy_env){
		.topo = &c->topo,
		.check_devices = true,
		.check_users = true,
		.check_owner = true,
	};
}

int main(int argc, char **argv)
{
	enum {
		ARG_SYS_ROOT = 0x100,
		ARG_PROC_ROOT,
		ARG_RUNTIME_DIR,
		ARG_VERSION
	};
	static const struct option options[] = {
		{ "config-dir", required_argument, NULL, 'C' },
		{ "sys-root", required_argument, NULL, ARG_SYS_ROOT },
		{ "proc-root", required_argument, NULL, ARG_PROC_ROOT },
		{ "runtime-dir", required_argument, NULL, ARG_RUNTIME_DIR },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, ARG_VERSION },
		{}
	};
	struct ctl c = { .config_dir = KVMTUNE_CONFIG_DIR, .runtime_dir = "/run/kvmtune" };
	int opt, r;

	/* "+": stop at the verb, its own options follow it. */
	while ((opt = getopt_long(argc, argv, "+C:vh", options, NULL)) >= 0)
		switch (opt) {
		case 'C':
			c.config_dir = optarg;
			break;
		case ARG_SYS_ROOT:
			c.sys_root = optarg;
			break;
		case ARG_PROC_ROOT:
			c.proc_root = optarg;
			break;
		case ARG_RUNTIME_DIR:
			c.runtime_dir = optarg;
			break;
		case 'v':
			c.verbose = true;
			break;
		case 'h':
			help();
			return EXIT_OK;
		case ARG_VERSION:
			printf("kvmtunectl %s\n", KVMTUNE_VERSION);
			return EXIT_OK;
		default:
			fprintf(stderr, "Try 'kvmtunectl --help'.\n");
			return EXIT_USAGE;
		}
	if (optind >= argc) {
		fprintf(stderr, "kvmtunectl: no command given. Try 'kvmtunectl --help'.\n");
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
		if (streq(argv[optind], verbs[i].name)) {
			r = verbs[i].run(&c, argc - optind, argv + optind);
			topology_done(&c.topo);
			return r;
		}
	fprintf(stderr,
		"kvmtunectl: unknown command '%s' (allowed: check, show, list, status, apply, "
		"run, reload, import-libvirt). Try "
		"'kvmtunectl --help'.\n",
		argv[optind]);
	return EXIT_USAGE;
}

int log_oom(void)
{
	fprintf(stderr, "kvmtunectl: out of memory\n");
	return EXIT_INVALID;
}
