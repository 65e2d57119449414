/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The virsh-shaped tuning verbs on top of set: schedinfo, memtune, blkiotune, numatune, with
 * virsh's names and units (memtune: KiB unless a suffix says otherwise). Without values each
 * prints the VM's effective policy in virsh's layout, every value with the file:line it comes
 * from, or "(default)" where no policy sets it (kvmtune then holds the kernel's default).
 */

#include <inttypes.h>
#include <string.h>

#include "ctl-virsh.h"
#include "policy.h"
#include "size.h"

/* ---- schedinfo ---- */

static const struct {
	const char *virsh, *key;
	int64_t dflt;
} sched_names[] = {
	{ "cpu_shares", "cputune.shares", 1024 },
	{ "vcpu_period", "cputune.period", 100000 },
	{ "vcpu_quota", "cputune.quota", -1 },
	{ "emulator_period", "cputune.emulator_period", 100000 },
	{ "emulator_quota", "cputune.emulator_quota", -1 },
	{ "global_period", "cputune.global_period", 100000 },
	{ "global_quota", "cputune.global_quota", -1 },
	{ "iothread_period", "cputune.iothread_period", 100000 },
	{ "iothread_quota", "cputune.iothread_quota", -1 },
};

static const struct pint *sched_value(const struct policy *p, size_t i)
{
	const struct pint *v[] = {
		&p->cputune.shares,	    &p->cputune.period,
		&p->cputune.quota,	    &p->cputune.emulator_period,
		&p->cputune.emulator_quota, &p->cputune.global_period,
		&p->cputune.global_quota,   &p->cputune.iothread_period,
		&p->cputune.iothread_quota,
	};

	return v[i];
}

static void print_schedinfo(const struct virsh_state *s)
{
	const struct policy *p = s->p;

	printf("%-15s: posix\n", "Scheduler");
	for (size_t i = 0; i < ARRAY_SIZE(sched_names); i++) {
		const struct pint *v = sched_value(p, i);

		printf("%-15s: %" PRId64, sched_names[i].virsh,
		       v->set ? v->value : sched_names[i].dflt);
		virsh_print_origin(&v->origin, v->set);
	}
	if (p->cputune.weight.set) {
		printf("%-15s: %" PRId64, "cpu_weight", p->cputune.weight.value);
		virsh_print_origin(&p->cputune.weight.origin, true);
	}
}

/* "cpu_shares=2048" into kv, by virsh's name. */
static int sched_assignment(struct virsh_kv *kv, const char *arg)
{
	const char *names[ARRAY_SIZE(sched_names)], *guess;
	size_t len = strcspn(arg, "=");

	for (size_t i = 0; i < ARRAY_SIZE(sched_names); i++) {
		names[i] = sched_names[i].virsh;
		if (strlen(names[i]) == len && strncmp(arg, names[i], len) == 0 && arg[len] == '=')
			return virsh_kv_add(kv, arg + len + 1, "%s", sched_names[i].key);
	}
	{
		_cleanup_free_ char *word = strndup(arg, len);

		guess = word ? ctl_suggest(word, names, ARRAY_SIZE(names)) : NULL;
	}
	fprintf(stderr, "kvmtunectl schedinfo: '%s' is not NAME=VALUE of a known name", shown(arg));
	if (guess)
		fprintf(stderr, "; did you mean '%s'?", guess);
	fprintf(stderr, " (allowed:");
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		fprintf(stderr, "%s %s", i ? "," : "", names[i]);
	fprintf(stderr, ")\n");
	return EXIT_USAGE;
}

static const char schedinfo_help[] =
	"Usage: kvmtunectl schedinfo [--live|--config|--current] VM [--set NAME=VALUE...]\n"
	"\n"
	"As virsh schedinfo: prints VM's CPU weight and periods/quotas (µs), or sets them with\n"
	"--set (repeated, or NAME=VALUE arguments). Names: cpu_shares, vcpu_period, vcpu_quota,\n"
	"emulator_period, emulator_quota, global_period, global_quota, iothread_period,\n"
	"iothread_quota (cputune.shares, cputune.period, ... in the drop-in).\n"
	"\n"
	"Options:\n"
	"      --set NAME=VALUE  Set one value\n" VIRSH_SCOPE_HELP;

int verb_schedinfo(struct ctl *c, int argc, char **argv)
{
	static const struct option options[] = {
		{ "set", required_argument, NULL, 's' },
		VIRSH_SCOPE_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct virsh_kv kv = {};
	unsigned s = 0;
	int opt, r = EXIT_OK;

	optind = 0; /* 0: glibc starts afresh, permuting (main parsed with "+") */
	while (r == EXIT_OK && (opt = ctl_getopt("schedinfo", argc, argv, ":s:h", options)) >= 0)
		if (opt == 's')
			r = sched_assignment(&kv, optarg);
		else if (opt == 'h') {
			fputs(schedinfo_help, stdout);
			virsh_kv_done(&kv);
			return EXIT_OK;
		} else if (!virsh_scope_option(opt, &s))
			r = EXIT_USAGE;
	if (r == EXIT_OK && optind >= argc) {
		fprintf(stderr, "kvmtunectl schedinfo: needs a VM\n");
		r = EXIT_USAGE;
	}
	for (int i = optind + 1; r == EXIT_OK && i < argc; i++)
		r = sched_assignment(&kv, argv[i]);
	return virsh_finish(c, "schedinfo", r, r == EXIT_OK ? argv[optind] : NULL, s, &kv,
			    print_schedinfo);
}

/* ---- memtune ---- */

static void print_kib(const char *name, const struct psize *v, uint64_t dflt)
{
	uint64_t b = v->set ? v->bytes : dflt;

	if (b == SIZE_UNLIMITED)
		printf("%-15s: unlimited", name);
	else
		printf("%-15s: %" PRIu64, name, b / 1024);
	virsh_print_origin(&v->origin, v->set);
}

static void print_memtune(const struct virsh_state *s)
{
	const struct policy *p = s->p;

	print_kib("hard_limit", &p->memtune.hard_limit, SIZE_UNLIMITED);
	print_kib("soft_limit", &p->memtune.soft_limit, SIZE_UNLIMITED);
	print_kib("swap_hard_limit", &p->memtune.swap_hard_limit, SIZE_UNLIMITED);
	print_kib("min_guarantee", &p->memtune.min_guarantee, 0);
}

static const char memtune_help[] =
	"Usage: kvmtunectl memtune [--live|--config|--current] VM [--hard-limit N]\n"
	"                          [--soft-limit N] [--swap-hard-limit N] [--min-guarantee N]\n"
	"\n"
	"As virsh memtune: prints VM's memory limits in KiB, or sets them (memtune.hard_limit,\n"
	"... in the drop-in). N is KiB, or has a unit (512M, 4G, 4GiB); -1 is unlimited.\n"
	"\n"
	"Options:\n"
	"      --hard-limit N       The most memory the VM may use\n"
	"      --soft-limit N       What it is pushed back to under contention\n"
	"      --swap-hard-limit N  Memory and swap together\n"
	"      --min-guarantee N    Memory never reclaimed (cgroup v2)\n" VIRSH_SCOPE_HELP;

int verb_memtune(struct ctl *c, int argc, char **argv)
{
	enum {
		ARG_HARD = 0x100,
		ARG_SOFT,
		ARG_SWAP,
		ARG_MIN
	};
	static const struct option options[] = {
		{ "hard-limit", required_argument, NULL, ARG_HARD },
		{ "soft-limit", required_argument, NULL, ARG_SOFT },
		{ "swap-hard-limit", required_argument, NULL, ARG_SWAP },
		{ "min-guarantee", required_argument, NULL, ARG_MIN },
		VIRSH_SCOPE_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	static const char *const keys[] = { "hard_limit", "soft_limit", "swap_hard_limit",
					    "min_guarantee" };
	struct virsh_kv kv = {};
	unsigned s = 0;
	int opt, r = EXIT_OK;

	optind = 0; /* 0: glibc starts afresh, permuting (main parsed with "+") */
	while (r == EXIT_OK && (opt = ctl_getopt("memtune", argc, argv, ":h", options)) >= 0)
		if (opt >= ARG_HARD && opt <= ARG_MIN)
			r = virsh_kv_add(&kv, streq(optarg, "-1") ? "unlimited" : optarg,
					 "memtune.%s", keys[opt - ARG_HARD]);
		else if (opt == 'h') {
			fputs(memtune_help, stdout);
			virsh_kv_done(&kv);
			return EXIT_OK;
		} else if (!virsh_scope_option(opt, &s))
			r = EXIT_USAGE;
	if (r == EXIT_OK && argc - optind != 1) {
		fprintf(stderr, "kvmtunectl memtune: needs exactly one VM\n");
		r = EXIT_USAGE;
	}
	return virsh_finish(c, "memtune", r, r == EXIT_OK ? argv[optind] : NULL, s, &kv,
			    print_memtune);
}

/* ---- blkiotune ---- */

/* virsh's device lists, "/dev/sda,500,/dev/sdb,300": each pair into kv as PATH.field. */
static int device_pairs(struct virsh_kv *kv, const char *list, const char *field)
{
	_cleanup_free_ char *copy = strdup(list);
	char *save = NULL, *path, *value;
	size_t n = 0;

	if (!copy)
		return log_oom();
	for (path = strtok_r(copy, ",", &save); path; path = strtok_r(NULL, ",", &save), n++) {
		value = strtok_r(NULL, ",", &save);
		if (!value) {
			fprintf(stderr,
				"kvmtunectl blkiotune: '%s': a device without its value (allowed: "
				"PATH,VALUE[,PATH,VALUE...], like /dev/sda,500)\n",
				shown(list));
			return EXIT_USAGE;
		}
		if (virsh_kv_add(kv, value, "blkiotune.devices.%s.%s", path, field) != EXIT_OK)
			return EXIT_INVALID;
	}
	if (n == 0) {
		fprintf(stderr, "kvmtunectl blkiotune: an empty device list\n");
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static void print_devices(const struct policy *p, const char *name, size_t field)
{
	bool any = false;

	printf("%-22s:", name);
	for (size_t i = 0; i < p->blkiotune.n_devices; i++) {
		const struct blkio_device *d = &p->blkiotune.devices[i];
		const struct psize *v[] = { NULL, &d->read_bytes_sec, &d->write_bytes_sec,
					    &d->read_iops_sec, &d->write_iops_sec };

		if (field == 0 && d->weight.set)
			printf("%s %s,%" PRId64, any ? "," : "", shown(d->path), d->weight.value);
		else if (field > 0 && v[field]->set && v[field]->bytes == SIZE_UNLIMITED)
			printf("%s %s,0", any ? "," : "", shown(d->path));
		else if (field > 0 && v[field]->set)
			printf("%s %s,%" PRIu64, any ? "," : "", shown(d->path), v[field]->bytes);
		else
			continue;
		any = true;
	}
	putchar('\n');
}

static void print_blkiotune(const struct virsh_state *s)
{
	static const char *const names[] = { "device_weight", "device_read_bytes_sec",
					     "device_write_bytes_sec", "device_read_iops_sec",
					     "device_write_iops_sec" };
	const struct policy *p = s->p;

	if (p->blkiotune.weight.set)
		printf("%-22s: %" PRId64, "weight", p->blkiotune.weight.value);
	else
		printf("%-22s: -", "weight");
	virsh_print_origin(&p->blkiotune.weight.origin, p->blkiotune.weight.set);
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		print_devices(p, names[i], i);
}

static const char blkiotune_help[] =
	"Usage: kvmtunectl blkiotune [--live|--config|--current] VM [--weight N]\n"
	"                            [--device-weights PATH,N[,...]] [--device-read-bytes-sec "
	"...]\n"
	"                            [--device-write-bytes-sec ...] [--device-read-iops-sec ...]\n"
	"                            [--device-write-iops-sec ...]\n"
	"\n"
	"As virsh blkiotune: prints VM's block I/O weight and per-device weights and throttles,\n"
	"or sets them (blkiotune.weight, blkiotune.devices.PATH.FIELD in the drop-in). Device\n"
	"lists are virsh's: PATH,VALUE pairs separated by commas; bytes/s are bytes unless a unit\n"
	"says otherwise (50M).\n"
	"\n"
	"Options:\n"
	"      --weight N                  The VM's weight, 10..1000\n"
	"      --device-weights LIST       Per-device weights\n"
	"      --device-read-bytes-sec LIST, --device-write-bytes-sec LIST\n"
	"      --device-read-iops-sec LIST, --device-write-iops-sec LIST\n"
	"                                  Per-device throttles\n" VIRSH_SCOPE_HELP;

int verb_blkiotune(struct ctl *c, int argc, char **argv)
{
	enum {
		ARG_WEIGHT = 0x100,
		ARG_DW,
		ARG_RB,
		ARG_WB,
		ARG_RI,
		ARG_WI
	};
	static const struct option options[] = {
		{ "weight", required_argument, NULL, ARG_WEIGHT },
		{ "device-weights", required_argument, NULL, ARG_DW },
		{ "device-read-bytes-sec", required_argument, NULL, ARG_RB },
		{ "device-write-bytes-sec", required_argument, NULL, ARG_WB },
		{ "device-read-iops-sec", required_argument, NULL, ARG_RI },
		{ "device-write-iops-sec", required_argument, NULL, ARG_WI },
		VIRSH_SCOPE_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	static const char *const fields[] = { "weight", "read_bytes_sec", "write_bytes_sec",
					      "read_iops_sec", "write_iops_sec" };
	struct virsh_kv kv = {};
	unsigned s = 0;
	int opt, r = EXIT_OK;

	optind = 0; /* 0: glibc starts afresh, permuting (main parsed with "+") */
	while (r == EXIT_OK && (opt = ctl_getopt("blkiotune", argc, argv, ":h", options)) >= 0)
		if (opt == ARG_WEIGHT)
			r = virsh_kv_add(&kv, optarg, "blkiotune.weight");
		else if (opt >= ARG_DW && opt <= ARG_WI)
			r = device_pairs(&kv, optarg, fields[opt - ARG_DW]);
		else if (opt == 'h') {
			fputs(blkiotune_help, stdout);
			virsh_kv_done(&kv);
			return EXIT_OK;
		} else if (!virsh_scope_option(opt, &s))
			r = EXIT_USAGE;
	if (r == EXIT_OK && argc - optind != 1) {
		fprintf(stderr, "kvmtunectl blkiotune: needs exactly one VM\n");
		r = EXIT_USAGE;
	}
	return virsh_finish(c, "blkiotune", r, r == EXIT_OK ? argv[optind] : NULL, s, &kv,
			    print_blkiotune);
}

/* ---- numatune ---- */

static void print_numatune(const struct virsh_state *s)
{
	const struct policy *p = s->p;
	_cleanup_free_ char *nodes = NULL;

	printf("%-15s: %s", "numa_mode",
	       p->numatune.mode.set ? numa_mode_to_string(p->numatune.mode.value) : "strict");
	virsh_print_origin(&p->numatune.mode.origin, p->numatune.mode.set);
	if (p->numatune.nodeset.set)
		nodes = cpuset_format(&p->numatune.nodeset.cpus);
	printf("%-15s: %s", "numa_nodeset", p->numatune.nodeset.set ? nodes ?: "?" : "");
	virsh_print_origin(&p->numatune.nodeset.origin, p->numatune.nodeset.set);
}

static const char numatune_help[] =
	"Usage: kvmtunectl numatune [--live|--config|--current] VM [--mode MODE] [--nodeset "
	"NODES]\n"
	"\n"
	"As virsh numatune: prints VM's NUMA memory mode and nodes, or sets them\n"
	"(numatune.memory.mode, numatune.memory.nodeset in the drop-in). MODE: strict,\n"
	"restrictive, preferred, interleave (or virsh's numbers 0..3: strict, preferred,\n"
	"interleave, restrictive); preferred and interleave apply at launch only.\n"
	"\n"
	"Options:\n"
	"      --mode MODE     The memory mode\n"
	"      --nodeset NODES The nodes, like 0-1\n" VIRSH_SCOPE_HELP;

int verb_numatune(struct ctl *c, int argc, char **argv)
{
	enum {
		ARG_MODE = 0x100,
		ARG_NODESET
	};
	static const struct option options[] = {
		{ "mode", required_argument, NULL, ARG_MODE },
		{ "nodeset", required_argument, NULL, ARG_NODESET },
		VIRSH_SCOPE_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	/* virsh's numbers: libvirt's virDomainNumatuneMemMode order. */
	static const char *const modes[] = { "strict", "preferred", "interleave", "restrictive" };
	struct virsh_kv kv = {};
	unsigned s = 0;
	int opt, r = EXIT_OK;

	optind = 0; /* 0: glibc starts afresh, permuting (main parsed with "+") */
	while (r == EXIT_OK && (opt = ctl_getopt("numatune", argc, argv, ":h", options)) >= 0)
		if (opt == ARG_MODE)
			r = virsh_kv_add(&kv,
					 optarg[0] >= '0' && optarg[0] <= '3' && !optarg[1]
						 ? modes[optarg[0] - '0']
						 : optarg,
					 "numatune.memory.mode");
		else if (opt == ARG_NODESET)
			r = virsh_kv_add(&kv, optarg, "numatune.memory.nodeset");
		else if (opt == 'h') {
			fputs(numatune_help, stdout);
			virsh_kv_done(&kv);
			return EXIT_OK;
		} else if (!virsh_scope_option(opt, &s))
			r = EXIT_USAGE;
	if (r == EXIT_OK && argc - optind != 1) {
		fprintf(stderr, "kvmtunectl numatune: needs exactly one VM\n");
		r = EXIT_USAGE;
	}
	return virsh_finish(c, "numatune", r, r == EXIT_OK ? argv[optind] : NULL, s, &kv,
			    print_numatune);
}
