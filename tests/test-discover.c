/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Thread roles against real QEMU captures (tests/fixtures/qemu/<scenario>): every thread's role
 * as QMP reported it when the tree was captured (expected.json).
 *
 * Without QMP, each role must either equal the truth or be honestly unknown (source "none",
 * with a note saying how to learn it); scenarios with names or KVM evidence must be complete.
 * With the captured QMP replies, every role must equal the truth.
 */

#include <dirent.h>
#include <fcntl.h>
#include <json-c/json.h>

#include "discover.h"
#include "macro.h"
#include "tests.h"

static char *const binaries[] = { "/usr/bin/qemu-system-*" };

/* Scenarios where names or KVM evidence must find every vCPU without QMP. */
static const char *const complete_without_qmp[] = {
	"kvm-debug-threads", "kvm-nodebug",  "kvm-topology", "tcg-debug-threads",
	"tcg-single",	     "process-name", "daemonize",    "hotplug",
};

static bool must_be_complete(const char *scenario)
{
	for (size_t i = 0; i < sizeof(complete_without_qmp) / sizeof(complete_without_qmp[0]); i++)
		if (streq(scenario, complete_without_qmp[i]))
			return true;
	return false;
}

static struct json_object *load_json(const char *scenario, const char *file)
{
	char path[512];
	struct json_object *j;

	snprintf(path, sizeof(path), "%s/fixtures/qemu/%s/%s", SOURCE_TESTS_DIR, scenario, file);
	j = json_object_from_file(path);
	if (!j)
		FAIL_AT("cannot read %s", path);
	return j;
}

static const char *expected_role(struct json_object *expected, pid_t tid)
{
	struct json_object *threads, *role;
	char key[16];

	snprintf(key, sizeof(key), "%d", (int)tid);
	if (!json_object_object_get_ex(expected, "threads", &threads) ||
	    !json_object_object_get_ex(threads, key, &role))
		FAIL_AT("thread %s is not in expected.json", key);
	return json_object_get_string(role);
}

static void discover_scenario(const char *scenario, struct vm *vm, struct json_object **expected)
{
	char path[512];
	struct discover_opts o = {
		.qemu_binaries = binaries,
		.n_qemu_binaries = 1,
		.skip_managed = true,
	};
	struct json_object *pid;

	*expected = load_json(scenario, "expected.json");
	ASSERT_TRUE(json_object_object_get_ex(*expected, "pid", &pid));
	snprintf(path, sizeof(path), "%s/fixtures/qemu/%s/proc", SOURCE_TESTS_DIR, scenario);
	o.proc_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	ASSERT_TRUE(o.proc_fd >= 0);
	ASSERT_EQ(discover_vm(&o, json_object_get_int(pid), vm), 1);
	ASSERT_EQ(vm->n_threads,
		  json_object_object_length(json_object_object_get(*expected, "threads")));
	close(o.proc_fd);
}

static void check_without_qmp(const char *scenario)
{
	struct json_object *expected;
	struct vm vm;
	unsigned right = 0, unknown = 0;

	discover_scenario(scenario, &vm, &expected);
	FOREACH_ARRAY (t, vm.threads, vm.n_threads) {
		char role[160];
		const char *want = expected_role(expected, t->tid);

		thread_role_format(t, role, sizeof(role));
		printf("    %-6d %-16s %-14s %-5s (truth %s)\n", (int)t->tid, t->stat.comm, role,
		       role_source_to_string(t->source), want);
		if (t->source == ROLE_SOURCE_NONE) {
			unknown++;
			continue;
		}
		if (!streq(role, want))
			FAIL_AT("%s: thread %d is %s by %s, truth %s", scenario, (int)t->tid, role,
				role_source_to_string(t->source), want);
		right++;
	}
	printf("  %s: %u right, %u unknown; note: %s\n", scenario, right, unknown,
	       vm.note ?: "(none)");
	if (must_be_complete(scenario)) {
		ASSERT_EQ(unknown, 0);
		ASSERT_EQ(vm.vcpus_found, vm.vcpus_expected);
	}
	/* Whatever is unknown comes with guidance. */
	if (unknown > 0)
		ASSERT_TRUE(vm.note != NULL);
	vm_done(&vm);
	json_object_put(expected);
}

static void check_with_qmp(const char *scenario)
{
	struct json_object *expected, *replies = load_json(scenario, "qmp.json"), *cpus, *iothreads;
	struct qmp_info qmp;
	struct vm vm;

	discover_scenario(scenario, &vm, &expected);
	ASSERT_TRUE(json_object_object_get_ex(replies, "query-cpus-fast", &cpus));
	ASSERT_TRUE(json_object_object_get_ex(replies, "query-iothreads", &iothreads));
	ASSERT_OK(qmp_info_from_json(json_object_to_json_string(cpus),
				     json_object_to_json_string(iothreads), &qmp));
	ASSERT_OK(discover_classify(&vm, &qmp));
	FOREACH_ARRAY (t, vm.threads, vm.n_threads) {
		char role[160];

		thread_role_format(t, role, sizeof(role));
		ASSERT_STREQ(role, expected_role(expected, t->tid));
		ASSERT_TRUE(t->source == ROLE_SOURCE_QMP);
	}
	ASSERT_EQ(vm.vcpus_found, vm.vcpus_expected);
	printf("  %s: all %zu threads as QMP says\n", scenario, vm.n_threads);
	qmp_info_done(&qmp);
	vm_done(&vm);
	json_object_put(expected);
	json_object_put(replies);
}

static void for_each_scenario(void (*fn)(const char *))
{
	DIR *d = opendir(test_path("fixtures/qemu"));
	unsigned n = 0;

	ASSERT_TRUE(d);
	for (struct dirent *de; (de = readdir(d));)
		if (de->d_name[0] != '.') {
			fn(de->d_name);
			n++;
		}
	closedir(d);
	ASSERT_TRUE(n >= 11);
}

TEST(roles_without_qmp)
{
	for_each_scenario(check_without_qmp);
}

TEST(roles_with_qmp)
{
	for_each_scenario(check_with_qmp);
}

TEST(apic_ids)
{
	struct qemu_cmdline c = { .vcpus = 6, .maxcpus = 6, .sockets = 2, .cores = 3 };

	/* 3 cores take 2 bits: socket 1 starts at APIC id 4 */
	ASSERT_EQ(apic_id_to_cpu_index(&c, 0), 0);
	ASSERT_EQ(apic_id_to_cpu_index(&c, 2), 2);
	ASSERT_EQ(apic_id_to_cpu_index(&c, 3), -1);
	ASSERT_EQ(apic_id_to_cpu_index(&c, 4), 3);
	ASSERT_EQ(apic_id_to_cpu_index(&c, 6), 5);
	c = (struct qemu_cmdline){
		.vcpus = 4, .maxcpus = 8, .threads = 2, .cores = 2, .sockets = 2
	};
	ASSERT_EQ(apic_id_to_cpu_index(&c, 5), 5);
	c = (struct qemu_cmdline){ .vcpus = 2, .maxcpus = 2 };
	ASSERT_EQ(apic_id_to_cpu_index(&c, 1), 1);
}
