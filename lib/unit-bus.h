/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * systemd and systemd-machined over D-Bus (spec §4, systemd hosts): a VM's scope, its
 * unit-level values, its machine registration (machined forgets the machine by itself when its
 * scope ends). Calls are synchronous on a connection of its own, so the daemon's event loop
 * never sees half a job; none waits longer than 10 s. Every function returns 0 or -errno;
 * where systemd gave a reason, *ret_error holds it ("org.freedesktop...: message", caller
 * frees).
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "action.h"

struct unit_bus;

/* The system bus (DBUS_SYSTEM_BUS_ADDRESS is honoured), or address when not NULL. */
int unit_bus_open(const char *address, struct unit_bus **ret);
void unit_bus_free(struct unit_bus *b);
static inline void unit_bus_freep(struct unit_bus **b)
{
	if (*b)
		unit_bus_free(*b);
}

/* systemd's version ("252.38-1~deb12u1"): whether it answers at all. */
int unit_bus_systemd_version(struct unit_bus *b, char **ret);

/*
 * Starts scope `name` in slice with the whole process pid in it, delegated (Delegate=yes), with
 * props, and waits until systemd has finished the job. -EEXIST when a unit of that name exists.
 */
int unit_start_scope(struct unit_bus *b, const char *name, const char *slice, pid_t pid,
		     const char *description, const struct unit_property *props, size_t n_props,
		     char **ret_error);

/* Moves the whole process pid into the existing unit name (AttachProcessesToUnit). */
int unit_attach_process(struct unit_bus *b, const char *name, pid_t pid, char **ret_error);

/* SetUnitProperties(name, runtime=true, props). */
int unit_set_properties(struct unit_bus *b, const char *name, const struct unit_property *props,
			size_t n_props, char **ret_error);

/* The unit's cgroup ("/machine.slice/kvmtune-web01.scope"). */
int unit_control_group(struct unit_bus *b, const char *name, char **ret, char **ret_error);

/*
 * machined: whether a machine has pid as its leader (1, with its name), 0 when none, -EHOSTDOWN
 * when machined is not there.
 */
int machine_of_pid(struct unit_bus *b, pid_t pid, char **ret_name);

/* RegisterMachine(name, uuid or none, "kvmtune", "vm", leader): the unit it is in already. */
int machine_register(struct unit_bus *b, const char *name, const uint8_t *uuid16, pid_t leader,
		     char **ret_error);
