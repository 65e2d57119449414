/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The effect readers on v1 and v2 fixture trees (temporary directories stand in for cgroupfs
 * and procfs): every figure read where the file has it, absent where it does not.
 */

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include "cgroup-stats.h"
#include "macro.h"
#include "tests.h"
#include "vm-effect.h"

static char root[] = "/tmp/kvmtune-stats-XXXXXX";

/* Writes each (path, content) pair below root, making the directories. */
static void put(const char *const *files)
{
	char cmd[1024];

	if (root[sizeof(root) - 2] == 'X')
		ASSERT_TRUE(mkdtemp(root));
	for (size_t i = 0; files[i]; i += 2) {
		snprintf(cmd, sizeof(cmd),
			 "f='%s/%s'; mkdir -p \"$(dirname \"$f\")\" && printf '%%b' '%s' > \"$f\"",
			 root, files[i], files[i + 1]);
		ASSERT_EQ(system(cmd), 0);
	}
}

static int dir_fd(const char *sub)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", root, sub);
	(void)mkdir(path, 0755);
	fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	ASSERT_TRUE(fd >= 0);
	return fd;
}

static void wipe(void)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'/*", root);
	ASSERT_EQ(system(cmd), 0);
}

TEST(cpu_v1_separate_and_comounted)
{
	static const char *const files[] = {
		"cpu/vm/vcpu0/cpu.stat",
		"nr_periods 412\\nnr_throttled 377\\nthrottled_time 35123456789\\n"
		"nr_bursts 0\\nburst_time 0\\n",
		"cpuacct/vm/vcpu0/cpuacct.usage",
		"123456789\\n",
		"both/vm/cpu.stat",
		"nr_periods 0\\nnr_throttled 0\\nthrottled_time 0\\n",
		"both/vm/cpuacct.usage",
		"42\\n",
		NULL,
	};
	struct cg_cpu_stats s;
	int cpu, acct, both;

	put(files);
	cpu = dir_fd("cpu"), acct = dir_fd("cpuacct"), both = dir_fd("both");
	ASSERT_OK(cg_read_cpu_stats(cpu, acct, 1, "/vm/vcpu0", &s));
	ASSERT_TRUE(s.have_usage && s.have_throttling);
	ASSERT_EQ(s.usage_ns, 123456789);
	ASSERT_EQ(s.nr_periods, 412);
	ASSERT_EQ(s.nr_throttled, 377);
	ASSERT_EQ(s.throttled_ns, UINT64_C(35123456789)); /* v1 counts ns */
	/* cpuacct mounted with cpu: one fd has both */
	ASSERT_OK(cg_read_cpu_stats(both, both, 1, "vm", &s));
	ASSERT_TRUE(s.have_usage && s.have_throttling);
	ASSERT_EQ(s.usage_ns, 42);
	ASSERT_EQ(s.nr_throttled, 0);
	/* no cpuacct at all: usage absent, not 0 */
	ASSERT_OK(cg_read_cpu_stats(cpu, -EBADF, 1, "vm/vcpu0", &s));
	ASSERT_FALSE(s.have_usage);
	ASSERT_TRUE(s.have_throttling);
	/* a group without the files */
	ASSERT_OK(cg_read_cpu_stats(cpu, acct, 1, "vm/none", &s));
	ASSERT_FALSE(s.have_usage || s.have_throttling);
	close(cpu), close(acct), close(both);
	wipe();
}

TEST(cpu_v2)
{
	static const char *const files[] = {
		"vm/vcpu0/cpu.stat",
		"usage_usec 1841234\\nuser_usec 1800000\\nsystem_usec 41234\\nnr_periods 50\\n"
		"nr_throttled 45\\nthrottled_usec 4100000\\n",
		"vm/cpu.stat",
		"usage_usec 5\\nuser_usec 5\\nsystem_usec 0\\n", /* no controller enabled */
		NULL,
	};
	struct cg_cpu_stats s;
	int fd;

	put(files);
	fd = dir_fd("");
	ASSERT_OK(cg_read_cpu_stats(fd, -EBADF, 2, "vm/vcpu0", &s));
	ASSERT_TRUE(s.have_usage && s.have_throttling);
	ASSERT_EQ(s.usage_ns, UINT64_C(1841234000));
	ASSERT_EQ(s.nr_periods, 50);
	ASSERT_EQ(s.nr_throttled, 45);
	ASSERT_EQ(s.throttled_ns, UINT64_C(4100000000));
	ASSERT_OK(cg_read_cpu_stats(fd, -EBADF, 2, "vm", &s));
	ASSERT_TRUE(s.have_usage && !s.have_throttling);
	ASSERT_EQ(s.usage_ns, 5000);
	close(fd);
	wipe();
}

TEST(memory_v1_and_v2)
{
	static const char *const files[] = {
		"v1/vm/memory.usage_in_bytes",
		"104857600\\n",
		"v1/vm/memory.max_usage_in_bytes",
		"209715200\\n",
		"v1/vm/memory.failcnt",
		"17\\n",
		"v1/vm/memory.oom_control",
		"oom_kill_disable 0\\nunder_oom 0\\noom_kill 2\\n",
		"v1/vm/memory.memsw.usage_in_bytes",
		"106954752\\n",
		"v1/nomemsw/memory.usage_in_bytes",
		"4096\\n",
		"v2/vm/memory.current",
		"8192\\n",
		"v2/vm/memory.swap.current",
		"0\\n",
		"v2/vm/memory.events",
		"low 0\\nhigh 3\\nmax 12\\noom 1\\noom_kill 1\\noom_group_kill 0\\n",
		NULL,
	};
	struct cg_memory_stats m;
	int v1, v2;

	put(files);
	v1 = dir_fd("v1"), v2 = dir_fd("v2");
	ASSERT_OK(cg_read_memory_stats(v1, 1, "vm", &m));
	ASSERT_TRUE(m.have_usage && m.have_peak && m.have_failcnt && m.have_swap);
	ASSERT_EQ(m.usage, 104857600);
	ASSERT_EQ(m.peak, 209715200);
	ASSERT_EQ(m.failcnt, 17);
	ASSERT_EQ(m.swap, 2097152); /* memsw - usage */
	ASSERT_TRUE(m.have_event[CG_MEM_OOM_KILL] && !m.have_event[CG_MEM_MAX]);
	ASSERT_EQ(m.event[CG_MEM_OOM_KILL], 2);
	/* no swap accounting (swapaccount=0): swap absent, not 0 */
	ASSERT_OK(cg_read_memory_stats(v1, 1, "nomemsw", &m));
	ASSERT_TRUE(m.have_usage && !m.have_swap && !m.have_failcnt && !m.have_peak);
	ASSERT_OK(cg_read_memory_stats(v2, 2, "vm", &m));
	ASSERT_TRUE(m.have_usage && m.have_swap && !m.have_peak && !m.have_failcnt);
	ASSERT_EQ(m.usage, 8192);
	for (int e = 0; e < _CG_MEM_EVENT_MAX; e++)
		ASSERT_TRUE(m.have_event[e]);
	ASSERT_EQ(m.event[CG_MEM_HIGH], 3);
	ASSERT_EQ(m.event[CG_MEM_MAX], 12);
	ASSERT_EQ(m.event[CG_MEM_OOM], 1);
	ASSERT_EQ(m.event[CG_MEM_OOM_KILL], 1);
	close(v1), close(v2);
	wipe();
}

TEST(io_v1_and_v2)
{
	static const char *const files[] = {
		"v1/vm/blkio.throttle.io_service_bytes_recursive",
		"8:0 Read 4096\\n8:0 Write 8192\\n8:0 Sync 12288\\n8:0 Async 0\\n8:0 Discard 0\\n"
		"8:0 Total 12288\\n253:1 Read 512\\n253:1 Write 0\\nTotal 12800\\n",
		"v1/vm/blkio.throttle.io_serviced_recursive",
		"8:0 Read 1\\n8:0 Write 2\\n8:0 Total 3\\nTotal 3\\n",
		"v1/old/blkio.throttle.io_service_bytes",
		"8:16 Read 1\\n8:16 Write 0\\nTotal 1\\n",
		"v2/vm/io.stat",
		"8:0 rbytes=90112 wbytes=4096 rios=6 wios=1 dbytes=0 dios=0\\n",
		NULL,
	};
	struct cg_io_stats s;
	int v1, v2;

	put(files);
	v1 = dir_fd("v1"), v2 = dir_fd("v2");
	ASSERT_OK(cg_read_io_stats(v1, 1, "vm", &s));
	ASSERT_EQ(s.n, 2);
	ASSERT_TRUE(s.devices[0].major == 8 && s.devices[0].minor == 0);
	ASSERT_TRUE(s.devices[0].have_bytes && s.devices[0].have_ios);
	ASSERT_EQ(s.devices[0].rbytes, 4096);
	ASSERT_EQ(s.devices[0].wbytes, 8192);
	ASSERT_EQ(s.devices[0].rios, 1);
	ASSERT_EQ(s.devices[0].wios, 2);
	/* 253:1 has bytes, no operations line: those are absent */
	ASSERT_TRUE(s.devices[1].major == 253 && s.devices[1].have_bytes && !s.devices[1].have_ios);
	cg_io_stats_done(&s);
	ASSERT_OK(cg_read_io_stats(v1, 1, "old", &s)); /* a kernel without _recursive */
	ASSERT_EQ(s.n, 1);
	ASSERT_EQ(s.devices[0].minor, 16);
	cg_io_stats_done(&s);
	ASSERT_OK(cg_read_io_stats(v2, 2, "vm", &s));
	ASSERT_EQ(s.n, 1);
	ASSERT_EQ(s.devices[0].rbytes, 90112);
	ASSERT_EQ(s.devices[0].wbytes, 4096);
	ASSERT_EQ(s.devices[0].rios, 6);
	ASSERT_EQ(s.devices[0].wios, 1);
	cg_io_stats_done(&s);
	ASSERT_OK(cg_read_io_stats(v2, 2, "none", &s));
	ASSERT_EQ(s.n, 0);
	close(v1), close(v2);
	wipe();
}

TEST(psi)
{
	struct cg_psi p;

	ASSERT_OK(cg_parse_psi("some avg10=1.00 avg60=0.50 avg300=0.10 total=1234\n"
			       "full avg10=0.00 avg60=0.00 avg300=0.00 total=7",
			       &p));
	ASSERT_TRUE(p.have_some && p.have_full);
	ASSERT_EQ(p.some_ns, 1234000);
	ASSERT_EQ(p.full_ns, 7000);
	/* the root's cpu.pressure of old kernels has no full line */
	ASSERT_OK(cg_parse_psi("some avg10=0.00 avg60=0.00 avg300=0.00 total=5\n", &p));
	ASSERT_TRUE(p.have_some && !p.have_full);
	ASSERT_TRUE(cg_parse_psi("some avg10=0.00 total=x\n", &p) < 0);
	ASSERT_FALSE(p.have_some);
}

TEST(keyed_is_whole_key)
{
	uint64_t v;

	ASSERT_OK(cg_parse_keyed("oom 1\noom_kill 9\n", "oom_kill", &v));
	ASSERT_EQ(v, 9);
	ASSERT_OK(cg_parse_keyed("oom_kill 9\noom 1\n", "oom", &v));
	ASSERT_EQ(v, 1);
	ASSERT_EQ(cg_parse_keyed("oom_kill 9\n", "oom", &v), -ENOENT);
	ASSERT_EQ(cg_parse_keyed("oom -1\n", "oom", &v), -EINVAL);
}

/* ---- the effect of one VM on a fixture host ---- */

static struct vm fixture_vm(struct vm_thread *threads, size_t n)
{
	return (struct vm){ .pid = 4242,
			    .starttime = (uint64_t)(900 * sysconf(_SC_CLK_TCK)),
			    .threads = threads,
			    .n_threads = n };
}

/* The group directory's mtime, as kernfs sets it at mkdir: age seconds ago. */
static void age(const char *dir, int seconds)
{
	char path[512];
	struct timespec t[2];

	clock_gettime(CLOCK_REALTIME, &t[0]);
	t[0].tv_sec -= seconds;
	t[1] = t[0];
	snprintf(path, sizeof(path), "%s/%s", root, dir);
	ASSERT_EQ(utimensat(AT_FDCWD, path, t, 0), 0);
}

TEST(effect_v1)
{
	static const char *const files[] = {
		"proc/uptime",
		"1000.00 1800.00\\n",
		"proc/4242/cgroup",
		"5:memory:/kvmtune/web\\n4:blkio:/kvmtune/web\\n3:cpuacct:/kvmtune/web/emulator\\n"
		"2:cpu:/kvmtune/web/emulator\\n0::/\\n",
		"proc/4242/status",
		"Name:\\tqemu\\nRssAnon:\\t   40960 kB\\n",
		"proc/4242/task/4242/cgroup",
		"2:cpu:/kvmtune/web/emulator\\n",
		"proc/4242/task/4243/cgroup",
		"2:cpu:/kvmtune/web/vcpu0\\n",
		"proc/4242/task/4244/cgroup",
		"2:cpu:/kvmtune/web/emulator\\n",
		"proc/4242/task/4245/cgroup",
		"2:cpu:/elsewhere\\n", /* not the VM's group: left out */
		"cpu/kvmtune/web/cpu.shares",
		"1024\\n",
		"cpu/kvmtune/web/cpu.stat",
		"nr_periods 0\\nnr_throttled 0\\nthrottled_time 0\\n",
		"cpu/kvmtune/web/vcpu0/cpu.cfs_period_us",
		"100000\\n",
		"cpu/kvmtune/web/vcpu0/cpu.cfs_quota_us",
		"10000\\n",
		"cpu/kvmtune/web/vcpu0/cpu.stat",
		"nr_periods 100\\nnr_throttled 90\\nthrottled_time 9000000000\\n",
		"cpu/kvmtune/web/emulator/cpu.stat",
		"nr_periods 0\\nnr_throttled 0\\nthrottled_time 0\\n",
		"cpuacct/kvmtune/web/cpuacct.usage",
		"3000000000\\n",
		"cpuacct/kvmtune/web/vcpu0/cpuacct.usage",
		"1000000000\\n",
		"memory/kvmtune/web/memory.usage_in_bytes",
		"1048576\\n",
		"memory/kvmtune/web/memory.limit_in_bytes",
		"536870912\\n",
		"blkio/kvmtune/web/blkio.throttle.io_service_bytes",
		"8:0 Read 10\\n8:0 Write 20\\nTotal 30\\n",
		NULL,
	};
	struct vm_thread threads[] = {
		{ .tid = 4242 }, { .tid = 4243 }, { .tid = 4244 }, { .tid = 4245 }
	};
	struct vm vm = fixture_vm(threads, ARRAY_SIZE(threads));
	struct cgroup_fs fs = { .layout = CGROUP_LEGACY, .unified_fd = -EBADF };
	struct vm_effect e;
	int proc;

	put(files);
	for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++)
		fs.v1_fd[c] = -EBADF;
	fs.v1_fd[CGROUP_CPU] = dir_fd("cpu");
	fs.v1_fd[CGROUP_CPUACCT] = dir_fd("cpuacct");
	fs.v1_fd[CGROUP_MEMORY] = dir_fd("memory");
	fs.v1_fd[CGROUP_IO] = dir_fd("blkio");
	proc = dir_fd("proc");
	age("memory/kvmtune/web", 10); /* made 10 s ago, the VM runs for 100 s */
	put((const char *const[]){ "memory/kvmtune/web/memory.usage_in_bytes", "1048576\\n",
				   NULL });

	ASSERT_OK(vm_effect_read(&fs, proc, &vm, "kvmtune/web", &e));
	ASSERT_EQ(e.n_groups, 3);
	ASSERT_TRUE(streq(e.groups[0].label, "vm") && streq(e.groups[0].path, "kvmtune/web"));
	ASSERT_TRUE(e.groups[0].cpu.have_usage);
	ASSERT_EQ(e.groups[0].cpu.usage_ns, UINT64_C(3000000000));
	ASSERT_TRUE(streq(e.groups[1].label, "emulator"));
	ASSERT_EQ(e.groups[1].n_threads, 2);
	ASSERT_FALSE(e.groups[1].cpu.have_usage); /* no cpuacct.usage in that fixture group */
	ASSERT_TRUE(streq(e.groups[2].label, "vcpu0"));
	ASSERT_TRUE(e.groups[2].limits.have_bandwidth && e.groups[2].limits.quota == 10000);
	ASSERT_TRUE(e.groups[2].cpu.have_throttling);
	ASSERT_EQ(e.groups[2].cpu.nr_throttled, 90);
	ASSERT_EQ(e.groups[2].cpu.throttled_ns, UINT64_C(9000000000));
	ASSERT_FALSE(e.groups[2].pressure.have_some); /* no cpu.pressure on this v1 fixture */
	ASSERT_TRUE(e.memory_group && streq(e.memory_group, "kvmtune/web"));
	ASSERT_TRUE(e.memory.have_usage && e.memory.usage == 1048576);
	ASSERT_TRUE(e.memory_limits.have_limit && e.memory_limits.limit == 536870912);
	/* 40 MiB anonymous, 1 MiB charged here */
	ASSERT_TRUE(e.charged_elsewhere);
	ASSERT_EQ(e.elsewhere_bytes, UINT64_C(39) << 20);
	ASSERT_TRUE(e.have_ages && e.vm_age > 99 && e.vm_age < 101);
	ASSERT_TRUE(e.io_group && e.io.n == 1 && e.io.devices[0].wbytes == 20);
	vm_effect_done(&e);

	/* A group made before the VM started (kvmtunectl run), holding all of its memory */
	put((const char *const[]){ "memory/kvmtune/web/memory.usage_in_bytes", "44040192\\n",
				   NULL });
	age("memory/kvmtune/web", 200);
	ASSERT_OK(vm_effect_read(&fs, proc, &vm, "kvmtune/web", &e));
	ASSERT_FALSE(e.charged_elsewhere || e.have_ages);
	vm_effect_done(&e);
	/* An older group the VM was moved into (left by an earlier VM of that name): the usage
	 * says it, whatever the ages say */
	put((const char *const[]){ "memory/kvmtune/web/memory.usage_in_bytes", "0\\n", NULL });
	age("memory/kvmtune/web", 200);
	ASSERT_OK(vm_effect_read(&fs, proc, &vm, "kvmtune/web", &e));
	ASSERT_TRUE(e.charged_elsewhere && !e.have_ages);
	ASSERT_EQ(e.elsewhere_bytes, UINT64_C(40) << 20);
	vm_effect_done(&e);

	/* No VM group (no policy): no effect, nothing read from groups that are not the VM's. */
	ASSERT_OK(vm_effect_read(&fs, proc, &vm, NULL, &e));
	ASSERT_TRUE(e.n_groups == 0 && !e.memory_group && !e.io_group);
	vm_effect_done(&e);
	/* A VM group the process is not in (not enforced yet) */
	ASSERT_OK(vm_effect_read(&fs, proc, &vm, "kvmtune/other", &e));
	ASSERT_TRUE(e.n_groups == 0 && !e.memory_group && !e.io_group);
	vm_effect_done(&e);
	cgroup_fs_done(&fs);
	close(proc);
	wipe();
}

TEST(effect_v2)
{
	static const char *const files[] = {
		"proc/uptime",
		"1000.00 1800.00\\n",
		"proc/4242/cgroup",
		"0::/machine.slice/kvmtune-web.scope/emulator\\n",
		"proc/4242/task/4242/cgroup",
		"0::/machine.slice/kvmtune-web.scope/emulator\\n",
		"proc/4242/task/4243/cgroup",
		"0::/machine.slice/kvmtune-web.scope/iothread-io1\\n",
		"cg/machine.slice/kvmtune-web.scope/cpu.stat",
		"usage_usec 10\\nuser_usec 10\\nsystem_usec 0\\nnr_periods 0\\nnr_throttled 0\\n"
		"throttled_usec 0\\n",
		"cg/machine.slice/kvmtune-web.scope/cpu.weight",
		"100\\n",
		"cg/machine.slice/kvmtune-web.scope/cpu.pressure",
		"some avg10=0.00 avg60=0.00 avg300=0.00 total=300\\n"
		"full avg10=0.00 avg60=0.00 avg300=0.00 total=100\\n",
		"cg/machine.slice/kvmtune-web.scope/memory.current",
		"4096\\n",
		"cg/machine.slice/kvmtune-web.scope/memory.events",
		"low 0\\nhigh 0\\nmax 0\\noom 0\\noom_kill 0\\n",
		"cg/machine.slice/kvmtune-web.scope/memory.pressure",
		"some avg10=0.00 avg60=0.00 avg300=0.00 total=1\\n"
		"full avg10=0.00 avg60=0.00 avg300=0.00 total=0\\n",
		"cg/machine.slice/kvmtune-web.scope/io.stat",
		"",
		"cg/machine.slice/kvmtune-web.scope/iothread-io1/cpu.stat",
		"usage_usec 7\\n",
		NULL,
	};
	struct vm_thread threads[] = { { .tid = 4242 }, { .tid = 4243 } };
	struct vm vm = fixture_vm(threads, ARRAY_SIZE(threads));
	struct cgroup_fs fs = { .layout = CGROUP_UNIFIED };
	struct vm_effect e;
	int proc;

	put(files);
	for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++)
		fs.v1_fd[c] = -EBADF, fs.v2[c] = true;
	fs.unified_fd = dir_fd("cg");
	proc = dir_fd("proc");
	age("cg/machine.slice/kvmtune-web.scope", 500);
	ASSERT_OK(vm_effect_read(&fs, proc, &vm, "machine.slice/kvmtune-web.scope", &e));
	/* the process is in emulator, so its memory and I/O are not the VM group's own files:
	 * v2 has them hierarchically, and the VM group is the one read */
	ASSERT_EQ(e.n_groups, 3);
	ASSERT_TRUE(streq(e.groups[0].label, "vm"));
	ASSERT_TRUE(e.groups[0].pressure.have_full && e.groups[0].pressure.some_ns == 300000);
	ASSERT_TRUE(streq(e.groups[1].label, "emulator") &&
		    streq(e.groups[2].label, "iothread-io1"));
	ASSERT_EQ(e.groups[2].cpu.usage_ns, 7000);
	ASSERT_FALSE(e.groups[2].cpu.have_throttling);
	ASSERT_TRUE(e.memory_group && e.memory.have_usage && e.memory.usage == 4096);
	ASSERT_TRUE(e.memory.have_event[CG_MEM_OOM_KILL] && e.memory_pressure.have_some);
	ASSERT_FALSE(e.charged_elsewhere);
	ASSERT_TRUE(e.io_group && e.io.n == 0);
	vm_effect_done(&e);
	cgroup_fs_done(&fs);
	close(proc);
	wipe();
}
