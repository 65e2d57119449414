/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "policy.h"
#include "size.h"
#include "strbuf.h"
#include "yaml-walk.h"

#define KEY_MAX 256

_printf_(5, 0) static void add_diag(struct ywalk *w, unsigned line, unsigned column,
				    const char *key, const char *fmt, va_list ap)
{
	_cleanup_(strbuf_done) struct strbuf msg = {};

	if (diag_hidden(w->diags, DIAG_ERROR))
		return;
	if (strbuf_vprintf(&msg, fmt, ap) < 0 ||
	    diag_add(w->diags, DIAG_ERROR, w->file, line, column, key, "%s", msg.buf) < 0)
		w->oom = -ENOMEM;
}

void ywalk_warning(struct ywalk *w, const yaml_node_t *node, const char *key, const char *fmt, ...)
{
	_cleanup_(strbuf_done) struct strbuf msg = {};
	va_list ap;
	int r;

	if (diag_hidden(w->diags, DIAG_WARNING))
		return;
	va_start(ap, fmt);
	r = strbuf_vprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0 || diag_add(w->diags, DIAG_WARNING, w->file, (unsigned)node->start_mark.line + 1,
			      (unsigned)node->start_mark.column + 1, key && *key ? key : NULL, "%s",
			      msg.buf) < 0)
		w->oom = -ENOMEM;
}

void ywalk_error(struct ywalk *w, const yaml_node_t *node, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_diag(w, (unsigned)node->start_mark.line + 1, (unsigned)node->start_mark.column + 1,
		 key && *key ? key : NULL, fmt, ap);
	va_end(ap);
}

void ywalk_error_at(struct ywalk *w, const yaml_node_t *node, size_t offset, const char *key,
		    const char *fmt, ...)
{
	unsigned column = (unsigned)node->start_mark.column + 1;
	va_list ap;

	/* Point into the scalar when it sits on one line: past the opening quote, if any. */
	if (node->type == YAML_SCALAR_NODE && node->start_mark.line == node->end_mark.line) {
		yaml_scalar_style_t style = node->data.scalar.style;

		column += (unsigned)offset;
		if (style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
		    style == YAML_DOUBLE_QUOTED_SCALAR_STYLE)
			column++;
	}
	va_start(ap, fmt);
	add_diag(w, (unsigned)node->start_mark.line + 1, column, key && *key ? key : NULL, fmt, ap);
	va_end(ap);
}

yaml_node_t *ywalk_node(struct ywalk *w, int index)
{
	return yaml_document_get_node(w->doc, index);
}

struct origin ywalk_origin(const struct ywalk *w, const yaml_node_t *node)
{
	return (struct origin){
		.file = w->file,
		.line = (unsigned)node->start_mark.line + 1,
		.column = (unsigned)node->start_mark.column + 1,
	};
}

bool ywalk_is_null(const yaml_node_t *node)
{
	const char *v;

	if (node->type != YAML_SCALAR_NODE || node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	v = (const char *)node->data.scalar.value;
	return streq(v, "") || streq(v, "~") || streq(v, "null") || streq(v, "Null") ||
	       streq(v, "NULL");
}

static bool is_quoted(const yaml_node_t *node)
{
	return node->type == YAML_SCALAR_NODE && node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
}

const char *ywalk_describe(const yaml_node_t *node, char *buf, size_t size)
{
	if (node->type == YAML_MAPPING_NODE)
		return "a mapping";
	if (node->type == YAML_SEQUENCE_NODE)
		return "a list";
	if (ywalk_is_null(node))
		return "no value";
	(void)snprintf(buf, size, "%s'%.40s%s'", is_quoted(node) ? "the quoted string " : "",
		       (const char *)node->data.scalar.value,
		       strlen((const char *)node->data.scalar.value) > 40 ? "..." : "");
	return buf;
}

/* The control character at s: C0, DEL, or C1 (two bytes in UTF-8); 0 for any other. */
static unsigned control_at(const unsigned char *s)
{
	if (s[0] < 0x20 || s[0] == 0x7f)
		return s[0];
	if (s[0] == 0xc2 && s[1] >= 0x80 && s[1] < 0xa0)
		return s[1];
	return 0;
}

/*
 * Control characters (C0, DEL, C1) have no place in a name, glob, path or number: a newline in a
 * name glob matches no VM a person can tell apart, and would end up in logs. Reports the first.
 */
static bool control_character(struct ywalk *w, yaml_node_t *node, const char *key, const char *what)
{
	const unsigned char *s = node->data.scalar.value;

	for (size_t i = 0; s[i]; i++) {
		unsigned c = control_at(s + i);

		if (c) {
			ywalk_error_at(w, node, i, key,
				       "contains the control character U+%04X (allowed: %s, in "
				       "printable characters)",
				       c, what);
			return true;
		}
	}
	return false;
}

const char *ywalk_scalar(struct ywalk *w, yaml_node_t *node, const char *key, const char *what)
{
	char buf[80];

	if (node->type != YAML_SCALAR_NODE || ywalk_is_null(node)) {
		ywalk_error(w, node, key, "expected %s, got %s", what,
			    ywalk_describe(node, buf, sizeof(buf)));
		return NULL;
	}
	if (strlen((const char *)node->data.scalar.value) != node->data.scalar.length) {
		ywalk_error(w, node, key, "contains a NUL byte (allowed: %s)", what);
		return NULL;
	}
	if (control_character(w, node, key, what))
		return NULL;
	return (const char *)node->data.scalar.value;
}

const char *ywalk_key(char *buf, size_t size, const char *parent, const char *child)
{
	if (parent && *parent)
		(void)snprintf(buf, size, "%s.%s", parent, child);
	else
		(void)snprintf(buf, size, "%s", child);
	return buf;
}

const char *ywalk_key_index(char *buf, size_t size, const char *parent, size_t index)
{
	(void)snprintf(buf, size, "%s[%zu]", parent, index);
	return buf;
}

/* Optimal string alignment distance: edits, with a swap of neighbours counting as one. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), d[32][32];

	if (la >= ARRAY_SIZE(d) || lb >= ARRAY_SIZE(d))
		return SIZE_MAX;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t best = MIN(d[i - 1][j] + 1, d[i][j - 1] + 1);

			best = MIN(best, d[i - 1][j - 1] + cost);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
				best = MIN(best, d[i - 2][j - 2] + 1);
			d[i][j] = best;
		}
	return d[la][lb];
}

const char *ywalk_suggest(const char *s, const char *const *names, size_t n)
{
	const char *best = NULL;
	size_t best_distance = SIZE_MAX;

	for (size_t i = 0; i < n; i++) {
		size_t d = strcasecmp(s, names[i]) == 0 ? 0 : edit_distance(s, names[i]);

		if (d < best_distance) {
			best = names[i];
			best_distance = d;
		}
	}
	/* A typo: at most two edits, and fewer than half the word. */
	if (best && best_distance <= 2 && best_distance * 2 < strlen(best))
		return best;
	return NULL;
}

static void unknown_key(struct ywalk *w, yaml_node_t *knode, const char *parent, const char *name,
			const struct yfield *fields, size_t n_fields, yhint_fn hint)
{
	_cleanup_(strbuf_done) struct strbuf allowed = {};
	const char *names[64], *suggestion, *elsewhere = NULL;
	char key[KEY_MAX];
	size_t n = MIN(n_fields, ARRAY_SIZE(names));

	for (size_t i = 0; i < n; i++) {
		names[i] = fields[i].name;
		if (strbuf_printf(&allowed, "%s%s", i ? ", " : "", fields[i].name) < 0)
			w->oom = -ENOMEM;
	}
	suggestion = ywalk_suggest(name, names, n);
	if (!suggestion && hint)
		elsewhere = hint(name);
	ywalk_key(key, sizeof(key), parent, name);
	if (suggestion)
		ywalk_error(w, knode, key, "unknown key; did you mean '%s'? (allowed: %s)",
			    suggestion, allowed.buf ?: "");
	else if (elsewhere)
		ywalk_error(w, knode, key, "unknown key here; did you mean '%s'? (allowed: %s)",
			    elsewhere, allowed.buf ?: "");
	else
		ywalk_error(w, knode, key, "unknown key (allowed: %s)", allowed.buf ?: "");
}

bool ywalk_mapping(struct ywalk *w, yaml_node_t *node, const char *key, const struct yfield *fields,
		   size_t n_fields, void *base, yhint_fn hint)
{
	bool seen[64] = {};
	char buf[80];

	if (ywalk_is_null(node))
		return true;
	if (node->type != YAML_MAPPING_NODE) {
		ywalk_error(w, node, key, "expected a mapping, got %s",
			    ywalk_describe(node, buf, sizeof(buf)));
		return false;
	}
	for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = ywalk_node(w, p->key), *v = ywalk_node(w, p->value);
		const char *name;
		char child[KEY_MAX];
		size_t i;

		if (k->type != YAML_SCALAR_NODE || ywalk_is_null(k)) {
			ywalk_error(w, k, key, "expected a key name, got %s",
				    ywalk_describe(k, buf, sizeof(buf)));
			continue;
		}
		if (control_character(w, k, key, "a key name"))
			continue;
		name = (const char *)k->data.scalar.value;
		for (i = 0; i < n_fields; i++)
			if (streq(fields[i].name, name))
				break;
		if (i == n_fields) {
			unknown_key(w, k, key, name, fields, n_fields, hint);
			continue;
		}
		ywalk_key(child, sizeof(child), key, name);
		if (i < ARRAY_SIZE(seen) && seen[i]) {
			ywalk_error(w, k, child, "given twice in one mapping (allowed: once)");
			continue;
		}
		if (i < ARRAY_SIZE(seen))
			seen[i] = true;
		ywalk_field(w, v, child, &fields[i], base);
	}
	for (size_t i = 0; i < MIN(n_fields, ARRAY_SIZE(seen)); i++)
		if ((fields[i].flags & YF_REQUIRED) && !seen[i])
			ywalk_error(w, node, key, "missing key '%s'", fields[i].name);
	return true;
}

void ywalk_list(struct ywalk *w, yaml_node_t *node, const char *key,
		void (*fn)(struct ywalk *w, yaml_node_t *item, const char *key, void *base),
		void *base)
{
	char buf[80], child[KEY_MAX];
	size_t i = 0, n;

	if (ywalk_is_null(node))
		return;
	if (node->type != YAML_SEQUENCE_NODE) {
		ywalk_error(w, node, key, "expected a list, got %s",
			    ywalk_describe(node, buf, sizeof(buf)));
		return;
	}
	/* Counted first: entries are checked against each other, so no walk of a list too long. */
	n = (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
	if (n > POLICY_LIST_MAX) {
		ywalk_error(w, node, key, "%zu entries (allowed: at most %d)", n, POLICY_LIST_MAX);
		return;
	}
	for (yaml_node_item_t *it = node->data.sequence.items.start;
	     it < node->data.sequence.items.top; it++, i++) {
		yaml_node_t *item = ywalk_node(w, *it);

		ywalk_key_index(child, sizeof(child), key, i);
		if (ywalk_is_null(item))
			ywalk_error(w, item, child, "empty entry (allowed: a mapping)");
		else
			fn(w, item, child, base);
	}
}

bool ywalk_entry(struct ywalk *w, yaml_node_t *node, const char *key, const struct yfield *fields,
		 size_t n, void *entry)
{
	size_t errors = w->diags->n_errors;

	return ywalk_mapping(w, node, key, fields, n, entry, NULL) && w->diags->n_errors == errors;
}

static void field_int(struct ywalk *w, yaml_node_t *node, const char *key, const struct yfield *f,
		      struct pint *t)
{
	char allowed[96], buf[80];
	const char *s;
	int64_t v;
	int r;

	(void)snprintf(allowed, sizeof(allowed), "%s%" PRId64 "..%" PRId64,
		       f->flags & YF_MINUS_ONE ? "-1 (unlimited) or " : "", f->min, f->max);
	if (node->type != YAML_SCALAR_NODE || ywalk_is_null(node) || is_quoted(node)) {
		ywalk_error(w, node, key, "expected an integer, got %s (allowed: %s)",
			    ywalk_describe(node, buf, sizeof(buf)), allowed);
		return;
	}
	s = (const char *)node->data.scalar.value;
	r = parse_int64(s, &v);
	if (r == -EINVAL) {
		ywalk_error(w, node, key, "'%.40s' is not an integer (allowed: %s)", s, allowed);
		return;
	}
	if (r < 0 || (v < f->min && !(v == -1 && (f->flags & YF_MINUS_ONE))) || v > f->max) {
		ywalk_error(w, node, key, "%.40s is out of range (allowed: %s)", s, allowed);
		return;
	}
	*t = (struct pint){ .set = true, .value = v, .origin = ywalk_origin(w, node) };
}

static void field_bool(struct ywalk *w, yaml_node_t *node, const char *key, struct pint *t)
{
	const char *s = ywalk_scalar(w, node, key, "true or false");

	if (!s)
		return;
	if ((!streq(s, "true") && !streq(s, "false")) || is_quoted(node)) {
		ywalk_error(w, node, key, "'%.40s' is not a boolean (allowed: true, false)", s);
		return;
	}
	*t = (struct pint){ .set = true,
			    .value = streq(s, "true"),
			    .origin = ywalk_origin(w, node) };
}

static void field_size(struct ywalk *w, yaml_node_t *node, const char *key, const struct yfield *f,
		       struct psize *t)
{
	const char *bare = f->kind == YF_SIZE_KIB ? "KiB" : "bytes";
	char allowed[192], min[SIZE_FORMAT_MAX], range[80];
	const char *s;
	uint64_t v;
	size_t offset = 0;
	int r;

	/* A maximum (f->max > 0) is printed in bytes: limits like 10^15 have no exact unit. */
	if (f->max > 0)
		(void)snprintf(range, sizeof(range), "from %s to %" PRId64 " bytes",
			       size_format((uint64_t)f->min, min), f->max);
	else
		(void)snprintf(range, sizeof(range), "of at least %s",
			       size_format((uint64_t)f->min, min));
	(void)snprintf(allowed, sizeof(allowed),
		       "a size %s: a bare number in %s, or with a unit b, KB, K/KiB, "
		       "MB, M/MiB, GB, G/GiB, TB, T/TiB%s",
		       range, bare, f->flags & YF_UNLIMITED ? "; or unlimited" : "");
	s = ywalk_scalar(w, node, key, "a size");
	if (!s)
		return;
	r = size_parse(s, f->kind == YF_SIZE_KIB ? 1024 : 1, &v, &offset);
	if (r == -EINVAL && s[offset] == ' ') {
		ywalk_error_at(w, node, offset, key,
			       "'%.40s' is not a size: a space before the unit (write '%.*s%s')", s,
			       (int)offset, s, s + strspn(s + offset, " ") + offset);
		return;
	}
	if (r == -EINVAL) {
		ywalk_error_at(w, node, offset, key, "'%.40s' is not a size (allowed: %s)", s,
			       allowed);
		return;
	}
	if (r == -ERANGE || (v == SIZE_UNLIMITED && !(f->flags & YF_UNLIMITED)) ||
	    (v != SIZE_UNLIMITED && v < (uint64_t)f->min) ||
	    (v != SIZE_UNLIMITED && f->max > 0 && v > (uint64_t)f->max)) {
		ywalk_error(w, node, key, "%.40s is out of range (allowed: %s)", s, allowed);
		return;
	}
	*t = (struct psize){ .set = true, .bytes = v, .origin = ywalk_origin(w, node) };
}

static void field_count(struct ywalk *w, yaml_node_t *node, const char *key, const struct yfield *f,
			struct psize *t)
{
	char allowed[80];
	const char *s;
	int64_t v;

	if (f->max > 0)
		(void)snprintf(allowed, sizeof(allowed), "an integer 1..%" PRId64 ", or unlimited",
			       f->max);
	else
		(void)snprintf(allowed, sizeof(allowed), "an integer >= 1, or unlimited");
	s = ywalk_scalar(w, node, key, allowed);
	if (!s)
		return;
	if (streq(s, "unlimited")) {
		*t = (struct psize){ .set = true,
				     .bytes = SIZE_UNLIMITED,
				     .origin = ywalk_origin(w, node) };
		return;
	}
	if (parse_int64(s, &v) < 0 || v < 1 || (f->max > 0 && v > f->max)) {
		ywalk_error(w, node, key, "'%.40s' is not allowed (allowed: %s)", s, allowed);
		return;
	}
	*t = (struct psize){ .set = true, .bytes = (uint64_t)v, .origin = ywalk_origin(w, node) };
}

static void field_cpus(struct ywalk *w, yaml_node_t *node, const char *key, bool nodes,
		       struct pcpus *t)
{
	const char *what = nodes ? "a NUMA node list like \"0-1\"" : "a CPU list like \"0-3,^2,8\"";
	const struct cpuset *have = w->topo ? (nodes ? &w->topo->nodes : &w->topo->cpus) : NULL;
	struct cpuset_error e;
	struct cpuset set = {};
	const char *s = ywalk_scalar(w, node, key, what);
	int r;

	if (!s)
		return;
	r = cpuset_parse(s, CPUSET_LIMIT, &set, &e);
	if (r == -ENOMEM) {
		w->oom = r;
		return;
	}
	if (r < 0) {
		ywalk_error_at(w, node, e.offset, key, "%s (allowed: %s)", e.message, what);
		return;
	}
	if (e.message[0])
		ywalk_warning(w, node, key, "'%.40s': %s", s, e.message);
	if (have && !cpuset_is_subset(&set, have)) {
		_cleanup_free_ char *host = cpuset_format(have);
		struct cpuset extra = {};

		if (cpuset_copy(&extra, &set) >= 0) {
			_cleanup_free_ char *bad = NULL;

			cpuset_subtract(&extra, have);
			bad = cpuset_format(&extra);
			ywalk_error(w, node, key, "%s %s not on this host (allowed: %s)",
				    nodes ? "node(s)" : "CPU(s)", bad ?: "?",
				    host && *host ? host : "none");
		}
		cpuset_done(&extra);
		cpuset_done(&set);
		return;
	}
	cpuset_done(&t->cpus);
	*t = (struct pcpus){ .set = true, .cpus = set, .origin = ywalk_origin(w, node) };
}

static void field_enum(struct ywalk *w, yaml_node_t *node, const char *key, const struct yfield *f,
		       struct penum *t)
{
	_cleanup_(strbuf_done) struct strbuf allowed = {};
	const char *s, *suggestion;

	for (size_t i = 0; i < f->table_size; i++)
		if (strbuf_printf(&allowed, "%s%s", i ? ", " : "", f->table[i]) < 0)
			w->oom = -ENOMEM;
	s = ywalk_scalar(w, node, key, allowed.buf ?: "a name");
	if (!s)
		return;
	for (size_t i = 0; i < f->table_size; i++)
		if (streq(s, f->table[i])) {
			*t = (struct penum){ .set = true,
					     .value = (int)i,
					     .origin = ywalk_origin(w, node) };
			return;
		}
	suggestion = ywalk_suggest(s, f->table, f->table_size);
	if (suggestion)
		ywalk_error(w, node, key, "'%.40s' is not known; did you mean '%s'? (allowed: %s)",
			    s, suggestion, allowed.buf ?: "");
	else
		ywalk_error(w, node, key, "'%.40s' is not known (allowed: %s)", s,
			    allowed.buf ?: "");
}

static void field_string(struct ywalk *w, yaml_node_t *node, const char *key, struct pstr *t)
{
	const char *s = ywalk_scalar(w, node, key, "a string");
	char *copy;

	if (!s)
		return;
	if (strlen(s) > POLICY_STRING_MAX) {
		ywalk_error(w, node, key, "longer than %d bytes (allowed: shorter)",
			    POLICY_STRING_MAX);
		return;
	}
	copy = strdup(s);
	if (!copy) {
		w->oom = -ENOMEM;
		return;
	}
	free(t->value);
	*t = (struct pstr){ .value = copy, .origin = ywalk_origin(w, node) };
}

void ywalk_field(struct ywalk *w, yaml_node_t *node, const char *key, const struct yfield *f,
		 void *base)
{
	void *target = (char *)base + f->offset;

	switch (f->kind) {
	case YF_INT:
		return field_int(w, node, key, f, target);
	case YF_SIZE_KIB:
	case YF_SIZE_BYTES:
		return field_size(w, node, key, f, target);
	case YF_COUNT:
		return field_count(w, node, key, f, target);
	case YF_CPUS:
	case YF_NODES:
		return field_cpus(w, node, key, f->kind == YF_NODES, target);
	case YF_ENUM:
		return field_enum(w, node, key, f, target);
	case YF_BOOL:
		return field_bool(w, node, key, target);
	case YF_STRING:
		return field_string(w, node, key, target);
	case YF_CUSTOM:
		return f->parse(w, node, key, base);
	}
}
