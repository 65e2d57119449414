/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup-read.h"
#include "macro.h"
#include "metrics.h"

#define FAMILY(var, n, t, u, h) static const struct om_family var = { n, t, u, h }

FAMILY(vm_info, "kvmtune_vm", OM_INFO, NULL, "A QEMU VM kvmtune sees (labels: who it is)");
FAMILY(threads, "kvmtune_group_threads", OM_GAUGE, NULL, "The VM's threads in the group now");
FAMILY(cpu_usage, "kvmtune_cpu_usage_seconds", OM_COUNTER, "seconds",
       "CPU time the group's threads used since the group was made");
FAMILY(cpu_periods, "kvmtune_cpu_periods", OM_COUNTER, NULL,
       "Enforcement periods in which the group ran under its CPU quota (cpu.stat nr_periods)");
FAMILY(cpu_throttled_periods, "kvmtune_cpu_throttled_periods", OM_COUNTER, NULL,
       "Periods in which the group used up its quota and had to wait (cpu.stat nr_throttled)");
FAMILY(cpu_throttled, "kvmtune_cpu_throttled_seconds", OM_COUNTER, "seconds",
       "Time the group was throttled, summed over CPUs (cpu.stat throttled_time, "
       "throttled_usec)");
FAMILY(cpu_quota, "kvmtune_cpu_quota_seconds", OM_GAUGE, "seconds",
       "CPU time the group may use per period (absent without a quota)");
FAMILY(cpu_period, "kvmtune_cpu_period_seconds", OM_GAUGE, "seconds",
       "The length of the group's enforcement period (absent without a quota)");
FAMILY(cpu_some, "kvmtune_pressure_cpu_waiting_seconds", OM_COUNTER, "seconds",
       "Time some of the group's threads waited for a CPU (cpu.pressure some total)");
FAMILY(cpu_full, "kvmtune_pressure_cpu_stalled_seconds", OM_COUNTER, "seconds",
       "Time all of the group's threads waited for a CPU (cpu.pressure full total)");
FAMILY(mem_usage, "kvmtune_memory_usage_bytes", OM_GAUGE, "bytes",
       "Memory charged to the VM group (memory.usage_in_bytes, memory.current)");
FAMILY(mem_peak, "kvmtune_memory_peak_bytes", OM_GAUGE, "bytes",
       "The most memory ever charged to the VM group (memory.max_usage_in_bytes, memory.peak)");
FAMILY(mem_swap, "kvmtune_memory_swap_bytes", OM_GAUGE, "bytes",
       "Swap used by the VM group (memory.memsw.usage_in_bytes less usage, "
       "memory.swap.current)");
FAMILY(mem_limit, "kvmtune_memory_limit_bytes", OM_GAUGE, "bytes",
       "The VM group's memory limits by policy key (absent when unlimited)");
FAMILY(mem_failcnt, "kvmtune_memory_limit_hits", OM_COUNTER, NULL,
       "Times the VM group's memory usage hit its limit (v1 memory.failcnt)");
FAMILY(mem_events, "kvmtune_memory_events", OM_COUNTER, NULL,
       "memory.events of the VM group (v1: oom_kill from memory.oom_control)");
FAMILY(mem_elsewhere, "kvmtune_memory_charged_elsewhere_bytes", OM_GAUGE, "bytes",
       "At least this much of the VM's anonymous memory is charged to another group (it "
       "was moved in: memory does not move with a task); absent when not known");
FAMILY(mem_some, "kvmtune_pressure_memory_waiting_seconds", OM_COUNTER, "seconds",
       "Time some of the VM's threads waited for memory (memory.pressure some total)");
FAMILY(mem_full, "kvmtune_pressure_memory_stalled_seconds", OM_COUNTER, "seconds",
       "Time all of the VM's threads waited for memory (memory.pressure full total)");
FAMILY(io_rbytes, "kvmtune_io_read_bytes", OM_COUNTER, "bytes", "Bytes the VM read from device");
FAMILY(io_wbytes, "kvmtune_io_written_bytes", OM_COUNTER, "bytes", "Bytes the VM wrote to device");
FAMILY(io_rios, "kvmtune_io_reads", OM_COUNTER, NULL, "Read operations of the VM on device");
FAMILY(io_wios, "kvmtune_io_writes", OM_COUNTER, NULL, "Write operations of the VM on device");
FAMILY(io_some, "kvmtune_pressure_io_waiting_seconds", OM_COUNTER, "seconds",
       "Time some of the VM's threads waited for I/O (io.pressure some total)");
FAMILY(io_full, "kvmtune_pressure_io_stalled_seconds", OM_COUNTER, "seconds",
       "Time all of the VM's threads waited for I/O (io.pressure full total)");

static const struct om_family *const vm_families[] = {
	&vm_info,	&threads,	&cpu_usage,  &cpu_periods, &cpu_throttled_periods,
	&cpu_throttled, &cpu_quota,	&cpu_period, &cpu_some,	   &cpu_full,
	&mem_usage,	&mem_peak,	&mem_swap,   &mem_limit,   &mem_failcnt,
	&mem_events,	&mem_elsewhere, &mem_some,   &mem_full,	   &io_rbytes,
	&io_wbytes,	&io_rios,	&io_wios,    &io_some,	   &io_full,
};

void metrics_declare_vms(struct om_writer *w)
{
	for (size_t i = 0; i < ARRAY_SIZE(vm_families); i++)
		om_declare(w, vm_families[i]);
}

static double seconds(uint64_t ns)
{
	return (double)ns / 1e9;
}

static void add_psi(struct om_writer *w, const struct om_family *some, const struct om_family *full,
		    const char *const *l, const struct cg_psi *p)
{
	if (p->have_some)
		om_add_double(w, some, l, seconds(p->some_ns));
	if (p->have_full)
		om_add_double(w, full, l, seconds(p->full_ns));
}

static void add_group(struct om_writer *w, const struct vm *vm, const struct effect_group *g)
{
	const char *const l[] = {
		"vm", vm->name, "uuid", vm->cmdline.uuid, "group", g->label, NULL
	};
	const struct cg_cpu_stats *c = &g->cpu;

	om_add_u64(w, &threads, l, g->n_threads);
	if (c->have_usage)
		om_add_double(w, &cpu_usage, l, seconds(c->usage_ns));
	if (c->have_throttling) {
		om_add_u64(w, &cpu_periods, l, c->nr_periods);
		om_add_u64(w, &cpu_throttled_periods, l, c->nr_throttled);
		om_add_double(w, &cpu_throttled, l, seconds(c->throttled_ns));
	}
	if (g->limits.have_bandwidth && g->limits.quota != CG_UNLIMITED) {
		om_add_double(w, &cpu_quota, l, (double)g->limits.quota / 1e6);
		om_add_double(w, &cpu_period, l, (double)g->limits.period / 1e6);
	}
	add_psi(w, &cpu_some, &cpu_full, l, &g->pressure);
}

static void add_limit(struct om_writer *w, const struct vm *vm, const char *key, bool have,
		      uint64_t v)
{
	const char *const l[] = { "vm",	   vm->name, "uuid", vm->cmdline.uuid, "group", "vm",
				  "limit", key,	     NULL };

	if (have && v != CG_UNLIMITED)
		om_add_u64(w, &mem_limit, l, v);
}

static void add_memory(struct om_writer *w, const struct vm *vm, const struct vm_effect *e)
{
	const char *const l[] = { "vm", vm->name, "uuid", vm->cmdline.uuid, "group", "vm", NULL };
	const struct cg_memory_stats *m = &e->memory;
	const struct cg_memory *lim = &e->memory_limits;

	if (m->have_usage)
		om_add_u64(w, &mem_usage, l, m->usage);
	if (m->have_peak)
		om_add_u64(w, &mem_peak, l, m->peak);
	if (m->have_swap)
		om_add_u64(w, &mem_swap, l, m->swap);
	add_limit(w, vm, "hard_limit", lim->have_limit, lim->limit);
	add_limit(w, vm, "soft_limit", lim->have_soft, lim->soft);
	add_limit(w, vm, "swap_hard_limit", lim->have_swap, lim->swap);
	add_limit(w, vm, "min_guarantee", lim->have_min, lim->min);
	if (m->have_failcnt)
		om_add_u64(w, &mem_failcnt, l, m->failcnt);
	for (int i = 0; i < _CG_MEM_EVENT_MAX; i++) {
		const char *const el[] = { "vm",    vm->name, "uuid",  vm->cmdline.uuid,
					   "group", "vm",     "event", cg_memory_event_to_string(i),
					   NULL };

		if (m->have_event[i])
			om_add_u64(w, &mem_events, el, m->event[i]);
	}
	if (e->charged_elsewhere)
		om_add_u64(w, &mem_elsewhere, l, e->elsewhere_bytes);
	add_psi(w, &mem_some, &mem_full, l, &e->memory_pressure);
}

static void add_io(struct om_writer *w, const struct vm *vm, const struct vm_effect *e)
{
	const char *const vl[] = { "vm", vm->name, "uuid", vm->cmdline.uuid, "group", "vm", NULL };

	FOREACH_ARRAY (d, e->io.devices, e->io.n) {
		char dev[32];
		const char *const l[] = { "vm",	   vm->name, "uuid",   vm->cmdline.uuid,
					  "group", "vm",     "device", dev,
					  NULL };

		(void)snprintf(dev, sizeof(dev), "%u:%u", d->major, d->minor);
		if (d->have_bytes) {
			om_add_u64(w, &io_rbytes, l, d->rbytes);
			om_add_u64(w, &io_wbytes, l, d->wbytes);
		}
		if (d->have_ios) {
			om_add_u64(w, &io_rios, l, d->rios);
			om_add_u64(w, &io_wios, l, d->wios);
		}
	}
	add_psi(w, &io_some, &io_full, vl, &e->io_pressure);
}

void metrics_add_vm(struct om_writer *w, const struct vm *vm, const struct vm_effect *e)
{
	char pid[16];
	const char *const info[] = { "vm", vm->name, "uuid", vm->cmdline.uuid, "pid", pid, NULL };

	(void)snprintf(pid, sizeof(pid), "%d", (int)vm->pid);
	om_add_u64(w, &vm_info, info, 1);
	FOREACH_ARRAY (g, e->groups, e->n_groups)
		add_group(w, vm, g);
	if (e->memory_group)
		add_memory(w, vm, e);
	if (e->io_group)
		add_io(w, vm, e);
}

/* ---- kvmtuned ---- */

static const char *const revert_names[_REVERT_KIND_MAX] = {
	[REVERT_VALUE] = "value",
	[REVERT_PLACEMENT] = "placement",
	[REVERT_AFFINITY] = "affinity",
	[REVERT_SCHEDULER] = "scheduler",
};

const char *revert_kind_to_string(enum revert_kind k)
{
	return k < _REVERT_KIND_MAX ? revert_names[k] : NULL;
}

/* From a thread's rename (when it says what it is) to its placement: a loaded host's
 * milliseconds to a missed event's rescan. */
static const double placement_bounds[PLACEMENT_BUCKETS] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 10, 60,
};

void daemon_counters_placed(struct daemon_counters *c, double seconds)
{
	size_t i = 0;

	while (i < PLACEMENT_BUCKETS && seconds > placement_bounds[i])
		i++;
	c->placed[i]++;
	c->placed_sum += seconds;
}

FAMILY(d_vms, "kvmtune_daemon_vms", OM_GAUGE, NULL, "VMs kvmtuned enforces now");
FAMILY(d_threads, "kvmtune_daemon_threads", OM_GAUGE, NULL, "Threads of those VMs");
FAMILY(d_errors, "kvmtune_daemon_enforcement_errors", OM_COUNTER, NULL,
       "Enforcement steps that failed since kvmtuned started");
FAMILY(d_reverts, "kvmtune_daemon_drift_reverts", OM_COUNTER, NULL,
       "Changes by others that kvmtuned put back, by kind (value, placement, affinity, "
       "scheduler)");
FAMILY(d_events, "kvmtune_daemon_process_events", OM_COUNTER, NULL,
       "Process events (exec, fork, rename, exit) kvmtuned handled");
FAMILY(d_passes, "kvmtune_daemon_full_passes", OM_COUNTER, NULL,
       "Full passes over every VM (start, rescans, reloads)");
FAMILY(d_last_pass, "kvmtune_daemon_last_full_pass_duration_seconds", OM_GAUGE, "seconds",
       "How long the last full pass took");
FAMILY(d_placed, "kvmtune_daemon_thread_placement_seconds", OM_HISTOGRAM, "seconds",
       "From a new thread's rename to its placement in its group");
FAMILY(d_start, "kvmtune_daemon_start_time_seconds", OM_GAUGE, "seconds",
       "When kvmtuned started, in seconds since the epoch");

void metrics_add_daemon(struct om_writer *w, const struct daemon_counters *c)
{
	om_add_u64(w, &d_vms, NULL, c->vms);
	om_add_u64(w, &d_threads, NULL, c->threads);
	om_add_u64(w, &d_errors, NULL, c->errors);
	for (int k = 0; k < _REVERT_KIND_MAX; k++)
		om_add_u64(w, &d_reverts, (const char *const[]){ "kind", revert_names[k], NULL },
			   c->reverts[k]);
	om_add_u64(w, &d_events, NULL, c->events);
	om_add_u64(w, &d_passes, NULL, c->passes);
	if (c->have_last_pass)
		om_add_double(w, &d_last_pass, NULL, c->last_pass_seconds);
	om_add_histogram(w, &d_placed, NULL, placement_bounds, c->placed, PLACEMENT_BUCKETS,
			 c->placed_sum);
	om_add_double(w, &d_start, NULL, c->start_time);
}

int metrics_write_file(const char *path, const char *text)
{
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -EBADF;
	size_t len = strlen(text);
	const char *base;

	base = strrchr(path, '/');
	/* node_exporter reads *.prom only: the temporary name is not one of them */
	if (asprintf(&tmp, "%.*s.%s.tmp", base ? (int)(base - path + 1) : 0, path,
		     base ? base + 1 : path) < 0)
		return -ENOMEM;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0644) < 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) < 0 ||
	    rename(tmp, path) < 0) {
		int r = -errno ?: -EIO;

		(void)unlink(tmp);
		return r;
	}
	return 0;
}
