/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Composing YAML documents within budgets. libyaml's own loader accepts any nesting (its scanner
 * then spends time quadratic in the depth), lets an alias repeat a subtree without limit (the
 * walk that follows pays for every repetition) and takes tags and %TAG directives kvmtune has no
 * use for. This composer reads libyaml's events itself and stops a file, with an error at the
 * place, at the first limit it crosses:
 *
 *   - collections nested deeper than YLOAD_DEPTH_MAX;
 *   - more than YLOAD_NODES_MAX nodes in the file, an alias counting as many nodes as the
 *     subtree it repeats (so a walk of the composed documents visits at most that many);
 *   - more than YLOAD_ANCHORS_MAX anchors in one document; an alias of an anchor not defined
 *     before it, or of the node it stands in (a loop);
 *   - a tag (!!str, !foo) or a %TAG directive; text that is not UTF-8 (a UTF-16 BOM).
 *
 * The documents are ordinary yaml_document_t (an alias is its anchor's node index again), with
 * every node's marks, for yaml-walk.
 */

#include <stddef.h>
#include <yaml.h>

#include "diag.h"

#define YLOAD_DEPTH_MAX	  16
#define YLOAD_NODES_MAX	  100000
#define YLOAD_ANCHORS_MAX 100

struct yload_anchor;

struct yload {
	yaml_parser_t parser;
	const char *file; /* as shown to people */
	const char *text;
	size_t size;
	size_t nodes; /* composed so far in this file, aliases counted as what they repeat */
	struct yload_anchor *anchors;
	size_t n_anchors;
	bool started;
	bool ended;  /* the end of the text was reached */
	bool failed; /* a problem was reported: the rest is not read */
};

/* Prepares reading text (size bytes, not copied: it must outlive l). Returns 0 or -ENOMEM. */
int yload_init(struct yload *l, const char *file, const char *text, size_t size);

/*
 * Composes the next document into *doc (the caller deletes it with yaml_document_delete()).
 * Returns 1 for a document, 0 at the end of the text, -EINVAL after reporting a syntax error or
 * a crossed limit in diags (the rest of the text is not read), -ENOMEM.
 */
int yload_next(struct yload *l, yaml_document_t *doc, struct diag_list *diags);

void yload_done(struct yload *l);
