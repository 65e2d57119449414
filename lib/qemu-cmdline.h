/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What a QEMU command line says about the VM (spec §2): identity, vCPU count, iothread ids, the
 * QMP socket. QemuOpts rules: "-opt" or "--opt" with the value in the next argument;
 * comma-separated key=value pairs, ",," escapes a comma, the first bare value is the implied
 * key, a bare "key" means on and "nokey" off; -name, -smp and -machine merge across
 * repetitions (the later key wins); a value starting with '{' is JSON.
 */

#include <stdbool.h>
#include <stddef.h>

enum qemu_accel {
	QEMU_ACCEL_UNKNOWN, /* nothing said: TCG on qemu-system-*, KVM on /usr/bin/kvm */
	QEMU_ACCEL_KVM,
	QEMU_ACCEL_TCG,
	QEMU_ACCEL_OTHER,
};

struct qemu_cmdline {
	char *name; /* -name guest=; NULL when not given */
	char *uuid; /* -uuid, as given */
	char *process_name;
	bool debug_threads;

	unsigned vcpus;	  /* cold-plugged vCPUs, as QEMU derives them from -smp (default 1) */
	unsigned maxcpus; /* the most there can be, hot-plugged ones included */
	unsigned sockets, dies, clusters, cores, threads; /* 0 = not given */

	enum qemu_accel accel;
	bool tcg_single_thread; /* -accel tcg,thread=single or -icount: one thread for all vCPUs */

	char **iothreads; /* ids of -object iothread, in command-line order */
	size_t n_iothreads;

	char *qmp_socket; /* a unix socket QEMU listens on with a QMP monitor; may be relative */

	bool daemonize;
	char *pidfile;
	bool incomplete; /* -readconfig or -set: the command line does not tell everything */
};

/* Parses argv (argv[0] is the program and is skipped). Returns 0 or -ENOMEM. */
int qemu_cmdline_parse(char *const *argv, size_t argc, struct qemu_cmdline *ret);

/* Same, from /proc/PID/cmdline: NUL-separated, size bytes. */
int qemu_cmdline_parse_buf(const char *buf, size_t size, struct qemu_cmdline *ret);

void qemu_cmdline_done(struct qemu_cmdline *c);

/*
 * Whether id is an object id QEMU takes (id_wellformed: a letter, then letters, digits and
 * "-._"), of at most 128 bytes: only such iothread ids name thread groups, so none can reach
 * outside a VM's group.
 */
bool qemu_id_is_valid(const char *id);
