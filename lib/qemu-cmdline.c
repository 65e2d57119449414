/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <json-c/json.h>
#include <string.h>

#include "macro.h"
#include "qemu-cmdline.h"
#include "qemu-opts.h"
#include "qemu-smp.h"

/* A -chardev (or the one -qmp unix:... makes), by its id. */
struct chardev {
	char *id;
	char *path; /* a unix socket QEMU listens on (server=on, path=, not abstract), else NULL */
};

/* A monitor of mode control (-qmp, -qmp-pretty, -mon mode=control), by its chardev's id. */
struct monitor {
	char *chardev;
	size_t compat; /* -qmp unix:...: 1 + the index of the chardev it made; 0: by id */
};

/* What the walk collects before it is resolved (the later of repeated keys wins). */
struct state {
	struct qemu_cmdline c;
	char *guest, *process;
	int debug_threads; /* -1 not given */
	char *machine_type, *machine_accel;
	struct qemu_smp_given smp; /* owned strings */
	bool icount;
	struct qemu_accel_try accels[QEMU_ACCELS_MAX]; /* -accel, in order */
	size_t n_accels;
	struct chardev *chardevs;
	size_t n_chardevs;
	struct monitor *monitors;
	size_t n_monitors;
};

static int set_string(char **dst, const char *v)
{
	char *copy;

	if (!v)
		return 0;
	copy = strdup(v);
	if (!copy)
		return -ENOMEM;
	free(*dst);
	*dst = copy;
	return 0;
}

/* "6B29FC40-CA47-1067-B31D-00DD010662DA" → lower case; QEMU refuses any other form. */
static int set_uuid(struct state *s, const char *v)
{
	if (!v || strlen(v) != 36)
		return 0;
	for (size_t i = 0; i < 36; i++)
		if ((i == 8 || i == 13 || i == 18 || i == 23) ? v[i] != '-'
							      : !isxdigit((unsigned char)v[i]))
			return 0;
	if (set_string(&s->c.uuid, v) < 0)
		return -ENOMEM;
	for (char *c = s->c.uuid; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return 0;
}

static int parse_name(struct state *s, const char *value)
{
	struct qemu_opts o;
	const char *dt;
	int r = qemu_opts_parse(value, "guest", &o);

	if (r < 0)
		return r;
	r = set_string(&s->guest, qemu_opts_get(&o, "guest"));
	if (r >= 0)
		r = set_string(&s->process, qemu_opts_get(&o, "process"));
	dt = qemu_opts_get(&o, "debug-threads");
	if (dt && qemu_parse_bool(dt) >= 0)
		s->debug_threads = qemu_parse_bool(dt);
	qemu_opts_done(&o);
	return r;
}

/* One -smp key (prefix "" for -smp, "smp." for -machine): the later value wins. */
static int smp_key(struct state *s, const struct qemu_opts *o, const char *prefix)
{
	static const struct {
		const char *key;
		size_t offset;
	} keys[] = {
		{ "cpus", offsetof(struct qemu_smp_given, cpus) },
		{ "maxcpus", offsetof(struct qemu_smp_given, maxcpus) },
		{ "drawers", offsetof(struct qemu_smp_given, drawers) },
		{ "books", offsetof(struct qemu_smp_given, books) },
		{ "sockets", offsetof(struct qemu_smp_given, sockets) },
		{ "dies", offsetof(struct qemu_smp_given, dies) },
		{ "clusters", offsetof(struct qemu_smp_given, clusters) },
		{ "modules", offsetof(struct qemu_smp_given, modules) },
		{ "cores", offsetof(struct qemu_smp_given, cores) },
		{ "threads", offsetof(struct qemu_smp_given, threads) },
	};
	char key[32];

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		char **slot = (char **)((char *)&s->smp + keys[i].offset);

		(void)snprintf(key, sizeof(key), "%s%s", prefix, keys[i].key);
		if (set_string(slot, qemu_opts_get(o, key)) < 0)
			return -ENOMEM;
	}
	return 0;
}

static enum qemu_accel accel_from_name(const char *name)
{
	if (streq(name, "kvm"))
		return QEMU_ACCEL_KVM;
	if (streq(name, "tcg"))
		return QEMU_ACCEL_TCG;
	if (streq(name, "xen") || streq(name, "hvf") || streq(name, "whpx") ||
	    streq(name, "nvmm") || streq(name, "qtest"))
		return QEMU_ACCEL_OTHER;
	return QEMU_ACCEL_UNKNOWN; /* QEMU reports it invalid and tries the next */
}

static int parse_opts_option(struct state *s, const char *option, const char *value)
{
	bool smp = streq(option, "smp");
	struct qemu_opts o;
	int r = qemu_opts_parse(value, smp ? "cpus" : "type", &o);

	if (r < 0)
		return r;
	if (smp)
		r = smp_key(s, &o, "");
	else {
		r = smp_key(s, &o, "smp.");
		if (r >= 0)
			r = set_string(&s->machine_type, qemu_opts_get(&o, "type"));
		if (r >= 0)
			r = set_string(&s->machine_accel, qemu_opts_get(&o, "accel"));
	}
	qemu_opts_done(&o);
	return r;
}

static int parse_accel(struct state *s, const char *value)
{
	struct qemu_opts o;
	const char *accel, *thread;
	int r = qemu_opts_parse(value, "accel", &o);

	if (r < 0)
		return r;
	accel = qemu_opts_get(&o, "accel");
	thread = qemu_opts_get(&o, "thread");
	if (accel && s->n_accels < ARRAY_SIZE(s->accels))
		s->accels[s->n_accels++] = (struct qemu_accel_try){
			.accel = accel_from_name(accel),
			.single_thread = thread && streq(thread, "single"),
		};
	qemu_opts_done(&o);
	return 0;
}

static int parse_object(struct state *s, const char *value)
{
	struct qemu_opts o = {};
	const char *id = NULL;
	json_object *j = NULL;
	int r = 0;

	if (value[0] == '{') {
		json_object *type, *jid;

		j = json_tokener_parse(value);
		if (j && json_object_object_get_ex(j, "qom-type", &type) &&
		    streq(json_object_get_string(type), "iothread") &&
		    json_object_object_get_ex(j, "id", &jid))
			id = json_object_get_string(jid);
	} else {
		r = qemu_opts_parse(value, "qom-type", &o);
		if (r < 0)
			return r;
		if (streq(qemu_opts_get(&o, "qom-type"), "iothread"))
			id = o.id;
	}
	if (id && *id && (r = EXTEND_ARRAY(s->c.iothreads, s->c.n_iothreads)) >= 0) {
		s->c.iothreads[s->c.n_iothreads] = strdup(id);
		r = s->c.iothreads[s->c.n_iothreads] ? 0 : -ENOMEM;
		s->c.n_iothreads += r >= 0;
	}
	json_object_put(j);
	qemu_opts_done(&o);
	return r;
}

/* Adds the chardev opts describe (id: the -chardev's, or the label -qmp gives its own). */
static int add_chardev(struct state *s, const char *id, bool socket, const struct qemu_opts *o)
{
	const char *path = qemu_opts_get(o, "path"), *server = qemu_opts_get(o, "server");
	const char *abstract = qemu_opts_get(o, "abstract"), *fd = qemu_opts_get(o, "fd");
	bool listening = socket && path && !fd && server && qemu_parse_bool(server) == 1 &&
			 !(abstract && qemu_parse_bool(abstract) == 1);
	struct chardev d = {};
	int r = EXTEND_ARRAY(s->chardevs, s->n_chardevs);

	if (r < 0)
		return r;
	if ((id && !(d.id = strdup(id))) || (listening && !(d.path = strdup(path)))) {
		free(d.id);
		return -ENOMEM;
	}
	s->chardevs[s->n_chardevs++] = d;
	return 0;
}

static int add_monitor(struct state *s, const char *chardev, size_t compat)
{
	struct monitor m = { .compat = compat };
	int r = EXTEND_ARRAY(s->monitors, s->n_monitors);

	if (r < 0)
		return r;
	if (chardev && !(m.chardev = strdup(chardev)))
		return -ENOMEM;
	s->monitors[s->n_monitors++] = m;
	return 0;
}

/*
 * -qmp and -qmp-pretty (monitor_parse()): "chardev:ID" names a -chardev (QEMU keeps 31
 * characters of it); otherwise the legacy chardev syntax, of which only "unix:PATH,..." (a
 * socket whose first item is the path) can be a socket to connect to.
 */
static int parse_qmp(struct state *s, const char *value)
{
	struct qemu_opts o;
	char label[32];
	int r;

	if (strncmp(value, "chardev:", 8) == 0) {
		(void)snprintf(label, sizeof(label), "%s", value + 8);
		return add_monitor(s, label, 0);
	}
	if (strncmp(value, "mon:", 4) == 0)
		value += 4;
	if (strncmp(value, "unix:", 5) != 0)
		return add_monitor(s, NULL, 0); /* stdio, tcp:, pty, ...: nothing kvmtune uses */
	r = qemu_opts_parse(value + 5, "path", &o);
	if (r < 0)
		return r;
	r = add_chardev(s, NULL, /* socket= */ true, &o);
	if (r >= 0)
		r = add_monitor(s, NULL, s->n_chardevs);
	qemu_opts_done(&o);
	return r;
}

static int parse_chardev(struct state *s, const char *value)
{
	struct qemu_opts o;
	int r = qemu_opts_parse(value, "backend", &o);

	if (r < 0)
		return r;
	if (o.id)
		r = add_chardev(s, o.id, streq(qemu_opts_get(&o, "backend"), "socket"), &o);
	qemu_opts_done(&o);
	return r;
}

static int parse_mon(struct state *s, const char *value)
{
	struct qemu_opts o;
	const char *chardev, *mode;
	int r = qemu_opts_parse(value, "chardev", &o);

	if (r < 0)
		return r;
	chardev = qemu_opts_get(&o, "chardev");
	mode = qemu_opts_get(&o, "mode");
	if (chardev && mode && streq(mode, "control"))
		r = add_monitor(s, chardev, 0);
	qemu_opts_done(&o);
	return r;
}

static int parse_smbios(struct state *s, const char *value)
{
	struct qemu_opts o;
	const char *type;
	int r = qemu_opts_parse(value, NULL, &o);

	if (r < 0)
		return r;
	/* smbios_entry_add(): file= wins; the type is read with strtoul(..., 0) */
	type = qemu_opts_get(&o, "type");
	if (!qemu_opts_get(&o, "file") && type && strtoul(type, NULL, 0) == 1)
		r = set_uuid(s, qemu_opts_get(&o, "uuid"));
	qemu_opts_done(&o);
	return r;
}

/*
 * Options that take no argument: QEMU 7.2's (qemu-options.hx, DEF(..., 0, ...)) and those of
 * older QEMUs that command lines still carry. Every other known option takes the next argument
 * whatever it is; an option neither list knows (a newer QEMU's) is taken to have no argument
 * when what follows it is an option itself.
 */
static const char *const flag_options[] = {
	"S",
	"alt-grab",
	"async-teardown",
	"audio-help",
	"ctrl-grab",
	"curses",
	"daemonize",
	"enable-fips",
	"enable-kqemu",
	"enable-kvm",
	"enable-nesting",
	"enable-sync-profile",
	"full-screen",
	"h",
	"help",
	"jitdump",
	"kernel-kqemu",
	"localtime",
	"mem-prealloc",
	"no-acpi",
	"no-fd-bootchk",
	"no-frame",
	"no-hpet",
	"no-kqemu",
	"no-kvm",
	"no-kvm-irqchip",
	"no-kvm-pit",
	"no-kvm-pit-reinjection",
	"no-quit",
	"no-reboot",
	"no-shutdown",
	"no-user-config",
	"nodefaults",
	"nodefconfig",
	"nographic",
	"old-param",
	"only-migratable",
	"perfmap",
	"portrait",
	"preconfig",
	"rtc-td-hack",
	"s",
	"sdl",
	"semihosting",
	"show-cursor",
	"singlestep",
	"snapshot",
	"std-vga",
	"tdf",
	"usb",
	"version",
	"vmwarevga",
	"win2k-hack",
	"xen-attach",
	"xen-create",
	"xen-domid-restrict",
};

static const char *const arg_options[] = {
	"D",
	"L",
	"M",
	"accel",
	"acpitable",
	"action",
	"add-fd",
	"append",
	"audio",
	"audiodev",
	"balloon",
	"bios",
	"blockdev",
	"boot",
	"cdrom",
	"chardev",
	"chroot",
	"compat",
	"cpu",
	"d",
	"debugcon",
	"device",
	"dfilter",
	"display",
	"drive",
	"dtb",
	"dump-vmstate",
	"echr",
	"fda",
	"fdb",
	"fsdev",
	"fw_cfg",
	"g",
	"gdb",
	"global",
	"hda",
	"hdb",
	"hdc",
	"hdd",
	"icount",
	"incoming",
	"initrd",
	"iscsi",
	"k",
	"kernel",
	"loadvm",
	"m",
	"machine",
	"mem-path",
	"mon",
	"monitor",
	"msg",
	"mtdblock",
	"name",
	"net",
	"netdev",
	"nic",
	"numa",
	"object",
	"option-rom",
	"overcommit",
	"parallel",
	"pflash",
	"pidfile",
	"plugin",
	"prom-env",
	"qmp",
	"qmp-pretty",
	"qtest",
	"qtest-log",
	"readconfig",
	"rotate",
	"rtc",
	"run-with",
	"runas",
	"sandbox",
	"sd",
	"seed",
	"semihosting-config",
	"serial",
	"set",
	"shim",
	"smbios",
	"smp",
	"soundhw",
	"spice",
	"tpmdev",
	"trace",
	"usbdevice",
	"uuid",
	"vga",
	"virtfs",
	"vnc",
	"watchdog",
	"watchdog-action",
	"xen-domid",
};

static bool listed(const char *o, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (streq(o, list[i]))
			return true;
	return false;
}

static int parse_option(struct state *s, const char *o, const char *v)
{
	if (streq(o, "name"))
		return parse_name(s, v);
	if (streq(o, "uuid"))
		return set_uuid(s, v);
	if (streq(o, "smbios"))
		return parse_smbios(s, v);
	if (streq(o, "smp") || streq(o, "machine") || streq(o, "M"))
		return parse_opts_option(s, streq(o, "smp") ? "smp" : "machine", v);
	if (streq(o, "accel"))
		return parse_accel(s, v);
	if (streq(o, "object"))
		return parse_object(s, v);
	if (streq(o, "qmp") || streq(o, "qmp-pretty"))
		return parse_qmp(s, v);
	if (streq(o, "chardev"))
		return parse_chardev(s, v);
	if (streq(o, "mon"))
		return parse_mon(s, v);
	if (streq(o, "pidfile"))
		return set_string(&s->c.pidfile, v);
	if (streq(o, "icount"))
		s->icount = true;
	if (streq(o, "readconfig") || streq(o, "set"))
		s->c.incomplete = true;
	return 0;
}

/* -enable-kvm and (older QEMUs) -no-kvm write -machine accel=, as vl.c does. */
static int parse_flag(struct state *s, const char *o)
{
	if (streq(o, "daemonize"))
		s->c.daemonize = true;
	else if (streq(o, "enable-kvm"))
		return set_string(&s->machine_accel, "kvm");
	else if (streq(o, "no-kvm"))
		return set_string(&s->machine_accel, "tcg");
	return 0;
}

/* configure_accelerators(): -accel, else -machine accel=A:B, else by the program's name. */
static void resolve_accels(struct state *s, const char *progname)
{
	const char *list = s->machine_accel;
	char name[16];

	if (s->n_accels > 0) {
		memcpy(s->c.accels, s->accels, sizeof(s->accels));
		s->c.n_accels = s->n_accels;
	} else {
		if (!list)
			list = progname && has_suffix(progname, "kvm") ? "kvm:tcg" : "tcg:kvm";
		for (const char *p = list; *p && s->c.n_accels < QEMU_ACCELS_MAX;) {
			size_t n = strcspn(p, ":");
			enum qemu_accel a;

			(void)snprintf(name, sizeof(name), "%.*s", (int)MIN(n, sizeof(name) - 1),
				       p);
			a = n < sizeof(name) ? accel_from_name(name) : QEMU_ACCEL_UNKNOWN;
			if (a != QEMU_ACCEL_UNKNOWN) /* an invalid name is skipped */
				s->c.accels[s->c.n_accels++] =
					(struct qemu_accel_try){ .accel = a };
			p += n + (p[n] == ':');
		}
	}
	/* icount is single-threaded TCG (QEMU refuses it with thread=multi) */
	for (size_t i = 0; i < s->c.n_accels; i++)
		if (s->c.accels[i].accel == QEMU_ACCEL_TCG && s->icount)
			s->c.accels[i].single_thread = true;
	(void)qemu_cmdline_accel(&s->c, true, &s->c.tcg_single_thread);
}

/* The chardev a monitor is on: QEMU refuses duplicate ids, so the first of that id. */
static const struct chardev *monitor_chardev(const struct state *s, const struct monitor *m)
{
	if (m->compat)
		return &s->chardevs[m->compat - 1];
	FOREACH_ARRAY (d, s->chardevs, s->n_chardevs)
		if (m->chardev && streq(d->id, m->chardev))
			return d;
	return NULL;
}

static int resolve(struct state *s, const char *progname)
{
	bool prefer_sockets, apic_compat;
	int r = 0;

	qemu_machine_traits(s->machine_type, &prefer_sockets, &apic_compat);
	s->c.prefer_sockets = prefer_sockets;
	s->c.apic_compat = apic_compat;
	{
		struct qemu_cmdline counts = s->c;

		qemu_smp_derive(&s->smp, &counts);
		s->c.vcpus = counts.vcpus;
		s->c.maxcpus = counts.maxcpus;
		s->c.drawers = counts.drawers;
		s->c.books = counts.books;
		s->c.sockets = counts.sockets;
		s->c.dies = counts.dies;
		s->c.clusters = counts.clusters;
		s->c.modules = counts.modules;
		s->c.cores = counts.cores;
		s->c.threads = counts.threads;
	}
	resolve_accels(s, progname);
	if (s->guest && *s->guest)
		r = set_string(&s->c.name, s->guest);
	if (r >= 0)
		r = set_string(&s->c.process_name, s->process);
	if (r >= 0)
		r = set_string(&s->c.machine, s->machine_type);
	s->c.debug_threads = s->debug_threads == 1;
	FOREACH_ARRAY (m, s->monitors, s->n_monitors) {
		const struct chardev *d = monitor_chardev(s, m);

		if (r >= 0 && d && d->path) {
			r = set_string(&s->c.qmp_socket, d->path);
			break;
		}
	}
	return r;
}

static void state_done(struct state *s)
{
	char **smp = (char **)&s->smp;

	free(s->guest);
	free(s->process);
	free(s->machine_type);
	free(s->machine_accel);
	for (size_t i = 0; i < sizeof(s->smp) / sizeof(char *); i++)
		free(smp[i]);
	FOREACH_ARRAY (d, s->chardevs, s->n_chardevs) {
		free(d->id);
		free(d->path);
	}
	free(s->chardevs);
	FOREACH_ARRAY (m, s->monitors, s->n_monitors)
		free(m->chardev);
	free(s->monitors);
}

int qemu_cmdline_parse(char *const *argv, size_t argc, struct qemu_cmdline *ret)
{
	struct state s = { .debug_threads = -1 };
	int r = 0;

	for (size_t i = 1; r >= 0 && i < argc; i++) {
		const char *o = argv[i];
		bool known_arg;

		if (o[0] != '-')
			continue; /* a disk image */
		o += o[1] == '-' ? 2 : 1;
		if (listed(o, flag_options, ARRAY_SIZE(flag_options))) {
			r = parse_flag(&s, o);
			continue;
		}
		known_arg = listed(o, arg_options, ARRAY_SIZE(arg_options));
		if (i + 1 >= argc)
			break; /* QEMU: "requires an argument" */
		if (!known_arg && argv[i + 1][0] == '-' && argv[i + 1][1] != '\0')
			continue;
		r = parse_option(&s, o, argv[++i]);
	}
	if (r >= 0)
		r = resolve(&s, argc > 0 ? argv[0] : NULL);
	state_done(&s);
	if (r < 0) {
		qemu_cmdline_done(&s.c);
		return r;
	}
	*ret = s.c;
	return 0;
}

int qemu_cmdline_parse_buf(const char *buf, size_t size, struct qemu_cmdline *ret)
{
	_cleanup_free_ char **argv = NULL;
	_cleanup_free_ char *copy = NULL;
	size_t argc = 0;

	for (size_t i = 0; i < size; i++)
		if (buf[i] == '\0')
			argc++;
	if (size > 0 && buf[size - 1] != '\0')
		argc++;
	argv = calloc(argc + 1, sizeof(char *));
	/* The last argument may lack its NUL when the buffer was cut: copy to be safe. */
	copy = malloc(size + 1);
	if (!argv || !copy)
		return -ENOMEM;
	memcpy(copy, buf, size);
	copy[size] = '\0';
	for (size_t i = 0, n = 0; i < size && n < argc; n++) {
		argv[n] = copy + i;
		i += strlen(copy + i) + 1;
	}
	return qemu_cmdline_parse(argv, argc, ret);
}

enum qemu_accel qemu_cmdline_accel(const struct qemu_cmdline *c, bool kvm, bool *ret_single)
{
	for (size_t i = 0; i < c->n_accels; i++) {
		const struct qemu_accel_try *a = &c->accels[i];

		if (a->accel == QEMU_ACCEL_TCG || (a->accel == QEMU_ACCEL_KVM && kvm)) {
			if (ret_single)
				*ret_single = a->accel == QEMU_ACCEL_TCG && a->single_thread;
			return a->accel;
		}
	}
	if (ret_single)
		*ret_single = false;
	return QEMU_ACCEL_UNKNOWN;
}

const char *qemu_accel_to_string(enum qemu_accel a)
{
	static const char *const names[] = {
		[QEMU_ACCEL_UNKNOWN] = "none",
		[QEMU_ACCEL_KVM] = "kvm",
		[QEMU_ACCEL_TCG] = "tcg",
		[QEMU_ACCEL_OTHER] = "other",
	};

	return (size_t)a < ARRAY_SIZE(names) ? names[a] : NULL;
}

void qemu_cmdline_done(struct qemu_cmdline *c)
{
	free(c->name);
	free(c->uuid);
	free(c->process_name);
	free(c->machine);
	for (size_t i = 0; i < c->n_iothreads; i++)
		free(c->iothreads[i]);
	free(c->iothreads);
	free(c->qmp_socket);
	free(c->pidfile);
	*c = (struct qemu_cmdline){};
}

bool qemu_id_is_valid(const char *id)
{
	size_t n = strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			      "0123456789-._");

	return isalpha((unsigned char)id[0]) && id[n] == '\0' && n <= 128;
}
