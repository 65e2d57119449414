/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "qemu-opts.h"
#include "qemu-smp.h"

/* A count as given: 0 when not given or refused by QEMU (see qemu_smp_derive()). */
static uint64_t count(const char *v)
{
	int64_t n;

	if (!v || qemu_parse_number(v, &n) < 0 || n < 1 || n > QEMU_SMP_MAX)
		return 0;
	return (uint64_t)n;
}

static uint64_t or1(uint64_t v)
{
	return v ? v : 1;
}

void qemu_smp_derive(const struct qemu_smp_given *g, struct qemu_cmdline *c)
{
	uint64_t cpus = count(g->cpus), maxcpus = count(g->maxcpus), sockets = count(g->sockets),
		 cores = count(g->cores), threads = count(g->threads);
	/* Levels a machine may not have default to 1 (QEMU refuses more than 1 where it has
	 * none): they are never computed. */
	uint64_t drawers = or1(count(g->drawers)), books = or1(count(g->books)),
		 dies = or1(count(g->dies)), clusters = or1(count(g->clusters)),
		 modules = or1(count(g->modules));
	uint64_t fixed = drawers * books * dies * clusters * modules, total;

	if (cpus == 0 && maxcpus == 0) {
		sockets = or1(sockets);
		cores = or1(cores);
		threads = or1(threads);
	} else {
		maxcpus = maxcpus ? maxcpus : cpus;
		if (c->prefer_sockets && sockets == 0) {
			cores = or1(cores);
			threads = or1(threads);
			sockets = maxcpus / (fixed * cores * threads);
		} else if (c->prefer_sockets && cores == 0) {
			threads = or1(threads);
			cores = maxcpus / (fixed * sockets * threads);
		} else if (!c->prefer_sockets && cores == 0) {
			sockets = or1(sockets);
			threads = or1(threads);
			cores = maxcpus / (fixed * sockets * threads);
		} else if (!c->prefer_sockets && sockets == 0) {
			threads = or1(threads);
			sockets = maxcpus / (fixed * cores * threads);
		}
		if (threads == 0)
			threads = maxcpus / (fixed * sockets * cores);
	}
	/* A division may leave 0 where maxcpus is too small: QEMU then refuses to start. */
	sockets = or1(sockets);
	cores = or1(cores);
	threads = or1(threads);
	total = fixed * sockets * cores * threads; /* each factor <= QEMU_SMP_MAX: no overflow */
	maxcpus = maxcpus ? maxcpus : MIN(total, (uint64_t)QEMU_SMP_MAX);
	cpus = cpus ? cpus : maxcpus;
	*c = (struct qemu_cmdline){
		.vcpus = (unsigned)MIN(cpus, maxcpus),
		.maxcpus = (unsigned)maxcpus,
		.drawers = (unsigned)drawers,
		.books = (unsigned)books,
		.sockets = (unsigned)MIN(sockets, (uint64_t)QEMU_SMP_MAX),
		.dies = (unsigned)dies,
		.clusters = (unsigned)clusters,
		.modules = (unsigned)modules,
		.cores = (unsigned)MIN(cores, (uint64_t)QEMU_SMP_MAX),
		.threads = (unsigned)MIN(threads, (uint64_t)QEMU_SMP_MAX),
		.prefer_sockets = c->prefer_sockets,
		.apic_compat = c->apic_compat,
	};
}

/* "6.1" of "pc-q35-6.1", "8.1" of "pc-i440fx-8.1+pve0", "8.6" of "pc-q35-rhel8.6.0". */
static bool machine_version(const char *type, unsigned *ret_major, unsigned *ret_minor)
{
	const char *v = strrchr(type, '-');
	char *end;
	unsigned long major, minor;

	if (!v)
		return false;
	v++;
	if (strncmp(v, "rhel", 4) == 0)
		v += 4;
	if (!isdigit((unsigned char)v[0]))
		return false;
	major = strtoul(v, &end, 10);
	if (*end != '.' || !isdigit((unsigned char)end[1]))
		return false;
	minor = strtoul(end + 1, &end, 10);
	*ret_major = (unsigned)MIN(major, 1000ul);
	*ret_minor = (unsigned)MIN(minor, 1000ul);
	return true;
}

void qemu_machine_traits(const char *type, bool *ret_prefer_sockets, bool *ret_apic_compat)
{
	unsigned major = 0, minor = 0;
	bool versioned = type && machine_version(type, &major, &minor);
	bool rhel = versioned && strstr(type, "-rhel");

	/* Downstream RHEL types: those of RHEL 8 and older are based on QEMU before 6.2. */
	*ret_prefer_sockets =
		versioned && (rhel ? major < 9 : major < 6 || (major == 6 && minor < 2));
	*ret_apic_compat = versioned && !rhel && strncmp(type, "pc-", 3) == 0 &&
			   (major == 0 || (major == 1 && minor <= 3));
}

/* Bits of an APIC id field for count values (apicid_bitwidth_for_count()). */
static unsigned width(unsigned count)
{
	unsigned bits = 0;

	while (bits < 32 && (UINT64_C(1) << bits) < count)
		bits++;
	return bits;
}

/* x86 packs (socket, die, module, core, thread); clusters and books do not exist there. */
struct x86_topo {
	unsigned dies, modules, cores, threads;
	unsigned smt_w, core_w, module_w, die_w;
};

static struct x86_topo x86_topo(const struct qemu_cmdline *c)
{
	struct x86_topo t = {
		.dies = MAX(c->dies, 1u),
		.modules = MAX(c->modules, 1u),
		.cores = MAX(c->cores, 1u),
		.threads = MAX(c->threads, 1u),
	};

	t.smt_w = width(t.threads);
	t.core_w = width(t.cores);
	t.module_w = width(t.modules);
	t.die_w = width(t.dies);
	return t;
}

/* v << shift, or UINT64_MAX when that leaves 32 bits (no APIC id is that wide). */
static uint64_t shifted(uint64_t v, unsigned shift)
{
	if (v == 0)
		return 0;
	if (shift >= 32 || v > (UINT64_C(0xffffffff) >> shift))
		return UINT64_MAX;
	return v << shift;
}

long qemu_cpu_index_to_apic_id(const struct qemu_cmdline *c, unsigned cpu_index)
{
	struct x86_topo t = x86_topo(c);
	uint64_t per_pkg = (uint64_t)t.dies * t.modules * t.cores * t.threads;
	uint64_t fields[5], apic = 0;
	unsigned shifts[5] = { 0, t.smt_w, t.smt_w + t.core_w, t.smt_w + t.core_w + t.module_w,
			       t.smt_w + t.core_w + t.module_w + t.die_w };

	if (cpu_index >= MAX(c->maxcpus, 1u))
		return -1;
	if (c->apic_compat)
		return cpu_index;
	fields[0] = cpu_index % t.threads;
	fields[1] = cpu_index / t.threads % t.cores;
	fields[2] = cpu_index / ((uint64_t)t.cores * t.threads) % t.modules;
	fields[3] = cpu_index / ((uint64_t)t.modules * t.cores * t.threads) % t.dies;
	fields[4] = cpu_index / per_pkg;
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		uint64_t f = shifted(fields[i], shifts[i]);

		if (f == UINT64_MAX)
			return -1;
		apic |= f;
	}
	return (long)apic;
}

/* The field of w bits at offset in an APIC id. */
static uint64_t field(uint64_t apic_id, unsigned offset, unsigned w)
{
	if (offset >= 32)
		return 0;
	return (apic_id >> offset) & ((UINT64_C(1) << w) - 1);
}

int qemu_apic_id_to_cpu_index(const struct qemu_cmdline *c, unsigned apic_id)
{
	struct x86_topo t = x86_topo(c);
	unsigned off_core = t.smt_w, off_module = off_core + t.core_w,
		 off_die = off_module + t.module_w, off_pkg = off_die + t.die_w;
	uint64_t smt, core, module, die, pkg, index;

	if (c->apic_compat)
		return apic_id < MAX(c->maxcpus, 1u) ? (int)apic_id : -1;
	smt = field(apic_id, 0, t.smt_w);
	core = field(apic_id, off_core, t.core_w);
	module = field(apic_id, off_module, t.module_w);
	die = field(apic_id, off_die, t.die_w);
	pkg = off_pkg < 32 ? (uint64_t)apic_id >> off_pkg : 0;
	/* A field value past its count: no vCPU has that id. */
	if (smt >= t.threads || core >= t.cores || module >= t.modules || die >= t.dies)
		return -1;
	index = (((pkg * t.dies + die) * t.modules + module) * t.cores + core) * t.threads + smt;
	return index < MAX(c->maxcpus, 1u) ? (int)index : -1;
}
