/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The systemd backend's share of planning (spec §4, systemd hosts), a second pure pass over the
 * plan plan_vm() made for the cgroupfs backend: the VM group is a delegated scope systemd makes
 * (so kvmtune neither makes it nor its ancestors), systemd owns every file of the scope's own
 * cgroup and writes them all again at each daemon-reload, so the values kvmtune wants there
 * become unit properties (SetUnitProperties), chosen so that systemd writes exactly the value
 * the cgroupfs backend would; then machined learns of the VM. No I/O.
 */

#include "plan.h"

/*
 * Before plan_vm(): marks the devices systemd cannot limit as the policy says (built on
 * others, LVM, LUKS, md: systemd would limit the disk underneath).
 */
void plan_unit_devices(struct plan_device *devices, size_t n);

/*
 * After plan_vm() (with host->parent the slice's cgroup): the plan the systemd backend carries
 * out, for a scope in slice. Returns 0, -EOPNOTSUPP on a host with cgroup v1 controllers
 * (systemd 252 hands a v1 scope no cpuset and no blkio group), -ENOMEM.
 */
int plan_unit(struct plan *p, const struct vm *vm, const struct plan_host *host, const char *slice);

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
