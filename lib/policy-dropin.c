/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "macro.h"
#include "policy-dropin.h"
#include "strbuf.h"
#include "yaml-walk.h"

/* How a value is written: the parser, not this file, says whether it is a good one. */
enum dkind {
	D_INT,	/* an integer when it looks like one (else quoted: the parser says why not) */
	D_SIZE, /* a bare integer (KiB, bytes) when all digits, else a string with a unit */
	D_STR,	/* always a string */
};

enum dshape {
	DS_SCALAR,
	DS_MAP,
	DS_LIST
};

struct dfield {
	const char *name;
	enum dkind kind;
};

struct ditem {
	const char *name;
	enum dshape shape;
	enum dkind kind;	     /* DS_SCALAR */
	const char *id_key;	     /* DS_LIST: the field that says what an entry is for */
	enum dkind id_kind;	     /* DS_LIST */
	const struct dfield *fields; /* DS_MAP, DS_LIST: in the order they are written */
	size_t n_fields;
};

struct dsection {
	const char *name;
	const struct ditem *items;
	size_t n_items;
};

static const struct dfield pin_fields[] = { { "cpuset", D_STR } };
static const struct dfield sched_fields[] = { { "scheduler", D_STR }, { "priority", D_INT } };
static const struct dfield device_fields[] = {
	{ "weight", D_INT },	    { "read_bytes_sec", D_SIZE }, { "write_bytes_sec", D_SIZE },
	{ "read_iops_sec", D_INT }, { "write_iops_sec", D_INT },
};
static const struct dfield memory_fields[] = {
	{ "mode", D_STR },
	{ "nodeset", D_STR },
	{ "placement", D_STR },
};

#define SCALAR(n, k)                                     \
	{                                                \
		.name = n, .shape = DS_SCALAR, .kind = k \
	}
#define MAP(n, f)                                                                  \
	{                                                                          \
		.name = n, .shape = DS_MAP, .fields = f, .n_fields = ARRAY_SIZE(f) \
	}
#define LIST(n, id, idk, f)                                                             \
	{                                                                               \
		.name = n, .shape = DS_LIST, .id_key = id, .id_kind = idk, .fields = f, \
		.n_fields = ARRAY_SIZE(f)                                               \
	}

static const struct ditem cputune_items[] = {
	SCALAR("shares", D_INT),
	SCALAR("weight", D_INT),
	SCALAR("period", D_INT),
	SCALAR("quota", D_INT),
	SCALAR("global_period", D_INT),
	SCALAR("global_quota", D_INT),
	SCALAR("emulator_period", D_INT),
	SCALAR("emulator_quota", D_INT),
	SCALAR("iothread_period", D_INT),
	SCALAR("iothread_quota", D_INT),
	SCALAR("cpuset", D_STR),
	LIST("vcpupin", "vcpu", D_INT, pin_fields),
	SCALAR("emulatorpin", D_STR),
	LIST("iothreadpin", "iothread", D_STR, pin_fields),
	LIST("vcpusched", "vcpus", D_INT, sched_fields),
	MAP("emulatorsched", sched_fields),
	LIST("iothreadsched", "iothreads", D_STR, sched_fields),
};
static const struct ditem memtune_items[] = {
	SCALAR("hard_limit", D_SIZE),
	SCALAR("soft_limit", D_SIZE),
	SCALAR("swap_hard_limit", D_SIZE),
	SCALAR("min_guarantee", D_SIZE),
};
static const struct ditem blkiotune_items[] = {
	SCALAR("weight", D_INT),
	LIST("devices", "path", D_STR, device_fields),
};
static const struct ditem numatune_items[] = { MAP("memory", memory_fields) };

static const struct dsection sections[] = {
	{ "cputune", cputune_items, ARRAY_SIZE(cputune_items) },
	{ "memtune", memtune_items, ARRAY_SIZE(memtune_items) },
	{ "blkiotune", blkiotune_items, ARRAY_SIZE(blkiotune_items) },
	{ "numatune", numatune_items, ARRAY_SIZE(numatune_items) },
};

static const struct dsection *find_section(const char *s, size_t len)
{
	FOREACH_ARRAY (x, sections, ARRAY_SIZE(sections))
		if (strlen(x->name) == len && strncmp(x->name, s, len) == 0)
			return x;
	return NULL;
}

static const struct ditem *find_item(const struct dsection *sec, const char *s, size_t len)
{
	FOREACH_ARRAY (x, sec->items, sec->n_items)
		if (strlen(x->name) == len && strncmp(x->name, s, len) == 0)
			return x;
	return NULL;
}

static const struct dfield *find_field(const struct ditem *it, const char *s)
{
	FOREACH_ARRAY (f, it->fields, it->n_fields)
		if (streq(f->name, s))
			return f;
	return NULL;
}

/* "did you mean 'X'? " for word among names, or "". */
static int unknown(char **ret_error, const char *what, const char *word, const char *prefix,
		   const char *const *names, size_t n)
{
	_cleanup_(strbuf_done) struct strbuf b = {};
	const char *guess = ywalk_suggest(word, names, n);
	int r = strbuf_printf(&b, "%s", what);

	if (r >= 0 && guess)
		r = strbuf_printf(&b, "; did you mean '%s%s'?", prefix, guess);
	if (r >= 0)
		r = strbuf_append(&b, " (allowed:");
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = strbuf_printf(&b, "%s %s%s", i ? "," : "", prefix, names[i]);
	if (r >= 0)
		r = strbuf_append(&b, ")");
	if (r < 0)
		return r;
	*ret_error = strbuf_steal(&b);
	return -EINVAL;
}

static int bad_section(const char *key, size_t len, char **ret_error)
{
	const char *names[ARRAY_SIZE(sections)];
	_cleanup_free_ char *word = strndup(key, len), *what = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(sections); i++)
		names[i] = sections[i].name;
	if (!word || asprintf(&what, "'%s': unknown section '%s'", key, word) < 0)
		return -ENOMEM;
	return unknown(ret_error, what, word, "", names, ARRAY_SIZE(names));
}

static int bad_item(const char *key, const struct dsection *sec, const char *word, size_t len,
		    char **ret_error)
{
	const char *names[32];
	_cleanup_free_ char *w = strndup(word, len), *what = NULL, *prefix = NULL;

	for (size_t i = 0; i < sec->n_items; i++)
		names[i] = sec->items[i].name;
	if (!w || asprintf(&what, "'%s': unknown key", key) < 0 ||
	    asprintf(&prefix, "%s.", sec->name) < 0)
		return -ENOMEM;
	return unknown(ret_error, what, w, prefix, names, sec->n_items);
}

static int bad_field(const char *key, const char *head, const struct ditem *it, const char *word,
		     char **ret_error)
{
	const char *names[8];
	_cleanup_free_ char *what = NULL, *prefix = NULL;

	for (size_t i = 0; i < it->n_fields; i++)
		names[i] = it->fields[i].name;
	if ((*word ? asprintf(&what, "'%s': unknown field '%s'", key, word)
		   : asprintf(&what, "'%s': needs a field: %s.FIELD", key, head)) < 0 ||
	    asprintf(&prefix, "%s.", head) < 0)
		return -ENOMEM;
	return unknown(ret_error, what, word, prefix, names, it->n_fields);
}

_printf_(2, 3) static int errorf(char **ret_error, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(ret_error, fmt, ap);
	va_end(ap);
	return r < 0 ? -ENOMEM : -EINVAL;
}

/* The rest of a key after SECTION.ITEM: nothing, .FIELD, .ID or .ID.FIELD by the item's shape. */
static int parse_rest(const char *key, size_t head_len, const struct ditem *it, char **ret_error)
{
	const char *rest = key + head_len, *dot;
	_cleanup_free_ char *head = strndup(key, head_len), *entry = NULL;

	if (!head)
		return -ENOMEM;
	if (it->shape == DS_SCALAR)
		return *rest ? errorf(ret_error, "'%s': %s takes a value, not keys below it", key,
				      head)
			     : 0;
	if (rest[0] != '.' || rest[1] == '\0') {
		if (it->shape == DS_MAP)
			return bad_field(key, head, it, "", ret_error);
		return errorf(ret_error, "'%s': %s needs what the entry is for (its %s): %s.%s%s",
			      key, head, it->id_key, head, it->id_key,
			      it->n_fields == 1 ? "" : ".FIELD");
	}
	rest++;
	if (it->shape == DS_MAP)
		return find_field(it, rest) ? 0 : bad_field(key, head, it, rest, ret_error);
	if (it->n_fields == 1)
		return 0; /* the whole rest is the entry's id: "io.1" is an iothread id */
	dot = strrchr(rest, '.');
	if (!dot || dot == rest || !find_field(it, dot + 1)) {
		/* "blkiotune.devices./dev/sda" lacks its field; "....weigth" misspells it. */
		if (!dot || dot == rest)
			entry = strdup(key);
		else
			entry = strndup(key, (size_t)(dot - key));
		if (!entry)
			return -ENOMEM;
		return bad_field(key, entry, it, dot && dot != rest ? dot + 1 : "", ret_error);
	}
	return 0;
}

int dropin_key_parse(const char *key, char **ret, char **ret_error)
{
	const struct dsection *sec;
	const struct ditem *it;
	_cleanup_free_ char *canon = NULL;
	const char *item;
	size_t len = strcspn(key, "."), item_len;
	int r;

	sec = find_section(key, len);
	if (!sec)
		return bad_section(key, len, ret_error);
	if (key[len] != '.' || key[len + 1] == '\0')
		return bad_item(key, sec, "", 0, ret_error);
	/* numatune.mode: the short form of numatune.memory.mode (memory is numatune's only key). */
	if (sec == &sections[3] && !strchr(key + len + 1, '.') &&
	    find_field(&numatune_items[0], key + len + 1)) {
		if (asprintf(&canon, "numatune.memory.%s", key + len + 1) < 0)
			return -ENOMEM;
	} else if (!(canon = strdup(key)))
		return -ENOMEM;
	item = canon + len + 1;
	item_len = strcspn(item, ".");
	it = find_item(sec, item, item_len);
	if (!it)
		return bad_item(key, sec, item, item_len, ret_error);
	r = parse_rest(canon, (size_t)(item - canon) + item_len, it, ret_error);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(canon);
	return 0;
}

/* ---- the entries ---- */

static struct dropin_entry *find_entry(const struct dropin *d, const char *key)
{
	FOREACH_ARRAY (e, d->entries, d->n_entries)
		if (streq(e->key, key))
			return e;
	return NULL;
}

const char *dropin_get(const struct dropin *d, const char *key)
{
	const struct dropin_entry *e = find_entry(d, key);

	return e ? e->value : NULL;
}

int dropin_set(struct dropin *d, const char *key, const char *value)
{
	struct dropin_entry *e = find_entry(d, key);
	char *v = strdup(value), *k = NULL;

	if (!v)
		return -ENOMEM;
	if (e) {
		free(e->value);
		e->value = v;
		return 0;
	}
	k = strdup(key);
	if (!k || GROW_ARRAY(d->entries, d->allocated, d->n_entries + 1) < 0) {
		free(k);
		free(v);
		return -ENOMEM;
	}
	d->entries[d->n_entries++] = (struct dropin_entry){ .key = k, .value = v };
	return 0;
}

/* key is prefix itself, or below it ("cputune" covers "cputune.shares"). */
static bool covers(const char *prefix, const char *key)
{
	size_t n = strlen(prefix);

	return strncmp(prefix, key, n) == 0 && (key[n] == '\0' || key[n] == '.');
}

size_t dropin_unset(struct dropin *d, const char *key)
{
	size_t k = 0, removed = 0;

	for (size_t i = 0; i < d->n_entries; i++) {
		if (covers(key, d->entries[i].key)) {
			free(d->entries[i].key);
			free(d->entries[i].value);
			removed++;
			continue;
		}
		d->entries[k++] = d->entries[i];
	}
	d->n_entries = k;
	return removed;
}

void dropin_done(struct dropin *d)
{
	FOREACH_ARRAY (e, d->entries, d->n_entries) {
		free(e->key);
		free(e->value);
	}
	free(d->entries);
	free(d->name);
	free(d->uuid);
	*d = (struct dropin){};
}

char *dropin_file_name(const char *vm_name)
{
	_cleanup_(strbuf_done) struct strbuf b = {};
	int r = strbuf_append(&b, "90-set-");

	/* Letters, digits and "-_.:@+" as they are; "/", a leading ".", anything else as \xNN. */
	for (const char *c = vm_name; r >= 0 && *c; c++)
		if (isalnum((unsigned char)*c) ||
		    (strchr("-_.:@+", *c) && !(c == vm_name && *c == '.')))
			r = strbuf_printf(&b, "%c", *c);
		else
			r = strbuf_printf(&b, "\\x%02x", (unsigned char)*c);
	if (r >= 0)
		r = strbuf_append(&b, ".yaml");
	return r < 0 ? NULL : strbuf_steal(&b);
}

/* ---- writing ---- */

static bool all_digits(const char *s, bool sign)
{
	if (sign && *s == '-')
		s++;
	if (!*s || strlen(s) > 19)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static int put_value(struct strbuf *b, enum dkind kind, const char *v)
{
	if ((kind == D_INT && all_digits(v, true)) || (kind == D_SIZE && all_digits(v, false)))
		return strbuf_append(b, v);
	return strbuf_append_quoted(b, v);
}

static int put_field(struct strbuf *b, const char *indent, const char *name, enum dkind kind,
		     const char *v)
{
	int r = strbuf_printf(b, "%s%s: ", indent, name);

	if (r >= 0)
		r = put_value(b, kind, v);
	return r < 0 ? r : strbuf_append(b, "\n");
}

/* "name: \"web\\*\"": the exact name as a glob (policy_matches uses fnmatch). */
static int put_name(struct strbuf *b, const char *name)
{
	_cleanup_free_ char *g = malloc(strlen(name) * 2 + 1);
	char *p = g;

	if (!g)
		return -ENOMEM;
	for (const char *c = name; *c; c++) {
		if (strchr("*?[]\\", *c))
			*p++ = '\\';
		*p++ = *c;
	}
	*p = '\0';
	return put_field(b, "  ", "name", D_STR, g);
}

/* The ids of a list's entries, in the order they were first set. */
static int list_ids(const struct dropin *d, const char *prefix, const struct ditem *it, char ***ret,
		    size_t *ret_n)
{
	char **ids = NULL;
	size_t n = 0, allocated = 0, plen = strlen(prefix);

	FOREACH_ARRAY (e, d->entries, d->n_entries) {
		const char *rest = e->key + plen, *dot;
		_cleanup_free_ char *id = NULL;
		bool seen = false;

		if (strncmp(e->key, prefix, plen) != 0)
			continue;
		dot = it->n_fields == 1 ? NULL : strrchr(rest, '.');
		id = dot ? strndup(rest, (size_t)(dot - rest)) : strdup(rest);
		if (!id || GROW_ARRAY(ids, allocated, n + 1) < 0)
			goto oom;
		for (size_t i = 0; i < n && !seen; i++)
			seen = streq(ids[i], id);
		if (!seen)
			ids[n++] = TAKE_PTR(id);
	}
	*ret = ids;
	*ret_n = n;
	return 0;
oom:
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	return -ENOMEM;
}

static int put_list(struct strbuf *b, const struct dropin *d, const char *prefix,
		    const struct ditem *it)
{
	char **ids = NULL, key[8192];
	size_t n = 0;
	int r = list_ids(d, prefix, it, &ids, &n);

	if (r >= 0 && n > 0)
		r = strbuf_printf(b, "  %s:\n", it->name);
	for (size_t i = 0; i < n; i++) {
		if (r >= 0)
			r = strbuf_printf(b, "    - %s: ", it->id_key);
		if (r >= 0)
			r = put_value(b, it->id_kind, ids[i]);
		if (r >= 0)
			r = strbuf_append(b, "\n");
		FOREACH_ARRAY (f, it->fields, it->n_fields) {
			const char *v;

			if (it->n_fields == 1)
				(void)snprintf(key, sizeof(key), "%s%s", prefix, ids[i]);
			else
				(void)snprintf(key, sizeof(key), "%s%s.%s", prefix, ids[i],
					       f->name);
			v = dropin_get(d, key);
			if (r >= 0 && v)
				r = put_field(b, "      ", f->name, f->kind, v);
		}
		free(ids[i]);
	}
	free(ids);
	return r;
}

static bool has_prefix(const struct dropin *d, const char *prefix)
{
	FOREACH_ARRAY (e, d->entries, d->n_entries)
		if (covers(prefix, e->key))
			return true;
	return false;
}

static int put_item(struct strbuf *b, const struct dropin *d, const struct dsection *sec,
		    const struct ditem *it)
{
	char prefix[128], key[256];
	const char *v;
	int r = 0;

	(void)snprintf(prefix, sizeof(prefix), "%s.%s", sec->name, it->name);
	if (it->shape == DS_SCALAR)
		return (v = dropin_get(d, prefix)) ? put_field(b, "  ", it->name, it->kind, v) : 0;
	if (!has_prefix(d, prefix))
		return 0;
	if (it->shape == DS_LIST) {
		(void)snprintf(prefix, sizeof(prefix), "%s.%s.", sec->name, it->name);
		return put_list(b, d, prefix, it);
	}
	r = strbuf_printf(b, "  %s:\n", it->name);
	FOREACH_ARRAY (f, it->fields, it->n_fields) {
		(void)snprintf(key, sizeof(key), "%s.%s", prefix, f->name);
		v = dropin_get(d, key);
		if (r >= 0 && v)
			r = put_field(b, "    ", f->name, f->kind, v);
	}
	return r;
}

int dropin_format(const struct dropin *d, char **ret)
{
	_cleanup_(strbuf_done) struct strbuf b = {};
	int r = strbuf_append(&b, "# Written by kvmtunectl set; kvmtunectl revert removes what it "
				  "set.\nmatch:\n");

	if (r >= 0)
		r = put_name(&b, d->name);
	if (r >= 0 && d->uuid)
		r = put_field(&b, "  ", "uuid", D_STR, d->uuid);
	FOREACH_ARRAY (sec, sections, ARRAY_SIZE(sections)) {
		if (r < 0 || !has_prefix(d, sec->name))
			continue;
		r = strbuf_printf(&b, "%s:\n", sec->name);
		FOREACH_ARRAY (it, sec->items, sec->n_items)
			if (r >= 0)
				r = put_item(&b, d, sec, it);
	}
	if (r < 0)
		return r;
	*ret = strbuf_steal(&b);
	return 0;
}

/* ---- reading back ---- */

struct reader {
	yaml_document_t *doc;
	const char *path;
	char **error;
	struct dropin *d;
};

static int not_ours(struct reader *rd, const yaml_node_t *n, const char *what)
{
	return errorf(rd->error,
		      "%s:%zu:%zu: %s is not as kvmtunectl set writes it (edit the file by hand, "
		      "or remove it)",
		      rd->path, n->start_mark.line + 1, n->start_mark.column + 1, what);
}

static const char *scalar_of(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

#define FOREACH_PAIR(p, node)                                        \
	for (yaml_node_pair_t *p = (node)->data.mapping.pairs.start; \
	     p < (node)->data.mapping.pairs.top; p++)

static int read_match(struct reader *rd, yaml_node_t *m)
{
	if (m->type != YAML_MAPPING_NODE)
		return not_ours(rd, m, "match");
	FOREACH_PAIR(p, m)
	{
		yaml_node_t *k = yaml_document_get_node(rd->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(rd->doc, p->value);
		const char *key = scalar_of(k), *val = scalar_of(v);
		char **dst = key && streq(key, "name")	 ? &rd->d->name
			     : key && streq(key, "uuid") ? &rd->d->uuid
							 : NULL;

		if (!dst || !val)
			return not_ours(rd, k, key ? key : "a key of match");
		free(*dst);
		*dst = strdup(val);
		if (!*dst)
			return -ENOMEM;
		if (dst == &rd->d->name) { /* undo put_name()'s escaping */
			char *o = *dst;

			for (const char *c = *dst; *c; c++)
				*o++ = *c == '\\' && c[1] ? *++c : *c;
			*o = '\0';
		}
	}
	return rd->d->name ? 0 : not_ours(rd, m, "a match without a name");
}

static int read_fields(struct reader *rd, const struct ditem *it, yaml_node_t *m,
		       const char *prefix, const char *skip)
{
	char key[8192];

	if (m->type != YAML_MAPPING_NODE)
		return not_ours(rd, m, it->name);
	FOREACH_PAIR(p, m)
	{
		yaml_node_t *k = yaml_document_get_node(rd->doc, p->key);
		const char *f = scalar_of(k);
		const char *v = scalar_of(yaml_document_get_node(rd->doc, p->value));
		int r;

		if (f && skip && streq(f, skip))
			continue;
		if (!f || !v || !find_field(it, f))
			return not_ours(rd, k, f ?: it->name);
		if (it->shape == DS_LIST && it->n_fields == 1)
			(void)snprintf(key, sizeof(key), "%s", prefix);
		else
			(void)snprintf(key, sizeof(key), "%s.%s", prefix, f);
		r = dropin_set(rd->d, key, v);
		if (r < 0)
			return r;
	}
	return 0;
}

static int read_list(struct reader *rd, const struct ditem *it, yaml_node_t *seq,
		     const char *prefix)
{
	char key[8192];

	if (seq->type != YAML_SEQUENCE_NODE)
		return not_ours(rd, seq, it->name);
	for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top;
	     i++) {
		yaml_node_t *e = yaml_document_get_node(rd->doc, *i);
		const char *id = NULL;
		int r;

		if (!e || e->type != YAML_MAPPING_NODE)
			return not_ours(rd, e ?: seq, it->name);
		FOREACH_PAIR(p, e)
		{
			const char *k = scalar_of(yaml_document_get_node(rd->doc, p->key));

			if (k && streq(k, it->id_key))
				id = scalar_of(yaml_document_get_node(rd->doc, p->value));
		}
		if (!id)
			return not_ours(rd, e, it->name);
		(void)snprintf(key, sizeof(key), "%s.%s", prefix, id);
		r = read_fields(rd, it, e, key, it->id_key);
		if (r < 0)
			return r;
	}
	return 0;
}

static int read_section(struct reader *rd, const struct dsection *sec, yaml_node_t *m)
{
	char key[256];

	if (m->type != YAML_MAPPING_NODE)
		return not_ours(rd, m, sec->name);
	FOREACH_PAIR(p, m)
	{
		yaml_node_t *k = yaml_document_get_node(rd->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(rd->doc, p->value);
		const char *name = scalar_of(k);
		const struct ditem *it = name ? find_item(sec, name, strlen(name)) : NULL;
		int r;

		if (!it || !v)
			return not_ours(rd, k, name ?: sec->name);
		(void)snprintf(key, sizeof(key), "%s.%s", sec->name, it->name);
		if (it->shape == DS_SCALAR)
			r = scalar_of(v) ? dropin_set(rd->d, key, scalar_of(v))
					 : not_ours(rd, v, it->name);
		else if (it->shape == DS_MAP)
			r = read_fields(rd, it, v, key, NULL);
		else
			r = read_list(rd, it, v, key);
		if (r < 0)
			return r;
	}
	return 0;
}

static int read_root(struct reader *rd, yaml_node_t *root)
{
	if (!root || root->type != YAML_MAPPING_NODE)
		return errorf(rd->error, "%s: not a drop-in of kvmtunectl set (remove it)",
			      rd->path);
	FOREACH_PAIR(p, root)
	{
		yaml_node_t *k = yaml_document_get_node(rd->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(rd->doc, p->value);
		const char *name = scalar_of(k);
		const struct dsection *sec = name ? find_section(name, strlen(name)) : NULL;
		int r;

		if (name && streq(name, "match") && v)
			r = read_match(rd, v);
		else if (sec && v)
			r = read_section(rd, sec, v);
		else
			r = not_ours(rd, k, name ?: "a key");
		if (r < 0)
			return r;
	}
	return rd->d->name ? 0 : errorf(rd->error, "%s: no match name", rd->path);
}

int dropin_parse(const char *path, const char *text, size_t size, struct dropin *d,
		 char **ret_error)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct reader rd = { .doc = &doc, .path = path, .error = ret_error, .d = d };
	int r;

	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, size);
	if (!yaml_parser_load(&parser, &doc)) {
		r = errorf(ret_error, "%s:%zu:%zu: YAML syntax: %s", path,
			   parser.problem_mark.line + 1, parser.problem_mark.column + 1,
			   parser.problem ?: "?");
		yaml_parser_delete(&parser);
		return r;
	}
	r = read_root(&rd, yaml_document_get_root_node(&doc));
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return r;
}
