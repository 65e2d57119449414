/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A strict, table-driven reader of libyaml documents. A schema is a table of fields per mapping;
 * the walker checks keys (unknown ones get a "did you mean"), types and ranges, fills typed
 * values with their origin, and appends a diagnostic for every problem and goes on, so a user
 * sees every mistake of a file at once. Only this file and its users include <yaml.h>. The
 * documents come from yaml-load, whose budget bounds the nodes a walk can visit (aliases
 * included).
 */

#include <stddef.h>
#include <yaml.h>

#include "diag.h"
#include "topology.h"
#include "value.h"

struct ywalk {
	yaml_document_t *doc;
	const char *file; /* path as shown to people; origins point here */
	struct diag_list *diags;
	const struct topology *topo; /* NULL: CPU and node ids are not checked against a host */
	bool check_devices;	     /* stat() device paths */
	bool check_users;	     /* resolve user names */
	int oom;		     /* -ENOMEM once an allocation failed */
};

enum yfield_kind {
	YF_INT,	       /* pint, min..max; with YF_MINUS_ONE also -1 */
	YF_SIZE_KIB,   /* psize, bare number in KiB; at least min, at most max when max > 0 */
	YF_SIZE_BYTES, /* psize, bare number in bytes; likewise */
	YF_COUNT,      /* psize holding a count (IOPS): an integer >= 1 (<= max when max > 0) or
			  "unlimited" */
	YF_CPUS,       /* pcpus, CPU list checked against the host */
	YF_NODES,      /* pcpus, NUMA node list checked against the host */
	YF_ENUM,       /* penum, one of table[] */
	YF_BOOL,       /* pint 0/1: true or false */
	YF_STRING,     /* pstr */
	YF_CUSTOM,     /* parse(w, node, key, base) does it; base is the whole struct */
};

#define YF_MINUS_ONE (1u << 0) /* -1 is allowed besides min..max (unlimited) */
#define YF_UNLIMITED (1u << 1) /* "unlimited" is allowed (sizes) */
#define YF_REQUIRED  (1u << 2) /* an entry must have this key */

struct yfield {
	const char *name;
	enum yfield_kind kind;
	size_t offset; /* of the target within the mapping's struct */
	int64_t min, max;
	unsigned flags;
	const char *const *table; /* YF_ENUM: value names, indexed by value */
	size_t table_size;
	void (*parse)(struct ywalk *w, yaml_node_t *node, const char *key, void *base);
};

/* Optional hint for an unknown key: e.g. "hard_limit" under cputune → "memtune.hard_limit". */
typedef const char *(*yhint_fn)(const char *unknown_key);

/* Appends an error located at node. */
_printf_(4, 5) void ywalk_error(struct ywalk *w, const yaml_node_t *node, const char *key,
				const char *fmt, ...);

/* A warning located at node: the value is used, but a person should look at it. */
_printf_(4, 5) void ywalk_warning(struct ywalk *w, const yaml_node_t *node, const char *key,
				  const char *fmt, ...);

/* Same as ywalk_error(), at an explicit 0-based offset into a single-line scalar (for list/size
 * errors). */
_printf_(5, 6) void ywalk_error_at(struct ywalk *w, const yaml_node_t *node, size_t offset,
				   const char *key, const char *fmt, ...);

yaml_node_t *ywalk_node(struct ywalk *w, int index);
struct origin ywalk_origin(const struct ywalk *w, const yaml_node_t *node);
bool ywalk_is_null(const yaml_node_t *node);
/* "a mapping", "a list", "the string \"x\"", ... for messages. Returns a static or w-owned text. */
const char *ywalk_describe(const yaml_node_t *node, char *buf, size_t size);

/*
 * Scalar text of a non-null scalar, or NULL after reporting what was found instead, a NUL byte,
 * or a control character (C0, DEL, C1: never part of a name, glob, path or number).
 */
const char *ywalk_scalar(struct ywalk *w, yaml_node_t *node, const char *key, const char *what);

/*
 * Walks a mapping node against fields, filling base. Null stands for an empty mapping. Keys
 * that are not in fields are errors (with a suggestion); repeated keys are errors; fields with
 * YF_REQUIRED that are missing are errors. Returns false when node is not a mapping.
 */
bool ywalk_mapping(struct ywalk *w, yaml_node_t *node, const char *key, const struct yfield *fields,
		   size_t n_fields, void *base, yhint_fn hint);

/* Calls fn for each entry of a list node ("key[i]" for diagnostics); null is an empty list. */
void ywalk_list(struct ywalk *w, yaml_node_t *node, const char *key,
		void (*fn)(struct ywalk *w, yaml_node_t *item, const char *key, void *base),
		void *base);

/*
 * Walks one list entry like ywalk_mapping. False when it is not a mapping or one of its own
 * values was wrong: checks across its keys would then only repeat the same mistake in other words.
 */
bool ywalk_entry(struct ywalk *w, yaml_node_t *node, const char *key, const struct yfield *fields,
		 size_t n, void *entry);

/* Parses one field's value into base + f->offset (the typed kinds above). */
void ywalk_field(struct ywalk *w, yaml_node_t *node, const char *key, const struct yfield *f,
		 void *base);

/* Joins "parent.child" (or "parent[i]") into buf for diagnostics. */
const char *ywalk_key(char *buf, size_t size, const char *parent, const char *child);
const char *ywalk_key_index(char *buf, size_t size, const char *parent, size_t index);

/* The nearest of names to s by edit distance, if close enough to be a likely typo, else NULL. */
const char *ywalk_suggest(const char *s, const char *const *names, size_t n);
