/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A libvirt domain XML's tuning as a kvmtune policy (`kvmtunectl import-libvirt`): <vcpu
 * cpuset>, <cputune>, <memtune>, <blkiotune>, <numatune> and each disk's <iotune>, matched to
 * the domain by name and uuid. Each value of the policy has its XML line as origin. What cannot
 * be carried over (a resctrl <cachetune>, a <numatune><memnode>, a value kvmtune or QEMU would
 * refuse, a CPU this host does not have, ...) is left out and named in notes, with its line and
 * why; the policy that remains passes `kvmtunectl check` on the host described by env.
 */

#include <stdbool.h>

#include "diag.h"
#include "policy.h"
#include "topology.h"

struct libvirt_import_env {
	const struct topology *topo; /* CPUs and nodes values must name; NULL: not checked */
	bool check_devices;	     /* blkiotune paths must be block devices here */
};

struct libvirt_import {
	char *file;	      /* the name given: origins and notes point here */
	struct policy policy; /* origins: file and XML line */
	struct diag_list notes;
	char *name, *uuid; /* the domain's (uuid NULL when the XML has none) */
	size_t n_carried;  /* values carried over */
};

/*
 * Imports the domain XML text (size bytes; file names it). Returns 0 with *ret filled (notes may
 * list what was left out), -EINVAL when the text is not a libvirt domain XML (ret->notes then
 * holds the reason as an error), or -ENOMEM. ret must be zeroed; libvirt_import_done() frees it
 * either way.
 */
int libvirt_import(const char *file, const char *text, size_t size,
		   const struct libvirt_import_env *env, struct libvirt_import *ret);

void libvirt_import_done(struct libvirt_import *imp);
