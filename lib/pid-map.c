/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pid-map.h"

static size_t slot_of(const struct pid_map *m, pid_t key)
{
	/* Fibonacci hashing: consecutive pids spread over the table. */
	return (size_t)(((uint64_t)(uint32_t)key * UINT64_C(11400714819323198485)) >> 32) &
	       (m->capacity - 1);
}

static int grow(struct pid_map *m)
{
	size_t capacity = m->capacity ? m->capacity * 2 : 64;
	struct pid_slot *old = m->slots, *slots = calloc(capacity, sizeof(*slots));
	size_t old_capacity = m->capacity;

	if (!slots)
		return -ENOMEM;
	m->slots = slots;
	m->capacity = capacity;
	m->n = 0;
	for (size_t i = 0; i < old_capacity; i++)
		if (old[i].key > 0)
			(void)pid_map_put(m, old[i].key, old[i].value);
	free(old);
	return 0;
}

int pid_map_put(struct pid_map *m, pid_t key, size_t value)
{
	size_t i;

	if (key <= 0)
		return -EINVAL;
	/* At most half full: probe runs stay short. */
	if ((m->n + 1) * 2 > m->capacity && grow(m) < 0)
		return -ENOMEM;
	for (i = slot_of(m, key); m->slots[i].key > 0; i = (i + 1) & (m->capacity - 1))
		if (m->slots[i].key == key) {
			m->slots[i].value = value;
			return 0;
		}
	m->slots[i] = (struct pid_slot){ key, value };
	m->n++;
	return 0;
}

static struct pid_slot *find(const struct pid_map *m, pid_t key)
{
	if (key <= 0 || m->capacity == 0)
		return NULL;
	for (size_t i = slot_of(m, key); m->slots[i].key > 0; i = (i + 1) & (m->capacity - 1))
		if (m->slots[i].key == key)
			return &m->slots[i];
	return NULL;
}

bool pid_map_get(const struct pid_map *m, pid_t key, size_t *ret)
{
	const struct pid_slot *s = find(m, key);

	if (s && ret)
		*ret = s->value;
	return s != NULL;
}

bool pid_map_remove(struct pid_map *m, pid_t key)
{
	struct pid_slot *s = find(m, key);
	size_t mask = m->capacity - 1, hole, i;

	if (!s)
		return false;
	hole = (size_t)(s - m->slots);
	m->slots[hole].key = 0;
	m->n--;
	/* Backward shift: an entry after the hole moves in unless its home lies between. */
	for (i = (hole + 1) & mask; m->slots[i].key > 0; i = (i + 1) & mask) {
		size_t home = slot_of(m, m->slots[i].key);

		if (((i - home) & mask) >= ((i - hole) & mask)) {
			m->slots[hole] = m->slots[i];
			m->slots[i].key = 0;
			hole = i;
		}
	}
	return true;
}

void pid_map_clear(struct pid_map *m)
{
	if (m->slots)
		memset(m->slots, 0, m->capacity * sizeof(*m->slots));
	m->n = 0;
}

void pid_map_done(struct pid_map *m)
{
	free(m->slots);
	*m = (struct pid_map){};
}
