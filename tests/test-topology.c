/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>

#include "tests.h"
#include "topology.h"

static void check_tree(const char *tree, const char *cpus, const char *nodes)
{
	struct topology t = {};
	int fd = open(test_path(tree), O_PATH | O_DIRECTORY | O_CLOEXEC);
	char *c, *n;

	ASSERT_TRUE(fd >= 0);
	ASSERT_OK(topology_read(fd, &t));
	c = cpuset_format(&t.cpus);
	n = cpuset_format(&t.nodes);
	ASSERT_STREQ(c, cpus);
	ASSERT_STREQ(n, nodes);
	free(c);
	free(n);
	topology_done(&t);
	close(fd);
}

TEST(fixture_two_nodes)
{
	check_tree("sysfs/numa2", "0-7", "0-1");
}

TEST(fixture_memoryless_node_is_not_offered)
{
	check_tree("sysfs/memless", "0-3", "0,2");
}

TEST(fixture_kernel_without_numa_has_node_0)
{
	check_tree("sysfs/nonuma", "0-3", "0");
}

TEST(missing_tree_is_an_error)
{
	struct topology t = {};
	int fd = open(test_path("sysfs"), O_PATH | O_DIRECTORY | O_CLOEXEC);

	ASSERT_ERROR(topology_read(fd, &t), ENOENT);
	close(fd);
}

/* On the real host, libnuma's nodes are nodes sysfs knows, and CPUs come from the same file. */
TEST(host_agrees_with_sysfs)
{
	struct topology host = {}, sys = {};
	int fd = open("/sys", O_PATH | O_DIRECTORY | O_CLOEXEC);

	ASSERT_OK(topology_read_host(&host));
	ASSERT_OK(topology_read(fd, &sys));
	ASSERT_TRUE(cpuset_equal(&host.cpus, &sys.cpus));
	ASSERT_TRUE(cpuset_is_subset(&host.nodes, &sys.nodes));
	ASSERT_FALSE(cpuset_is_empty(&host.cpus));
	ASSERT_FALSE(cpuset_is_empty(&host.nodes));
	printf("  host: %u CPUs, %u NUMA node(s) with memory\n", cpuset_count(&host.cpus),
	       cpuset_count(&host.nodes));
	topology_done(&host);
	topology_done(&sys);
	close(fd);
}
