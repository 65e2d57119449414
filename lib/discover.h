/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Which processes are QEMU VMs, who they are, and the role of every thread (spec §2): vcpu<N>
 * (N = QEMU's cpu-index), iothread:<id> or emulator, each with the source it was learnt from.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "policy.h"
#include "proc.h"
#include "qemu-cmdline.h"
#include "qmp.h"

enum thread_role {
	ROLE_EMULATOR,
	ROLE_VCPU,
	ROLE_IOTHREAD,
};

/* Most trusted first. */
enum role_source {
	ROLE_SOURCE_QMP,
	ROLE_SOURCE_NAME,
	ROLE_SOURCE_KVM,
	ROLE_SOURCE_GUESS,
	ROLE_SOURCE_NONE,
	_ROLE_SOURCE_MAX,
};

struct vm_thread {
	pid_t tid;
	struct proc_stat stat; /* stat.comm is the thread's name */
	bool young;	       /* too new to trust its name: it may not have renamed itself yet */

	/* KVM evidence, gathered before classification. */
	int kvm_vcpu_id;       /* APIC id of the fd it was seen in KVM_RUN on, or -1 */
	bool kvm_vcpu_signals; /* SigBlk lets SIGUSR1 and SIGBUS through, as KVM vCPUs do */

	enum thread_role role;
	int vcpu;	/* ROLE_VCPU: cpu-index */
	char *iothread; /* ROLE_IOTHREAD: the id */
	enum role_source source;
};

struct vm {
	pid_t pid;
	uint64_t starttime; /* with pid: who the VM is, so a reused pid never inherits it */
	uid_t uid;
	char *exe;
	char *name; /* -name guest=, else the uuid, else pid-<PID> */
	struct qemu_cmdline cmdline;
	/* Another manager's VM (libvirt's machine-qemu…, Proxmox's qemu.slice): the group that
	 * says so, from whichever hierarchy holds it (on v1 under systemd, name=systemd alone may).
	 */
	char *managed;
	char *cgroup; /* unified ("0::") path, else the cpu controller's */

	char *qmp_path; /* absolute, when the command line names a QMP socket */
	int qmp_result; /* 0 answered, -errno why not; 1 not asked */

	struct vm_thread *threads;
	size_t n_threads;
	int *vcpu_fd_ids; /* APIC ids of the process's "anon_inode:kvm-vcpu:N" fds */
	size_t n_vcpu_fds;
	unsigned vcpus_expected; /* from QMP, else KVM's vCPU fds, else the command line */
	unsigned vcpus_found;
	char *note; /* for people, when a mapping is unknown or limited */
};

struct discover_opts {
	int proc_fd;
	char *const *qemu_binaries; /* globs on /proc/PID/exe */
	size_t n_qemu_binaries;
	bool skip_managed;
	bool qmp;		   /* ask QMP when the command line names a socket */
	uint64_t qmp_timeout_usec; /* for the whole conversation */
	uint64_t boot_ticks; /* clock ticks since boot, to age threads; 0: from <proc>/uptime */
};

const char *role_source_to_string(enum role_source s);

/* Whether exe (a real path) matches one of the qemu_binaries globs. */
bool discover_binary_is_qemu(char *const *globs, size_t n, const char *exe);

/* "vcpu0", "iothread:io1", "emulator" into buf. */
const char *thread_role_format(const struct vm_thread *t, char *buf, size_t size);

/*
 * Looks at one process. Returns 1 and fills *ret when it is a QEMU VM (by exe, never comm or
 * argv[0]) and not a managed one being skipped, 0 when not, -ENOENT/-ESRCH when it is gone,
 * -ENOMEM. QMP is not asked here (see discover_ask_qmp).
 */
int discover_vm(const struct discover_opts *o, pid_t pid, struct vm *ret);

/* Every VM on the host, by pid; with o->qmp, their QMP sockets asked too. */
int discover_all(const struct discover_opts *o, struct vm **ret, size_t *ret_n);

/*
 * Asks the QMP socket of each of the n VMs that names one, all at once within
 * o->qmp_timeout_usec, and classifies their threads again with the answers; each VM's
 * qmp_result says how it went. Returns 0 or -ENOMEM.
 */
int discover_ask_qmp(const struct discover_opts *o, struct vm *vms, size_t n);

/*
 * Sets every thread's role from the evidence already in vm->threads and qmp (may be NULL),
 * by the ordered strategies of spec §2. Pure: no I/O.
 */
int discover_classify(struct vm *vm, const struct qmp_info *qmp);

/*
 * The vCPU a thread's name says it runs, as QEMU names them: "CPU 3/KVM" → 3, "ALL CPUs/TCG"
 * (one thread for all) → 0. -1 for any other name (the process chooses its threads' names).
 */
int discover_vcpu_from_name(const char *name);

/* cpu-index of an x86 APIC id for the command line's topology; -1 if none fits. */
int apic_id_to_cpu_index(const struct qemu_cmdline *c, unsigned apic_id);

/* Who the VM is, for matching policies: name, uuid, owner, binary. Points into vm. */
struct vm_identity vm_identity(const struct vm *vm);

void vm_done(struct vm *vm);
void vms_free(struct vm *vms, size_t n);
