/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "config-file.h"
#include "fileio.h"
#include "glob.h"
#include "policy-load.h"
#include "settings.h"
#include "size.h"
#include "strbuf.h"
#include "yaml-load.h"
#include "yaml-walk.h"

#define SETTINGS_FILE_SIZE_MAX (64 * 1024)

static const char *const backend_names[] = { "auto", "systemd", "cgroupfs" };

static const char *const default_binaries[] = {
	"/usr/bin/qemu-system-*",
	"/usr/libexec/qemu-system-*",
	"/usr/libexec/qemu-kvm",
	"/usr/bin/qemu-kvm",
};

const char *backend_to_string(enum backend b)
{
	return b >= 0 && (size_t)b < ARRAY_SIZE(backend_names) ? backend_names[b] : NULL;
}

static void free_binaries(struct settings *s)
{
	for (size_t i = 0; i < s->n_qemu_binaries; i++)
		free(s->qemu_binaries[i]);
	free(s->qemu_binaries);
	s->qemu_binaries = NULL;
	s->n_qemu_binaries = 0;
}

void settings_done(struct settings *s)
{
	free(s->path);
	free(s->cgroup_parent.value);
	free(s->metrics_textfile.value);
	free_binaries(s);
	*s = (struct settings){};
}

int settings_defaults(struct settings *s)
{
	settings_done(s);
	s->backend = (struct penum){ .value = BACKEND_AUTO };
	s->cgroup_parent.value = strdup("machine.slice");
	s->qemu_binaries = calloc(ARRAY_SIZE(default_binaries), sizeof(char *));
	if (!s->cgroup_parent.value || !s->qemu_binaries)
		return -ENOMEM;
	for (size_t i = 0; i < ARRAY_SIZE(default_binaries); i++) {
		s->qemu_binaries[i] = strdup(default_binaries[i]);
		if (!s->qemu_binaries[i])
			return -ENOMEM;
		s->n_qemu_binaries++;
	}
	s->skip_managed = (struct pint){ .value = 1 };
	s->rescan_interval_usec = (struct pint){ .value = 30 * 1000000 };
	s->qmp = (struct pint){ .value = 1 };
	return 0;
}

/*
 * A cgroup path below the root whose components can't escape, collide with kernel files or be
 * refused by mkdir: one leading '/' at most, no empty component, each at most NAME_MAX bytes.
 */
static bool cgroup_parent_valid(const char *s, const char **ret_why)
{
	const char *c = s + (*s == '/');

	if (*c == '\0') {
		*ret_why = "empty";
		return false;
	}
	for (;;) {
		size_t n = strcspn(c, "/");

		if (n == 0) {
			*ret_why = *c ? "an empty component ('//')" : "a trailing '/'";
			return false;
		}
		if (n > NAME_MAX) {
			*ret_why = "a component longer than 255 bytes";
			return false;
		}
		if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.')) {
			*ret_why = "'.' and '..' are not allowed";
			return false;
		}
		if (c[0] == '.' || strncmp(c, "cgroup.", 7) == 0) {
			*ret_why = "a component may not start with '.' or 'cgroup.'";
			return false;
		}
		for (size_t i = 0; i < n; i++)
			if (!isalnum((unsigned char)c[i]) && !strchr("_.:@-", c[i])) {
				*ret_why = "only letters, digits and _ . : @ - in names";
				return false;
			}
		if (c[n] == '\0')
			return true;
		c += n + 1;
	}
}

static void parse_cgroup_parent(struct ywalk *w, yaml_node_t *node, const char *key, void *base)
{
	struct settings *s = base;
	const char *v = ywalk_scalar(w, node, key, "a cgroup path"), *why = NULL;

	if (!v)
		return;
	if (strlen(v) > 1024 || !cgroup_parent_valid(v, &why)) {
		ywalk_error(w, node, key,
			    "'%.40s' is not a usable cgroup parent: %s (allowed: a path relative "
			    "to the cgroup root, like machine.slice)",
			    v, why ?: "longer than 1024 bytes");
		return;
	}
	v += *v == '/';
	free(s->cgroup_parent.value);
	free(s->metrics_textfile.value);
	s->cgroup_parent.value = strdup(v);
	if (!s->cgroup_parent.value)
		w->oom = -ENOMEM;
	s->cgroup_parent.origin = ywalk_origin(w, node);
}

/*
 * A glob of qemu_binaries: every process whose executable it matches is taken for a VM (its
 * threads sorted into cgroups), so one that matches whole directories is an error and one that
 * names neither QEMU nor KVM a warning.
 */
static bool binary_glob_ok(struct ywalk *w, yaml_node_t *item, const char *key, const char *v)
{
	const char *allowed = "an absolute glob on /proc/PID/exe naming QEMU, like "
			      "/usr/bin/qemu-system-*";
	const char *base = strrchr(v, '/');
	struct glob_error e;

	if (strlen(v) > 4096) {
		ywalk_error(w, item, key, "longer than 4096 bytes (allowed: %s)", allowed);
		return false;
	}
	if (glob_check(v, true, &e) < 0) {
		ywalk_error_at(w, item, e.offset, key, "'%.40s' can never match: %s (allowed: %s)",
			       v, e.why, allowed);
		return false;
	}
	if (glob_basename_is_wild(v)) {
		ywalk_error(w, item, key,
			    "'%.40s' takes every program in its directory for a VM (allowed: %s)",
			    v, allowed);
		return false;
	}
	base = base ? base + 1 : v;
	if (!strstr(base, "qemu") && !strstr(base, "kvm"))
		ywalk_warning(
			w, item, key,
			"'%.40s' does not name QEMU or KVM: every process it matches is taken "
			"for a VM",
			v);
	return true;
}

static void parse_binaries(struct ywalk *w, yaml_node_t *node, const char *key, void *base)
{
	struct settings *s = base;
	char buf[80], child[256];
	size_t i = 0, n;

	if (node->type != YAML_SEQUENCE_NODE) {
		ywalk_error(w, node, key, "expected a list of absolute paths or globs, got %s",
			    ywalk_describe(node, buf, sizeof(buf)));
		return;
	}
	n = (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
	if (n == 0 || n > SETTINGS_BINARIES_MAX) {
		ywalk_error(w, node, key, "%zu entries (allowed: 1..%d)", n, SETTINGS_BINARIES_MAX);
		return;
	}
	free_binaries(s);
	s->qemu_binaries = calloc(n, sizeof(char *));
	if (!s->qemu_binaries) {
		w->oom = -ENOMEM;
		return;
	}
	for (yaml_node_item_t *it = node->data.sequence.items.start;
	     it < node->data.sequence.items.top; it++, i++) {
		yaml_node_t *item = ywalk_node(w, *it);
		const char *v = ywalk_scalar(w, item, ywalk_key_index(child, sizeof(child), key, i),
					     "an absolute path or glob");

		if (!v || !binary_glob_ok(w, item, child, v))
			continue;
		s->qemu_binaries[s->n_qemu_binaries] = strdup(v);
		if (!s->qemu_binaries[s->n_qemu_binaries++])
			w->oom = -ENOMEM;
	}
	s->qemu_binaries_origin = ywalk_origin(w, node);
}

/* An absolute path ending in ".prom": node_exporter's textfile collector reads only those. */
static void parse_textfile(struct ywalk *w, yaml_node_t *node, const char *key, void *base)
{
	struct settings *s = base;
	const char *v = ywalk_scalar(w, node, key, "an absolute path ending in .prom");
	size_t n;

	if (!v)
		return;
	n = strlen(v);
	if (v[0] != '/' || n > 4096 || n < 6 || !streq(v + n - 5, ".prom") || v[n - 6] == '/') {
		ywalk_error(w, node, key,
			    "'%.60s' is not a textfile path (allowed: an absolute path ending in "
			    ".prom, in node_exporter's --collector.textfile.directory)",
			    v);
		return;
	}
	free(s->metrics_textfile.value);
	s->metrics_textfile.value = strdup(v);
	if (!s->metrics_textfile.value)
		w->oom = -ENOMEM;
	s->metrics_textfile.origin = ywalk_origin(w, node);
}

static const struct {
	const char *suffix;
	uint64_t usec;
} interval_units[] = { { "ms", 1000 }, { "s", 1000000 }, { "min", 60000000 }, { "h", 3600000000 } };

/* "30s", "500ms", "5min", "1h", or a bare number of seconds. */
static void parse_interval(struct ywalk *w, yaml_node_t *node, const char *key, void *base)
{
	const char *allowed = "1s..1h, written like 30s, 500ms, 5min, 1h";
	struct settings *s = base;
	const char *v = ywalk_scalar(w, node, key, "a duration"), *p;
	uint64_t n = 0, factor = 1000000;

	if (!v)
		return;
	for (p = v; isdigit((unsigned char)*p) && n < UINT64_MAX / 100; p++)
		n = n * 10 + (uint64_t)(*p - '0');
	if (p == v || isdigit((unsigned char)*p))
		goto bad;
	if (*p) {
		size_t i;

		for (i = 0; i < ARRAY_SIZE(interval_units); i++)
			if (streq(p, interval_units[i].suffix))
				break;
		if (i == ARRAY_SIZE(interval_units))
			goto bad;
		factor = interval_units[i].usec;
	}
	if (n > RESCAN_INTERVAL_MAX_USEC / factor || n * factor < RESCAN_INTERVAL_MIN_USEC) {
		ywalk_error(w, node, key, "%.40s is out of range (allowed: %s)", v, allowed);
		return;
	}
	s->rescan_interval_usec = (struct pint){ .set = true,
						 .value = (int64_t)(n * factor),
						 .origin = ywalk_origin(w, node) };
	return;
bad:
	ywalk_error(w, node, key, "'%.40s' is not a duration (allowed: %s)", v, allowed);
}

#define FIELD(n, k, member, ...)                                                               \
	{                                                                                      \
		.name = n, .kind = k, .offset = offsetof(struct settings, member), __VA_ARGS__ \
	}

static const struct yfield settings_fields[] = {
	FIELD("backend", YF_ENUM, backend, .table = backend_names,
	      .table_size = ARRAY_SIZE(backend_names)),
	FIELD("cgroup_parent", YF_CUSTOM, cgroup_parent, .parse = parse_cgroup_parent),
	FIELD("qemu_binaries", YF_CUSTOM, qemu_binaries, .parse = parse_binaries),
	FIELD("skip_managed", YF_BOOL, skip_managed),
	FIELD("rescan_interval", YF_CUSTOM, rescan_interval_usec, .parse = parse_interval),
	FIELD("qmp", YF_BOOL, qmp),
	FIELD("metrics_textfile", YF_CUSTOM, metrics_textfile, .parse = parse_textfile),
};

static int parse_settings(const char *text, size_t size, struct settings *s,
			  struct diag_list *diags)
{
	yaml_document_t doc;
	yaml_node_t *root;
	struct ywalk w = { .doc = &doc, .file = s->path, .diags = diags };
	struct yload l;
	int r = yload_init(&l, s->path, text, size);

	if (r < 0)
		return r;
	r = yload_next(&l, &doc, diags);
	if (r > 0) {
		root = yaml_document_get_root_node(&doc);
		if (!ywalk_is_null(root))
			(void)ywalk_mapping(&w, root, "", settings_fields,
					    ARRAY_SIZE(settings_fields), s, NULL);
		yaml_document_delete(&doc);
		/* One document only: a second one would be silently ignored otherwise. */
		r = w.oom ?: yload_next(&l, &doc, diags);
		if (r > 0) {
			r = diag_add(diags, DIAG_ERROR, s->path, (unsigned)doc.start_mark.line + 1,
				     0, NULL, "a second document (allowed: one document)");
			yaml_document_delete(&doc);
		}
	}
	yload_done(&l);
	return r == -ENOMEM ? r : 0;
}

int settings_parse(const char *path, const char *text, size_t size, struct settings *s,
		   struct diag_list *diags)
{
	_cleanup_(settings_done) struct settings n = {};
	size_t errors = diags->n_errors;
	int r = settings_defaults(&n);

	if (r < 0)
		return r;
	n.path = strdup(path);
	if (!n.path)
		return -ENOMEM;
	diag_file_begin(diags);
	r = parse_settings(text, size, &n, diags);
	r = diag_file_end(diags, path) ?: r;
	if (r < 0)
		return r;
	if (diags->n_errors > errors)
		return -EINVAL;
	settings_done(s);
	*s = n;
	n = (struct settings){};
	return 0;
}

int settings_load(const char *path, bool check_owner, struct settings *s, struct diag_list *diags)
{
	_cleanup_close_ int fd = config_file_open(path, check_owner, diags);
	_cleanup_free_ char *text = NULL;
	size_t size;
	int r;

	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fd;
	r = read_fd(fd, SETTINGS_FILE_SIZE_MAX, &text, &size);
	if (r < 0)
		return diag_add(diags, DIAG_ERROR, path, 0, 0, NULL, "cannot read: %s",
				r == -EFBIG ? "larger than 64 KiB" : strerror(-r))
			       ?: -EINVAL;
	return settings_parse(path, text, size, s, diags);
}

/* The largest unit that divides the interval exactly: 30s, 5min, 1500ms. */
static const char *format_interval(uint64_t usec, char buf[static 32])
{
	size_t i = ARRAY_SIZE(interval_units) - 1;

	while (i > 0 && usec % interval_units[i].usec != 0)
		i--;
	(void)snprintf(buf, 32, "%" PRIu64 "%s", usec / interval_units[i].usec,
		       interval_units[i].suffix);
	return buf;
}

int settings_dump(const struct settings *s, char **ret)
{
	_cleanup_(strbuf_done) struct strbuf b = {};
	char interval[32];
	int r = strbuf_printf(&b,
			      "backend: %s\ncgroup_parent: ", backend_to_string(s->backend.value));

	if (r >= 0)
		r = strbuf_append_quoted(&b, s->cgroup_parent.value);
	if (r >= 0)
		r = strbuf_append(&b, "\nqemu_binaries:\n");
	for (size_t i = 0; r >= 0 && i < s->n_qemu_binaries; i++) {
		r = strbuf_append(&b, "  - ");
		if (r >= 0)
			r = strbuf_append_quoted(&b, s->qemu_binaries[i]);
		if (r >= 0)
			r = strbuf_append(&b, "\n");
	}
	if (r >= 0)
		r = strbuf_printf(
			&b, "skip_managed: %s\nrescan_interval: %s\nqmp: %s\n",
			s->skip_managed.value ? "true" : "false",
			format_interval((uint64_t)s->rescan_interval_usec.value, interval),
			s->qmp.value ? "true" : "false");
	if (r >= 0 && s->metrics_textfile.value) {
		r = strbuf_append(&b, "metrics_textfile: ");
		if (r >= 0)
			r = strbuf_append_quoted(&b, s->metrics_textfile.value);
		if (r >= 0)
			r = strbuf_append(&b, "\n");
	}
	if (r < 0)
		return r;
	*ret = strbuf_steal(&b);
	return 0;
}
