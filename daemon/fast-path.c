/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The fast path: a thread of an enforced VM renamed itself ("CPU 2/KVM", "IO io1"), so its
 * name says its role, and QEMU made its groups in advance (plan.c makes one per vCPU of the
 * command line and per iothread). It is placed at once from the VM's merged policy of its last
 * enforcement: one read of its stat, the VM's plan computed again (no I/O), and only that
 * thread's moves, affinity and scheduler carried out. Nothing else of the VM is read or
 * written; the next rescan reconciles all of it, as always.
 */

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "manager.h"
#include "qmp-watch.h"

/* The thread as discovery would have it: its stat now, its name trusted (it renamed itself). */
static int learn_thread(struct manager *m, struct tracked_vm *t, pid_t tid)
{
	struct proc_stat st;
	struct vm_thread *th = NULL;
	int r = proc_read_stat(m->proc_fd, t->vm.pid, tid, &st);

	if (r < 0)
		return r; /* gone: nothing to place */
	FOREACH_ARRAY (x, t->vm.threads, t->vm.n_threads)
		if (x->tid == tid)
			th = x;
	if (!th) {
		struct vm_thread *v =
			realloc(t->vm.threads, (t->vm.n_threads + 2) * sizeof(struct vm_thread));

		if (!v)
			return -ENOMEM;
		t->vm.threads = v;
		th = &v[t->vm.n_threads++];
		*th = (struct vm_thread){ .tid = tid, .kvm_vcpu_id = -1 };
		m->n_threads++;
	}
	th->stat = st;
	th->young = false;
	/* Roles from the evidence there is, as a refresh would: the name, QMP's answer while it
	 * is for these threads. */
	r = discover_classify(&t->vm, NULL);
	return r < 0 ? r : qmp_watch_classify(m, t);
}

int manager_place_thread(struct manager *m, struct tracked_vm *t, pid_t tid)
{
	struct apply_stats stats = {};
	int r = learn_thread(m, t, tid);

	if (r == -ESRCH || r == -ENOENT)
		return 1; /* ended meanwhile: its exit needs nothing */
	if (r < 0)
		return r;
	/* QMP is not asked here: the name said the role, and a VM whose roles are still
	 * incomplete once its threads settled is asked then (the whole look). */
	return manager_enforce_thread(m, t, tid, &stats);
}
