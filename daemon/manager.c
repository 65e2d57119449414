/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <fnmatch.h>
#include <signal.h>
#include <string.h>
#include <sys/statvfs.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "apply-report.h"
#include "cgroup-mounts.h"
#include "cgrules.h"
#include "host-facts.h"
#include "log.h"
#include "manager.h"
#include "passed-sockets.h"
#include "proc-events.h"
#include "qmp-watch.h"
#include "unit-name.h"

#define SETTLE_USEC (50 * 1000) /* after a thread appears: time to rename itself */
/* Event-driven passes that may wait for a VM's QMP (its disks) between two full passes: a VM
 * owner who renames threads all the time and keeps the monitor silent costs this many deadlines
 * per rescan interval, not one per event. */
#define DISK_TRIES 3
/* A VM just started may not serve QMP yet (its socket missing, or silent while QEMU sets the
 * machine up): its disks are tried again every second, this many times, after the last event. */
#define DISK_RETRIES	10
#define DISK_RETRY_USEC (1000 * 1000)

/* ---- reporting what enforcement did ---- */

struct pass {
	struct manager *m;
	const char *vm;
	pid_t pid;
	bool drift; /* a rescan: anything changed was someone else's change */
	bool full;  /* a pass over every VM (start, reload, rescan), not one driven by events */
	unsigned disk_failures, disk_timeouts;
};

static void report(void *userdata, const struct action *a, enum apply_outcome o, const char *old,
		   int error, const char *detail)
{
	struct pass *p = userdata;
	char origin[512] = "";

	p->disk_failures += a->kind == ACTION_DISK_THROTTLE && o == APPLY_FAILED;
	p->disk_timeouts += a->kind == ACTION_DISK_THROTTLE && error == -ETIMEDOUT;
	struct log_about about = { .vm = p->vm, .pid = p->pid, .policy = origin };
	_cleanup_free_ char *text = NULL;
	int priority = LOG_INFO;

	if (o == APPLY_WARNING && p->drift)
		return; /* said when the VM was first enforced and at each reload; not every rescan
			 */
	text = apply_describe(a, o, old, error, detail, p->drift);
	if (!text)
		return;
	if (a->origin)
		(void)snprintf(origin, sizeof(origin), "%s:%u", a->origin->file, a->origin->line);
	if (o == APPLY_DONE) {
		bool value = a->kind == ACTION_WRITE || a->kind == ACTION_UNIT_WRITE ||
			     a->kind == ACTION_AFFINITY || a->kind == ACTION_SCHEDULER ||
			     a->kind == ACTION_DISK_THROTTLE;
		bool move = a->kind == ACTION_ATTACH_THREAD || a->kind == ACTION_ATTACH_PROCESS;

		p->m->changes++;
		if (p->drift && (value || move))
			p->m->counters.reverts[move			     ? REVERT_PLACEMENT
					       : a->kind == ACTION_AFFINITY  ? REVERT_AFFINITY
					       : a->kind == ACTION_SCHEDULER ? REVERT_SCHEDULER
									     : REVERT_VALUE]++;
		/* Someone else's change undone is news; a thread moved in at its birth is not. */
		priority = p->drift && (value || move) ? LOG_NOTICE
			   : value || a->kind == ACTION_SCOPE || a->kind == ACTION_MACHINE
				   ? LOG_INFO
				   : LOG_DEBUG;
	} else if (o == APPLY_FAILED && a->kind == ACTION_DISK_THROTTLE &&
		   (error == -ENOENT || error == -EAGAIN) && !p->full) {
		/* A VM just started has no QMP socket yet, or another client has it for a moment;
		 * the retries follow, and a full pass says it if it stays so. */
		priority = LOG_INFO;
	} else if (o == APPLY_FAILED) {
		p->m->failures++;
		p->m->counters.errors++;
		priority = LOG_ERR;
	} else
		priority = o == APPLY_WARNING ? LOG_WARNING : LOG_NOTICE;
	log_about(priority, &about, "%s", text);
}

static void enforcer_for(struct manager *m, struct pass *p, struct enforcer *e)
{
	*e = (struct enforcer){
		.policies = &m->policies,
		.host = &m->host,
		.cgroups = &m->cgroups,
		.proc_fd = m->proc_fd,
		.sys_fd = m->sys_fd,
		.slice = m->backend == BACKEND_SYSTEMD ? m->settings.cgroup_parent.value : NULL,
		.bus = m->bus,
		.runtime_dir = m->runtime_dir,
		.report = report,
		.userdata = p,
	};
}

/* STATUS= for systemctl status; sent only when it says something new. */
static void notify_status(struct manager *m)
{
	char status[sizeof(m->last_status)];

	(void)snprintf(status, sizeof(status),
		       "STATUS=%zu VM(s), %zu thread(s) enforced; %u error(s) in the last pass",
		       m->n_vms, m->n_threads, m->failures);
	if (streq(status, m->last_status))
		return;
	(void)sd_notify(0, status);
	memcpy(m->last_status, status, sizeof(status));
}

/* ---- the VMs we know ---- */

struct tracked_vm *manager_find_vm(struct manager *m, pid_t pid)
{
	size_t i;

	return pid_map_get(&m->vm_index, pid, &i) && i < m->n_vms ? &m->vms[i] : NULL;
}

static void forget_effective(struct tracked_vm *t)
{
	if (t->have_effective)
		policy_done(&t->effective);
	t->effective = (struct policy){};
	t->have_effective = false;
}

void manager_forget_effective(struct manager *m)
{
	FOREACH_ARRAY (t, m->vms, m->n_vms)
		forget_effective(t);
}

static void tracked_done(struct tracked_vm *t)
{
	vm_done(&t->vm);
	qmp_info_done(&t->qmp);
	forget_effective(t);
	free(t->group);
	free(t->renamed);
	free(t->forks);
	*t = (struct tracked_vm){};
}

/* The last VM moves into i: the index follows. */
static void drop_vm(struct manager *m, size_t i)
{
	(void)pid_map_remove(&m->vm_index, m->vms[i].vm.pid);
	m->n_threads -= m->vms[i].vm.n_threads;
	tracked_done(&m->vms[i]);
	m->vms[i] = m->vms[--m->n_vms];
	if (i < m->n_vms)
		(void)pid_map_put(&m->vm_index, m->vms[i].vm.pid, i);
}

void manager_mark_dirty(struct manager *m, struct tracked_vm *t)
{
	if (!t->dirty && GROW_ARRAY(m->dirty, m->allocated_dirty, m->n_dirty + 1) >= 0)
		m->dirty[m->n_dirty++] = t->vm.pid;
	/* Out of memory: it stays marked and the next rescan enforces it. */
	t->dirty = true;
	manager_schedule_work(m);
}

/* Clock ticks since boot: what /proc/uptime says, without reading /proc (ProcSubset=pid). */
static uint64_t boot_ticks(void)
{
	struct timespec ts;
	long hz = sysconf(_SC_CLK_TCK);

	if (clock_gettime(CLOCK_BOOTTIME, &ts) < 0 || hz <= 0)
		return 0;
	return (uint64_t)ts.tv_sec * (uint64_t)hz +
	       (uint64_t)ts.tv_nsec * (uint64_t)hz / 1000000000;
}

/* Discovery never asks QMP here: qmp-watch.c does, without waiting in the loop. */
static struct discover_opts discover_opts(struct manager *m)
{
	return (struct discover_opts){
		.boot_ticks = boot_ticks(),
		.proc_fd = m->proc_fd,
		.qemu_binaries = m->settings.qemu_binaries,
		.n_qemu_binaries = m->settings.n_qemu_binaries,
		.skip_managed = m->settings.skip_managed.value,
	};
}

static struct rename *renamed(struct tracked_vm *t, pid_t tid)
{
	for (size_t i = 0; i < t->n_renamed; i++)
		if (t->renamed[i].tid == tid)
			return &t->renamed[i];
	return NULL;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

/* How long after its rename each renamed thread (tid, or any: 0) was in place (debug; the
 * benchmark reads it; the metrics' histogram counts it). */
static void log_placed_thread(struct manager *m, struct tracked_vm *t, pid_t tid)
{
	uint64_t now = now_ns();

	FOREACH_ARRAY (r, t->renamed, t->n_renamed) {
		char role[160] = "?";

		if (!r->at_ns || (tid && r->tid != tid))
			continue;
		FOREACH_ARRAY (th, t->vm.threads, t->vm.n_threads)
			if (th->tid == r->tid)
				thread_role_format(th, role, sizeof(role));
		log_about(LOG_DEBUG, &(struct log_about){ .vm = t->vm.name, .pid = t->vm.pid },
			  "placed %s (tid %d) %.3f ms after its rename", role, (int)r->tid,
			  (double)(now - r->at_ns) / 1e6);
		daemon_counters_placed(&m->counters, (double)(now - r->at_ns) / 1e9);
		r->at_ns = 0;
	}
}

static void log_placed(struct manager *m, struct tracked_vm *t)
{
	log_placed_thread(m, t, 0);
}

/*
 * Looks at a VM again, quickly: threads seen renaming themselves are trusted by name at once,
 * and QMP's last answer while it is for the threads there are.
 */
static int refresh(struct manager *m, struct tracked_vm *t)
{
	struct discover_opts o = discover_opts(m);
	struct vm fresh;
	int r = discover_vm(&o, t->vm.pid, &fresh);

	if (r <= 0)
		return r == 0 ? -ESRCH : r;
	if (fresh.starttime != t->vm.starttime) {
		vm_done(&fresh);
		return -ESRCH; /* the pid was reused */
	}
	FOREACH_ARRAY (th, fresh.threads, fresh.n_threads)
		if (renamed(t, th->tid))
			th->young = false;
	m->n_threads += fresh.n_threads - t->vm.n_threads;
	vm_done(&t->vm);
	t->vm = fresh;
	r = discover_classify(&t->vm, NULL);
	return r < 0 ? r : qmp_watch_classify(m, t);
}

/* The VMs known now, as enforce_vm takes them (to keep same-name VMs apart). Caller frees. */
static const struct vm **vm_list(struct manager *m)
{
	const struct vm **v = calloc(m->n_vms + 1, sizeof(*v));

	for (size_t i = 0; v && i < m->n_vms; i++)
		v[i] = &m->vms[i].vm;
	return v;
}

/* After a pass: whether t's disks are in place, and if not, when to try again. */
static void disks_tried(struct manager *m, struct tracked_vm *t, const struct pass *p, bool skipped)
{
	if (!skipped)
		t->disks_done = p->disk_failures == 0;
	/* Only a wait counts: a socket not there yet (QEMU starting) fails at once. */
	t->disk_timeouts = p->full ? 0 : t->disk_timeouts + (p->disk_timeouts > 0);
	if (p->full || t->disks_done)
		t->disk_retries = 0;
	if (skipped || t->disks_done || t->disk_retries >= DISK_RETRIES ||
	    t->disk_timeouts >= DISK_TRIES)
		return;
	t->disk_retry = true;
	(void)sd_event_source_set_time_relative(m->disk_retry_source, DISK_RETRY_USEC);
	(void)sd_event_source_set_enabled(m->disk_retry_source, SD_EVENT_ONESHOT);
}

static int on_disk_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct manager *m = userdata;

	FOREACH_ARRAY (t, m->vms, m->n_vms)
		if (t->disk_retry) {
			t->disk_retry = false;
			t->disk_retries++;
			manager_mark_dirty(m, t);
		}
	return 0;
}

static int enforce_tracked(struct manager *m, struct tracked_vm *t, bool drift,
			   const struct vm *const *all, size_t n_all)
{
	struct pass p = {
		.m = m, .vm = t->vm.name, .pid = t->vm.pid, .drift = drift, .full = all != NULL
	};
	_cleanup_(diag_list_done) struct diag_list diags = {};
	_cleanup_(enforce_result_done) struct enforce_result res = {};
	_cleanup_(enforcer_done) struct enforcer e = {};
	_cleanup_free_ const struct vm **known = all ? NULL : vm_list(m);
	int r;

	if (!all && !known)
		return -ENOMEM;
	enforcer_for(m, &p, &e);
	e.vms = all ?: known;
	e.n_vms = all ? n_all : m->n_vms;
	/* Full passes (all) do the disks always; the others until they are in place. */
	e.skip_disks = !all && (t->disks_done || t->disk_timeouts >= DISK_TRIES);
	r = enforce_vm(&e, &t->vm, &diags, &res);
	if (r < 0)
		return r;
	disks_tried(m, t, &p, e.skip_disks);
	if (res.group_taken_by) {
		/* Said once per VM, not at every pass. */
		if (!t->refused)
			log_about(
				LOG_ERR, &(struct log_about){ .vm = t->vm.name, .pid = t->vm.pid },
				"not enforced: VM pid %d (uid %u) has the same name and its group "
				"(two VMs never share a group: give this one its own -name)",
				(int)res.group_taken_by->pid, (unsigned)res.group_taken_by->uid);
		t->refused = true;
		m->failures++;
		m->counters.errors++;
		t->dirty = false;
		return 0;
	}
	t->refused = false;
	if (res.rule_broken) {
		FOREACH_ARRAY (d, diags.items, diags.n) {
			_cleanup_free_ char *text = diag_format(d);

			log_about(LOG_ERR,
				  &(struct log_about){ .vm = t->vm.name, .pid = t->vm.pid },
				  "%s; not enforced", text ?: "?");
		}
		m->failures++;
		m->counters.errors++;
	}
	if (res.vm_group && !t->group) {
		t->group = TAKE_PTR(res.vm_group);
		/* cgrulesengd, if it runs, must not pull the VM out again (cgrules.h) */
		r = cgrules_keep(t->vm.pid);
		if (r < 0)
			log_about(LOG_WARNING,
				  &(struct log_about){ .vm = t->vm.name, .pid = t->vm.pid },
				  "cgrulesengd did not take the VM as unchanged (libcgroup error "
				  "%d): "
				  "a rule of %s may move it",
				  -r, CGRULES_CONF);
	}
	forget_effective(t);
	if (!res.no_policy && !res.rule_broken && !res.ended) {
		t->effective = res.effective; /* the fast path places renamed threads from it */
		res.effective = (struct policy){};
		t->have_effective = true;
	}
	t->dirty = false;
	return res.ended ? -ESRCH : 0;
}

int manager_enforce_thread(struct manager *m, struct tracked_vm *t, pid_t tid,
			   struct apply_stats *stats)
{
	struct pass p = { .m = m, .vm = t->vm.name, .pid = t->vm.pid };
	_cleanup_(enforcer_done) struct enforcer e = {};

	enforcer_for(m, &p, &e);
	return enforce_thread(&e, &t->effective, &t->vm, tid, stats);
}

static int add_vm(struct manager *m, struct vm *vm, bool announce)
{
	struct tracked_vm *t;
	int r = GROW_ARRAY(m->vms, m->allocated_vms, m->n_vms + 1);

	if (r < 0)
		return r;
	r = pid_map_put(&m->vm_index, vm->pid, m->n_vms);
	if (r < 0)
		return r;
	t = &m->vms[m->n_vms++];
	/* New: the caller enforces it. */
	*t = (struct tracked_vm){ .vm = *vm, .qmp_result = 1 };
	*vm = (struct vm){};
	m->n_threads += t->vm.n_threads;
	/* No note here: at exec no thread has a name yet; `status` says what is unknown. */
	if (announce)
		log_about(LOG_INFO, &(struct log_about){ .vm = t->vm.name, .pid = t->vm.pid },
			  "found: %u vCPU(s)", t->vm.vcpus_expected);
	return 0;
}

/* Removal runs quietly: a group whose last threads are still leaving is tried again. */
static void report_quietly(void *userdata, const struct action *a, enum apply_outcome o,
			   const char *old, int error, const char *detail)
{
}

static bool remove_group(struct manager *m, const char *group)
{
	struct apply_stats stats = {};
	struct enforcer e;

	enforcer_for(m, NULL, &e);
	e.report = report_quietly;
	(void)enforce_remove(&e, group, &stats);
	enforcer_done(&e);
	return stats.n[APPLY_FAILED] == 0;
}

#define REAP_INTERVAL_USEC (100 * 1000)
#define REAP_TRIES	   50

static int on_reap(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct manager *m = userdata;
	bool last = ++m->reap_tries >= REAP_TRIES;

	for (size_t i = 0; i < m->n_reap;) {
		if (remove_group(m, m->reap[i]) || last) {
			if (last)
				log_warning("%s still has tasks; the next rescan removes it",
					    m->reap[i]);
			free(m->reap[i]);
			m->reap[i] = m->reap[--m->n_reap];
		} else
			i++;
	}
	if (m->n_reap > 0) {
		(void)sd_event_source_set_time_relative(s, REAP_INTERVAL_USEC);
		(void)sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	}
	return 0;
}

/* The VM ended: its groups go once its last thread has left them. */
static void remove_vm(struct manager *m, size_t i)
{
	struct tracked_vm *t = &m->vms[i];

	log_about(LOG_INFO, &(struct log_about){ .vm = t->vm.name, .pid = t->vm.pid },
		  "ended; its groups are removed");
	if (t->group && !remove_group(m, t->group) &&
	    GROW_ARRAY(m->reap, m->allocated_reap, m->n_reap + 1) >= 0) {
		m->reap[m->n_reap++] = TAKE_PTR(t->group);
		m->reap_tries = 0;
		(void)sd_event_source_set_time_relative(m->reap_source, REAP_INTERVAL_USEC);
		(void)sd_event_source_set_enabled(m->reap_source, SD_EVENT_ONESHOT);
	}
	drop_vm(m, i);
}

/* ---- event-driven work ---- */

void manager_schedule_work(struct manager *m)
{
	(void)sd_event_source_set_enabled(m->work_source, SD_EVENT_ONESHOT);
}

static void add_candidate(struct manager *m, pid_t pid)
{
	if (pid_map_get(&m->candidate_set, pid, NULL))
		return;
	if (GROW_ARRAY(m->candidates, m->allocated_candidates, m->n_candidates + 1) < 0 ||
	    pid_map_put(&m->candidate_set, pid, 0) < 0) {
		log_error("out of memory: the next rescan will find pid %d", (int)pid);
		return;
	}
	m->candidates[m->n_candidates++] = pid;
	manager_schedule_work(m);
}

static void settle_later(struct manager *m, struct tracked_vm *t)
{
	if (!t->forked && GROW_ARRAY(m->settling, m->allocated_settling, m->n_settling + 1) >= 0)
		m->settling[m->n_settling++] = t->vm.pid;
	t->forked = true;
	(void)sd_event_source_set_time_relative(m->settle_source, SETTLE_USEC);
	(void)sd_event_source_set_enabled(m->settle_source, SD_EVENT_ONESHOT);
}

static void forget_fork(struct tracked_vm *t, pid_t tid)
{
	for (size_t i = 0; i < t->n_forks; i++)
		if (t->forks[i] == tid) {
			t->forks[i] = t->forks[--t->n_forks];
			return;
		}
}

static void on_comm(struct manager *m, const struct proc_ev *ev)
{
	struct tracked_vm *t = manager_find_vm(m, ev->tgid);
	struct rename *seen;

	if (!t) {
		if (pid_map_get(&m->candidate_set, ev->tgid, NULL) &&
		    GROW_ARRAY(m->pending, m->allocated_pending, m->n_pending + 1) >= 0)
			m->pending[m->n_pending++] =
				(struct pending_rename){ ev->tgid, { ev->pid, ev->timestamp_ns } };
		return;
	}
	seen = renamed(t, ev->pid);
	if (seen)
		seen->at_ns = ev->timestamp_ns;
	else if (GROW_ARRAY(t->renamed, t->allocated_renamed, t->n_renamed + 1) >= 0)
		t->renamed[t->n_renamed++] = (struct rename){ ev->pid, ev->timestamp_ns };
	/* An enforced VM's thread goes the fast path; the rest of the VM is left as it is. */
	if (t->have_effective && !t->dirty && ev->pid != ev->tgid &&
	    GROW_ARRAY(m->fresh, m->allocated_fresh, m->n_fresh + 1) >= 0) {
		m->fresh[m->n_fresh++] = (struct fresh_thread){ ev->tgid, ev->pid };
		manager_schedule_work(m);
	} else
		manager_mark_dirty(m, t);
}

static void on_event(const struct proc_ev *ev, void *userdata)
{
	struct manager *m = userdata;
	struct tracked_vm *t;

	m->counters.events++;
	switch (ev->kind) {
	case PROC_EV_EXEC:
		add_candidate(m, ev->tgid);
		break;
	case PROC_EV_FORK:
		if (ev->pid == ev->tgid) {
			/* -daemonize: QEMU forks without exec; its child is the VM */
			if (manager_find_vm(m, ev->parent_tgid))
				add_candidate(m, ev->pid);
			break;
		}
		t = manager_find_vm(m, ev->tgid);
		if (t) {
			if (GROW_ARRAY(t->forks, t->allocated_forks, t->n_forks + 1) >= 0)
				t->forks[t->n_forks++] = ev->pid;
			settle_later(m, t);
		}
		break;
	case PROC_EV_COMM:
		on_comm(m, ev);
		break;
	case PROC_EV_EXIT:
		if (ev->pid == ev->tgid && (t = manager_find_vm(m, ev->tgid)))
			manager_mark_dirty(m, t); /* refresh finds it gone */
		break;
	case PROC_EV_LOST:
		log_warning("process events were lost; rescanning");
		(void)sd_event_source_set_time_relative(m->rescan_source, 0);
		(void)sd_event_source_set_enabled(m->rescan_source, SD_EVENT_ONESHOT);
		break;
	}
}

static int on_events(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	int r = proc_events_read(fd, on_event, userdata);

	if (r < 0)
		log_error("reading process events: %s", strerror(-r));
	return 0;
}

/*
 * The settle time after threads appeared: a VM whose new threads have all renamed themselves
 * (and were placed on the fast path) is done; one with a thread that did not is looked at
 * whole, for threads that rename themselves never (no debug-threads) or later.
 */
static int on_settle(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct manager *m = userdata;

	FOREACH_ARRAY (pid, m->settling, m->n_settling) {
		struct tracked_vm *t = manager_find_vm(m, *pid);

		if (!t || !t->forked)
			continue;
		t->forked = false;
		if (t->n_forks > 0 || t->look_whole || !t->have_effective)
			manager_mark_dirty(m, t);
		t->n_forks = 0;
		t->look_whole = false;
	}
	m->n_settling = 0;
	return 0;
}

/* Moves the renames seen for candidate tgid, before it was looked at, to t (or drops them). */
static void take_pending(struct manager *m, pid_t tgid, struct tracked_vm *t)
{
	size_t kept = 0;

	FOREACH_ARRAY (p, m->pending, m->n_pending)
		if (p->tgid != tgid)
			m->pending[kept++] = *p;
		else if (t && GROW_ARRAY(t->renamed, t->allocated_renamed, t->n_renamed + 1) >= 0)
			t->renamed[t->n_renamed++] = p->rename;
	m->n_pending = kept;
}

/*
 * A new VM takes the renames seen before it was looked at: its names are trusted at once. Its
 * threads are looked at again after the settle time too, for those that rename themselves
 * later or never.
 */
static void adopt_pending(struct manager *m, struct tracked_vm *t)
{
	take_pending(m, t->vm.pid, t);
	FOREACH_ARRAY (th, t->vm.threads, t->vm.n_threads)
		if (renamed(t, th->tid))
			th->young = false;
	if (t->n_renamed > 0 && discover_classify(&t->vm, NULL) < 0)
		log_error("out of memory classifying %s", t->vm.name);
	settle_later(m, t);
	t->look_whole = true; /* its threads were not placed by the fast path */
}

/* What follows a VM's enforcement on the event path: the error said, or the times of its
 * renamed threads logged and QMP asked if its roles are still unknown. */
static void after_enforce(struct manager *m, struct tracked_vm *t, int r)
{
	if (r < 0) {
		log_error("enforcing %s: %s", t->vm.name, strerror(-r));
		return;
	}
	log_placed(m, t);
	qmp_watch_kick_vm(m, t);
}

/* The next candidate that is a VM, added and enforced (one per turn: events are read between
 * them). Non-QEMU processes cost one look at their exe each. Returns whether one was. */
static bool examine_candidate(struct manager *m)
{
	struct discover_opts o = discover_opts(m);

	while (m->first_candidate < m->n_candidates) {
		pid_t pid = m->candidates[m->first_candidate++];
		struct tracked_vm *t;
		struct vm vm;
		int r;

		(void)pid_map_remove(&m->candidate_set, pid);
		if (manager_find_vm(m, pid) || discover_vm(&o, pid, &vm) <= 0) {
			take_pending(m, pid, NULL);
			continue;
		}
		if (add_vm(m, &vm, true) < 0) {
			vm_done(&vm);
			take_pending(m, pid, NULL);
			log_error("out of memory: the next rescan will find pid %d", (int)pid);
			continue;
		}
		t = &m->vms[m->n_vms - 1];
		adopt_pending(m, t);
		r = enforce_tracked(m, t, false, NULL, 0);
		if (r != -ESRCH)
			after_enforce(m, t, r);
		return true;
	}
	m->first_candidate = m->n_candidates = 0;
	return false;
}

/* One dirty VM looked at again and enforced. Returns whether there was one. */
static bool enforce_dirty(struct manager *m)
{
	while (m->first_dirty < m->n_dirty) {
		struct tracked_vm *t = manager_find_vm(m, m->dirty[m->first_dirty++]);
		int r;

		if (!t || !t->dirty)
			continue;
		t->dirty = false;
		r = refresh(m, t);
		if (r >= 0)
			r = enforce_tracked(m, t, false, NULL, 0);
		if (r == -ESRCH || r == -ENOENT) {
			remove_vm(m, (size_t)(t - m->vms));
			return true;
		}
		after_enforce(m, t, r);
		return true;
	}
	m->first_dirty = m->n_dirty = 0;
	return false;
}

/* Renamed threads of enforced VMs, each placed at once; a VM the fast path cannot serve is
 * looked at whole instead. */
static void place_fresh(struct manager *m)
{
	for (size_t i = 0; i < m->n_fresh; i++) {
		struct tracked_vm *t = manager_find_vm(m, m->fresh[i].tgid);
		int r;

		if (!t || t->dirty)
			continue; /* gone, or looked at whole anyway */
		forget_fork(t, m->fresh[i].tid);
		r = t->have_effective ? manager_place_thread(m, t, m->fresh[i].tid) : 0;
		if (r < 0)
			log_error("placing thread %d of %s: %s", (int)m->fresh[i].tid, t->vm.name,
				  strerror(-r));
		if (r <= 0)
			manager_mark_dirty(m, t);
		else
			log_placed_thread(m, t, m->fresh[i].tid);
	}
	m->n_fresh = 0;
}

/*
 * Renamed threads first (a vCPU should not wait while new processes are moved), then one
 * dirty VM or one new one per turn: the loop reads the events that came meanwhile before the
 * next (the events source has the higher priority).
 */
static int on_work(sd_event_source *s, void *userdata)
{
	struct manager *m = userdata;

	place_fresh(m);
	if (enforce_dirty(m) || examine_candidate(m))
		manager_schedule_work(m); /* more may wait */
	notify_status(m);
	return 0;
}

/* ---- full passes ---- */

static bool has_young_thread(const struct vm *vm)
{
	FOREACH_ARRAY (th, vm->threads, vm->n_threads)
		if (th->young)
			return true;
	return false;
}

/* Every VM of the pass, each knowing all the others (same names); those that ended go. */
static int enforce_all(struct manager *m, bool drift)
{
	_cleanup_free_ const struct vm **all = vm_list(m);
	_cleanup_free_ bool *ended = calloc(m->n_vms + 1, sizeof(bool));
	size_t n = m->n_vms;
	int r = all && ended ? 0 : -ENOMEM;

	for (size_t i = 0; i < n && r >= 0; i++) {
		/* A VM new to a rescan is not drift. */
		r = enforce_tracked(m, &m->vms[i], drift && m->vms[i].known, all, n);
		if (r == -ESRCH) {
			ended[i] = true;
			r = 0;
		} else if (r >= 0 && has_young_thread(&m->vms[i].vm)) {
			/* A thread too new to trust its name (a vCPU hot-plugged just before the
			 * daemon started) is looked at again once it had time to rename. */
			m->vms[i].look_whole = true;
			settle_later(m, &m->vms[i]);
		}
	}
	for (size_t i = n; i > 0; i--) /* from the end: drop_vm moves the last one in */
		if (ended && ended[i - 1])
			drop_vm(m, i - 1);
	return r;
}

int manager_full_pass(struct manager *m, const char *why)
{
	struct discover_opts o = discover_opts(m);
	/* Only a rescan finds drift; a reload's changes are the new policy's. */
	struct pass p = { .m = m, .drift = m->started && streq(why, "rescan") };
	struct vm *found = NULL;
	struct tracked_vm *old;
	_cleanup_(pid_map_done) struct pid_map old_index = {};
	size_t n = 0, n_old;
	struct apply_stats stats = {};
	uint64_t start = now_ns();
	struct enforcer e;
	int r;

	/* The host's facts, read once for this pass and the events until the next. */
	host_facts_done(&m->host);
	(void)host_facts_read(&m->cgroups, m->sys_fd, &m->topo, m->parent, &m->host);
	r = discover_all(&o, &found, &n);

	if (r < 0)
		return r;
	m->changes = m->failures = 0;
	/* Known VMs carry over (same pid, same start: the same VM); the rest are new. */
	old = TAKE_PTR(m->vms);
	n_old = m->n_vms;
	old_index = m->vm_index;
	m->vm_index = (struct pid_map){};
	m->n_vms = m->allocated_vms = 0;
	m->n_threads = 0;
	for (size_t i = 0; i < n && r >= 0; i++) {
		struct tracked_vm *known = NULL, *t;
		size_t k;

		if (pid_map_get(&old_index, found[i].pid, &k) && k < n_old &&
		    old[k].vm.starttime == found[i].starttime)
			known = &old[k];
		r = add_vm(m, &found[i], !known);
		if (r < 0)
			break;
		t = &m->vms[m->n_vms - 1];
		t->known = known != NULL;
		if (known) {
			t->group = TAKE_PTR(known->group);
			t->refused = known->refused;
			qmp_watch_carry(t, known);
			r = qmp_watch_classify(m, t);
		}
	}
	for (size_t k = 0; k < n_old; k++)
		tracked_done(&old[k]);
	free(old);
	vms_free(found, n);
	if (r >= 0)
		r = enforce_all(m, p.drift);
	if (r < 0)
		return r;
	qmp_watch_kick(m);
	enforcer_for(m, &p, &e);
	{
		_cleanup_free_ const struct vm **live = vm_list(m);

		e.vms = live;
		e.n_vms = m->n_vms;
		r = live ? enforce_remove_stale(&e, &stats) : -ENOMEM;
	}
	enforcer_done(&e);
	m->last_pass_changes = m->changes;
	m->counters.passes++;
	m->counters.have_last_pass = true;
	m->counters.last_pass_seconds = (double)(now_ns() - start) / 1e9;
	manager_write_textfile(m);
	log_about(m->changes || m->failures ? LOG_NOTICE : LOG_DEBUG, NULL,
		  "%s: %zu VM(s), %u change(s), %u error(s)", why, m->n_vms, m->changes,
		  m->failures);
	notify_status(m);
	return r < 0 ? r : 0;
}

static int on_rescan(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct manager *m = userdata;
	int r = manager_full_pass(m, "rescan");

	if (r < 0)
		log_error("rescan: %s", strerror(-r));
	(void)sd_event_source_set_time_relative(s,
						(uint64_t)m->settings.rescan_interval_usec.value);
	(void)sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	return 0;
}

int manager_reload(struct manager *m)
{
	struct timespec ts;
	int bad, r;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	(void)sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading",
			 (unsigned long long)ts.tv_sec * 1000000 +
				 (unsigned long long)ts.tv_nsec / 1000);
	m->reloads++;
	bad = manager_load_config(m);
	if (bad < 0)
		return bad;
	r = manager_full_pass(m, "reload");
	(void)sd_notify(0, "READY=1");
	notify_status(m);
	return r < 0 ? r : bad;
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	int r = manager_reload(userdata);

	if (r < 0)
		log_error("reload: %s", strerror(-r));
	return 0;
}

static int on_terminate(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct manager *m = userdata;

	(void)sd_notify(0, "STOPPING=1\nSTATUS=stopping; VMs are left as they are");
	log_info("stopping (signal %u); VMs are left as they are", si->ssi_signo);
	return sd_event_exit(m->event, 0);
}

/* ---- lifecycle ---- */

int manager_new(const char *config_dir, const char *runtime_dir, struct manager **ret)
{
	_cleanup_(manager_freep) struct manager *m = calloc(1, sizeof(*m));
	int r;

	if (!m)
		return -ENOMEM;
	m->config_dir = config_dir;
	m->runtime_dir = runtime_dir;
	m->proc_fd = -EBADF;
	m->sys_fd = -EBADF;
	m->control_fd = -EBADF;
	m->cgroups.unified_fd = -EBADF;
	for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++)
		m->cgroups.v1_fd[c] = -EBADF;
	r = settings_defaults(&m->settings);
	if (r < 0)
		return r;
	r = sd_event_default(&m->event);
	if (r < 0)
		return r;
	(void)sd_event_set_watchdog(m->event, true);
	/* Signals first: a SIGHUP or SIGTERM during the first pass waits for the loop instead of
	 * ending the daemon with the default action. */
	r = sd_event_add_signal(m->event, NULL, SIGTERM | SD_EVENT_SIGNAL_PROCMASK, on_terminate,
				m);
	if (r >= 0)
		r = sd_event_add_signal(m->event, NULL, SIGINT | SD_EVENT_SIGNAL_PROCMASK,
					on_terminate, m);
	if (r >= 0)
		r = sd_event_add_signal(m->event, NULL, SIGHUP | SD_EVENT_SIGNAL_PROCMASK,
					on_sighup, m);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(m);
	return 0;
}

/* After each event handled: what it logged leaves in one write. */
static int on_post(sd_event_source *s, void *userdata)
{
	log_flush();
	return 0;
}

static int add_sources(struct manager *m)
{
	int fd, r;

	r = sd_event_add_post(m->event, NULL, on_post, m);
	if (r >= 0)
		r = sd_event_add_defer(m->event, &m->work_source, on_work, m);
	if (r >= 0)
		r = sd_event_source_set_enabled(m->work_source, SD_EVENT_OFF);
	if (r >= 0)
		r = sd_event_add_time_relative(m->event, &m->settle_source, CLOCK_MONOTONIC,
					       SETTLE_USEC, 1000, on_settle, m);
	if (r >= 0)
		r = sd_event_source_set_enabled(m->settle_source, SD_EVENT_OFF);
	if (r >= 0)
		r = sd_event_add_time_relative(m->event, &m->disk_retry_source, CLOCK_MONOTONIC,
					       DISK_RETRY_USEC, 10 * 1000, on_disk_retry, m);
	if (r >= 0)
		r = sd_event_source_set_enabled(m->disk_retry_source, SD_EVENT_OFF);
	if (r >= 0)
		r = sd_event_add_time_relative(m->event, &m->reap_source, CLOCK_MONOTONIC,
					       REAP_INTERVAL_USEC, 10 * 1000, on_reap, m);
	if (r >= 0)
		r = sd_event_source_set_enabled(m->reap_source, SD_EVENT_OFF);
	if (r >= 0)
		r = sd_event_add_time_relative(m->event, &m->rescan_source, CLOCK_MONOTONIC,
					       (uint64_t)m->settings.rescan_interval_usec.value,
					       100 * 1000, on_rescan, m);
	if (r < 0)
		return r;
	(void)sd_event_source_set_description(m->work_source, "kvmtuned-work");
	(void)sd_event_source_set_description(m->settle_source, "kvmtuned-settle");
	(void)sd_event_source_set_description(m->rescan_source, "kvmtuned-rescan");
	passed_sockets_take(&fd);
	fd = proc_events_open(fd);
	if (fd < 0) {
		/* Without events the rescan still enforces, only later. */
		log_warning("no process events (%s): new VMs and threads wait for the next rescan",
			    strerror(-fd));
		return 0;
	}
	r = sd_event_add_io(m->event, &m->events_source, fd, EPOLLIN, on_events, m);
	if (r < 0) {
		safe_close(fd);
		return r;
	}
	(void)sd_event_source_set_io_fd_own(m->events_source, true);
	/* Events before work: each turn of the work reads what came meanwhile first. */
	(void)sd_event_source_set_priority(m->events_source, SD_EVENT_PRIORITY_IMPORTANT);
	(void)sd_event_source_set_description(m->events_source, "kvmtuned-proc-events");
	return 0;
}

/* A v1 hierarchy mounted outside /sys/fs/cgroup is read-only in the unit's sandbox
 * (ProtectSystem=strict): every write there would fail, so say at once what to do. */
static void warn_read_only(const struct cgroup_fs *fs)
{
	for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++) {
		struct statvfs sv;

		if (fs->v1_fd[c] >= 0 && !fs->v1_with[c] && fstatvfs(fs->v1_fd[c], &sv) == 0 &&
		    (sv.f_flag & ST_RDONLY))
			log_warning(
				"the %s hierarchy at %s is read-only here: nothing can be "
				"enforced in it (under kvmtuned.service: systemctl edit kvmtuned, "
				"[Service] ReadWritePaths=%s)",
				cgroup_controller_v1_name(c), fs->v1_mount[c] ?: fs->root,
				fs->v1_mount[c] ?: fs->root);
	}
}

int manager_start(struct manager *m)
{
	int r = topology_read_host(&m->topo);
	_cleanup_free_ char *source = NULL, *hierarchies = NULL;
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	m->counters.start_time = (double)now.tv_sec + (double)now.tv_nsec / 1e9;
	if (r < 0) {
		log_error("cannot read the host's CPUs and NUMA nodes: %s", strerror(-r));
		return r;
	}
	r = cgroup_fs_open_host(&m->cgroups, &source);
	if (r < 0) {
		log_error("no cgroup filesystem at /sys/fs/cgroup: %s", strerror(-r));
		return r;
	}
	hierarchies = cgroup_fs_describe(&m->cgroups);
	log_info("cgroup hierarchies%s%s%s: %s", source ? " (from " : "", source ?: "",
		 source ? ")" : "", hierarchies && *hierarchies ? hierarchies : "none");
	warn_read_only(&m->cgroups);
	m->proc_fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	m->sys_fd = open("/sys", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (m->proc_fd < 0 || m->sys_fd < 0)
		return -errno;
	r = manager_load_config(m);
	if (r < 0)
		return r;
	/* Subscribe first: a VM starting during the first pass is not missed. */
	r = add_sources(m);
	if (r >= 0)
		r = manager_listen_control(m);
	if (r >= 0)
		r = manager_full_pass(m, "start");
	if (r < 0)
		return r;
	m->started = true;
	log_info("started (cgroup %s, backend %s): %zu VM(s), %u change(s) made",
		 cgroup_layout_to_string(m->cgroups.layout), backend_to_string(m->backend),
		 m->n_vms, m->last_pass_changes);
	log_flush();
	(void)sd_notify(0, "READY=1");
	notify_status(m);
	return 0;
}

int manager_run(struct manager *m)
{
	return sd_event_loop(m->event);
}

struct manager *manager_free(struct manager *m)
{
	if (!m)
		return NULL;
	qmp_watch_done(m);
	manager_control_done(m);
	for (size_t i = 0; i < m->n_vms; i++)
		tracked_done(&m->vms[i]);
	free(m->vms);
	pid_map_done(&m->vm_index);
	free(m->dirty);
	free(m->fresh);
	free(m->settling);
	free(m->candidates);
	pid_map_done(&m->candidate_set);
	free(m->pending);
	sd_event_source_unref(m->events_source);
	sd_event_source_unref(m->rescan_source);
	sd_event_source_unref(m->work_source);
	sd_event_source_unref(m->settle_source);
	sd_event_source_unref(m->disk_retry_source);
	sd_event_source_unref(m->control_source);
	sd_event_source_unref(m->reap_source);
	for (size_t i = 0; i < m->n_reap; i++)
		free(m->reap[i]);
	free(m->reap);
	safe_close(m->control_fd);
	safe_close(m->proc_fd);
	safe_close(m->sys_fd);
	free(m->parent);
	host_facts_done(&m->host);
	if (m->bus)
		unit_bus_free(m->bus);
	cgroup_fs_done(&m->cgroups);
	topology_done(&m->topo);
	policy_set_done(&m->policies);
	settings_done(&m->settings);
	sd_event_unref(m->event);
	free(m);
	return NULL;
}
