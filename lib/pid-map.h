/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A map from process or thread id to a number (an index into the caller's array), in O(1):
 * kvmtuned looks up the VM of every process event in it, so the cost of an event does not grow
 * with the number of VMs. Open addressing with linear probing; removal shifts the run back, so
 * no tombstones pile up. Ids are > 0 (0 marks an empty slot).
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct pid_map {
	struct pid_slot {
		pid_t key;
		size_t value;
	} * slots;
	size_t n, capacity; /* capacity: 0 or a power of two */
};

/* Sets key's value (replacing any). Returns 0, -EINVAL for key <= 0, or -ENOMEM. */
int pid_map_put(struct pid_map *m, pid_t key, size_t value);
/* Whether key is there; its value into *ret (may be NULL). */
bool pid_map_get(const struct pid_map *m, pid_t key, size_t *ret);
/* Removes key; returns whether it was there. */
bool pid_map_remove(struct pid_map *m, pid_t key);
/* Empties the map, keeping its memory. */
void pid_map_clear(struct pid_map *m);
void pid_map_done(struct pid_map *m);
