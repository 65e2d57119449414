/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup-read.h"
#include "cgroup-stats.h"
#include "macro.h"

static const char *const memory_event_names[_CG_MEM_EVENT_MAX] = {
	[CG_MEM_LOW] = "low", [CG_MEM_HIGH] = "high",	      [CG_MEM_MAX] = "max",
	[CG_MEM_OOM] = "oom", [CG_MEM_OOM_KILL] = "oom_kill",
};

const char *cg_memory_event_to_string(enum cg_memory_event e)
{
	return e < _CG_MEM_EVENT_MAX ? memory_event_names[e] : NULL;
}

/* A whole unsigned decimal number, nothing else: a malformed figure is absent, not 0. */
static int parse_u64(const char *s, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || (*end && *end != '\n' && *end != ' '))
		return -EINVAL;
	*ret = v;
	return 0;
}

/* $ cat cpu.stat                    $ cat memory.events
 * usage_usec 1841234                low 0
 * nr_periods 412                    high 0
 * nr_throttled 377                  max 12
 * throttled_usec 35123456           oom 0 ... */
int cg_parse_keyed(const char *text, const char *key, uint64_t *ret)
{
	size_t n = strlen(key);

	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		if (strncmp(l, key, n) == 0 && l[n] == ' ')
			return parse_u64(l + n + 1, ret);
	return -ENOENT;
}

static bool read_u64(int fd, const char *group, const char *file, uint64_t *ret)
{
	_cleanup_free_ char *s = NULL;

	return cgroup_read(fd, group, file, &s) >= 0 && parse_u64(s, ret) >= 0;
}

int cg_read_cpu_stats(int cpu_fd, int acct_fd, int version, const char *group,
		      struct cg_cpu_stats *ret)
{
	_cleanup_free_ char *stat = NULL;
	struct cg_cpu_stats c = {};
	uint64_t v;

	if (cgroup_read(cpu_fd, group, "cpu.stat", &stat) < 0)
		stat = NULL;
	if (version == 1)
		c.have_usage =
			acct_fd >= 0 && read_u64(acct_fd, group, "cpuacct.usage", &c.usage_ns);
	else if (stat && cg_parse_keyed(stat, "usage_usec", &v) >= 0) {
		c.usage_ns = v * 1000;
		c.have_usage = true;
	}
	if (stat && cg_parse_keyed(stat, "nr_periods", &c.nr_periods) >= 0 &&
	    cg_parse_keyed(stat, "nr_throttled", &c.nr_throttled) >= 0) {
		/* v1 counts nanoseconds, v2 microseconds */
		if (version == 1 && cg_parse_keyed(stat, "throttled_time", &v) >= 0)
			c.throttled_ns = v, c.have_throttling = true;
		else if (version == 2 && cg_parse_keyed(stat, "throttled_usec", &v) >= 0)
			c.throttled_ns = v * 1000, c.have_throttling = true;
	}
	*ret = c;
	return 0;
}

static void read_memory_events(int fd, int version, const char *group, struct cg_memory_stats *m)
{
	_cleanup_free_ char *s = NULL;

	if (version == 1) {
		/* $ cat memory.oom_control
		 * oom_kill_disable 0
		 * under_oom 0
		 * oom_kill 0 */
		if (cgroup_read(fd, group, "memory.oom_control", &s) >= 0)
			m->have_event[CG_MEM_OOM_KILL] =
				cg_parse_keyed(s, "oom_kill", &m->event[CG_MEM_OOM_KILL]) >= 0;
		return;
	}
	if (cgroup_read(fd, group, "memory.events", &s) < 0)
		return;
	for (int e = 0; e < _CG_MEM_EVENT_MAX; e++)
		m->have_event[e] = cg_parse_keyed(s, memory_event_names[e], &m->event[e]) >= 0;
}

int cg_read_memory_stats(int fd, int version, const char *group, struct cg_memory_stats *ret)
{
	struct cg_memory_stats m = {};
	uint64_t memsw;

	if (version == 1) {
		m.have_usage = read_u64(fd, group, "memory.usage_in_bytes", &m.usage);
		m.have_peak = read_u64(fd, group, "memory.max_usage_in_bytes", &m.peak);
		m.have_failcnt = read_u64(fd, group, "memory.failcnt", &m.failcnt);
		/* memsw counts memory and swap together; without swap accounting it is absent */
		if (m.have_usage && read_u64(fd, group, "memory.memsw.usage_in_bytes", &memsw)) {
			m.swap = memsw > m.usage ? memsw - m.usage : 0;
			m.have_swap = true;
		}
	} else {
		m.have_usage = read_u64(fd, group, "memory.current", &m.usage);
		m.have_peak = read_u64(fd, group, "memory.peak", &m.peak);
		m.have_swap = read_u64(fd, group, "memory.swap.current", &m.swap);
	}
	read_memory_events(fd, version, group, &m);
	*ret = m;
	return 0;
}

static struct cg_io_device_stats *device(struct cg_io_stats *s, size_t *allocated, unsigned major,
					 unsigned minor)
{
	FOREACH_ARRAY (d, s->devices, s->n)
		if (d->major == major && d->minor == minor)
			return d;
	if (GROW_ARRAY(s->devices, *allocated, s->n + 1) < 0)
		return NULL;
	s->devices[s->n] = (struct cg_io_device_stats){ .major = major, .minor = minor };
	return &s->devices[s->n++];
}

/* $ cat blkio.throttle.io_service_bytes_recursive
 * 8:0 Read 4096
 * 8:0 Write 0
 * 8:0 Sync 4096 ...
 * Total 4096 */
static int parse_v1(struct cg_io_stats *s, size_t *allocated, const char *text, bool bytes)
{
	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		unsigned major, minor;
		unsigned long long v;
		char op[16];
		struct cg_io_device_stats *d;

		if (sscanf(l, "%u:%u %15s %llu", &major, &minor, op, &v) != 4)
			continue; /* "Total N" */
		if (!streq(op, "Read") && !streq(op, "Write"))
			continue;
		d = device(s, allocated, major, minor);
		if (!d)
			return -ENOMEM;
		if (bytes) {
			*(streq(op, "Read") ? &d->rbytes : &d->wbytes) = v;
			d->have_bytes = true;
		} else {
			*(streq(op, "Read") ? &d->rios : &d->wios) = v;
			d->have_ios = true;
		}
	}
	return 0;
}

/* $ cat io.stat
 * 8:0 rbytes=90112 wbytes=0 rios=6 wios=0 dbytes=0 dios=0 */
static int parse_v2(struct cg_io_stats *s, size_t *allocated, const char *text)
{
	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		unsigned major, minor;
		unsigned long long rb, wb, ri, wi;
		struct cg_io_device_stats *d;

		if (sscanf(l, "%u:%u rbytes=%llu wbytes=%llu rios=%llu wios=%llu", &major, &minor,
			   &rb, &wb, &ri, &wi) != 6)
			continue;
		d = device(s, allocated, major, minor);
		if (!d)
			return -ENOMEM;
		*d = (struct cg_io_device_stats){ .major = major,
						  .minor = minor,
						  .have_bytes = true,
						  .have_ios = true,
						  .rbytes = rb,
						  .wbytes = wb,
						  .rios = ri,
						  .wios = wi };
	}
	return 0;
}

static char *read_first(int fd, const char *group, const char *a, const char *b)
{
	char *s = NULL;

	if (cgroup_read(fd, group, a, &s) >= 0 || cgroup_read(fd, group, b, &s) >= 0)
		return s;
	return NULL;
}

int cg_read_io_stats(int fd, int version, const char *group, struct cg_io_stats *ret)
{
	_cleanup_free_ char *bytes = NULL, *ios = NULL;
	struct cg_io_stats s = {};
	size_t allocated = 0;
	int r = 0;

	if (version == 2) {
		if (cgroup_read(fd, group, "io.stat", &bytes) >= 0)
			r = parse_v2(&s, &allocated, bytes);
	} else {
		/* The _recursive files count the group's children too (the non-recursive ones
		 * only its own tasks); older kernels have the plain ones only. */
		bytes = read_first(fd, group, "blkio.throttle.io_service_bytes_recursive",
				   "blkio.throttle.io_service_bytes");
		ios = read_first(fd, group, "blkio.throttle.io_serviced_recursive",
				 "blkio.throttle.io_serviced");
		if (bytes)
			r = parse_v1(&s, &allocated, bytes, true);
		if (r >= 0 && ios)
			r = parse_v1(&s, &allocated, ios, false);
	}
	if (r < 0) {
		cg_io_stats_done(&s);
		return r;
	}
	*ret = s;
	return 0;
}

/* $ cat cpu.pressure
 * some avg10=0.00 avg60=0.00 avg300=0.00 total=1234
 * full avg10=0.00 avg60=0.00 avg300=0.00 total=0 */
int cg_parse_psi(const char *text, struct cg_psi *ret)
{
	struct cg_psi p = {};

	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		const char *total = strstr(l, " total=");
		const char *nl = strchr(l, '\n');
		uint64_t v;

		if (!total || (nl && total > nl) || parse_u64(total + 7, &v) < 0)
			continue;
		if (strncmp(l, "some ", 5) == 0)
			p.some_ns = v * 1000, p.have_some = true;
		else if (strncmp(l, "full ", 5) == 0)
			p.full_ns = v * 1000, p.have_full = true;
	}
	*ret = p;
	return p.have_some || p.have_full ? 0 : -EINVAL;
}

int cg_read_psi(int fd, const char *group, const char *file, struct cg_psi *ret)
{
	_cleanup_free_ char *s = NULL;

	*ret = (struct cg_psi){};
	if (cgroup_read(fd, group, file, &s) < 0)
		return 0;
	(void)cg_parse_psi(s, ret);
	return 0;
}

void cg_io_stats_done(struct cg_io_stats *s)
{
	free(s->devices);
	*s = (struct cg_io_stats){};
}
