/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The planner's output for each cgroup layout, against reviewed golden plans in tests/plan:
 * one VM (main thread, call_rcu, a KVM worker, two vCPUs, an iothread) and a policy that uses
 * every row of spec §4's table. KVMTUNE_GOLDEN_UPDATE=1 rewrites the golden files.
 */

#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>

#include "disk-io.h"
#include "fileio.h"
#include "plan-unit.h"
#include "plan.h"
#include "policy-load.h"
#include "strbuf.h"
#include "tests.h"

static const char policy_text[] =
	"cputune:\n"
	"  shares: 2048\n"
	"  period: 100000\n"
	"  quota: 50000\n"
	"  global_quota: 150000\n"
	"  emulator_quota: 20000\n"
	"  iothread_period: 200000\n"
	"  iothread_quota: 30000\n"
	"  cpuset: \"0-7\"\n"
	"  vcpupin: [ { vcpu: 0, cpuset: \"2\" }, { vcpu: 1, cpuset: \"3-4\" } ]\n"
	"  emulatorpin: \"0-1\"\n"
	"  iothreadpin: [ { iothread: io1, cpuset: \"5\" } ]\n"
	"  vcpusched: [ { vcpus: 0, scheduler: fifo, priority: 10 } ]\n"
	"  emulatorsched: { scheduler: batch }\n"
	"memtune: { hard_limit: 1G, soft_limit: 768M, swap_hard_limit: 2G, min_guarantee: 256M }\n"
	"blkiotune:\n"
	"  weight: 500\n"
	"  devices:\n"
	"    - { path: /dev/sda, weight: 800, read_bytes_sec: 100M, write_iops_sec: 1000 }\n"
	"numatune: { memory: { mode: strict, nodeset: \"1\" } }\n"
	"disks: [ { id: virtio-disk0, total_iops_sec: 500 } ]\n";

static struct vm test_vm(void)
{
	static struct vm_thread threads[] = {
		{ .tid = 100, .role = ROLE_EMULATOR, .stat.comm = "qemu-system-x86" },
		{ .tid = 101, .role = ROLE_EMULATOR, .stat.comm = "call_rcu" },
		{ .tid = 102, .role = ROLE_IOTHREAD, .iothread = "io1", .stat.comm = "IO io1" },
		{ .tid = 103, .role = ROLE_VCPU, .vcpu = 0, .stat.comm = "CPU 0/KVM" },
		{ .tid = 104, .role = ROLE_VCPU, .vcpu = 1, .stat.comm = "CPU 1/KVM" },
		{ .tid = 105,
		  .role = ROLE_EMULATOR,
		  .stat = { .comm = "kvm-nx-lpage-re", .flags = PF_USER_WORKER } },
	};

	return (struct vm){ .pid = 100, .name = "web/01", .threads = threads, .n_threads = 6 };
}

static void format_action(struct strbuf *b, const struct action *a)
{
	static const char *const ctl[] = { "cpu", "cpuacct", "cpuset", "memory", "io", "pids" };
	char *cpus = cpuset_format(&a->cpus);

	(void)strbuf_printf(b, "%s", action_kind_to_string(a->kind));
	switch (a->kind) {
	case ACTION_MKDIR:
	case ACTION_RMDIR:
		(void)strbuf_printf(b, " %s:%s", ctl[a->controller], a->group);
		break;
	case ACTION_WRITE:
		(void)strbuf_printf(b, " %s:%s/%s = %s%s", ctl[a->controller], a->group, a->file,
				    a->value, a->only_if_empty ? " (if empty)" : "");
		break;
	case ACTION_ATTACH_PROCESS:
		(void)strbuf_printf(b, " %d -> %s:%s", (int)a->pid, ctl[a->controller], a->group);
		break;
	case ACTION_ATTACH_THREAD:
		(void)strbuf_printf(b, " %d -> %s:%s", (int)a->tid, ctl[a->controller], a->group);
		break;
	case ACTION_AFFINITY:
		(void)strbuf_printf(b, " %d -> %s", (int)a->tid, cpus);
		break;
	case ACTION_SCHEDULER:
		(void)strbuf_printf(b, " %d -> policy %d priority %d", (int)a->tid, a->sched_policy,
				    a->sched_priority);
		break;
	case ACTION_WARN:
		(void)strbuf_printf(b, ": %s", a->warning);
		break;
	case ACTION_SCOPE:
		(void)strbuf_printf(b, " %d -> %s in %s", (int)a->pid, a->group, a->slice);
		break;
	case ACTION_UNIT_WRITE:
		(void)strbuf_printf(b, " %s/%s = %s:", a->group, a->file, a->value);
		for (size_t i = 0; i < a->n_props; i++) {
			const struct unit_property *p = &a->props[i];
			char *set = cpuset_format(&p->cpus);

			(void)strbuf_printf(b, " %s=", p->name);
			if (p->type == UNIT_PROPERTY_CPUS)
				(void)strbuf_printf(b, "%s", set);
			else if (p->type == UNIT_PROPERTY_DEVICE)
				(void)strbuf_printf(b, "%s ", p->device);
			if (p->type != UNIT_PROPERTY_CPUS && p->value == UNIT_INFINITY)
				(void)strbuf_printf(b, "infinity");
			else if (p->type != UNIT_PROPERTY_CPUS)
				(void)strbuf_printf(b, "%" PRIu64, p->value);
			free(set);
		}
		break;
	case ACTION_MACHINE:
		(void)strbuf_printf(b, " %d as %s%s", (int)a->pid, a->machine,
				    a->has_uuid ? " with uuid" : "");
		break;
	case ACTION_DISK_THROTTLE:
		(void)strbuf_printf(b, " %d %s = %s via %s", (int)a->pid, a->disk->id, a->value,
				    a->socket ?: "(no QMP socket)");
		break;
	default:
		break;
	}
	if (a->origin)
		(void)strbuf_printf(b, "  [line %u]", a->origin->line);
	(void)strbuf_append(b, "\n");
	free(cpus);
}

static void check_plan(const char *golden, struct plan_host *host, const char *slice)
{
	struct topology topo = {};
	struct policy_env env = { .topo = &topo };
	struct diag_list diags = {};
	struct policy_file *f = NULL;
	struct plan_device dev = { .path = "/dev/sda", .dev = { 8, 0, "mq-deadline" } };
	struct vm vm = test_vm();
	struct plan plan = {};
	struct strbuf b = {};
	char path[512];
	char *expected = NULL;

	ASSERT_OK(cpuset_add_range(&topo.cpus, 0, 7));
	ASSERT_OK(cpuset_add_range(&topo.nodes, 0, 1));
	ASSERT_OK(policy_parse("p.yaml", policy_text, strlen(policy_text), &env, &f, &diags));
	host->topo = &topo;
	host->parent = "machine.slice";
	host->devices = &dev;
	host->n_devices = 1;
	if (slice)
		plan_unit_devices(&dev, 1);
	ASSERT_OK(plan_vm(&f->docs[0], &vm, host, &plan));
	if (slice) /* the systemd backend's second pass */
		ASSERT_OK(plan_unit(&plan, &vm, host, slice));
	ASSERT_STREQ(plan.vm_group, "machine.slice/kvmtune-web-01.scope");
	FOREACH_ARRAY (a, plan.actions, plan.n)
		format_action(&b, a);
	snprintf(path, sizeof(path), "%s/plan/%s", SOURCE_TESTS_DIR, golden);
	if (getenv("KVMTUNE_GOLDEN_UPDATE")) {
		FILE *out = fopen(path, "we");

		ASSERT_TRUE(out);
		fputs(b.buf, out);
		fclose(out);
		printf("  updated %s\n", path);
	}
	ASSERT_OK(read_file_at(AT_FDCWD, path, 1 << 20, &expected, NULL));
	if (!streq(expected, b.buf)) {
		printf("--- expected (%s)\n%s--- got\n%s", golden, expected, b.buf);
		FAIL_AT("the plan differs from %s", golden);
	}
	printf("  %s: %zu actions as reviewed\n", golden, plan.n);
	free(expected);
	strbuf_done(&b);
	plan_done(&plan);
	policy_file_free(f);
	topology_done(&topo);
}

TEST(v1_hybrid)
{
	struct plan_host host = {
		.version = { [CGROUP_CPU] = 1,
			     [CGROUP_CPUACCT] = 1,
			     [CGROUP_CPUSET] = 1,
			     [CGROUP_MEMORY] = 1,
			     [CGROUP_IO] = 1,
			     [CGROUP_PIDS] = 1 },
		.memsw = true,
		.bfq = true,
		.memory_limit = UINT64_MAX,
		.memsw_limit = UINT64_MAX,
	};

	check_plan("v1-hybrid.plan", &host, NULL);
}

/*
 * cgconfig's `mount { cpu = /cgroup/cm; memory = /cgroup/cm; }`, cpuacct with them and blkio
 * with cpuset: two hierarchies hold all. Groups, thread groups and thread moves once per
 * hierarchy (its first controller's); memory and blkio files in those groups; no
 * whole-process move, which would pull the vCPUs out of their groups in cpu's hierarchy.
 */
TEST(v1_mounted_together)
{
	struct plan_host host = {
		.version = { [CGROUP_CPU] = 1,
			     [CGROUP_CPUACCT] = 1,
			     [CGROUP_CPUSET] = 1,
			     [CGROUP_MEMORY] = 1,
			     [CGROUP_IO] = 1 },
		.with = { [CGROUP_CPUACCT] = 1 + CGROUP_CPU,
			  [CGROUP_MEMORY] = 1 + CGROUP_CPU,
			  [CGROUP_IO] = 1 + CGROUP_CPUSET },
		.memsw = true,
		.bfq = true,
		.memory_limit = UINT64_MAX,
		.memsw_limit = UINT64_MAX,
	};

	check_plan("v1-together.plan", &host, NULL);
}

/* Shrinking: the hard limit goes below the current memsw first, then memsw. */
TEST(v1_memory_order_when_shrinking)
{
	struct plan_host host = {
		.version = { [CGROUP_CPU] = 1, [CGROUP_CPUSET] = 1, [CGROUP_MEMORY] = 1 },
		.memsw = true,
		.memory_limit = UINT64_C(4) << 30,
		.memsw_limit = UINT64_C(8) << 30,
	};

	check_plan("v1-shrink.plan", &host, NULL);
}

TEST(v2_unified)
{
	struct plan_host host = {
		.version = { [CGROUP_CPU] = 2,
			     [CGROUP_CPUACCT] = 2,
			     [CGROUP_CPUSET] = 2,
			     [CGROUP_MEMORY] = 2,
			     [CGROUP_IO] = 2,
			     [CGROUP_PIDS] = 2 },
		.bfq = false,
		.memory_limit = UINT64_MAX,
		.memsw_limit = UINT64_MAX,
	};

	check_plan("v2-unified.plan", &host, NULL);
}

/* The systemd backend: the scope first, systemd's files as unit properties, bfq weights. */
TEST(v2_systemd)
{
	struct plan_host host = {
		.version = { [CGROUP_CPU] = 2,
			     [CGROUP_CPUACCT] = 2,
			     [CGROUP_CPUSET] = 2,
			     [CGROUP_MEMORY] = 2,
			     [CGROUP_IO] = 2,
			     [CGROUP_PIDS] = 2 },
		.bfq = true,
		.memory_limit = UINT64_MAX,
		.memsw_limit = UINT64_MAX,
	};

	check_plan("v2-systemd.plan", &host, "machine.slice");
}

/* systemd 252 keeps its own rules on v1: the planner refuses rather than half-own files. */
TEST(systemd_needs_v2)
{
	struct topology topo = {};
	struct plan_host host = {
		.version = { [CGROUP_CPU] = 1, [CGROUP_MEMORY] = 2 },
		.parent = "machine.slice",
		.topo = &topo,
	};
	struct vm vm = test_vm();
	struct policy p = {};
	struct plan plan = {};

	ASSERT_OK(cpuset_add_range(&topo.cpus, 0, 1));
	ASSERT_OK(cpuset_add(&topo.nodes, 0));
	ASSERT_OK(plan_vm(&p, &vm, &host, &plan));
	ASSERT_ERROR(plan_unit(&plan, &vm, &host, "machine.slice"), EOPNOTSUPP);
	plan_done(&plan);
	topology_done(&topo);
}

/* The systemd conversions of spec §4: shares ↔ weight, blkio weight → io.weight. */
TEST(conversions)
{
	static const struct {
		const char *policy;
		int version;
		const char *file, *value;
	} cases[] = {
		{ "cputune: { shares: 2048 }", 2, "cpu.weight", "200" },
		{ "cputune: { shares: 2 }", 2, "cpu.weight", "1" },
		{ "cputune: { shares: 262144 }", 2, "cpu.weight", "10000" },
		{ "cputune: { weight: 100 }", 1, "cpu.shares", "1024" },
		{ "cputune: { weight: 1 }", 1, "cpu.shares", "10" },
		{ "cputune: { weight: 10000 }", 1, "cpu.shares", "102400" },
		{ "{}", 1, "cpu.shares", "1024" },
		{ "{}", 2, "cpu.weight", "100" },
		{ "cputune: { quota: -1 }", 2, "cpu.max", "max 100000" },
		{ "blkiotune: { weight: 500 }", 2, "io.weight", "default 100" },
		{ "blkiotune: { weight: 10 }", 2, "io.weight", "default 2" },
		{ "memtune: { hard_limit: 1000000001b }", 1, "memory.limit_in_bytes", "999997440" },
		{ "memtune: { hard_limit: 1G, swap_hard_limit: 3G }", 2, "memory.swap.max",
		  "2147483648" },
	};
	struct topology topo = {};

	ASSERT_OK(cpuset_add_range(&topo.cpus, 0, 1));
	ASSERT_OK(cpuset_add(&topo.nodes, 0));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct policy_env env = { .topo = &topo };
		struct diag_list diags = {};
		struct policy_file *f = NULL;
		struct vm vm = test_vm();
		struct plan plan = {};
		int v = cases[i].version;
		struct plan_host host = {
			.version = { [CGROUP_CPU] = v, [CGROUP_MEMORY] = v, [CGROUP_IO] = v },
			.topo = &topo,
			.parent = "p",
			.memory_limit = UINT64_MAX,
			.memsw_limit = UINT64_MAX,
		};
		bool found = false;

		ASSERT_OK(policy_parse("c.yaml", cases[i].policy, strlen(cases[i].policy), &env, &f,
				       &diags));
		ASSERT_OK(plan_vm(&f->docs[0], &vm, &host, &plan));
		FOREACH_ARRAY (a, plan.actions, plan.n)
			if (a->kind == ACTION_WRITE && streq(a->file, cases[i].file) &&
			    streq(a->group, plan.vm_group)) {
				printf("  v%d %s -> %s = %s\n", v, cases[i].policy, a->file,
				       a->value);
				ASSERT_STREQ(a->value, cases[i].value);
				found = true;
			}
		ASSERT_TRUE(found);
		plan_done(&plan);
		policy_file_free(f);
	}
	topology_done(&topo);
}

/* Without a cpuset controller, strict placement moves the pages (libnuma), at every apply. */
TEST(numa_without_cpuset)
{
	static const char text[] = "numatune: { memory: { mode: strict, nodeset: \"1\" } }";
	struct topology topo = {};
	struct policy_env env = { .topo = &topo };
	struct diag_list diags = {};
	struct policy_file *f = NULL;
	struct vm vm = test_vm();
	struct plan plan = {};
	struct plan_host host = {
		.version = { [CGROUP_CPU] = 1, [CGROUP_MEMORY] = 1 },
		.topo = &topo,
		.parent = "p",
		.memory_limit = UINT64_MAX,
		.memsw_limit = UINT64_MAX,
	};
	size_t migrations = 0;

	ASSERT_OK(cpuset_add_range(&topo.cpus, 0, 1));
	ASSERT_OK(cpuset_add_range(&topo.nodes, 0, 1));
	ASSERT_OK(policy_parse("n.yaml", text, strlen(text), &env, &f, &diags));
	ASSERT_OK(plan_vm(&f->docs[0], &vm, &host, &plan));
	FOREACH_ARRAY (a, plan.actions, plan.n) {
		ASSERT_TRUE(a->controller != CGROUP_CPUSET || a->kind == ACTION_WARN ||
			    a->kind == ACTION_AFFINITY || a->kind == ACTION_SCHEDULER ||
			    a->kind == ACTION_MIGRATE_PAGES);
		if (a->kind == ACTION_MIGRATE_PAGES) {
			char *nodes = cpuset_format(&a->nodes);

			ASSERT_STREQ(nodes, "1");
			ASSERT_EQ(a->pid, 100);
			free(nodes);
			migrations++;
		}
	}
	ASSERT_EQ(migrations, 1);
	plan_done(&plan);
	policy_file_free(f);
	topology_done(&topo);
}

/* Groups the command line announces are made before their threads exist. */
TEST(announced_groups)
{
	static const char text[] = "cputune: { vcpupin: [ { vcpu: 2, cpuset: \"1\" } ] }";
	struct topology topo = {};
	struct policy_env env = { .topo = &topo };
	struct diag_list diags = {};
	struct policy_file *f = NULL;
	struct vm_thread main_thread = { .tid = 100, .role = ROLE_EMULATOR };
	char *iothreads[] = { "disk0" };
	struct vm vm = { .pid = 100,
			 .name = "a",
			 .threads = &main_thread,
			 .n_threads = 1,
			 .cmdline = { .vcpus = 3, .iothreads = iothreads, .n_iothreads = 1 } };
	struct plan plan = {};
	struct plan_host host = {
		.version = { [CGROUP_CPU] = 2, [CGROUP_CPUSET] = 2 },
		.topo = &topo,
		.parent = "p",
		.memory_limit = UINT64_MAX,
		.memsw_limit = UINT64_MAX,
	};
	const char *want[] = { "p/kvmtune-a.scope/emulator", "p/kvmtune-a.scope/vcpu0",
			       "p/kvmtune-a.scope/vcpu1", "p/kvmtune-a.scope/vcpu2",
			       "p/kvmtune-a.scope/iothread-disk0" };
	bool vcpu2_pinned = false;

	ASSERT_OK(cpuset_add_range(&topo.cpus, 0, 1));
	ASSERT_OK(cpuset_add(&topo.nodes, 0));
	ASSERT_OK(policy_parse("a.yaml", text, strlen(text), &env, &f, &diags));
	ASSERT_OK(plan_vm(&f->docs[0], &vm, &host, &plan));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		bool made = false;

		FOREACH_ARRAY (a, plan.actions, plan.n)
			made = made || (a->kind == ACTION_MKDIR && streq(a->group, want[i]));
		printf("  %s: %s\n", want[i], made ? "made" : "missing");
		ASSERT_TRUE(made);
	}
	FOREACH_ARRAY (a, plan.actions, plan.n)
		if (a->kind == ACTION_WRITE && streq(a->group, "p/kvmtune-a.scope/vcpu2") &&
		    streq(a->file, "cpuset.cpus"))
			vcpu2_pinned = streq(a->value, "1");
	ASSERT_TRUE(vcpu2_pinned);
	plan_done(&plan);
	policy_file_free(f);
	topology_done(&topo);
}

/* What a plan writes to group/file for the key of value (its first word), or NULL. */
static const char *planned(const struct plan *p, const char *group, const char *file,
			   const char *value)
{
	size_t key = strcspn(value, " ");

	FOREACH_ARRAY (a, p->actions, p->n)
		if ((a->kind == ACTION_WRITE || a->kind == ACTION_UNIT_WRITE) &&
		    streq(a->group, group) && streq(a->file, file) &&
		    (!strchr(value, ' ') || strncmp(a->value, value, key + 1) == 0))
			return a->value;
	return NULL;
}

/* A policy that names a device (for its read throttle only) and sets nothing else. */
static void plan_without_keys(struct plan_host *host, const char *slice, struct plan *plan)
{
	static const char text[] = "blkiotune:\n"
				   "  devices: [ { path: /dev/sda, read_bytes_sec: 1M } ]\n";
	static struct topology topo = {};
	struct policy_env env = { .topo = &topo };
	struct diag_list diags = {};
	struct policy_file *f = NULL;
	static struct plan_device dev = { .path = "/dev/sda", .dev = { 8, 0, "bfq" } };
	struct vm vm = test_vm();

	if (cpuset_is_empty(&topo.cpus)) {
		ASSERT_OK(cpuset_add_range(&topo.cpus, 0, 7));
		ASSERT_OK(cpuset_add_range(&topo.nodes, 0, 1));
	}
	ASSERT_OK(policy_parse("p.yaml", text, strlen(text), &env, &f, &diags));
	host->topo = &topo;
	host->parent = "machine.slice";
	host->devices = &dev;
	host->n_devices = 1;
	ASSERT_OK(plan_vm(&f->docs[0], &vm, host, plan));
	if (slice)
		ASSERT_OK(plan_unit(plan, &vm, host, slice));
	policy_file_free(f);
	diag_list_done(&diags);
}

#define VMG "machine.slice/kvmtune-web-01.scope"

/*
 * Removing a key undoes it, for every family on each layout: a policy without the key plans
 * the kernel's default, and the entries of devices it no longer names (or of values it no
 * longer sets for a device it still names) go back to none.
 */
TEST(removing_a_key_plans_the_default)
{
	/* The kernel holds a weight and a write throttle for sda, and a throttle for sdb. */
	static const struct cg_io_entry v1_io[] = {
		{ "blkio.bfq.weight_device", 8, 0 },
		{ "blkio.throttle.write_bps_device", 8, 0 },
		{ "blkio.throttle.read_iops_device", 8, 16 },
	};
	static const struct cg_io_entry v2_io[] = { { "io.bfq.weight", 8, 0 },
						    { "io.max", 8, 16 } };
	struct plan_host v1 = {
		.version = { [CGROUP_CPU] = 1,
			     [CGROUP_CPUACCT] = 1,
			     [CGROUP_CPUSET] = 1,
			     [CGROUP_MEMORY] = 1,
			     [CGROUP_IO] = 1,
			     [CGROUP_PIDS] = 1 },
		.memsw = true,
		.bfq = true,
		.memory_limit = UINT64_MAX,
		.memsw_limit = UINT64_MAX,
		.io_entries = v1_io,
		.n_io_entries = 3,
	};
	struct plan_host v2 = {
		.version = { [CGROUP_CPU] = 2,
			     [CGROUP_CPUACCT] = 2,
			     [CGROUP_CPUSET] = 2,
			     [CGROUP_MEMORY] = 2,
			     [CGROUP_IO] = 2,
			     [CGROUP_PIDS] = 2 },
		.bfq = true,
		.memory_limit = UINT64_MAX,
		.memsw_limit = UINT64_MAX,
		.io_entries = v2_io,
		.n_io_entries = 2,
	};
	static const struct {
		int layout; /* 1, 2, or 3 for v2 with systemd */
		const char *group, *file, *value;
	} want[] = {
		{ 1, VMG, "cpu.shares", "1024" },
		{ 1, VMG, "cpu.cfs_quota_us", "-1" },
		{ 1, VMG "/vcpu0", "cpu.cfs_quota_us", "-1" },
		{ 1, VMG "/vcpu0", "cpuset.cpus", "0-7" },
		{ 1, VMG, "cpuset.mems", "0-1" },
		{ 1, VMG, "memory.limit_in_bytes", "-1" },
		{ 1, VMG, "memory.soft_limit_in_bytes", "-1" },
		{ 1, VMG, "memory.memsw.limit_in_bytes", "-1" },
		{ 1, VMG, "blkio.bfq.weight", "100" },
		{ 1, VMG, "blkio.bfq.weight_device", "8:0 default" },
		{ 1, VMG, "blkio.throttle.write_bps_device", "8:0 0" },
		{ 1, VMG, "blkio.throttle.read_iops_device", "8:16 0" },
		{ 2, VMG, "cpu.weight", "100" },
		{ 2, VMG, "cpu.max", "max 100000" },
		{ 2, VMG "/vcpu1", "cpu.max", "max 100000" },
		{ 2, VMG, "memory.max", "max" },
		{ 2, VMG, "memory.low", "0" },
		{ 2, VMG, "memory.min", "0" },
		{ 2, VMG, "memory.swap.max", "max" },
		{ 2, VMG, "io.bfq.weight", "default 100" },
		{ 2, VMG, "io.max", "8:16 rbps=max wbps=max riops=max wiops=max" },
		{ 3, VMG, "cpu.weight", "100" },
		{ 3, VMG, "memory.max", "max" },
		{ 3, VMG, "io.bfq.weight", "default 100" },
		{ 3, VMG, "io.max", "8:16 rbps=max wbps=max riops=max wiops=max" },
	};
	struct plan plans[3] = {};

	plan_without_keys(&v1, NULL, &plans[0]);
	plan_without_keys(&v2, NULL, &plans[1]);
	plan_without_keys(&v2, "machine.slice", &plans[2]);
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		const char *v = planned(&plans[want[i].layout - 1], want[i].group, want[i].file,
					want[i].value);

		printf("  %s %s/%s = %s\n",
		       want[i].layout == 3   ? "v2+systemd"
		       : want[i].layout == 2 ? "v2"
					     : "v1",
		       want[i].group, want[i].file, v ?: "(not planned)");
		ASSERT_STREQ(v, want[i].value);
	}
	/* The device still named: its weight, no longer set, goes back to none on v2 too; under
	 * systemd, which cannot remove one, to the default weight. Nothing is left unexpressed. */
	ASSERT_STREQ(planned(&plans[1], VMG, "io.bfq.weight", "8:0 default"), "8:0 default");
	ASSERT_STREQ(planned(&plans[2], VMG, "io.bfq.weight", "8:0 100"), "8:0 100");
	FOREACH_ARRAY (a, plans[2].actions, plans[2].n)
		ASSERT_TRUE(a->kind != ACTION_WARN || !strstr(a->warning, "no systemd property"));
	for (size_t i = 0; i < ARRAY_SIZE(plans); i++)
		plan_done(&plans[i]);
}
