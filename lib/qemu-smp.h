/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The vCPU topology of a QEMU command line (qemu-cmdline.c's helper; pure). */

#include "qemu-cmdline.h"

/* The -smp keys as given, the later winning (also from -machine smp.KEY=); NULL: not given. */
struct qemu_smp_given {
	char *cpus, *maxcpus, *drawers, *books, *sockets, *dies, *clusters, *modules, *cores,
		*threads;
};

/*
 * Fills c's counts as hw/core/machine-smp.c derives them, missing levels cores-first (or
 * sockets-first with c->prefer_sockets). A value QEMU refuses (not a number, 0, negative, past
 * QEMU_SMP_MAX) counts as not given: such a QEMU does not start, and the counts stay coherent
 * (1 <= vcpus <= maxcpus) whatever the input.
 */
#define QEMU_SMP_MAX 65536
void qemu_smp_derive(const struct qemu_smp_given *g, struct qemu_cmdline *c);

/*
 * What a machine type's version says: before 6.2 (pc-i440fx-6.1, pc-q35-5.2, virt-6.0,
 * pc-1.3, rhel8.x types, ...) missing topology levels are filled sockets-first; pc-1.3 and
 * older number APIC ids as cpu-indexes. An unversioned type (pc, q35, microvm, the default)
 * is the newest.
 */
void qemu_machine_traits(const char *type, bool *ret_prefer_sockets, bool *ret_apic_compat);
