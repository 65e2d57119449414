/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The systemd backend's share of planning (spec §4, systemd hosts): systemd owns every file of
 * a scope's own cgroup and writes them all again at each daemon-reload, so the values kvmtune
 * wants there become unit properties (SetUnitProperties), chosen so that systemd writes exactly
 * the value the cgroupfs backend would. Pure: no I/O.
 */

#include "plan.h"

/*
 * The properties that make systemd 252 write value to file of a scope on cgroup v2: 1 (with
 * *a's props filled and, where systemd's own rule differs, a->value adjusted to what it
 * writes), 0 when systemd does not own that file, -EINVAL for a value it cannot express,
 * -ENOMEM.
 */
int unit_properties_for(struct action *a);

/* systemd keeps CPUQuotaPerSecUSec in whole percent of a CPU. */
#define UNIT_QUOTA_STEP UINT64_C(10000)

/* The inverse of systemd's IOWeight -> io.bfq.weight mapping: the weight that gives bfq. */
uint64_t unit_io_weight_for_bfq(uint64_t bfq);

/* A QEMU -uuid ("5f1c...-...") as 16 bytes. Returns 0 or -EINVAL. */
int uuid_parse16(const char *s, uint8_t ret[static 16]);
