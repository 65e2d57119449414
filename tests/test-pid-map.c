/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>

#include "pid-map.h"
#include "tests.h"

TEST(put_get_replace)
{
	struct pid_map m = {};
	size_t v = 0;

	ASSERT_FALSE(pid_map_get(&m, 1, &v));
	ASSERT_OK(pid_map_put(&m, 42, 7));
	ASSERT_TRUE(pid_map_get(&m, 42, &v));
	ASSERT_EQ(v, 7u);
	ASSERT_OK(pid_map_put(&m, 42, 9));
	ASSERT_TRUE(pid_map_get(&m, 42, &v));
	ASSERT_EQ(v, 9u);
	ASSERT_EQ(m.n, 1u);
	ASSERT_ERROR(pid_map_put(&m, 0, 1), EINVAL);
	ASSERT_ERROR(pid_map_put(&m, -3, 1), EINVAL);
	ASSERT_FALSE(pid_map_get(&m, 0, NULL));
	pid_map_done(&m);
}

/* Against a plain array as the model: random puts and removals, through several growths, with
 * keys crowded into a small range so that probe runs collide and removal must shift them. */
TEST(model)
{
	enum {
		KEYS = 5000
	};
	static size_t model[KEYS]; /* 0: absent, else value + 1 */
	struct pid_map m = {};
	size_t present = 0;

	srand(1);
	for (int step = 0; step < 200000; step++) {
		pid_t key = 1 + rand() % (KEYS - 1);
		size_t v;

		if (rand() % 3) {
			v = (size_t)rand();
			present += model[key] == 0;
			model[key] = v + 1;
			ASSERT_OK(pid_map_put(&m, key, v));
		} else {
			ASSERT_EQ(pid_map_remove(&m, key), model[key] != 0);
			present -= model[key] != 0;
			model[key] = 0;
		}
		ASSERT_EQ(m.n, present);
	}
	for (pid_t key = 1; key < KEYS; key++) {
		size_t v;
		bool there = pid_map_get(&m, key, &v);

		ASSERT_EQ(there, model[key] != 0);
		if (there)
			ASSERT_EQ(v + 1, model[key]);
	}
	pid_map_clear(&m);
	ASSERT_EQ(m.n, 0u);
	ASSERT_FALSE(pid_map_get(&m, 1, NULL));
	pid_map_done(&m);
}

/* Large pids (pid_max is up to 4194304) hash like small ones. */
TEST(large_keys)
{
	struct pid_map m = {};
	size_t v;

	for (pid_t k = 4194304; k > 4194304 - 3000; k--)
		ASSERT_OK(pid_map_put(&m, k, (size_t)(4194304 - k)));
	for (pid_t k = 4194304; k > 4194304 - 3000; k -= 2)
		ASSERT_TRUE(pid_map_remove(&m, k));
	for (pid_t k = 4194304; k > 4194304 - 3000; k--) {
		bool there = pid_map_get(&m, k, &v);

		ASSERT_EQ(there, (4194304 - k) % 2 == 1);
		if (there)
			ASSERT_EQ(v, (size_t)(4194304 - k));
	}
	pid_map_done(&m);
}
