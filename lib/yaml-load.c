/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <string.h>

#include "strbuf.h"
#include "yaml-load.h"

struct yload_anchor {
	char *name;
	int node;
	size_t nodes; /* the size of the subtree, what an alias of it counts */
};

/* An open collection while its events arrive. */
struct frame {
	int node;
	bool mapping;
	int key; /* a mapping's key waiting for its value; 0 = none */
	size_t nodes_at_start;
	char *anchor; /* registered when the collection ends */
};

static void drop_anchors(struct yload *l)
{
	for (size_t i = 0; i < l->n_anchors; i++)
		free(l->anchors[i].name);
	l->n_anchors = 0;
}

int yload_init(struct yload *l, const char *file, const char *text, size_t size)
{
	*l = (struct yload){ .file = file, .text = text, .size = size };
	l->anchors = calloc(YLOAD_ANCHORS_MAX, sizeof(*l->anchors));
	if (!l->anchors || !yaml_parser_initialize(&l->parser)) {
		free(l->anchors);
		return -ENOMEM;
	}
	/* UTF-8 only: libyaml would otherwise follow a UTF-16 byte-order mark. */
	yaml_parser_set_encoding(&l->parser, YAML_UTF8_ENCODING);
	yaml_parser_set_input_string(&l->parser, (const unsigned char *)text, size);
	return 0;
}

void yload_done(struct yload *l)
{
	drop_anchors(l);
	free(l->anchors);
	yaml_parser_delete(&l->parser);
	*l = (struct yload){};
}

/* Reports a problem at m; the file is not read further. Returns -EINVAL or -ENOMEM. */
_printf_(4, 5) static int fail(struct yload *l, struct diag_list *diags, const yaml_mark_t *m,
			       const char *fmt, ...)
{
	_cleanup_(strbuf_done) struct strbuf msg = {};
	va_list ap;
	int r;

	l->failed = true;
	va_start(ap, fmt);
	r = strbuf_vprintf(&msg, fmt, ap);
	va_end(ap);
	if (r >= 0)
		r = diag_add(diags, DIAG_ERROR, l->file, m ? (unsigned)m->line + 1 : 0,
			     m ? (unsigned)m->column + 1 : 0, NULL, "%s", msg.buf);
	return r < 0 ? r : -EINVAL;
}

static int parser_error(struct yload *l, struct diag_list *diags)
{
	const yaml_parser_t *p = &l->parser;
	const yaml_mark_t *m = &p->problem_mark;

	if (p->error == YAML_MEMORY_ERROR)
		return -ENOMEM;
	if (p->error == YAML_READER_ERROR)
		return fail(l, diags, NULL,
			    "not valid UTF-8 text at byte %zu: %s (allowed: YAML in UTF-8)",
			    p->problem_offset, p->problem ?: "?");
	if (m->index < l->size && l->text[m->index] == '\t')
		return fail(l, diags, m,
			    "YAML syntax: a tab (allowed: spaces; YAML does not allow tabs for "
			    "indentation)");
	if (p->context)
		return fail(l, diags, m, "YAML syntax: %s %s (from line %zu)", p->problem ?: "?",
			    p->context, p->context_mark.line + 1);
	return fail(l, diags, m, "YAML syntax: %s", p->problem ?: "?");
}

/* Counts n more nodes against the file's budget. */
static int count(struct yload *l, size_t n, const yaml_mark_t *m, struct diag_list *diags)
{
	if (n > YLOAD_NODES_MAX - l->nodes)
		return fail(
			l, diags, m,
			"more than %d YAML nodes in one file, an alias counting as the nodes it "
			"repeats (allowed: at most %d; split the file)",
			YLOAD_NODES_MAX, YLOAD_NODES_MAX);
	l->nodes += n;
	return 0;
}

static int add_anchor(struct yload *l, const yaml_mark_t *m, const char *name, int node,
		      size_t nodes, struct diag_list *diags)
{
	char *copy;

	if (l->n_anchors >= YLOAD_ANCHORS_MAX)
		return fail(l, diags, m,
			    "more than %d anchors in one document (allowed: at most %d)",
			    YLOAD_ANCHORS_MAX, YLOAD_ANCHORS_MAX);
	copy = strdup(name);
	if (!copy)
		return -ENOMEM;
	l->anchors[l->n_anchors++] =
		(struct yload_anchor){ .name = copy, .node = node, .nodes = nodes };
	return 0;
}

/* The node an alias stands for: the latest anchor of that name (YAML lets a name be reused). */
static const struct yload_anchor *find_anchor(const struct yload *l, const char *name)
{
	for (size_t i = l->n_anchors; i > 0; i--)
		if (streq(l->anchors[i - 1].name, name))
			return &l->anchors[i - 1];
	return NULL;
}

/* Puts node into the collection that is open, if any (else it is the document's root). */
static int attach(yaml_document_t *doc, struct frame *stack, size_t depth, int node)
{
	struct frame *f;
	int ok;

	if (depth == 0)
		return 0;
	f = &stack[depth - 1];
	if (!f->mapping)
		ok = yaml_document_append_sequence_item(doc, f->node, node);
	else if (f->key == 0) {
		f->key = node;
		return 0;
	} else {
		ok = yaml_document_append_mapping_pair(doc, f->node, f->key, node);
		f->key = 0;
	}
	return ok ? 0 : -ENOMEM;
}

static void set_marks(yaml_document_t *doc, int node, const yaml_event_t *ev)
{
	yaml_node_t *n = yaml_document_get_node(doc, node);

	n->start_mark = ev->start_mark;
	n->end_mark = ev->end_mark;
}

static const char *event_tag(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return (const char *)ev->data.scalar.tag;
	case YAML_SEQUENCE_START_EVENT:
		return (const char *)ev->data.sequence_start.tag;
	case YAML_MAPPING_START_EVENT:
		return (const char *)ev->data.mapping_start.tag;
	default:
		return NULL;
	}
}

static const char *event_anchor(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return (const char *)ev->data.scalar.anchor;
	case YAML_SEQUENCE_START_EVENT:
		return (const char *)ev->data.sequence_start.anchor;
	case YAML_MAPPING_START_EVENT:
		return (const char *)ev->data.mapping_start.anchor;
	default:
		return NULL;
	}
}

static int alias(struct yload *l, yaml_document_t *doc, struct frame *stack, size_t depth,
		 const yaml_event_t *ev, struct diag_list *diags)
{
	const char *name = (const char *)ev->data.alias.anchor;
	const struct yload_anchor *a = find_anchor(l, name);
	int r;

	if (!a) {
		for (size_t i = 0; i < depth; i++)
			if (streq(stack[i].anchor, name))
				return fail(
					l, diags, &ev->start_mark,
					"the alias *%.40s stands inside the node it names, a "
					"loop (allowed: an alias of a node that ended before it)",
					name);
		return fail(l, diags, &ev->start_mark,
			    "the alias *%.40s has no anchor &%.40s before it in this document "
			    "(allowed: an alias after its anchor)",
			    name, name);
	}
	r = count(l, a->nodes, &ev->start_mark, diags);
	return r < 0 ? r : attach(doc, stack, depth, a->node);
}

static int scalar(struct yload *l, yaml_document_t *doc, struct frame *stack, size_t depth,
		  const yaml_event_t *ev, struct diag_list *diags)
{
	const char *anchor = event_anchor(ev);
	int node, r = count(l, 1, &ev->start_mark, diags);

	if (r < 0)
		return r;
	node = yaml_document_add_scalar(doc, NULL, ev->data.scalar.value,
					(int)ev->data.scalar.length, ev->data.scalar.style);
	if (node == 0)
		return -ENOMEM;
	set_marks(doc, node, ev);
	if (anchor) {
		r = add_anchor(l, &ev->start_mark, anchor, node, 1, diags);
		if (r < 0)
			return r;
	}
	return attach(doc, stack, depth, node);
}

static int open_collection(struct yload *l, yaml_document_t *doc, struct frame *stack,
			   size_t *depth, const yaml_event_t *ev, struct diag_list *diags)
{
	bool mapping = ev->type == YAML_MAPPING_START_EVENT;
	const char *anchor = event_anchor(ev);
	struct frame f = { .mapping = mapping };
	int r;

	if (*depth >= YLOAD_DEPTH_MAX)
		return fail(l, diags, &ev->start_mark,
			    "nested more than %d levels deep (allowed: at most %d)",
			    YLOAD_DEPTH_MAX, YLOAD_DEPTH_MAX);
	r = count(l, 1, &ev->start_mark, diags);
	if (r < 0)
		return r;
	f.nodes_at_start = l->nodes - 1;
	f.node = mapping ? yaml_document_add_mapping(doc, NULL, ev->data.mapping_start.style)
			 : yaml_document_add_sequence(doc, NULL, ev->data.sequence_start.style);
	if (f.node == 0)
		return -ENOMEM;
	set_marks(doc, f.node, ev);
	r = attach(doc, stack, *depth, f.node);
	if (r < 0)
		return r;
	if (anchor && !(f.anchor = strdup(anchor)))
		return -ENOMEM;
	stack[(*depth)++] = f;
	return 0;
}

static int close_collection(struct yload *l, yaml_document_t *doc, struct frame *stack,
			    size_t *depth, const yaml_event_t *ev, struct diag_list *diags)
{
	struct frame *f = &stack[--(*depth)];
	int r = 0;

	yaml_document_get_node(doc, f->node)->end_mark = ev->end_mark;
	if (f->anchor)
		r = add_anchor(l, &ev->start_mark, f->anchor, f->node, l->nodes - f->nodes_at_start,
			       diags);
	free(TAKE_PTR(f->anchor));
	return r;
}

static int document_start(struct yload *l, yaml_document_t *doc, const yaml_event_t *ev,
			  struct diag_list *diags)
{
	if (ev->data.document_start.tag_directives.start !=
	    ev->data.document_start.tag_directives.end)
		return fail(l, diags, &ev->start_mark,
			    "a %%TAG directive (allowed: none; kvmtune uses no YAML tags)");
	if (!yaml_document_initialize(doc, NULL, NULL, NULL, ev->data.document_start.implicit, 1))
		return -ENOMEM;
	doc->start_mark = ev->start_mark;
	drop_anchors(l);
	return 0;
}

/* One event into the document being composed. Returns 1 when the document is complete. */
static int compose(struct yload *l, yaml_document_t *doc, struct frame *stack, size_t *depth,
		   const yaml_event_t *ev, struct diag_list *diags)
{
	const char *tag = event_tag(ev);

	if (tag)
		return fail(l, diags, &ev->start_mark,
			    "the YAML tag '%.60s' (allowed: no tags: write numbers plainly, quote "
			    "strings)",
			    tag);
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		return alias(l, doc, stack, *depth, ev, diags);
	case YAML_SCALAR_EVENT:
		return scalar(l, doc, stack, *depth, ev, diags);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		return open_collection(l, doc, stack, depth, ev, diags);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return close_collection(l, doc, stack, depth, ev, diags);
	case YAML_DOCUMENT_END_EVENT:
		doc->end_mark = ev->end_mark;
		return 1;
	default:
		return 0;
	}
}

static bool utf16_bom(const struct yload *l)
{
	const unsigned char *t = (const unsigned char *)l->text;

	return l->size >= 2 && ((t[0] == 0xff && t[1] == 0xfe) || (t[0] == 0xfe && t[1] == 0xff));
}

int yload_next(struct yload *l, yaml_document_t *doc, struct diag_list *diags)
{
	struct frame stack[YLOAD_DEPTH_MAX];
	size_t depth = 0;
	bool open = false;
	int r = 0;

	if (l->failed)
		return -EINVAL;
	if (l->ended)
		return 0;
	if (!l->started) {
		l->started = true;
		if (utf16_bom(l))
			return fail(l, diags, NULL,
				    "UTF-16 text (a byte-order mark FF FE or FE FF) (allowed: "
				    "UTF-8)");
	}
	while (r == 0) {
		yaml_event_t ev;

		if (!yaml_parser_parse(&l->parser, &ev)) {
			r = parser_error(l, diags);
			break;
		}
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			l->ended = true;
			return 0;
		}
		if (ev.type == YAML_DOCUMENT_START_EVENT) {
			r = document_start(l, doc, &ev, diags);
			open = r == 0;
		} else if (open)
			r = compose(l, doc, stack, &depth, &ev, diags);
		yaml_event_delete(&ev);
	}
	for (size_t i = 0; i < depth; i++)
		free(stack[i].anchor);
	if (r < 0 && open)
		yaml_document_delete(doc);
	if (r == -ENOMEM)
		l->failed = true;
	return r;
}
