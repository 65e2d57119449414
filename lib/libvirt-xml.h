/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Shared by the libvirt importer's parts (libvirt-*.c): the import in progress, and small
 * readers over libxml2 that know libvirt's conventions and report what they refuse as notes.
 * Only these files include libxml2.
 */

#include <inttypes.h>
#include <libxml/tree.h>

#include "libvirt-import.h"

struct lvimport {
	struct libvirt_import *imp;
	const struct libvirt_import_env *env;
	unsigned vcpus;	     /* <vcpu>: the most vCPUs; 0 = not known */
	unsigned *iothreads; /* the iothread ids the domain defines (<iothreads>, <iothreadids>) */
	size_t n_iothreads;
	bool vcpu_placement_auto; /* <vcpu placement='auto'> */
	int r;			  /* -ENOMEM once an allocation failed */
};

/* Names what is not carried over: "FILE:LINE: warning: KEY: not carried over: MESSAGE". */
_printf_(4, 5) void lv_note(struct lvimport *x, const xmlNode *node, const char *key,
			    const char *fmt, ...);

struct origin lv_origin(const struct lvimport *x, const xmlNode *node);

/* Counts one value carried over. */
void lv_carried(struct lvimport *x);

/* The first child element called name, or NULL; and iteration over child elements. */
xmlNode *lv_child(const xmlNode *node, const char *name);
xmlNode *lv_first_element(const xmlNode *node);
xmlNode *lv_next_element(const xmlNode *node);
#define LV_FOREACH_ELEMENT(c, node) \
	for (xmlNode *c = lv_first_element(node); c; c = lv_next_element(c))

bool lv_is(const xmlNode *node, const char *name);

/* An attribute's value or an element's text with surrounding blanks trimmed; caller frees. */
char *lv_attr(struct lvimport *x, const xmlNode *node, const char *name);
char *lv_text(struct lvimport *x, const xmlNode *node);

/* Strict unsigned decimal (blanks around allowed). False, and a note, when s is not one. */
bool lv_uint(struct lvimport *x, const xmlNode *node, const char *key, const char *s,
	     uint64_t *ret);
/* The same for a signed value. */
bool lv_int(struct lvimport *x, const xmlNode *node, const char *key, const char *s, int64_t *ret);

/*
 * A CPU (nodes: NUMA node) list in libvirt's syntax that selects something and, when the import
 * checks a host, only what it has. *ret gets the set and node's origin. False, with a note, when
 * not.
 */
bool lv_cpus(struct lvimport *x, const xmlNode *node, const char *key, const char *s, bool nodes,
	     struct pcpus *ret);

/* An integer child element <name>N</name> in min..max: 1 set, 0 absent or 0 (libvirt: unset). */
int lv_int_child(struct lvimport *x, const xmlNode *parent, const char *name, const char *key,
		 int64_t min, int64_t max, struct pint *ret);

/* Each part's entry point, called by libvirt-import.c on the domain element. */
void lv_import_cputune(struct lvimport *x, const xmlNode *cputune);
void lv_import_memtune(struct lvimport *x, const xmlNode *memtune);
void lv_import_blkiotune(struct lvimport *x, const xmlNode *blkiotune);
void lv_import_disks(struct lvimport *x, const xmlNode *domain);

/* Whether iothread id is one the domain defines. */
bool lv_iothread_defined(const struct lvimport *x, unsigned id);
