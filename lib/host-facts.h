/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The facts about the host that planning needs (struct plan_host), read once per pass and
 * handed to every VM's plan: which cgroup version each controller has, whether the kernel
 * accounts swap (v1 memsw), whether any disk offers BFQ. Read through the hierarchies' fds and
 * a /sys root fd (tests give fixture trees); kvmtuned reads them at each full pass, never on
 * its event path.
 */

#include "plan.h"

/*
 * Fills *ret for VM groups below parent (relative to the hierarchies' roots: for the systemd
 * backend the slice's cgroup). The per-VM fields (devices, memory limits, launching) are left
 * for each plan. Returns 0 (what cannot be read is left unknown or false).
 */
int host_facts_read(const struct cgroup_fs *fs, int sys_fd, const struct topology *topo,
		    const char *parent, struct plan_host *ret);

/* Frees what host_facts_read() allocated in h (a zeroed struct is fine). */
void host_facts_done(struct plan_host *h);
