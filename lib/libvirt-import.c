/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The libvirt importer's frame: the document, the domain's identity, <vcpu>, the iothreads it
 * defines and <numatune>; the tuning sections are read by libvirt-cputune.c,
 * libvirt-memtune.c, libvirt-blkiotune.c and libvirt-disks.c.
 */

#include <ctype.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <string.h>

#include "libvirt-xml.h"

#define LV_IOTHREADS_MAX 4096 /* iothread ids we track; more is a note, not an allocation */

/*
 * libvirt reads a UUID as 32 hex digits with '-' or blanks between them; kvmtune matches the
 * lower-case 8-4-4-4-12 form, which ret (37 bytes) gets. -EINVAL when s is not a UUID.
 */
static int normalize_uuid(const char *s, char ret[static 37])
{
	char hex[32];
	size_t n = 0;

	for (const char *c = s; *c; c++) {
		if (*c == '-' || *c == ' ')
			continue;
		if (!isxdigit((unsigned char)*c) || n == 32)
			return -EINVAL;
		hex[n++] = (char)tolower((unsigned char)*c);
	}
	if (n != 32)
		return -EINVAL;
	(void)snprintf(ret, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16,
		       hex + 20);
	return 0;
}

static void identity(struct lvimport *x, const xmlNode *domain)
{
	struct libvirt_import *imp = x->imp;
	xmlNode *name = lv_child(domain, "name"), *uuid = lv_child(domain, "uuid");
	_cleanup_(strbuf_done) struct strbuf glob = {};
	_cleanup_free_ char *text = uuid ? lv_text(x, uuid) : NULL;

	imp->name = name ? lv_text(x, name) : NULL;
	/* match.name is a glob: the domain's name must match only itself. */
	for (const char *c = imp->name; c && *c && x->r >= 0; c++)
		if (strbuf_printf(&glob, "%s%c", strchr("*?[\\", *c) ? "\\" : "", *c) < 0)
			x->r = -ENOMEM;
	if (glob.buf) {
		imp->policy.match.name =
			(struct pstr){ .value = strbuf_steal(&glob), .origin = lv_origin(x, name) };
		lv_carried(x);
	}
	if (text) {
		char canonical[37];

		if (normalize_uuid(text, canonical) < 0)
			lv_note(x, uuid, "uuid",
				"'%.40s' is not a UUID: the policy matches the domain by name only",
				text);
		else if (!(imp->uuid = strdup(canonical)))
			x->r = -ENOMEM;
	}
	if (imp->uuid) {
		imp->policy.match.uuid.value = strdup(imp->uuid);
		if (!imp->policy.match.uuid.value)
			x->r = -ENOMEM;
		imp->policy.match.uuid.origin = lv_origin(x, uuid);
		lv_carried(x);
	}
}

/* <vcpu placement='static|auto' cpuset='...'>N</vcpu> */
static void vcpu(struct lvimport *x, const xmlNode *domain)
{
	xmlNode *node = lv_child(domain, "vcpu");
	_cleanup_free_ char *count = NULL, *cpuset = NULL, *placement = NULL;
	uint64_t n;

	if (!node)
		return;
	count = lv_text(x, node);
	cpuset = lv_attr(x, node, "cpuset");
	placement = lv_attr(x, node, "placement");
	if (count && lv_uint(x, node, "vcpu", count, &n) && n > 0 && n < POLICY_VCPU_LIMIT)
		x->vcpus = (unsigned)n;
	if (streq(placement, "auto")) {
		x->vcpu_placement_auto = true;
		lv_note(x, node, "vcpu.placement",
			"placement 'auto' lets numad choose the CPUs; kvmtune does not ask numad "
			"(pin with cputune.cpuset instead)");
	}
	if (cpuset &&
	    lv_cpus(x, node, "vcpu.cpuset", cpuset, false, &x->imp->policy.cputune.cpuset))
		lv_carried(x);
}

static int add_iothread(struct lvimport *x, unsigned id)
{
	size_t allocated = x->n_iothreads;

	if (lv_iothread_defined(x, id))
		return 0;
	if (GROW_ARRAY(x->iothreads, allocated, x->n_iothreads + 1) < 0)
		return -ENOMEM;
	x->iothreads[x->n_iothreads++] = id;
	return 0;
}

bool lv_iothread_defined(const struct lvimport *x, unsigned id)
{
	for (size_t i = 0; i < x->n_iothreads; i++)
		if (x->iothreads[i] == id)
			return true;
	return false;
}

/*
 * The iothread ids: those <iothreadids> lists, then, as libvirt fills up to <iothreads> N, the
 * smallest ids not yet used. QEMU knows iothread id N as the object "iothreadN".
 */
static void iothreads(struct lvimport *x, const xmlNode *domain)
{
	xmlNode *count = lv_child(domain, "iothreads"), *ids = lv_child(domain, "iothreadids");
	_cleanup_free_ char *text = count ? lv_text(x, count) : NULL;
	uint64_t n = 0;

	LV_FOREACH_ELEMENT(t, ids)
	{
		_cleanup_free_ char *id = lv_attr(x, t, "id");
		uint64_t v;

		if (!lv_is(t, "iothread") || !lv_uint(x, t, "iothreadids.iothread.id", id, &v))
			continue;
		if (v == 0 || v > UINT32_MAX)
			lv_note(x, t, "iothreadids.iothread.id", "id %" PRIu64 " is outside 1..%u",
				v, UINT32_MAX);
		else if (add_iothread(x, (unsigned)v) < 0)
			x->r = -ENOMEM;
		/* The pool sizes and polling of an iothread are QEMU's -object options. */
		if (t->properties && t->properties->next)
			lv_note(x, t, "iothreadids.iothread",
				"thread pool and polling settings are -object iothread options of "
				"QEMU's command line, not runtime tuning");
		LV_FOREACH_ELEMENT(c, t)
		lv_note(x, c, "iothreadids.iothread",
			"<%s> is an -object iothread option of QEMU's command line, not "
			"runtime tuning",
			(const char *)c->name);
	}
	if (text && lv_uint(x, count, "iothreads", text, &n) && n > LV_IOTHREADS_MAX) {
		lv_note(x, count, "iothreads", "more than %d iothreads", LV_IOTHREADS_MAX);
		n = LV_IOTHREADS_MAX;
	}
	for (unsigned id = 1; x->n_iothreads < n && x->r >= 0; id++)
		if (add_iothread(x, id) < 0)
			x->r = -ENOMEM;
}

static const char *const numa_modes[] = { "strict", "restrictive", "preferred", "interleave" };

/* <numatune><memory mode= nodeset= placement=/><memnode .../></numatune> */
static void numatune(struct lvimport *x, const xmlNode *domain)
{
	struct policy *p = &x->imp->policy;

	LV_FOREACH_ELEMENT(c, lv_child(domain, "numatune"))
	{
		_cleanup_free_ char *mode = NULL, *nodeset = NULL, *placement = NULL;
		int m = -1;

		if (!lv_is(c, "memory")) {
			lv_note(x, c, "numatune",
				lv_is(c, "memnode")
					? "<memnode> binds one guest NUMA cell's memory: "
					  "that is QEMU's memory backend (-object "
					  "memory-backend-*,host-nodes=,policy=), set at "
					  "launch, not a process's tuning"
					: "<%s> is not known to kvmtune",
				(const char *)c->name);
			continue;
		}
		mode = lv_attr(x, c, "mode");
		nodeset = lv_attr(x, c, "nodeset");
		placement = lv_attr(x, c, "placement");
		for (size_t i = 0; mode && i < ARRAY_SIZE(numa_modes); i++)
			if (streq(mode, numa_modes[i]))
				m = (int)i;
		if (mode && m < 0) {
			lv_note(x, c, "numatune.memory.mode",
				"mode '%.40s' is not known (kvmtune has strict, restrictive, "
				"preferred, interleave)",
				mode);
			continue;
		}
		/* libvirt: no placement means static with a nodeset, else the <vcpu> placement. */
		if (!placement && !nodeset && x->vcpu_placement_auto &&
		    !(placement = strdup("auto"))) {
			x->r = -ENOMEM;
			return;
		}
		if (placement && !streq(placement, "static") && !streq(placement, "auto")) {
			lv_note(x, c, "numatune.memory.placement", "placement '%.40s' is not known",
				placement);
			continue;
		}
		if (streq(placement, "auto")) {
			p->numatune.placement = (struct penum){ .set = true,
								.value = NUMA_PLACEMENT_AUTO,
								.origin = lv_origin(x, c) };
			lv_carried(x);
		} else if (!nodeset) {
			lv_note(x, c, "numatune.memory",
				"static placement without a nodeset (libvirt refuses it)");
			continue;
		} else if (!lv_cpus(x, c, "numatune.memory.nodeset", nodeset, true,
				    &p->numatune.nodeset))
			continue;
		else
			lv_carried(x);
		if (m >= 0) {
			p->numatune.mode = (struct penum){ .set = true,
							   .value = m,
							   .origin = lv_origin(x, c) };
			lv_carried(x);
		}
	}
}

static void unknown_tuning(struct lvimport *x, const xmlNode *domain)
{
	xmlNode *backing = lv_child(domain, "memoryBacking");

	if (backing)
		lv_note(x, backing, "memoryBacking",
			"hugepages, locked or shared memory are QEMU's memory backend options "
			"(-object memory-backend-*, -overcommit mem-lock=on), set at launch");
}

static int parse_failed(struct libvirt_import *imp, const char *why)
{
	const xmlError *e = xmlGetLastError();
	_cleanup_free_ char *msg = e && e->message ? strdup(e->message) : NULL;
	size_t n = msg ? strlen(msg) : 0;

	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	if (diag_add(&imp->notes, DIAG_ERROR, imp->file, e ? (unsigned)e->line : 0, 0, NULL,
		     "%s%s%s (allowed: a libvirt domain XML, as `virsh dumpxml` writes it)", why,
		     msg ? ": " : "", msg ?: "") < 0)
		return -ENOMEM;
	return -EINVAL;
}

/* Notes in the order of the XML's lines, however the sections were read (stable: an insertion
 * sort). */
static void sort_notes(struct diag_list *l)
{
	for (size_t i = 1; i < l->n; i++) {
		struct diag d = l->items[i];
		size_t j = i;

		for (; j > 0 && l->items[j - 1].line > d.line; j--)
			l->items[j] = l->items[j - 1];
		l->items[j] = d;
	}
}

static int import_domain(struct lvimport *x, xmlDoc *doc)
{
	xmlNode *domain = xmlDocGetRootElement(doc);

	if (!lv_is(domain, "domain"))
		return parse_failed(x->imp, "the document is not a <domain>");
	identity(x, domain);
	if (!x->imp->name || !*x->imp->name)
		return parse_failed(x->imp, "the domain has no <name>");
	vcpu(x, domain);
	iothreads(x, domain);
	lv_import_cputune(x, lv_child(domain, "cputune"));
	lv_import_memtune(x, lv_child(domain, "memtune"));
	lv_import_blkiotune(x, lv_child(domain, "blkiotune"));
	numatune(x, domain);
	lv_import_disks(x, domain);
	unknown_tuning(x, domain);
	sort_notes(&x->imp->notes);
	return x->r;
}

int libvirt_import(const char *file, const char *text, size_t size,
		   const struct libvirt_import_env *env, struct libvirt_import *ret)
{
	struct lvimport x = { .imp = ret, .env = env };
	xmlDoc *doc;
	int r;

	ret->file = strdup(file);
	if (!ret->file)
		return -ENOMEM;
	if (size > INT32_MAX)
		return parse_failed(ret, "too large");
	xmlResetLastError();
	/* No network, no entity expansion into the tree, no messages on stderr (a library). */
	doc = xmlReadMemory(text, (int)size, file, NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
				    XML_PARSE_BIG_LINES);
	if (!doc)
		return parse_failed(ret, "not well-formed XML");
	r = import_domain(&x, doc);
	xmlFreeDoc(doc);
	free(x.iothreads);
	return r;
}

void libvirt_import_done(struct libvirt_import *imp)
{
	free(imp->file);
	free(imp->name);
	free(imp->uuid);
	policy_done(&imp->policy);
	diag_list_done(&imp->notes);
	*imp = (struct libvirt_import){};
}
