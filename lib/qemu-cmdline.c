/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <json-c/json.h>
#include <string.h>

#include "macro.h"
#include "qemu-cmdline.h"
#include "size.h"

/* One key=value of a QemuOpts string; both point into a private copy. */
struct opt {
	const char *key;
	const char *value;
};

struct opts {
	char *copy;
	struct opt items[64];
	size_t n;
};

/*
 * Splits "v1,k2=v2,,x,flag" into pairs. ",," is a literal comma. A bare first item is
 * implied_key=item; any other bare item is item=on, or "noitem" → item=off.
 */
static int opts_split(const char *s, const char *implied_key, struct opts *ret)
{
	char *w;

	*ret = (struct opts){ .copy = strdup(s) };
	if (!ret->copy)
		return -ENOMEM;
	w = ret->copy;
	for (const char *r = s; ret->n < ARRAY_SIZE(ret->items);) {
		char *item = w, *eq;

		for (; *r; r++) {
			if (*r == ',' && r[1] == ',') {
				*w++ = ',';
				r++;
			} else if (*r == ',')
				break;
			else
				*w++ = *r;
		}
		*w++ = '\0';
		eq = strchr(item, '=');
		if (eq) {
			*eq = '\0';
			ret->items[ret->n++] = (struct opt){ item, eq + 1 };
		} else if (ret->n == 0 && implied_key)
			ret->items[ret->n++] = (struct opt){ implied_key, item };
		else if (strncmp(item, "no", 2) == 0 && item[2])
			ret->items[ret->n++] = (struct opt){ item + 2, "off" };
		else if (*item)
			ret->items[ret->n++] = (struct opt){ item, "on" };
		if (!*r)
			break;
		r++;
	}
	return 0;
}

static const char *opts_get(const struct opts *o, const char *key)
{
	const char *v = NULL;

	/* The last one wins, as in QEMU. */
	for (size_t i = 0; i < o->n; i++)
		if (streq(o->items[i].key, key))
			v = o->items[i].value;
	return v;
}

static bool is_on(const char *v)
{
	return streq(v, "on") || streq(v, "yes") || streq(v, "true") || streq(v, "y");
}

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

static void set_unsigned(unsigned *dst, const char *v)
{
	int64_t n;

	if (v && parse_int64(v, &n) == 0 && n >= 0 && n <= 1 << 20)
		*dst = (unsigned)n;
}

static int parse_name(struct qemu_cmdline *c, const char *value)
{
	struct opts o;
	const char *dt;
	int r = opts_split(value, "guest", &o);

	if (r < 0)
		return r;
	r = set_string(&c->name, opts_get(&o, "guest"));
	if (r >= 0)
		r = set_string(&c->process_name, opts_get(&o, "process"));
	dt = opts_get(&o, "debug-threads");
	if (dt)
		c->debug_threads = is_on(dt);
	free(o.copy);
	return r;
}

/* -smp, or -machine smp.KEY (prefix "smp."). */
static void parse_smp_keys(struct qemu_cmdline *c, const struct opts *o, const char *prefix)
{
	static const struct {
		const char *key;
		size_t offset;
	} keys[] = {
		{ "cpus", offsetof(struct qemu_cmdline, vcpus) },
		{ "maxcpus", offsetof(struct qemu_cmdline, maxcpus) },
		{ "sockets", offsetof(struct qemu_cmdline, sockets) },
		{ "dies", offsetof(struct qemu_cmdline, dies) },
		{ "clusters", offsetof(struct qemu_cmdline, clusters) },
		{ "cores", offsetof(struct qemu_cmdline, cores) },
		{ "threads", offsetof(struct qemu_cmdline, threads) },
	};
	char key[32];

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		(void)snprintf(key, sizeof(key), "%s%s", prefix, keys[i].key);
		set_unsigned((unsigned *)((char *)c + keys[i].offset), opts_get(o, key));
	}
}

static void parse_accel(struct qemu_cmdline *c, const char *accel)
{
	/* "kvm:tcg" tries in order; the first one is what runs on a host with KVM. */
	if (c->accel != QEMU_ACCEL_UNKNOWN || !accel)
		return;
	if (strncmp(accel, "kvm", 3) == 0)
		c->accel = QEMU_ACCEL_KVM;
	else if (strncmp(accel, "tcg", 3) == 0)
		c->accel = QEMU_ACCEL_TCG;
	else
		c->accel = QEMU_ACCEL_OTHER;
}

static int parse_opts_option(struct qemu_cmdline *c, const char *option, const char *value)
{
	const char *implied = streq(option, "smp")	 ? "cpus"
			      : streq(option, "machine") ? "type"
			      : streq(option, "accel")	 ? "accel"
							 : NULL;
	const char *v;
	struct opts o;
	int r = opts_split(value, implied, &o);

	if (r < 0)
		return r;
	if (streq(option, "smp"))
		parse_smp_keys(c, &o, "");
	else if (streq(option, "machine")) {
		parse_smp_keys(c, &o, "smp.");
		parse_accel(c, opts_get(&o, "accel"));
	} else if (streq(option, "accel")) {
		parse_accel(c, opts_get(&o, "accel"));
		v = opts_get(&o, "thread");
		if (c->accel == QEMU_ACCEL_TCG && v && streq(v, "single"))
			c->tcg_single_thread = true;
	}
	free(o.copy);
	return 0;
}

static int add_iothread(struct qemu_cmdline *c, const char *id)
{
	char **v;

	if (!id)
		return 0;
	v = realloc(c->iothreads, (c->n_iothreads + 1) * sizeof(char *));
	if (!v)
		return -ENOMEM;
	c->iothreads = v;
	v[c->n_iothreads] = strdup(id);
	if (!v[c->n_iothreads])
		return -ENOMEM;
	c->n_iothreads++;
	return 0;
}

static int parse_object(struct qemu_cmdline *c, const char *value)
{
	struct opts o;
	int r;

	if (value[0] == '{') {
		struct json_object *j = json_tokener_parse(value), *type, *id;

		if (j && json_object_object_get_ex(j, "qom-type", &type) &&
		    streq(json_object_get_string(type), "iothread") &&
		    json_object_object_get_ex(j, "id", &id))
			r = add_iothread(c, json_object_get_string(id));
		else
			r = 0;
		json_object_put(j);
		return r;
	}
	r = opts_split(value, "qom-type", &o);
	if (r < 0)
		return r;
	if (streq(opts_get(&o, "qom-type"), "iothread"))
		r = add_iothread(c, opts_get(&o, "id"));
	free(o.copy);
	return r;
}

/* A -chardev socket that QEMU listens on: remembered until a -mon names it. */
struct chardev {
	char id[128];
	char path[4096];
};

struct parse_state {
	struct chardev chardevs[16];
	size_t n_chardevs;
	char mon_chardev[128];
};

/* "unix:PATH,server=on,wait=off" (or the legacy "unix:PATH,server,nowait"). */
static int parse_qmp(struct qemu_cmdline *c, const char *value)
{
	struct opts o;
	const char *server;
	int r;

	if (strncmp(value, "unix:", 5) != 0 || c->qmp_socket)
		return 0;
	r = opts_split(value + 5, "path", &o);
	if (r < 0)
		return r;
	server = opts_get(&o, "server");
	if (server && is_on(server))
		r = set_string(&c->qmp_socket, opts_get(&o, "path"));
	free(o.copy);
	return r;
}

static int parse_chardev(struct parse_state *s, const char *value)
{
	struct opts o;
	const char *id, *path, *server, *abstract;
	int r = opts_split(value, "backend", &o);

	if (r < 0)
		return r;
	id = opts_get(&o, "id");
	path = opts_get(&o, "path");
	server = opts_get(&o, "server");
	abstract = opts_get(&o, "abstract");
	if (streq(opts_get(&o, "backend"), "socket") && id && path && server && is_on(server) &&
	    !(abstract && is_on(abstract)) && s->n_chardevs < ARRAY_SIZE(s->chardevs)) {
		struct chardev *d = &s->chardevs[s->n_chardevs++];

		(void)snprintf(d->id, sizeof(d->id), "%s", id);
		(void)snprintf(d->path, sizeof(d->path), "%s", path);
	}
	free(o.copy);
	return 0;
}

static int parse_mon(struct parse_state *s, const char *value)
{
	struct opts o;
	const char *chardev, *mode;
	int r = opts_split(value, "chardev", &o);

	if (r < 0)
		return r;
	chardev = opts_get(&o, "chardev");
	mode = opts_get(&o, "mode");
	if (chardev && mode && streq(mode, "control") && !s->mon_chardev[0])
		(void)snprintf(s->mon_chardev, sizeof(s->mon_chardev), "%s", chardev);
	free(o.copy);
	return 0;
}

/* Options that take no value (QEMU 7.2's qemu-options.hx); every other option takes one. */
static bool option_has_value(const char *o)
{
	static const char *const flags[] = {
		"S",	     "daemonize", "enable-fips",     "enable-kvm",     "full-screen",
		"h",	     "help",	  "no-acpi",	     "no-fd-bootchk",  "no-hpet",
		"no-quit",   "no-reboot", "no-shutdown",     "no-user-config", "nodefaults",
		"nographic", "old-param", "only-migratable", "portrait",       "preconfig",
		"s",	     "sdl",	  "semihosting",     "singlestep",     "snapshot",
		"usb",	     "version",	  "win2k-hack",	     "xen-attach",     "alt-grab",
		"ctrl-grab", "curses",	  "no-frame",
	};

	for (size_t i = 0; i < ARRAY_SIZE(flags); i++)
		if (streq(o, flags[i]))
			return false;
	return true;
}

static int parse_option(struct qemu_cmdline *c, struct parse_state *s, const char *o, const char *v)
{
	if (streq(o, "name"))
		return parse_name(c, v);
	if (streq(o, "uuid"))
		return set_string(&c->uuid, v);
	if (streq(o, "smp") || streq(o, "machine") || streq(o, "M") || streq(o, "accel"))
		return parse_opts_option(c, streq(o, "M") ? "machine" : o, v);
	if (streq(o, "object"))
		return parse_object(c, v);
	if (streq(o, "qmp") || streq(o, "qmp-pretty"))
		return parse_qmp(c, v);
	if (streq(o, "chardev"))
		return parse_chardev(s, v);
	if (streq(o, "mon"))
		return parse_mon(s, v);
	if (streq(o, "pidfile"))
		return set_string(&c->pidfile, v);
	if (streq(o, "icount"))
		c->tcg_single_thread = true;
	if (streq(o, "readconfig") || streq(o, "set"))
		c->incomplete = true;
	return 0;
}

/* What QEMU derives when -smp leaves things out (hw/core/machine-smp.c, simplified). */
static void derive_smp(struct qemu_cmdline *c)
{
	unsigned product = MAX(c->sockets, 1u) * MAX(c->dies, 1u) * MAX(c->clusters, 1u) *
			   MAX(c->cores, 1u) * MAX(c->threads, 1u);
	bool topology = c->sockets || c->dies || c->clusters || c->cores || c->threads;

	if (c->vcpus == 0)
		c->vcpus = c->maxcpus ? c->maxcpus : topology ? product : 1;
	if (c->maxcpus == 0)
		c->maxcpus = topology ? MAX(product, c->vcpus) : c->vcpus;
}

int qemu_cmdline_parse(char *const *argv, size_t argc, struct qemu_cmdline *ret)
{
	struct qemu_cmdline c = {};
	struct parse_state s = {};
	int r = 0;

	for (size_t i = 1; r >= 0 && i < argc; i++) {
		const char *o = argv[i];

		if (o[0] != '-' || o[1] == '\0')
			continue; /* a disk image */
		o += o[1] == '-' ? 2 : 1;
		if (streq(o, "daemonize"))
			c.daemonize = true;
		else if (streq(o, "enable-kvm"))
			parse_accel(&c, "kvm");
		if (!option_has_value(o))
			continue;
		if (i + 1 >= argc)
			break;
		/* An option this table does not know as a flag, followed by another option. */
		if (argv[i + 1][0] == '-' && argv[i + 1][1] != '\0' &&
		    !(streq(o, "name") || streq(o, "uuid")) && strchr(argv[i + 1], '=') == NULL &&
		    strchr(argv[i + 1], ',') == NULL)
			continue;
		r = parse_option(&c, &s, o, argv[++i]);
	}
	for (size_t i = 0; r >= 0 && i < s.n_chardevs && !c.qmp_socket; i++)
		if (streq(s.chardevs[i].id, s.mon_chardev))
			r = set_string(&c.qmp_socket, s.chardevs[i].path);
	if (r < 0) {
		qemu_cmdline_done(&c);
		return r;
	}
	derive_smp(&c);
	*ret = c;
	return 0;
}

int qemu_cmdline_parse_buf(const char *buf, size_t size, struct qemu_cmdline *ret)
{
	_cleanup_free_ char **argv = NULL;
	size_t argc = 0;
	int r;

	for (size_t i = 0; i < size; i++)
		if (buf[i] == '\0')
			argc++;
	if (size > 0 && buf[size - 1] != '\0')
		argc++;
	argv = calloc(argc + 1, sizeof(char *));
	if (!argv)
		return -ENOMEM;
	/* The last argument may lack its NUL when the buffer was cut: copy to be safe. */
	_cleanup_free_ char *copy = malloc(size + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, buf, size);
	copy[size] = '\0';
	for (size_t i = 0, n = 0; i < size && n < argc; n++) {
		argv[n] = copy + i;
		i += strlen(copy + i) + 1;
	}
	r = qemu_cmdline_parse(argv, argc, ret);
	return r;
}

void qemu_cmdline_done(struct qemu_cmdline *c)
{
	free(c->name);
	free(c->uuid);
	free(c->process_name);
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
