/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <string.h>
#include <sys/stat.h>

#include "ctl.h"
#include "escape.h"

static const struct {
	const char *name;
	int (*run)(struct ctl *c, int argc, char **argv);
} verbs[] = {
	{ "check", verb_check },
	{ "show", verb_show },
	{ "list", verb_list },
	{ "status", verb_status },
	{ "verify", verb_verify },
	{ "metrics", verb_metrics },
	{ "apply", verb_apply },
	{ "run", verb_run },
	{ "reload", verb_reload },
	{ "import-libvirt", verb_import_libvirt },
	{ "set", verb_set },
	{ "revert", verb_revert },
	{ "vcpupin", verb_vcpupin },
	{ "emulatorpin", verb_emulatorpin },
	{ "iothreadpin", verb_iothreadpin },
	{ "schedinfo", verb_schedinfo },
	{ "memtune", verb_memtune },
	{ "blkiotune", verb_blkiotune },
	{ "numatune", verb_numatune },
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
	       "  list [--json]             The QEMU VMs on this host and the state of each\n"
	       "  status [--json] [VM...]   Each VM's state, what drifted, its threads and the\n"
	       "                            values its cgroups hold\n"
	       "  metrics [--format F] [VM...]\n"
	       "                            The effect of the limits (throttling, memory,\n"
	       "                            I/O, pressure) and kvmtuned's counters, as\n"
	       "                            OpenMetrics text for Prometheus\n"
	       "  verify [-q] [VM...]       Exit 0 when every VM is as its policy says, 1 when\n"
	       "                            one drifted (each difference named)\n"
	       "  apply [--dry-run] [-q] [VM...]\n"
	       "                            Enforce the policies now (--dry-run: say what would\n"
	       "                            change, change nothing)\n"
	       "  run [--policy FILE] NAME -- QEMU-COMMAND...\n"
	       "                            Start QEMU already inside its VM group\n"
	       "  reload                    Make kvmtuned re-read its configuration and\n"
	       "                            re-enforce; returns when that is done\n"
	       "  set [--runtime] VM KEY=VALUE...\n"
	       "                            Set a VM's policy values in a drop-in (persistent,\n"
	       "                            or --runtime), checked, then enforced\n"
	       "  revert [--runtime|--config] VM [KEY...]\n"
	       "                            Remove what set wrote, and enforce that\n"
	       "  vcpupin VM [VCPU CPULIST] As virsh's, on top of set (these take --live,\n"
	       "  emulatorpin VM [CPULIST]  --config, --current; without values they print\n"
	       "  iothreadpin VM [ID CPULIST]\n"
	       "                            the state)\n"
	       "  schedinfo VM [--set NAME=VALUE...]\n"
	       "  memtune VM [--hard-limit N...]\n"
	       "  blkiotune VM [--weight N] [--device-weights PATH,N...]\n"
	       "  numatune VM [--mode MODE] [--nodeset NODES]\n"
	       "  import-libvirt [--strict] FILE|-\n"
	       "                            A libvirt domain XML's tuning as a policy on\n"
	       "                            stdout; what cannot be carried over on stderr\n"
	       "\n"
	       "Options:\n"
	       "  -C, --config-dir DIR      Configuration directory (default %s)\n"
	       "      --sys-root DIR        Read the host topology from DIR instead of /sys\n"
	       "      --proc-root DIR       Read processes from DIR instead of /proc\n"
	       "      --runtime-dir DIR     kvmtuned's control socket and runtime policy.d\n"
	       "                            directory (/run/kvmtune)\n"
	       "  -v, --verbose             More output\n"
	       "  -h, --help                This text\n"
	       "      --version             Print the version\n"
	       "\n"
	       "Each command's own options: kvmtunectl COMMAND --help.\n"
	       "\n"
	       "Exit status: 0 ok, 1 invalid policy, drift or enforcement error, 2 usage, 3 no "
	       "such\n"
	       "VM, 4 not root (the commands about running VMs need it).\n",
	       KVMTUNE_CONFIG_DIR);
}

static bool is_dir(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return false;
	errno = ENOTDIR;
	return S_ISDIR(st.st_mode);
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
	static const char default_config[] = KVMTUNE_CONFIG_DIR;
	struct ctl c = { .config_dir = default_config, .runtime_dir = "/run/kvmtune" };
	const char *names[ARRAY_SIZE(verbs)], *guess;
	int opt, r;

	/* "+": stop at the verb, its own options follow it. */
	while ((opt = ctl_getopt(NULL, argc, argv, "+:C:vh", options)) >= 0)
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
			return EXIT_USAGE;
		}
	if (c.config_dir != default_config && !is_dir(c.config_dir)) {
		fprintf(stderr, "kvmtunectl: configuration directory %s: %s\n", shown(c.config_dir),
			errno == ENOTDIR ? "not a directory" : strerror(errno));
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
	/* The allowed list comes from the table: tests/test-docs.py reads it to find the verbs
	 * kvmtunectl(8) and --help must describe. */
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
		names[i] = verbs[i].name;
	guess = ctl_suggest(argv[optind], names, ARRAY_SIZE(names));
	fprintf(stderr, "kvmtunectl: unknown command '%s'", shown(argv[optind]));
	if (guess)
		fprintf(stderr, "; did you mean '%s'?", guess);
	fprintf(stderr, " (allowed:");
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
		fprintf(stderr, "%s %s", i ? "," : "", verbs[i].name);
	fprintf(stderr, "). Try 'kvmtunectl --help'.\n");
	return EXIT_USAGE;
}

int log_oom(void)
{
	fprintf(stderr, "kvmtunectl: out of memory\n");
	return EXIT_INVALID;
}

const char *shown(const char *s)
{
	static char *slots[SHOWN_SLOTS];
	static size_t next;
	char *e;

	if (!s || escape_not_needed(s))
		return s;
	e = escape_untrusted(s);
	if (!e)
		return "(out of memory)";
	free(slots[next]);
	slots[next] = e;
	next = (next + 1) % SHOWN_SLOTS;
	return e;
}

struct json_object *json_shown(const char *s)
{
	_cleanup_free_ char *e = NULL;

	if (s && !utf8_is_valid(s) && !(s = e = escape_untrusted(s)))
		return NULL;
	return s ? json_object_new_string(s) : NULL;
}
