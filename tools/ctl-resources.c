/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The resource half of `kvmtunectl status`: what the VM's cgroups hold now (virsh schedinfo,
 * memtune, blkiotune, numatune) and where its memory sits (numastat -p), read back from the
 * kernel, whichever cgroup layout the host has.
 */

#include <json-c/json.h>
#include <string.h>

#include "assess.h"
#include "cgroup-read.h"
#include "ctl.h"
#include "numa-maps.h"
#include "size.h"

/* The VM's group for a controller, from /proc/PID[/task/TID]/cgroup. */
static int group_of(struct ctl_world *w, pid_t pid, pid_t tid, enum cgroup_controller c,
		    int *ret_fd, int *ret_version, char **ret_group)
{
	int r = cgroup_fs_controller(&w->cgroups, c, ret_fd, ret_version);

	if (r < 0)
		return r;
	return proc_read_cgroup(w->proc_fd, pid, tid,
				*ret_version == 1 ? cgroup_controller_v1_name(c) : NULL, ret_group);
}

/*
 * The group of the whole VM for controller c: where the process is, or, when that is one of the
 * VM's thread groups (its main thread is the emulator's: on v2, and on v1 where c shares cpu's
 * hierarchy), the VM group above it, which holds the VM's memory, io and numa values.
 */
static int vm_group_of(struct ctl_world *w, const struct vm *vm, const struct assessment *as,
		       enum cgroup_controller c, int *ret_fd, int *ret_version, char **ret_group)
{
	int r = group_of(w, vm->pid, 0, c, ret_fd, ret_version, ret_group);
	char *up;

	if (r < 0 || !as->vm_group || !cgroup_path_is_in(*ret_group, as->vm_group, true) ||
	    cgroup_path_is_in(*ret_group, as->vm_group, false))
		return r;
	if (asprintf(&up, "/%s", as->vm_group) < 0)
		return -ENOMEM;
	free(*ret_group);
	*ret_group = up;
	return r;
}

static const char *limit_text(uint64_t v, char buf[static SIZE_FORMAT_MAX])
{
	return v == CG_UNLIMITED ? "unlimited" : size_format(v, buf);
}

static struct json_object *json_limit(bool have, uint64_t v)
{
	if (!have)
		return NULL;
	return v == CG_UNLIMITED ? json_object_new_string("unlimited")
				 : json_object_new_int64((int64_t)v);
}

/* ---- schedinfo: one entry per cpu cgroup the VM's threads are in ---- */

struct sched_group {
	char *group;
	char roles[512];
	struct cg_cpu cpu;
	int version;
};

/* The VM's own group first, as virsh schedinfo shows the domain's values first. */
static size_t sched_groups(struct ctl_world *w, const struct vm *vm, const struct assessment *a,
			   struct sched_group *g, size_t max)
{
	size_t n = 0;
	int fd, version;

	/* "/parent/kvmtune-web.scope", as /proc/PID/cgroup has the thread groups */
	if (a->vm_group && cgroup_fs_controller(&w->cgroups, CGROUP_CPU, &fd, &version) >= 0 &&
	    asprintf(&g[0].group, "/%s", a->vm_group) >= 0) {
		g[0].version = version;
		snprintf(g[0].roles, sizeof(g[0].roles), "the VM");
		(void)cg_read_cpu(fd, version, g[0].group, &g[0].cpu);
		if (g[0].cpu.have_shares || g[0].cpu.have_weight || g[0].cpu.have_bandwidth)
			n = 1;
		else
			free(g[0].group); /* not made yet */
	}

	FOREACH_ARRAY (t, vm->threads, vm->n_threads) {
		_cleanup_free_ char *group = NULL;
		char role[160];
		size_t i;

		if (group_of(w, vm->pid, t->tid, CGROUP_CPU, &fd, &version, &group) < 0)
			continue;
		for (i = 0; i < n; i++)
			if (streq(g[i].group, group))
				break;
		if (i == n) {
			if (n == max)
				continue;
			g[n] = (struct sched_group){ .group = TAKE_PTR(group), .version = version };
			(void)cg_read_cpu(fd, version, g[n].group, &g[n].cpu);
			n++;
		}
		thread_role_format(t, role, sizeof(role));
		if (i == 0 && a->vm_group && streq(g[i].roles, "the VM"))
			g[i].roles[0] = '\0'; /* on v1 its own threads may be there, too */
		if (!strstr(g[i].roles, role) &&
		    strlen(g[i].roles) + strlen(role) + 3 < sizeof(g[i].roles))
			(void)snprintf(g[i].roles + strlen(g[i].roles),
				       sizeof(g[i].roles) - strlen(g[i].roles), "%s%s",
				       g[i].roles[0] ? ", " : "", role);
	}
	return n;
}

/* ---- memory per node ---- */

static void node_memory(struct ctl_world *w, const struct vm *vm, char *buf, size_t size,
			struct json_object *json)
{
	uint64_t bytes[NUMA_MAPS_NODES];
	int nodes = numa_maps_read(w->proc_fd, vm->pid, bytes);
	size_t len = 0;

	buf[0] = '\0';
	for (int n = 0; n < nodes && len < size; n++) {
		char s[SIZE_FORMAT_MAX], key[16];

		if (!bytes[n] && !cpuset_contains(&w->topo->nodes, (unsigned)n))
			continue;
		len += (size_t)snprintf(buf + len, size - len, "%snode%d %s", len ? ", " : "", n,
					size_format_human(bytes[n], s));
		(void)snprintf(key, sizeof(key), "%d", n);
		if (json)
			json_object_object_add(json, key, json_object_new_int64((int64_t)bytes[n]));
	}
}

static uint64_t rss_bytes(struct ctl_world *w, const struct vm *vm)
{
	_cleanup_free_ char *rss = NULL;

	if (proc_read_status_field(w->proc_fd, vm->pid, 0, "VmRSS", &rss) < 0)
		return 0;
	return strtoull(rss, NULL, 10) * 1024; /* "34120 kB" */
}

/* ---- numatune ---- */

/*
 * The policy's numatune and how it holds: strict and restrictive through cpuset.mems, the
 * launch-only modes (preferred, interleave) by the memory policy numa_maps shows. NULL: none.
 */
static char *numatune_text(struct ctl_world *w, const struct vm *vm, const struct assessment *a)
{
	_cleanup_free_ char *nodes = NULL, *in_force = NULL;
	const struct policy *p = &a->effective;
	enum numa_mode mode = p->numatune.mode.value;
	bool launch_only = mode == NUMA_MODE_PREFERRED || mode == NUMA_MODE_INTERLEAVE;
	const char *how;
	char *s;

	if (!p->numatune.mode.set)
		return NULL;
	if (p->numatune.placement.set && p->numatune.placement.value == NUMA_PLACEMENT_AUTO)
		nodes = strdup("auto (numad)");
	else
		nodes = p->numatune.nodeset.set ? cpuset_format(&p->numatune.nodeset.cpus) : NULL;
	if (!launch_only)
		how = "through cpuset.mems";
	else {
		(void)numa_maps_read_policy(w->proc_fd, vm->pid, &in_force);
		how = p->numatune.nodeset.set &&
				      numa_maps_policy_is(in_force, mode == NUMA_MODE_PREFERRED,
							  &p->numatune.nodeset.cpus)
			      ? "launch-only, in force since run"
			      : "launch-only, not in force: start the VM with kvmtunectl run";
	}
	if (asprintf(&s, "%s nodes %s (%s)", numa_mode_to_string(mode), nodes ?: "?", how) < 0)
		return NULL;
	return s;
}

/* ---- printing ---- */

void print_resources(struct ctl_world *w, const struct vm *vm, const struct assessment *as)
{
	struct sched_group g[32];
	size_t n = sched_groups(w, vm, as, g, ARRAY_SIZE(g));
	_cleanup_free_ char *mode = numatune_text(w, vm, as);
	_cleanup_free_ char *mgroup = NULL, *iogroup = NULL, *csgroup = NULL;
	char a[SIZE_FORMAT_MAX], b[SIZE_FORMAT_MAX], c[SIZE_FORMAT_MAX], d[SIZE_FORMAT_MAX];
	char nodes[512];
	int fd, version;

	printf("  schedinfo (cgroup %s):\n", cgroup_layout_to_string(w->cgroups.layout));
	for (size_t i = 0; i < n; i++) {
		const struct cg_cpu *cpu = &g[i].cpu;

		printf("    %-40s ", shown(g[i].group));
		if (cpu->have_shares)
			printf("shares %" PRIu64 "  ", cpu->shares);
		if (cpu->have_weight)
			printf("weight %" PRIu64 "  ", cpu->weight);
		if (cpu->have_bandwidth && cpu->quota == CG_UNLIMITED)
			printf("period %" PRIu64 " quota unlimited", cpu->period);
		else if (cpu->have_bandwidth)
			printf("period %" PRIu64 " quota %" PRIu64, cpu->period, cpu->quota);
		printf("   (%s)\n", shown(g[i].roles));
		free(g[i].group);
	}
	if (vm_group_of(w, vm, as, CGROUP_MEMORY, &fd, &version, &mgroup) >= 0) {
		struct cg_memory m;

		(void)cg_read_memory(fd, version, mgroup, &m);
		printf("  memtune (%s):\n    hard_limit %s  soft_limit %s  swap_hard_limit %s",
		       mgroup, m.have_limit ? limit_text(m.limit, a) : "-",
		       m.have_soft ? limit_text(m.soft, b) : "-",
		       m.have_swap ? limit_text(m.swap, c) : "-");
		if (version == 2)
			printf("  min_guarantee %s", m.have_min ? limit_text(m.min, d) : "-");
		printf("\n    cgroup usage %s  RSS %s\n",
		       m.have_usage ? size_format_human(m.usage, a) : "-",
		       size_format_human(rss_bytes(w, vm), b));
	}
	if (vm_group_of(w, vm, as, CGROUP_IO, &fd, &version, &iogroup) >= 0) {
		struct cg_io io;

		(void)cg_read_io(fd, version, iogroup, &io);
		printf("  blkiotune (%s):\n    weight ", iogroup);
		if (io.have_weight)
			printf("%" PRIu64 "%s\n", io.weight, io.bfq ? " (bfq)" : "");
		else
			printf("- (no weight file: the devices' scheduler is not bfq)\n");
		for (char *line = io.devices, *nl; line && *line; line = nl ? nl + 1 : NULL) {
			nl = strchr(line, '\n');
			printf("    %.*s\n", nl ? (int)(nl - line) : (int)strlen(line), line);
		}
		cg_io_done(&io);
	}
	if (vm_group_of(w, vm, as, CGROUP_CPUSET, &fd, &version, &csgroup) >= 0) {
		struct cg_cpuset cs;

		(void)cg_read_cpuset(fd, version, csgroup, &cs);
		printf("  numatune (%s):\n    mode %s\n    cpuset.mems %s  cpuset.cpus %s\n",
		       csgroup, mode ?: "not set (memory from any node)", cs.mems ?: "-",
		       cs.cpus ?: "-");
		cg_cpuset_done(&cs);
	}
	node_memory(w, vm, nodes, sizeof(nodes), NULL);
	printf("    memory per node: %s\n", nodes[0] ? nodes : "unknown");
}

/* ---- JSON ---- */

void resources_json(struct ctl_world *w, const struct vm *vm, const struct assessment *as,
		    struct json_object *o)
{
	struct sched_group g[32];
	size_t n = sched_groups(w, vm, as, g, ARRAY_SIZE(g));
	_cleanup_free_ char *mode = numatune_text(w, vm, as);
	_cleanup_free_ char *mgroup = NULL, *iogroup = NULL, *csgroup = NULL;
	struct json_object *a = json_object_new_array(), *j;
	char nodes[512];
	int fd, version;

	json_object_object_add(o, "cgroup_layout",
			       json_object_new_string(cgroup_layout_to_string(w->cgroups.layout)));
	for (size_t i = 0; i < n; i++) {
		j = json_object_new_object();
		json_object_object_add(j, "cgroup", json_object_new_string(g[i].group));
		json_object_object_add(j, "roles", json_object_new_string(g[i].roles));
		if (g[i].cpu.have_shares)
			json_object_object_add(j, "shares",
					       json_object_new_int64((int64_t)g[i].cpu.shares));
		if (g[i].cpu.have_weight)
			json_object_object_add(j, "weight",
					       json_object_new_int64((int64_t)g[i].cpu.weight));
		if (g[i].cpu.have_bandwidth) {
			json_object_object_add(j, "period",
					       json_object_new_int64((int64_t)g[i].cpu.period));
			json_object_object_add(j, "quota", json_limit(true, g[i].cpu.quota));
		}
		json_object_array_add(a, j);
		free(g[i].group);
	}
	json_object_object_add(o, "schedinfo", a);
	if (vm_group_of(w, vm, as, CGROUP_MEMORY, &fd, &version, &mgroup) >= 0) {
		struct cg_memory m;

		(void)cg_read_memory(fd, version, mgroup, &m);
		j = json_object_new_object();
		json_object_object_add(j, "cgroup", json_object_new_string(mgroup));
		json_object_object_add(j, "hard_limit", json_limit(m.have_limit, m.limit));
		json_object_object_add(j, "soft_limit", json_limit(m.have_soft, m.soft));
		json_object_object_add(j, "swap_hard_limit", json_limit(m.have_swap, m.swap));
		json_object_object_add(j, "min_guarantee", json_limit(m.have_min, m.min));
		json_object_object_add(j, "usage", json_limit(m.have_usage, m.usage));
		json_object_object_add(j, "rss", json_object_new_int64((int64_t)rss_bytes(w, vm)));
		json_object_object_add(o, "memtune", j);
	}
	if (vm_group_of(w, vm, as, CGROUP_IO, &fd, &version, &iogroup) >= 0) {
		struct cg_io io;

		(void)cg_read_io(fd, version, iogroup, &io);
		j = json_object_new_object();
		json_object_object_add(j, "cgroup", json_object_new_string(iogroup));
		json_object_object_add(j, "weight", json_limit(io.have_weight, io.weight));
		json_object_object_add(j, "bfq", json_object_new_boolean(io.bfq));
		json_object_object_add(j, "devices",
				       io.devices ? json_object_new_string(io.devices) : NULL);
		json_object_object_add(o, "blkiotune", j);
		cg_io_done(&io);
	}
	j = json_object_new_object();
	json_object_object_add(j, "mode", mode ? json_object_new_string(mode) : NULL);
	if (vm_group_of(w, vm, as, CGROUP_CPUSET, &fd, &version, &csgroup) >= 0) {
		struct cg_cpuset cs;

		(void)cg_read_cpuset(fd, version, csgroup, &cs);
		json_object_object_add(j, "cgroup", json_object_new_string(csgroup));
		json_object_object_add(j, "mems", cs.mems ? json_object_new_string(cs.mems) : NULL);
		cg_cpuset_done(&cs);
	}
	a = json_object_new_object();
	node_memory(w, vm, nodes, sizeof(nodes), a);
	json_object_object_add(j, "memory_per_node", a);
	json_object_object_add(o, "numatune", j);
}
