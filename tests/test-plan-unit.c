/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The systemd backend's pure parts: slice paths, the unit properties for a scope's own files,
 * machine names and UUIDs. Where systemd computes a file from a property, its formula (systemd
 * 252, src/core/cgroup.c and cgroup-util.h) is the oracle: the property chosen must make
 * systemd write exactly what the cgroupfs backend writes.
 */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "plan-unit.h"
#include "tests.h"
#include "unit-name.h"

TEST(slice_paths)
{
	static const struct {
		const char *slice, *path;
	} ok[] = {
		{ "machine.slice", "machine.slice" },
		{ "a-b.slice", "a.slice/a-b.slice" },
		{ "kvmtune-test-x.slice", "kvmtune.slice/kvmtune-test.slice/kvmtune-test-x.slice" },
		{ "kvmtune_test_1.slice", "kvmtune_test_1.slice" },
		{ "-.slice", "" },
	};
	static const char *const bad[] = { "machine",	 "machine.scope", "/machine.slice",
					   "a/b.slice",	 "-a.slice",	  "a-.slice",
					   "a--b.slice", ".slice",	  "a b.slice" };

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		char *p = NULL;

		ASSERT_OK(slice_path(ok[i].slice, &p));
		ASSERT_STREQ(p, ok[i].path);
		free(p);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char *p = NULL;

		ASSERT_ERROR(slice_path(bad[i], &p), EINVAL);
	}
}

static struct action write_of(const char *file, const char *value)
{
	return (struct action){ .kind = ACTION_WRITE,
				.file = strdup(file),
				.value = strdup(value) };
}

static void action_free(struct action *a)
{
	free(a->file);
	free(a->value);
	for (size_t i = 0; i < a->n_props; i++)
		unit_property_done(&a->props[i]);
}

/* systemd 252: cpu.max = MAX(per_sec * period / 1s, 1ms) and the period, clamped. */
static void systemd_cpu_max(uint64_t per_sec, uint64_t period, char *buf, size_t n)
{
	uint64_t p = period == UNIT_INFINITY ? 100000 : period, q;

	if (per_sec == UNIT_INFINITY) {
		snprintf(buf, n, "max 100000");
		return;
	}
	if (p < 1000)
		p = 1000;
	if (p < 1000 * 1000000 / per_sec)
		p = 1000 * 1000000 / per_sec;
	if (p > 1000000)
		p = 1000000;
	q = per_sec * p / 1000000;
	snprintf(buf, n, "%" PRIu64 " %" PRIu64, q < 1000 ? 1000 : q, p);
}

/*
 * Every quota over periods from 1 ms to 1 s: the property is whole percent (what systemd's
 * drop-in keeps across daemon-reload), the expected value is what systemd then writes, within
 * half a percent of the policy's, and exactly the policy's when that is a whole percent.
 */
TEST(cpu_max_round_trips)
{
	static const uint64_t periods[] = { 1000, 3000, 7919, 100000, 333333, 1000000 };
	unsigned checked = 0, exact = 0;

	for (size_t i = 0; i < ARRAY_SIZE(periods); i++)
		for (uint64_t q = 1000; q <= 4 * periods[i] && q < 4000000; q += 997) {
			uint64_t p = periods[i], wq, wp;
			char value[64], got[64];
			struct action a;

			snprintf(value, sizeof(value), "%" PRIu64 " %" PRIu64, q, p);
			a = write_of("cpu.max", value);
			ASSERT_EQ(unit_properties_for(&a), 1);
			ASSERT_EQ(a.kind, ACTION_UNIT_WRITE);
			ASSERT_EQ(a.n_props, 2u);
			ASSERT_STREQ(a.props[0].name, "CPUQuotaPerSecUSec");
			ASSERT_STREQ(a.props[1].name, "CPUQuotaPeriodUSec");
			ASSERT_EQ_U64(a.props[0].value % 10000, 0);
			systemd_cpu_max(a.props[0].value, a.props[1].value, got, sizeof(got));
			if (!streq(got, a.value))
				FAIL_AT("cpu.max %s: expects %s, systemd would write %s", value,
					a.value, got);
			ASSERT_EQ(sscanf(a.value, "%" SCNu64 " %" SCNu64, &wq, &wp), 2);
			if (wp == p && q * 100 >= p) {
				/* the same period: the nearest percent of it, or the very value */
				ASSERT_TRUE(wq * 200 + p >= q * 200 && wq * 200 <= q * 200 + p);
				if (q * 100 % p == 0) {
					ASSERT_STREQ(a.value, value);
					exact++;
				}
			}
			checked++;
			action_free(&a);
		}
	/* Whole percents of periods that are whole hundreds of microseconds. */
	for (uint64_t pct = 1; pct <= 400; pct++)
		for (uint64_t p = 10000; p <= 1000000; p *= 10) {
			char value[64];
			struct action a;

			snprintf(value, sizeof(value), "%" PRIu64 " %" PRIu64, pct * p / 100, p);
			a = write_of("cpu.max", value);
			ASSERT_EQ(unit_properties_for(&a), 1);
			ASSERT_EQ_U64(a.props[0].value, pct * 10000);
			if (pct * p / 100 >= 1000) {
				ASSERT_STREQ(a.value, value);
				exact++;
			}
			action_free(&a);
		}
	printf("  %u quotas within half a percent, %u whole percents kept exactly\n", checked,
	       exact);
	ASSERT_TRUE(checked > 1000 && exact > 1000);
}

/* No quota: systemd writes its default period whatever the unit says; the expectation too. */
TEST(cpu_max_unlimited)
{
	struct action a = write_of("cpu.max", "max 250000");

	ASSERT_EQ(unit_properties_for(&a), 1);
	ASSERT_STREQ(a.value, "max 100000");
	ASSERT_EQ_U64(a.props[0].value, UNIT_INFINITY);
	action_free(&a);
}

/* systemd's BFQ_WEIGHT(): bfq = w up to 100, then 100 + (w - 100) * 900 / 9900. */
TEST(bfq_weights_round_trip)
{
	for (uint64_t b = 1; b <= 1000; b++) {
		uint64_t w = unit_io_weight_for_bfq(b);
		uint64_t back = w <= 100 ? w : 100 + (w - 100) * 900 / 9900;

		ASSERT_TRUE(w >= 1 && w <= 10000);
		ASSERT_EQ_U64(back, b);
	}
}

TEST(files_and_properties)
{
	static const struct {
		const char *file, *value, *expect;
	} cases[] = {
		{ "cpu.weight", "200", "CPUWeight=200" },
		{ "memory.max", "1073741824", "MemoryMax=1073741824" },
		{ "memory.max", "max", "MemoryMax=infinity" },
		{ "memory.low", "0", "MemoryLow=0" },
		{ "memory.min", "4096", "MemoryMin=4096" },
		{ "memory.swap.max", "max", "MemorySwapMax=infinity" },
		{ "cpuset.cpus", "0-2,5", "AllowedCPUs=0-2,5" },
		{ "cpuset.mems", "1", "AllowedMemoryNodes=1" },
		{ "io.weight", "default 300", "IOWeight=300" },
		{ "io.bfq.weight", "default 500", "IOWeight=4500" },
		{ "io.weight", "8:0 40", "IODeviceWeight=/dev/block/8:0 40" },
		{ "io.bfq.weight", "8:0 200", "IODeviceWeight=/dev/block/8:0 1200" },
		{ "io.max", "8:16 rbps=1048576 wbps=max riops=max wiops=200",
		  "IOReadBandwidthMax=/dev/block/8:16 1048576 IOWriteBandwidthMax=/dev/block/8:16 "
		  "infinity IOReadIOPSMax=/dev/block/8:16 infinity IOWriteIOPSMax=/dev/block/8:16 "
		  "200" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct action a = write_of(cases[i].file, cases[i].value);
		char got[512] = "";

		ASSERT_EQ(unit_properties_for(&a), 1);
		for (size_t k = 0; k < a.n_props; k++) {
			const struct unit_property *p = &a.props[k];
			char *set = cpuset_format(&p->cpus);
			size_t n = strlen(got);

			if (p->type == UNIT_PROPERTY_CPUS)
				snprintf(got + n, sizeof(got) - n, "%s%s=%s", k ? " " : "", p->name,
					 set);
			else if (p->value == UNIT_INFINITY)
				snprintf(got + n, sizeof(got) - n, "%s%s=%s%sinfinity",
					 k ? " " : "", p->name, p->device ?: "",
					 p->device ? " " : "");
			else
				snprintf(got + n, sizeof(got) - n, "%s%s=%s%s%" PRIu64,
					 k ? " " : "", p->name, p->device ?: "",
					 p->device ? " " : "", p->value);
			free(set);
		}
		ASSERT_STREQ(got, cases[i].expect);
		action_free(&a);
	}
}

/* Files systemd does not own on a delegated scope stay plain writes. */
TEST(files_systemd_leaves_alone)
{
	static const char *const files[] = { "cgroup.subtree_control", "cgroup.type",
					     "cpuset.memory_migrate" };

	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		struct action a = write_of(files[i], "x");

		ASSERT_EQ(unit_properties_for(&a), 0);
		ASSERT_EQ(a.kind, ACTION_WRITE);
		action_free(&a);
	}
}

TEST(bad_values_are_refused)
{
	static const struct {
		const char *file, *value;
	} cases[] = { { "cpu.weight", "-1" },
		      { "cpu.max", "0 100000" },
		      { "cpu.max", "10" },
		      { "io.weight", "heavy" },
		      { "io.max", "8:0 rbps" } };

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct action a = write_of(cases[i].file, cases[i].value);

		ASSERT_ERROR(unit_properties_for(&a), EINVAL);
		action_free(&a);
	}
}

TEST(machine_names_and_uuids)
{
	uint8_t u[16];

	ASSERT_TRUE(machine_name_is_valid("web01"));
	ASSERT_TRUE(machine_name_is_valid("db-2.example.org"));
	ASSERT_FALSE(machine_name_is_valid("web_01"));
	ASSERT_FALSE(machine_name_is_valid("web-"));
	ASSERT_FALSE(machine_name_is_valid("-web"));
	ASSERT_FALSE(machine_name_is_valid("a-.b"));
	ASSERT_FALSE(machine_name_is_valid("a."));
	ASSERT_FALSE(machine_name_is_valid("web/01"));
	ASSERT_FALSE(machine_name_is_valid(".hidden"));
	ASSERT_FALSE(machine_name_is_valid("a..b"));
	ASSERT_FALSE(machine_name_is_valid(""));
	ASSERT_FALSE(machine_name_is_valid("x234567890123456789012345678901234567890123456789012345"
					   "6789012345"));
	ASSERT_OK(uuid_parse16("5f1c9d2a-0b3e-4c7d-8e9f-a0b1c2d3e4f5", u));
	ASSERT_EQ(u[0], 0x5f);
	ASSERT_EQ(u[15], 0xf5);
	ASSERT_OK(uuid_parse16("5F1C9D2A0B3E4C7D8E9FA0B1C2D3E4F5", u));
	ASSERT_EQ(u[1], 0x1c);
	ASSERT_ERROR(uuid_parse16("5f1c9d2a-0b3e-4c7d-8e9f-a0b1c2d3e4f", u), EINVAL);
	ASSERT_ERROR(uuid_parse16("5f1c9d2a-0b3e-4c7d-8e9f-a0b1c2d3e4f5aa", u), EINVAL);
	ASSERT_ERROR(uuid_parse16("5f1c9d2a--0b3e-4c7d-8e9f-a0b1c2d3e4f5", u), EINVAL);
	ASSERT_ERROR(uuid_parse16("zz1c9d2a-0b3e-4c7d-8e9f-a0b1c2d3e4f5", u), EINVAL);
}
