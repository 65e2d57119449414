/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Reading cgroup values on v1 and v2 trees (temporary directories stand in for cgroupfs). */

#include <fcntl.h>
#include <sys/stat.h>

#include "cgroup-fs.h"
#include "cgroup-mounts.h"
#include "cgroup-read.h"
#include "cgroup-write.h"
#include "macro.h"
#include "mountinfo.h"
#include "numa-maps.h"
#include "tests.h"

static char root[] = "/tmp/kvmtune-test-XXXXXX";
static bool root_made;

static int tree(const char *const *files)
{
	char path[512];
	int fd;

	/* Once: mkdtemp() may well end the name it makes in an 'X'. */
	if (!root_made) {
		ASSERT_TRUE(mkdtemp(root));
		root_made = true;
	}
	for (size_t i = 0; files[i]; i += 2) {
		snprintf(path, sizeof(path),
			 "mkdir -p '%s/%s' && printf '%%s\\n' '%s' > '%s/%s/%s'", root, "vm",
			 files[i + 1], root, "vm", files[i]);
		ASSERT_EQ(system(path), 0);
	}
	fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	ASSERT_TRUE(fd >= 0);
	return fd;
}

static void cleanup(int fd)
{
	char cmd[512];

	close(fd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'/vm", root);
	ASSERT_EQ(system(cmd), 0);
}

TEST(cpu_v1_and_v2)
{
	static const char *const v1[] = {
		"cpu.shares", "2048", "cpu.cfs_period_us", "100000", "cpu.cfs_quota_us", "-1", NULL
	};
	static const char *const v2[] = { "cpu.weight", "200", "cpu.max", "50000 100000", NULL };
	struct cg_cpu c;
	int fd = tree(v1);

	ASSERT_OK(cg_read_cpu(fd, 1, "/vm", &c));
	ASSERT_TRUE(c.have_shares && c.have_bandwidth && !c.have_weight);
	ASSERT_EQ(c.shares, 2048);
	ASSERT_EQ(c.period, 100000);
	ASSERT_TRUE(c.quota == CG_UNLIMITED);
	cleanup(fd);
	fd = tree(v2);
	ASSERT_OK(cg_read_cpu(fd, 2, "vm", &c));
	ASSERT_TRUE(c.have_weight && c.have_bandwidth && !c.have_shares);
	ASSERT_EQ(c.weight, 200);
	ASSERT_EQ(c.quota, 50000);
	ASSERT_EQ(c.period, 100000);
	cleanup(fd);
}

TEST(memory_v1_and_v2)
{
	static const char *const v1[] = { "memory.limit_in_bytes",
					  "9223372036854771712",
					  "memory.soft_limit_in_bytes",
					  "805306368",
					  "memory.usage_in_bytes",
					  "4096",
					  NULL };
	static const char *const v2[] = {
		"memory.max",	   "1073741824", "memory.low", "0",
		"memory.swap.max", "max",	 "memory.min", "536870912",
		"memory.current",  "8192",	 NULL
	};
	struct cg_memory m;
	int fd = tree(v1);

	ASSERT_OK(cg_read_memory(fd, 1, "vm", &m));
	ASSERT_TRUE(m.have_limit && m.limit == CG_UNLIMITED); /* v1's page-rounded LONG_MAX */
	ASSERT_EQ(m.soft, 805306368);
	ASSERT_FALSE(m.have_swap); /* no swap accounting on this "kernel" */
	ASSERT_EQ(m.usage, 4096);
	cleanup(fd);
	fd = tree(v2);
	ASSERT_OK(cg_read_memory(fd, 2, "vm", &m));
	ASSERT_EQ(m.limit, 1073741824);
	ASSERT_TRUE(m.have_soft && m.soft == 0);
	ASSERT_TRUE(m.swap == CG_UNLIMITED);
	ASSERT_EQ(m.min, 536870912);
	cleanup(fd);
}

TEST(io_and_cpuset)
{
	static const char *const v2[] = { "io.bfq.weight",
					  "default 300",
					  "io.max",
					  "254:0 rbps=1048576 wbps=max riops=max wiops=100",
					  "cpuset.cpus",
					  "",
					  "cpuset.cpus.effective",
					  "0-1",
					  "cpuset.mems",
					  "0",
					  NULL };
	struct cg_io io;
	struct cg_cpuset cs;
	int fd = tree(v2);

	ASSERT_OK(cg_read_io(fd, 2, "vm", &io));
	ASSERT_TRUE(io.bfq && io.have_weight);
	ASSERT_EQ(io.weight, 300);
	ASSERT_STREQ(io.devices, "io.max: 254:0 rbps=1048576 wbps=max riops=max wiops=100");
	cg_io_done(&io);
	ASSERT_OK(cg_read_cpuset(fd, 2, "vm", &cs));
	ASSERT_STREQ(cs.cpus, "0-1"); /* empty cpuset.cpus: the effective set */
	ASSERT_STREQ(cs.mems, "0");
	cg_cpuset_done(&cs);
	cleanup(fd);
}

TEST(paths_stay_below)
{
	char *s = NULL;

	ASSERT_TRUE(cgroup_path_is_safe("machine.slice/kvmtune-web..01.scope/vcpu0"));
	ASSERT_FALSE(cgroup_path_is_safe("machine.slice/../escape"));
	ASSERT_FALSE(cgroup_path_is_safe(".."));
	ASSERT_FALSE(cgroup_path_is_safe("a/./b"));
	ASSERT_ERROR(cgroup_read(AT_FDCWD, "../etc", "passwd", &s), EINVAL);
	ASSERT_TRUE(s == NULL);
}

TEST(numa_maps)
{
	static const char maps[] =
		"55d0a1e00000 default file=/usr/bin/qemu-system-x86_64 mapped=10 N0=10 "
		"kernelpagesize_kB=4\n"
		"7f0000000000 bind:1 anon=512 dirty=512 N1=512 kernelpagesize_kB=2048\n"
		"7f1000000000 interleave:0-1 anon=3 N0=1 N1=2 kernelpagesize_kB=4\n"
		"7f2000000000 default stack anon=1 N0=1 kernelpagesize_kB=4\n";
	uint64_t bytes[NUMA_MAPS_NODES];

	ASSERT_EQ(numa_maps_parse(maps, bytes), 2);
	ASSERT_EQ_U64(bytes[0], (10 + 1 + 1) * 4096);
	ASSERT_EQ_U64(bytes[1], UINT64_C(512) * 2 * 1024 * 1024 + 2 * 4096);
	ASSERT_EQ(numa_maps_parse("", bytes), 0);
}

TEST(host_layout)
{
	struct cgroup_fs fs;
	int fd, version;

	if (cgroup_fs_open("/sys/fs/cgroup", &fs) < 0)
		SKIP("no cgroup filesystem at /sys/fs/cgroup");
	printf("  layout: %s\n", cgroup_layout_to_string(fs.layout));
	/* Every Linux host with cgroups has the cpu controller somewhere. */
	ASSERT_OK(cgroup_fs_controller(&fs, CGROUP_CPU, &fd, &version));
	ASSERT_TRUE(version == 1 || version == 2);
	ASSERT_TRUE(version == 2 || fs.layout != CGROUP_UNIFIED);
	/* cpu and cpuacct co-mounted (systemd's v1 hosts) are one hierarchy: cpu's. */
	if (fs.v1_fd[CGROUP_CPU] >= 0 && fs.v1_fd[CGROUP_CPUACCT] >= 0) {
		struct stat cpu, acct;

		ASSERT_EQ(fstat(fs.v1_fd[CGROUP_CPU], &cpu), 0);
		ASSERT_EQ(fstat(fs.v1_fd[CGROUP_CPUACCT], &acct), 0);
		ASSERT_EQ(cpu.st_dev == acct.st_dev, fs.v1_with[CGROUP_CPUACCT] == 1 + CGROUP_CPU);
	}
	printf("  cpuacct: %s\n", fs.layout == CGROUP_UNIFIED	 ? "in cpu.stat (v2)"
				  : fs.v1_fd[CGROUP_CPUACCT] < 0 ? "none"
				  : fs.v1_with[CGROUP_CPUACCT]	 ? "mounted with cpu"
								 : "a hierarchy of its own");
	cgroup_fs_done(&fs);
	rmdir(root);
}

/*
 * v1 controllers mounted anywhere and together (cgconfig: `cpu = /cgroup/cm; memory =
 * /cgroup/cm;`): one fd per hierarchy, the later controllers joining the first, and a file
 * written through memory's fd lands in the shared directory.
 */
TEST(mounts_anywhere)
{
	char dir[] = "/tmp/kvmtune-mounts-XXXXXX", cm[64], cpuset[64], acct[64], cmd[512];
	_cleanup_free_ char *text = NULL, *expected = NULL, *back = NULL;
	struct cgroup_fs fs;

	ASSERT_TRUE(mkdtemp(dir));
	snprintf(cm, sizeof(cm), "%s/cgroup/cm", dir);
	snprintf(cpuset, sizeof(cpuset), "%s/cgroup/cpuset", dir);
	snprintf(acct, sizeof(acct), "%s/elsewhere/acct", dir);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s' '%s' '%s' && : > '%s/memory.limit_in_bytes'", cm,
		 cpuset, acct, cm);
	ASSERT_EQ(system(cmd), 0);

	const struct cgroup_mount mounts[] = {
		{ CGROUP_CPUSET, cpuset, 2 }, { CGROUP_CPU, cm, 4 },	{ CGROUP_MEMORY, cm, 4 },
		{ CGROUP_CPUACCT, acct, 3 },  { CGROUP_IO, cpuset, 2 },
	};

	/* dir stands for /sys/fs/cgroup: a plain directory, as on a host that mounts v1
	 * elsewhere */
	ASSERT_OK(cgroup_fs_open_mounts(dir, mounts, ARRAY_SIZE(mounts), &fs));
	ASSERT_EQ((int)fs.layout, (int)CGROUP_LEGACY);
	ASSERT_EQ(fs.v1_fd[CGROUP_MEMORY], fs.v1_fd[CGROUP_CPU]);
	ASSERT_EQ(fs.v1_fd[CGROUP_IO], fs.v1_fd[CGROUP_CPUSET]);
	ASSERT_TRUE(fs.v1_fd[CGROUP_CPUACCT] != fs.v1_fd[CGROUP_CPU]);
	ASSERT_TRUE(fs.v1_fd[CGROUP_PIDS] < 0);
	ASSERT_EQ((int)cgroup_fs_hierarchy_of(&fs, CGROUP_MEMORY), (int)CGROUP_CPU);
	ASSERT_EQ((int)cgroup_fs_hierarchy_of(&fs, CGROUP_IO), (int)CGROUP_CPUSET);
	ASSERT_TRUE(cgroup_fs_first_in_hierarchy(&fs, CGROUP_CPUACCT));
	ASSERT_TRUE(!cgroup_fs_first_in_hierarchy(&fs, CGROUP_MEMORY));
	text = cgroup_fs_describe(&fs);
	ASSERT_TRUE(asprintf(&expected, "cpu,memory at %s; cpuacct at %s; cpuset,blkio at %s", cm,
			     acct, cpuset) > 0);
	ASSERT_STREQ(text, expected);
	ASSERT_OK(cgroup_write(fs.v1_fd[CGROUP_MEMORY], "", "memory.limit_in_bytes", "1024"));
	ASSERT_TRUE(cgroup_read(fs.v1_fd[CGROUP_CPU], "", "memory.limit_in_bytes", &back) >= 0);
	ASSERT_STREQ(back, "1024");
	cgroup_fs_done(&fs); /* the shared fds once: ASan and EBADF would tell otherwise */
	ASSERT_TRUE(fs.v1_fd[CGROUP_CPU] < 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ASSERT_EQ(system(cmd), 0);
}

/* mountinfo: v1 root mounts of kvmtune's controllers only, paths unescaped, malformed left out. */
TEST(mountinfo_lines)
{
	static const char text[] =
		"30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
		"31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 master:2 - cgroup "
		"cgroup rw,cpu,cpuacct\n"
		"40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
		"41 30 0:38 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n"
		"42 30 0:31 /docker/ab /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
		"43 30 0:30 / /cgroup/cpu\\040set rw - cgroup cgroup rw,cpuset,blkio\n"
		"44 30 0:32 / /bad - cgroup\n"
		"45 30 x:y / /bad2 rw - cgroup cgroup rw,pids\n"
		"46 30 0:33 / /no/separator rw cgroup cgroup rw,pids\n"
		"47 30 0:34 / /last rw - cgroup cgroup rw,pids";
	struct mountinfo_cgroup *m = NULL;
	size_t n = 0;

	ASSERT_OK(mountinfo_cgroup_parse(text, &m, &n));
	ASSERT_EQ(n, (size_t)3);
	ASSERT_STREQ(m[0].path, "/sys/fs/cgroup/cpu,cpuacct");
	ASSERT_EQ(m[0].controllers, (1u << CGROUP_CPU) | (1u << CGROUP_CPUACCT));
	ASSERT_EQ(m[0].minor, 28u);
	ASSERT_STREQ(m[1].path, "/cgroup/cpu set"); /* \040 */
	ASSERT_EQ(m[1].controllers, (1u << CGROUP_CPUSET) | (1u << CGROUP_IO));
	ASSERT_STREQ(m[2].path, "/last"); /* no newline at the end */
	ASSERT_EQ(m[2].controllers, 1u << CGROUP_PIDS);
	mountinfo_cgroup_free(m, n);
}

/*
 * libcgroup's mount table against the fixed paths, on this host: the same layout, the same
 * controllers and the same hierarchies (same filesystem, same grouping).
 */
TEST(host_discovery)
{
	_cleanup_free_ char *note = NULL, *a = NULL, *b = NULL;
	struct cgroup_fs fixed, found;

	if (cgroup_fs_open("/sys/fs/cgroup", &fixed) < 0)
		SKIP("no cgroup filesystem at /sys/fs/cgroup");
	ASSERT_OK(cgroup_fs_open_host(&found, &note));
	if (note)
		printf("  from %s\n", note);
	a = cgroup_fs_describe(&fixed);
	b = cgroup_fs_describe(&found);
	printf("  fixed paths: %s\n  libcgroup:   %s\n", a, b);
	ASSERT_EQ((int)found.layout, (int)fixed.layout);
	for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++) {
		struct stat x, y;

		ASSERT_EQ(found.v1_fd[c] >= 0, fixed.v1_fd[c] >= 0);
		ASSERT_EQ(found.v1_with[c], fixed.v1_with[c]);
		if (fixed.v1_fd[c] < 0)
			continue;
		ASSERT_EQ(fstat(fixed.v1_fd[c], &x), 0);
		ASSERT_EQ(fstat(found.v1_fd[c], &y), 0);
		ASSERT_TRUE(x.st_dev == y.st_dev && x.st_ino == y.st_ino);
	}
	cgroup_fs_done(&fixed);
	cgroup_fs_done(&found);
}

/* Where libcgroup can read, /proc/self/mountinfo gives the same: controllers, mount points and
 * which share a hierarchy. */
TEST(mountinfo_agrees_with_libcgroup)
{
	struct cgroup_mounts lib = {}, mi = {};
	int r = cgroup_mounts_discover(&lib);

	if (r < 0)
		SKIP("libcgroup cannot read the mount table here: %s", cgroup_mounts_strerror(r));
	ASSERT_OK(cgroup_mounts_from_mountinfo("/proc/self/mountinfo", &mi));
	ASSERT_EQ(mi.n, lib.n);
	for (size_t i = 0; i < lib.n; i++) {
		ASSERT_EQ((int)mi.m[i].controller, (int)lib.m[i].controller);
		ASSERT_STREQ(mi.m[i].path, lib.m[i].path);
		for (size_t k = 0; k < i; k++)
			ASSERT_EQ(mi.m[i].hierarchy == mi.m[k].hierarchy,
				  lib.m[i].hierarchy == lib.m[k].hierarchy);
	}
	printf("  %zu controllers, the same from both\n", lib.n);
	cgroup_mounts_done(&lib);
	cgroup_mounts_done(&mi);
}

/* Both ways of opening a group refuse to leave the hierarchy or follow a symlink. */
TEST(open_beneath)
{
	static const char *const files[] = { "cpu.shares", "1024", NULL };
	int fd = tree(files), g;
	char link[600];

	snprintf(link, sizeof(link), "%s/vm/escape", root);
	ASSERT_EQ(symlink("/etc", link), 0);
	for (int walk = 0; walk < 2; walk++) {
		int (*open_fn)(int, const char *, int) = walk ? cgroup_open_walk : cgroup_open;

		g = open_fn(fd, "vm", O_PATH | O_DIRECTORY);
		ASSERT_TRUE(g >= 0);
		close(g);
		g = open_fn(fd, "", O_PATH | O_DIRECTORY);
		ASSERT_TRUE(g >= 0);
		close(g);
		ASSERT_ERROR(open_fn(fd, "vm/../vm", O_PATH | O_DIRECTORY), EINVAL);
		ASSERT_TRUE(open_fn(fd, "vm/escape", O_PATH | O_DIRECTORY) < 0);
		ASSERT_ERROR(open_fn(fd, "vm/missing", O_PATH | O_DIRECTORY), ENOENT);
	}
	unlink(link);
	ASSERT_OK(cgroup_write(fd, "vm", "cpu.shares", "2048"));
	cleanup(fd);
	ASSERT_OK(rmdir(root) == 0 ? 0 : -errno);
}
