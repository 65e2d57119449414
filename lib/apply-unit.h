/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Carrying out what systemd owns (the systemd backend, spec §4): the VM's scope
 * (StartTransientUnit), its unit properties (SetUnitProperties) and its machine registration,
 * over unit-bus.h. Like every executor: compare first, skip what already holds, report.
 */

#include "apply-run.h"

enum apply_outcome apply_unit_scope(struct apply_run *run, const struct action *a,
				    struct apply_step *s);
enum apply_outcome apply_unit_write(struct apply_run *run, const struct action *a,
				    struct apply_step *s);
enum apply_outcome apply_unit_machine(struct apply_run *run, const struct action *a,
				      struct apply_step *s);
