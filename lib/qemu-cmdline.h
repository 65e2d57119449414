/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What a QEMU command line says about the VM (spec §2), read by QEMU's own rules (system/vl.c,
 * util/qemu-option.c, hw/core/machine-smp.c; README, "Reading QEMU's command line"):
 *   - "-opt" or "--opt"; an option that takes an argument takes the next one, whatever it is;
 *     other arguments are disk images;
 *   - option arguments split as qemu-opts.h says (",," escapes, implied keys, flags, the last
 *     key wins, the first id= wins);
 *   - -name, -machine (-M) and -smp merge across repetitions, key by key, the later winning, and
 *     -machine smp.KEY= is the same as -smp KEY=;
 *   - -uuid and -smbios type=1,uuid= set the same UUID: the later on the command line wins;
 *   - the accelerators QEMU tries come from -accel (each in turn), else from the later of
 *     -machine accel=A:B and -enable-kvm, else from the program name (ending in "kvm": kvm:tcg,
 *     otherwise tcg:kvm);
 *   - a QMP socket is the first control-mode monitor (-qmp, -qmp-pretty, -mon mode=control) on a
 *     unix socket QEMU listens on (server=on), of any number of chardevs;
 *   - numbers as QEMU reads them: base 0 ("0x10", "010" octal), the whole argument.
 */

#include <stdbool.h>
#include <stddef.h>

enum qemu_accel {
	QEMU_ACCEL_UNKNOWN,
	QEMU_ACCEL_KVM,
	QEMU_ACCEL_TCG,
	QEMU_ACCEL_OTHER, /* xen, hvf, whpx, nvmm, qtest: not ones this host runs */
};

/* One accelerator QEMU tries, in order: it runs the first that initializes. */
struct qemu_accel_try {
	enum qemu_accel accel;
	bool single_thread; /* TCG: thread=single, or -icount (one thread runs every vCPU) */
};

#define QEMU_ACCELS_MAX 8

struct qemu_cmdline {
	char *name; /* -name guest= (the last given); NULL when not given or empty */
	char *uuid; /* lower-case canonical: of the later valid -uuid / -smbios type=1,uuid= */
	char *process_name;
	bool debug_threads;

	char *machine; /* -machine type=; NULL: the default machine */
	/* -smp as QEMU derives it (machine_parse_smp_config), each count at least 1 */
	unsigned vcpus;	  /* cold-plugged vCPUs */
	unsigned maxcpus; /* the most there can be, hot-plugged ones included */
	unsigned drawers, books, sockets, dies, clusters, modules, cores, threads;
	bool prefer_sockets; /* machine type before 6.2: missing levels filled sockets-first */
	bool apic_compat;    /* pc-1.3 and older: the APIC id is the cpu-index */

	struct qemu_accel_try accels[QEMU_ACCELS_MAX];
	size_t n_accels;
	/* Set from the accelerator that runs: by qemu_cmdline_parse() assuming KVM where it is
	 * tried, by discover when the process shows which one runs. */
	bool tcg_single_thread;

	char **iothreads; /* ids of -object iothread, in command-line order */
	size_t n_iothreads;

	char *qmp_socket; /* a unix socket QEMU listens on with a QMP monitor; may be relative */

	bool daemonize;
	char *pidfile;
	bool incomplete; /* -readconfig or -set: the command line does not tell everything */
};

/* Parses argv (argv[0] is the program: it picks the default accelerator). Returns 0 or -ENOMEM. */
int qemu_cmdline_parse(char *const *argv, size_t argc, struct qemu_cmdline *ret);

/* Same, from /proc/PID/cmdline: NUL-separated, size bytes. */
int qemu_cmdline_parse_buf(const char *buf, size_t size, struct qemu_cmdline *ret);

/*
 * The accelerator that runs on a host where KVM can (kvm) or cannot be had: the first tried
 * that initializes there (TCG always can; the others listed are taken as failing), or
 * QEMU_ACCEL_UNKNOWN when none can (QEMU does not start). *ret_single (may be NULL): it is
 * TCG with one thread for every vCPU.
 */
enum qemu_accel qemu_cmdline_accel(const struct qemu_cmdline *c, bool kvm, bool *ret_single);
const char *qemu_accel_to_string(enum qemu_accel a);

/*
 * x86: the cpu-index of the vCPU with this APIC id, as QEMU numbers them (include/hw/i386/
 * topology.h: thread, core, module, die, socket fields, each as wide as its count needs), or -1
 * when no vCPU up to maxcpus has it. And the APIC id of a cpu-index (-1 past maxcpus).
 */
int qemu_apic_id_to_cpu_index(const struct qemu_cmdline *c, unsigned apic_id);
long qemu_cpu_index_to_apic_id(const struct qemu_cmdline *c, unsigned cpu_index);

void qemu_cmdline_done(struct qemu_cmdline *c);

/*
 * Whether id is an object id QEMU takes (id_wellformed: a letter, then letters, digits and
 * "-._"), of at most 128 bytes: only such iothread ids name thread groups, so none can reach
 * outside a VM's group.
 */
bool qemu_id_is_valid(const char *id);
