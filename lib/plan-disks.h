/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "action.h"
#include "discover.h"
#include "policy.h"

/*
 * Per-disk throttles (the policy's `disks:`): one ACTION_DISK_THROTTLE per entry, for the
 * applier to carry out over the VM's QMP socket (apply-disks.c). Each entry owns its disk's
 * whole throttle: what it leaves out is QEMU's 0 (no limit), so removing a key undoes it. A
 * disk no entry names is left as QEMU has it (a throttle from QEMU's command line stays).
 * Returns 0 or -ENOMEM.
 */
int plan_disk_throttles(struct plan *p, const struct policy *policy, const struct vm *vm);

/* Takes the ACTION_DISK_THROTTLE actions out of p (a pass that leaves QMP alone). */
void plan_drop_disk_throttles(struct plan *p);
