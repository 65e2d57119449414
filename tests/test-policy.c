/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Merge semantics of spec §3, origins, matching, and the canonical dump. */

#include <fcntl.h>
#include <sys/stat.h>

#include "policy-dump.h"
#include "policy-set.h"
#include "size.h"
#include "tests.h"

static struct topology topo;

static struct policy_env env(void)
{
	if (cpuset_is_empty(&topo.cpus)) {
		ASSERT_OK(cpuset_add_range(&topo.cpus, 0, 7));
		ASSERT_OK(cpuset_add_range(&topo.nodes, 0, 1));
	}
	return (struct policy_env){ .topo = &topo, .check_users = true };
}

static struct policy_file *parse(const char *path, const char *text)
{
	struct diag_list diags = {};
	struct policy_file *f = NULL;
	struct policy_env e = env();
	int r = policy_parse(path, text, strlen(text), &e, &f, &diags);

	diag_list_print(&diags, stdout);
	ASSERT_OK(r);
	ASSERT_EQ(diags.n, 0);
	diag_list_done(&diags);
	return f;
}

static char *cpus(const struct cpuset *s)
{
	static char buf[256];
	char *t = cpuset_format(s);

	snprintf(buf, sizeof(buf), "%s", t);
	free(t);
	return buf;
}

TEST(scalars_later_wins_with_origin)
{
	struct policy_file *a = parse("a.yaml", "cputune:\n  shares: 2048\n  period: 100000\n"
						"memtune:\n  hard_limit: 1G\n");
	struct policy_file *b = parse("b.yaml", "---\n\ncputune:\n  period: 50000\n");
	struct policy eff = {};

	ASSERT_OK(policy_merge(&eff, &a->docs[0]));
	ASSERT_OK(policy_merge(&eff, &b->docs[0]));
	ASSERT_EQ(eff.cputune.shares.value, 2048);
	ASSERT_STREQ(eff.cputune.shares.origin.file, "a.yaml");
	ASSERT_EQ(eff.cputune.shares.origin.line, 2);
	ASSERT_EQ(eff.cputune.period.value, 50000);
	ASSERT_STREQ(eff.cputune.period.origin.file, "b.yaml");
	ASSERT_EQ(eff.cputune.period.origin.line, 4);
	ASSERT_EQ(eff.cputune.period.origin.column, 11);
	ASSERT_EQ_U64(eff.memtune.hard_limit.bytes, UINT64_C(1) << 30);
	policy_done(&eff);
	policy_file_free(a);
	policy_file_free(b);
}

TEST(shares_and_weight_are_one_knob)
{
	struct policy_file *a = parse("a.yaml", "cputune: { shares: 2048 }\n");
	struct policy_file *b = parse("b.yaml", "cputune: { weight: 300 }\n");
	struct policy eff = {};

	ASSERT_OK(policy_merge(&eff, &a->docs[0]));
	ASSERT_OK(policy_merge(&eff, &b->docs[0]));
	ASSERT_FALSE(eff.cputune.shares.set);
	ASSERT_TRUE(eff.cputune.weight.set);
	ASSERT_EQ(eff.cputune.weight.value, 300);
	ASSERT_OK(policy_merge(&eff, &a->docs[0]));
	ASSERT_TRUE(eff.cputune.shares.set);
	ASSERT_FALSE(eff.cputune.weight.set);
	policy_done(&eff);
	policy_file_free(a);
	policy_file_free(b);
}

TEST(vcpupin_merges_per_vcpu)
{
	struct policy_file *a = parse("a.yaml", "cputune:\n  vcpupin:\n"
						"    - { vcpu: \"0-3\", cpuset: \"0\" }\n"
						"    - { vcpu: 7, cpuset: \"7\" }\n");
	struct policy_file *b = parse("b.yaml", "cputune:\n  vcpupin:\n"
						"    - { vcpu: 2, cpuset: \"5-6\" }\n"
						"    - { vcpu: 7, cpuset: \"1\" }\n");
	struct policy eff = {};
	int seen = 0;

	ASSERT_OK(policy_merge(&eff, &a->docs[0]));
	ASSERT_OK(policy_merge(&eff, &b->docs[0]));
	ASSERT_EQ(eff.cputune.n_vcpupin, 3);
	FOREACH_ARRAY (e, eff.cputune.vcpupin, eff.cputune.n_vcpupin) {
		const char *v = cpus(&e->vcpus);

		if (streq(v, "0-1,3")) {
			ASSERT_STREQ(cpus(&e->cpus.cpus), "0");
			ASSERT_STREQ(e->cpus.origin.file, "a.yaml");
			seen |= 1;
		} else if (streq(v, "2")) {
			ASSERT_STREQ(cpus(&e->cpus.cpus), "5-6");
			ASSERT_STREQ(e->cpus.origin.file, "b.yaml");
			ASSERT_EQ(e->cpus.origin.line, 3);
			seen |= 2;
		} else if (streq(v, "7")) {
			ASSERT_STREQ(cpus(&e->cpus.cpus), "1");
			ASSERT_STREQ(e->cpus.origin.file, "b.yaml");
			seen |= 4;
		} else
			FAIL_AT("unexpected vcpupin entry for vCPUs %s", v);
	}
	ASSERT_EQ(seen, 7);
	policy_done(&eff);
	policy_file_free(a);
	policy_file_free(b);
}

TEST(vcpusched_and_iothreads_merge_per_entry)
{
	struct policy_file *a = parse(
		"a.yaml", "cputune:\n  vcpusched:\n    - { vcpus: \"0-1\", scheduler: fifo, "
			  "priority: 10 }\n  iothreadpin:\n    - { iothread: io1, cpuset: \"2\" }\n"
			  "    - { iothread: io2, cpuset: \"3\" }\n  iothreadsched:\n"
			  "    - { iothreads: \"io1,io2\", scheduler: batch }\n");
	struct policy_file *b =
		parse("b.yaml",
		      "cputune:\n  vcpusched:\n    - { vcpus: 1, scheduler: idle }\n"
		      "  iothreadpin:\n    - { iothread: io2, cpuset: \"4\" }\n"
		      "  iothreadsched:\n    - { iothreads: [io2], scheduler: rr, priority: 2 }\n");
	struct policy eff = {};

	ASSERT_OK(policy_merge(&eff, &a->docs[0]));
	ASSERT_OK(policy_merge(&eff, &b->docs[0]));
	ASSERT_EQ(eff.cputune.n_vcpusched, 2);
	ASSERT_STREQ(cpus(&eff.cputune.vcpusched[0].vcpus), "0");
	ASSERT_EQ(eff.cputune.vcpusched[0].sched.policy, SCHED_POLICY_FIFO);
	ASSERT_EQ(eff.cputune.vcpusched[0].sched.priority, 10);
	ASSERT_STREQ(cpus(&eff.cputune.vcpusched[1].vcpus), "1");
	ASSERT_EQ(eff.cputune.vcpusched[1].sched.policy, SCHED_POLICY_IDLE);
	ASSERT_EQ(eff.cputune.n_iothreadpin, 2);
	ASSERT_STREQ(eff.cputune.iothreadpin[0].id, "io1");
	ASSERT_STREQ(cpus(&eff.cputune.iothreadpin[0].cpus.cpus), "2");
	ASSERT_STREQ(eff.cputune.iothreadpin[1].id, "io2");
	ASSERT_STREQ(cpus(&eff.cputune.iothreadpin[1].cpus.cpus), "4");
	ASSERT_STREQ(eff.cputune.iothreadpin[1].cpus.origin.file, "b.yaml");
	ASSERT_EQ(eff.cputune.n_iothreadsched, 2);
	ASSERT_EQ(eff.cputune.iothreadsched[0].sched.policy, SCHED_POLICY_BATCH);
	ASSERT_EQ(eff.cputune.iothreadsched[1].sched.policy, SCHED_POLICY_RR);
	ASSERT_EQ(eff.cputune.iothreadsched[1].sched.priority, 2);
	policy_done(&eff);
	policy_file_free(a);
	policy_file_free(b);
}

TEST(devices_merge_per_path_then_field)
{
	struct policy_file *a =
		parse("a.yaml", "blkiotune:\n  devices:\n"
				"    - { path: /dev/x, weight: 100, read_bytes_sec: 1M }\n"
				"    - { path: /dev/y, write_iops_sec: 10 }\n");
	struct policy_file *b = parse("b.yaml", "blkiotune:\n  weight: 700\n  devices:\n"
						"    - { path: /dev/x, weight: 200 }\n");
	struct policy eff = {};

	ASSERT_OK(policy_merge(&eff, &a->docs[0]));
	ASSERT_OK(policy_merge(&eff, &b->docs[0]));
	ASSERT_EQ(eff.blkiotune.weight.value, 700);
	ASSERT_EQ(eff.blkiotune.n_devices, 2);
	ASSERT_STREQ(eff.blkiotune.devices[0].path, "/dev/x");
	ASSERT_EQ(eff.blkiotune.devices[0].weight.value, 200);
	ASSERT_STREQ(eff.blkiotune.devices[0].weight.origin.file, "b.yaml");
	ASSERT_EQ_U64(eff.blkiotune.devices[0].read_bytes_sec.bytes, UINT64_C(1) << 20);
	ASSERT_STREQ(eff.blkiotune.devices[0].read_bytes_sec.origin.file, "a.yaml");
	ASSERT_EQ_U64(eff.blkiotune.devices[1].write_iops_sec.bytes, 10);
	policy_done(&eff);
	policy_file_free(a);
	policy_file_free(b);
}

TEST(numatune_nodeset_and_placement_are_one_choice)
{
	struct policy_file *a =
		parse("a.yaml", "numatune: { memory: { mode: strict, nodeset: 1 } }\n");
	struct policy_file *b = parse("b.yaml", "numatune: { memory: { placement: auto } }\n");
	struct policy eff = {};
	struct diag_list diags = {};

	ASSERT_OK(policy_merge(&eff, &a->docs[0]));
	ASSERT_TRUE(eff.numatune.nodeset.set);
	ASSERT_OK(policy_merge(&eff, &b->docs[0]));
	ASSERT_FALSE(eff.numatune.nodeset.set);
	ASSERT_EQ(eff.numatune.placement.value, NUMA_PLACEMENT_AUTO);
	ASSERT_EQ(eff.numatune.mode.value, NUMA_MODE_STRICT);
	ASSERT_OK(policy_check_effective(&eff, &diags));
	ASSERT_EQ(diags.n_errors, 0);
	ASSERT_OK(policy_merge(&eff, &a->docs[0]));
	ASSERT_TRUE(eff.numatune.nodeset.set);
	ASSERT_STREQ(cpus(&eff.numatune.nodeset.cpus), "1");
	policy_done(&eff);
	policy_file_free(a);
	policy_file_free(b);
}

TEST(effective_checks_span_files)
{
	struct policy_file *a = parse("a.yaml", "memtune:\n  hard_limit: 2G\n");
	struct policy_file *b = parse("b.yaml", "memtune:\n  swap_hard_limit: 1G\n"
						"numatune:\n  memory:\n    mode: interleave\n");
	struct policy eff = {};
	struct diag_list diags = {};
	char *text;

	ASSERT_OK(policy_merge(&eff, &a->docs[0]));
	ASSERT_OK(policy_merge(&eff, &b->docs[0]));
	ASSERT_OK(policy_check_effective(&eff, &diags));
	ASSERT_EQ(diags.n_errors, 2);
	text = diag_format(&diags.items[0]);
	ASSERT_STREQ(text, "b.yaml:2:20: error: memtune.swap_hard_limit: 1G is below hard_limit 2G "
			   "set at a.yaml:2 (allowed: swap_hard_limit >= hard_limit; it counts "
			   "memory + swap)");
	free(text);
	text = diag_format(&diags.items[1]);
	ASSERT_TRUE(
		strstr(text, "b.yaml:5:11: error: numatune.memory: mode interleave has no nodes"));
	free(text);
	diag_list_done(&diags);
	policy_done(&eff);
	policy_file_free(a);
	policy_file_free(b);
}

TEST(matching)
{
	struct policy_file *f = parse("m.yaml", "match:\n  name: \"web-*\"\n"
						"  uuid: 6B29FC40-CA47-1067-B31D-00DD010662DA\n"
						"  user: 0\n  binary: /usr/bin/qemu-system-*\n");
	const struct policy *p = &f->docs[0];
	struct vm_identity id = {
		.name = "web-01",
		.uuid = "6b29fc40-ca47-1067-b31d-00dd010662da",
		.uid_set = true,
		.uid = 0,
		.binary = "/usr/bin/qemu-system-x86_64",
	};
	const char *missing;

	ASSERT_STREQ(p->match.uuid.value, "6b29fc40-ca47-1067-b31d-00dd010662da");
	ASSERT_EQ(policy_matches(p, &id, &missing), 1);
	id.name = "db-01";
	ASSERT_EQ(policy_matches(p, &id, &missing), 0);
	ASSERT_TRUE(missing == NULL);
	id.name = "web-01";
	id.binary = "/usr/bin/sub/qemu-system-x86_64"; /* '*' does not cross '/' */
	ASSERT_EQ(policy_matches(p, &id, NULL), 0);
	id.binary = "/usr/bin/qemu-system-x86_64";
	id.uid = 1000;
	ASSERT_EQ(policy_matches(p, &id, NULL), 0);
	id.uid_set = false;
	ASSERT_EQ(policy_matches(p, &id, &missing), 0);
	ASSERT_STREQ(missing, "user");
	policy_file_free(f);

	f = parse("all.yaml", "match: {}\ncputune: { shares: 100 }\n");
	ASSERT_EQ(policy_matches(&f->docs[0], &(struct vm_identity){}, NULL), 1);
	policy_file_free(f);
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(write(fd, text, strlen(text)), (long long)strlen(text));
	close(fd);
}

TEST(set_order_and_fits)
{
	char dir[] = "/tmp/kvmtune-test-XXXXXX", path[512];
	struct policy_set set = {};
	struct diag_list diags = {};
	struct policy eff = {};
	struct policy_fit *fits = NULL;
	size_t n_fits = 0;
	struct policy_env e = env();
	const char *paths[] = { dir };

	ASSERT_TRUE(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/20-web.yaml", dir);
	write_file(path, "match: { name: \"web-*\" }\ncputune: { shares: 300 }\n---\n"
			 "match: { user: root }\ncputune: { shares: 400 }\n");
	snprintf(path, sizeof(path), "%s/10-all.yml", dir);
	write_file(path, "cputune: { shares: 100, period: 10000 }\n");
	snprintf(path, sizeof(path), "%s/.hidden.yaml", dir);
	write_file(path, "this is: [not parsed\n");
	snprintf(path, sizeof(path), "%s/README", dir);
	write_file(path, "not a policy\n");

	ASSERT_OK(policy_set_load(&set, paths, 1, &e, &diags));
	ASSERT_EQ(diags.n, 0);
	ASSERT_EQ(set.n_files, 2);
	ASSERT_TRUE(strstr(set.files[0]->path, "10-all.yml"));
	ASSERT_EQ(policy_set_effective(&set, &(struct vm_identity){ .name = "web-1" }, &eff, &fits,
				       &n_fits),
		  2);
	ASSERT_EQ(n_fits, 3);
	ASSERT_STREQ(fits[2].missing, "user");
	ASSERT_EQ(eff.cputune.shares.value, 300);
	ASSERT_EQ(eff.cputune.period.value, 10000);
	ASSERT_TRUE(strstr(eff.cputune.shares.origin.file, "20-web.yaml"));
	ASSERT_TRUE(strstr(eff.cputune.period.origin.file, "10-all.yml"));
	free(fits);
	policy_done(&eff);
	policy_set_done(&set);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	ASSERT_EQ(system(path), 0);
}

/* The canonical dump parses again to a policy whose dump is the same text. */
TEST(dump_round_trip)
{
	struct policy_file *f = parse(
		"rt.yaml",
		"match: { name: \"a \\\"quoted\\\" name\", binary: /usr/bin/qemu-kvm }\n"
		"cputune:\n  weight: 200\n  quota: -1\n  cpuset: \" 0-7 , ^6 \"\n"
		"  vcpupin:\n    - { vcpu: \"4-5\", cpuset: 2 }\n    - { vcpu: 0, cpuset: \"1,3\" "
		"}\n"
		"  emulatorpin: 0\n  iothreadpin: [ { iothread: io-1.a_b, cpuset: 7 } ]\n"
		"  vcpusched: [ { vcpus: 0, scheduler: rr, priority: 99 } ]\n"
		"  emulatorsched: { scheduler: other }\n"
		"memtune: { hard_limit: 1048576, soft_limit: 0, swap_hard_limit: unlimited, "
		"min_guarantee: 1000KB }\n"
		"blkiotune:\n  weight: 10\n  devices:\n    - { path: /dev/x, read_bytes_sec: 1000, "
		"write_iops_sec: unlimited, read_iops_sec: 5 }\n"
		"numatune: { memory: { mode: preferred, placement: auto } }\n");
	char *text = NULL, *again = NULL;
	struct policy_file *g;

	ASSERT_OK(policy_dump(&f->docs[0], false, &text));
	printf("%s", text);
	ASSERT_TRUE(strstr(text, "    - { vcpu: \"0\", cpuset: \"1,3\" }\n"
				 "    - { vcpu: \"4-5\", cpuset: \"2\" }\n"));
	ASSERT_TRUE(strstr(text, "  cpuset: \"0-5,7\"\n"));
	ASSERT_TRUE(strstr(text, "  hard_limit: \"1G\"\n"));
	ASSERT_TRUE(strstr(text, "  min_guarantee: \"1000000b\"\n"));
	ASSERT_TRUE(strstr(text, "  swap_hard_limit: \"unlimited\"\n"));
	g = parse("dump.yaml", text);
	ASSERT_OK(policy_dump(&g->docs[0], false, &again));
	ASSERT_STREQ(again, text);
	free(text);
	free(again);
	policy_file_free(f);
	policy_file_free(g);
}

TEST(dump_with_origins)
{
	struct policy_file *f = parse("o.yaml", "cputune:\n  shares: 2048\n");
	char *text = NULL;

	ASSERT_OK(policy_dump(&f->docs[0], true, &text));
	ASSERT_STREQ(text, "cputune:\n  shares: 2048  # o.yaml:2\n");
	free(text);
	policy_file_free(f);
}

/* disks: per id; within a disk the total/read/write trio of one kind and level is one setting. */
TEST(disks_merge_per_id_then_trio)
{
	struct policy_file *a = parse("a.yaml", "disks:\n"
						"  - id: d0\n"
						"    total_bytes_sec: 50M\n"
						"    total_bytes_sec_max: 100M\n"
						"    read_iops_sec: 100\n"
						"    group: g\n"
						"  - { id: d1, total_iops_sec: 10 }\n");
	struct policy_file *b = parse("b.yaml", "disks:\n"
						"  - id: d0\n"
						"    read_bytes_sec: 10M\n"
						"    write_bytes_sec: 20M\n"
						"  - { id: d2, write_iops_sec: 5, group: h }\n");
	struct policy eff = {};
	struct diag_list diags = {};
	const struct disk_throttle *d0;
	char *text;

	ASSERT_OK(policy_merge(&eff, &a->docs[0]));
	ASSERT_OK(policy_merge(&eff, &b->docs[0]));
	ASSERT_EQ(eff.disks.n, 3);
	d0 = &eff.disks.items[0];
	ASSERT_STREQ(d0->id, "d0");
	ASSERT_FALSE(d0->limits[DISK_BYTES][DISK_TOTAL].rate.set);
	ASSERT_EQ_U64(disk_value(&d0->limits[DISK_BYTES][DISK_READ].rate), 10 << 20);
	ASSERT_STREQ(d0->limits[DISK_BYTES][DISK_WRITE].rate.origin.file, "b.yaml");
	ASSERT_EQ(d0->limits[DISK_BYTES][DISK_WRITE].rate.origin.line, 4);
	ASSERT_EQ_U64(disk_value(&d0->limits[DISK_IOPS][DISK_READ].rate), 100);
	ASSERT_STREQ(d0->group.value, "g");
	ASSERT_STREQ(d0->group.origin.file, "a.yaml");
	ASSERT_STREQ(eff.disks.items[2].id, "d2");
	/* The burst a.yaml gave the total rate b.yaml replaced now lacks its base: named. */
	ASSERT_OK(policy_check_effective(&eff, &diags));
	ASSERT_EQ(diags.n_errors, 1);
	text = diag_format(&diags.items[0]);
	ASSERT_STREQ(text, "a.yaml:4:26: error: disks[d0].total_bytes_sec_max: a burst needs its "
			   "base rate total_bytes_sec (allowed: total_bytes_sec_max only together "
			   "with total_bytes_sec)");
	free(text);
	diag_list_done(&diags);
	policy_done(&eff);
	policy_file_free(a);
	policy_file_free(b);
}

TEST(disks_group_needs_same_limits_across_files)
{
	struct policy_file *a =
		parse("a.yaml", "disks:\n  - { id: d0, total_iops_sec: 100, group: g }\n");
	struct policy_file *b =
		parse("b.yaml", "disks:\n  - { id: d1, total_iops_sec: 200, group: g }\n");
	struct policy_file *c = parse("c.yaml", "disks:\n  - { id: d1, total_iops_sec: 100 }\n");
	struct policy eff = {};
	struct diag_list diags = {};
	char *text;

	ASSERT_OK(policy_merge(&eff, &a->docs[0]));
	ASSERT_OK(policy_merge(&eff, &b->docs[0]));
	ASSERT_OK(policy_check_effective(&eff, &diags));
	ASSERT_EQ(diags.n_errors, 1);
	text = diag_format(&diags.items[0]);
	ASSERT_STREQ(text, "b.yaml:2:43: error: disks[d1].group: shares throttle group 'g' with "
			   "disk 'd0' (a.yaml:2) but not its limits (allowed: the same limits on "
			   "every disk of a group: QEMU keeps one set of limits per group)");
	free(text);
	diag_list_done(&diags);
	ASSERT_OK(policy_merge(&eff, &c->docs[0]));
	ASSERT_OK(policy_check_effective(&eff, &diags));
	ASSERT_EQ(diags.n_errors, 0);
	diag_list_done(&diags);
	policy_done(&eff);
	policy_file_free(a);
	policy_file_free(b);
	policy_file_free(c);
}

TEST(disks_dump_with_origins)
{
	struct policy_file *f =
		parse("o.yaml", "disks:\n"
				"  - { id: virtio-disk0, total_bytes_sec: 52428800,\n"
				"      read_iops_sec: 500, write_iops_sec: unlimited }\n");
	char *text = NULL;

	ASSERT_OK(policy_dump(&f->docs[0], true, &text));
	ASSERT_STREQ(text, "disks:\n"
			   "  - id: \"virtio-disk0\"  # o.yaml:2\n"
			   "    total_bytes_sec: \"50M\"  # o.yaml:2\n"
			   "    read_iops_sec: 500  # o.yaml:3\n"
			   "    write_iops_sec: unlimited  # o.yaml:3\n");
	free(text);
	policy_file_free(f);
}
