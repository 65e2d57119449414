/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Carrying out ACTION_DISK_THROTTLE (plan-disks.h): a brief QMP session with the VM (the
 * discovery's proofs and its timeout, QMP_TIMEOUT_USEC, for the whole session), query-block
 * read first, block_set_io_throttle only when the disk holds something else (a second pass
 * sends no changing command); a dry run only reads. An unknown id, a VM without a QMP socket
 * and a monitor that does not answer in time fail the action with a sentence saying which
 * (the report names the VM and the disk). Internal to the appliers.
 */

#include "apply-run.h"

enum apply_outcome apply_disk_throttle(struct apply_run *run, const struct action *a,
				       struct apply_step *s);
