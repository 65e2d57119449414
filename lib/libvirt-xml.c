/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Readers over libxml2 for the libvirt importer (libvirt-xml.h). */

#include <ctype.h>
#include <stdarg.h>
#include <string.h>

#include "libvirt-xml.h"
#include "size.h"
#include "strbuf.h"

void lv_note(struct lvimport *x, const xmlNode *node, const char *key, const char *fmt, ...)
{
	_cleanup_(strbuf_done) struct strbuf msg = {};
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = strbuf_vprintf(&msg, fmt, ap);
	va_end(ap);
	if (r >= 0)
		r = diag_add(&x->imp->notes, DIAG_WARNING, x->imp->file,
			     node ? (unsigned)xmlGetLineNo(node) : 0, 0, key,
			     "not carried over: %s", msg.buf);
	if (r < 0)
		x->r = -ENOMEM;
}

struct origin lv_origin(const struct lvimport *x, const xmlNode *node)
{
	long line = xmlGetLineNo(node);

	return (struct origin){ .file = x->imp->file, .line = line > 0 ? (unsigned)line : 0 };
}

void lv_carried(struct lvimport *x)
{
	x->imp->n_carried++;
}

bool lv_is(const xmlNode *node, const char *name)
{
	return node && node->type == XML_ELEMENT_NODE && streq((const char *)node->name, name);
}

xmlNode *lv_next_element(const xmlNode *node)
{
	for (xmlNode *c = node->next; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return c;
	return NULL;
}

xmlNode *lv_first_element(const xmlNode *node)
{
	if (!node || !node->children)
		return NULL;
	return node->children->type == XML_ELEMENT_NODE ? node->children
							: lv_next_element(node->children);
}

xmlNode *lv_child(const xmlNode *node, const char *name)
{
	LV_FOREACH_ELEMENT(c, node)
	if (lv_is(c, name))
		return c;
	return NULL;
}

static char *trimmed(struct lvimport *x, xmlChar *s)
{
	const char *b = (const char *)s;
	char *copy;
	size_t n;

	if (!s)
		return NULL;
	while (isspace((unsigned char)*b))
		b++;
	n = strlen(b);
	while (n > 0 && isspace((unsigned char)b[n - 1]))
		n--;
	copy = strndup(b, n);
	xmlFree(s);
	if (!copy)
		x->r = -ENOMEM;
	return copy;
}

char *lv_attr(struct lvimport *x, const xmlNode *node, const char *name)
{
	return trimmed(x, xmlGetProp(node, (const xmlChar *)name));
}

char *lv_text(struct lvimport *x, const xmlNode *node)
{
	return trimmed(x, xmlNodeGetContent(node));
}

bool lv_uint(struct lvimport *x, const xmlNode *node, const char *key, const char *s, uint64_t *ret)
{
	uint64_t v = 0;

	if (!s || !*s || !isdigit((unsigned char)*s))
		goto bad;
	for (const char *c = s; *c; c++) {
		if (!isdigit((unsigned char)*c) || v > (UINT64_MAX - 9) / 10)
			goto bad;
		v = v * 10 + (uint64_t)(*c - '0');
	}
	*ret = v;
	return true;
bad:
	lv_note(x, node, key, "'%.40s' is not an unsigned integer", s ?: "");
	return false;
}

bool lv_int(struct lvimport *x, const xmlNode *node, const char *key, const char *s, int64_t *ret)
{
	if (s && parse_int64(s, ret) == 0)
		return true;
	lv_note(x, node, key, "'%.40s' is not an integer", s ?: "");
	return false;
}

/* The ids of set that are not in have, for a note: "8-20,525". */
static char *missing_ids(const struct cpuset *set, const struct cpuset *have)
{
	struct cpuset extra = {};
	char *text = NULL;

	if (cpuset_copy(&extra, set) >= 0) {
		cpuset_subtract(&extra, have);
		text = cpuset_format(&extra);
	}
	cpuset_done(&extra);
	return text;
}

bool lv_cpus(struct lvimport *x, const xmlNode *node, const char *key, const char *s, bool nodes,
	     struct pcpus *ret)
{
	const struct topology *t = x->env->topo;
	const struct cpuset *have = t ? (nodes ? &t->nodes : &t->cpus) : NULL;
	struct cpuset set = {};
	struct cpuset_error e;
	int r = cpuset_parse(s ?: "", CPUSET_LIMIT, &set, &e);

	if (r == -ENOMEM) {
		x->r = r;
		return false;
	}
	if (r < 0) {
		lv_note(x, node, key, "'%.60s': %s", s ?: "", e.message);
		return false;
	}
	if (have && !cpuset_is_subset(&set, have)) {
		_cleanup_free_ char *bad = missing_ids(&set, have), *host = cpuset_format(have);

		lv_note(x, node, key,
			"'%.60s' names %s %s, which this host does not have (it has %s); import on "
			"the host the VM will run on, or give that host's tree with --sys-root",
			s, nodes ? "NUMA node(s)" : "CPU(s)", bad ?: "?",
			host && *host ? host : "none");
		cpuset_done(&set);
		return false;
	}
	cpuset_done(&ret->cpus);
	*ret = (struct pcpus){ .set = true, .cpus = set, .origin = lv_origin(x, node) };
	return true;
}

int lv_int_child(struct lvimport *x, const xmlNode *parent, const char *name, const char *key,
		 int64_t min, int64_t max, struct pint *ret)
{
	xmlNode *node = lv_child(parent, name);
	_cleanup_free_ char *text = NULL;
	int64_t v;

	if (!node)
		return 0;
	text = lv_text(x, node);
	if (!lv_int(x, node, key, text, &v) || v == 0)
		return 0; /* libvirt: 0 is "not set" */
	if (v < min || v > max) {
		lv_note(x, node, key, "%" PRId64 " is outside %" PRId64 "..%" PRId64, v, min, max);
		return 0;
	}
	*ret = (struct pint){ .set = true, .value = v, .origin = lv_origin(x, node) };
	lv_carried(x);
	return 1;
}
