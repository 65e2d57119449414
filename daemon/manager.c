/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <fnmatch.h>
#include <signal.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "log.h"
#include "manager.h"
#include "proc-events.h"
#include "unit-name.h"

#define SETTLE_USEC	 (50 * 1000) /* after a thread appears: time to rename itself */
#define QMP_TIMEOUT_USEC (300 * 1000)

/* ---- reporting what enforcement did ---- */

struct pass {
	struct manager *m;
	const char *vm;
	pid_t pid;
	bool drift; /* a rescan: anything changed was someone else's change */
};

/*
 * A thread found outside its group by a rescan. On v1, systemd moves a process it counts as its
 * unit's (the whole process, into the unit's group) when that unit or its slice first gets a
 * controller: this line is how an administrator sees it.
 */
static void log_moved_back(struct pass *p, const struct log_about *about, const struct action *a,
			   const char *old)
{
	bool thread = a->kind == ACTION_ATTACH_THREAD;
	int fd, version = 0;

	(void)cgroup_fs_controller(&p->m->cgroups, a->controller, &fd, &version);
	log_about(LOG_NOTICE, about,
		  "reverted a move of the %s (%s %d, %s hierarchy): %s again, not %s", a->what,
		  thread ? "tid" : "pid", (int)(thread ? a->tid : a->pid),
		  version == 1 ? cgroup_controller_v1_name(a->controller) : "unified", a->group,
		  old ?: "?");
}

static void report(void *userdata, const struct action *a, enum apply_outcome o, const char *old,
		   int error)
{
	struct pass *p = userdata;
	char origin[512] = "";
	struct log_about about = { .vm = p->vm, .pid = p->pid, .policy = origin };
	const char *what = a->file ?: action_kind_to_string(a->kind);

	if (a->origin)
		(void)snprintf(origin, sizeof(origin), "%s:%u", a->origin->file, a->origin->line);
	switch (o) {
	case APPLY_DONE:
		p->m->changes++;
		if (a->kind == ACTION_UNIT_WRITE && !old)
			log_about(LOG_INFO, &about, "set %s/%s: %s (with the new scope)", a->group,
				  what, a->value);
		else if (a->kind == ACTION_WRITE || a->kind == ACTION_UNIT_WRITE)
			log_about(p->drift ? LOG_NOTICE : LOG_INFO, &about, "%s %s/%s: %s -> %s",
				  p->drift ? "reverted" : "set", a->group, what, old ?: "?",
				  a->value);
		else if (a->kind == ACTION_AFFINITY || a->kind == ACTION_SCHEDULER)
			log_about(p->drift ? LOG_NOTICE : LOG_INFO, &about,
				  "%s %s of tid %d (was %s)", p->drift ? "reverted" : "set",
				  a->what, (int)a->tid, old ?: "?");
		else if (a->kind == ACTION_SCOPE)
			log_about(LOG_INFO, &about, "put into systemd scope %s (was in %s)",
				  a->group, old ?: "?");
		else if (a->kind == ACTION_MACHINE)
			log_about(LOG_INFO, &about, "registered with systemd-machined as %s",
				  a->value);
		else if (p->drift &&
			 (a->kind == ACTION_ATTACH_THREAD || a->kind == ACTION_ATTACH_PROCESS))
			log_moved_back(p, &about, a, old);
		else
			log_about(LOG_DEBUG, &about, "%s %s %s", action_kind_to_string(a->kind),
				  a->what, a->group ?: "");
		break;
	case APPLY_FAILED: {
		const char *why = apply_failure_detail(a, error, old);

		p->m->failures++;
		log_about(LOG_ERR, &about, "could not enforce %s (%s%s%s): %s%s%s", a->what,
			  a->group ?: "", a->file ? "/" : "", a->file ?: "", strerror(-error),
			  why ? ": " : "", why ?: "");
		break;
	}
	case APPLY_WARNING:
		/* Said when the VM was first enforced and at each reload; not every rescan. */
		if (!p->drift)
			log_about(LOG_WARNING, &about, "%s", a->value);
		break;
	default:
		break;
	}
}

static void enforcer_for(struct manager *m, struct pass *p, struct enforcer *e)
{
	*e = (struct enforcer){
		.settings = &m->settings,
		.policies = &m->policies,
		.topo = &m->topo,
		.cgroups = &m->cgroups,
		.proc_fd = m->proc_fd,
		.bus = m->bus,
		.report = report,
		.userdata = p,
	};
}

/* STATUS= for systemctl status; sent only when it says something new. */
static void notify_status(struct manager *m)
{
	char status[sizeof(m->last_status)];
	size_t threads = 0;

	for (size_t i = 0; i < m->n_vms; i++)
		threads += m->vms[i].vm.n_threads;
	(void)snprintf(status, sizeof(status),
		       "STATUS=%zu VM(s), %zu thread(s) enforced; %u error(s) in the last pass",
		       m->n_vms, threads, m->failures);
	if (streq(status, m->last_status))
		return;
	(void)sd_notify(0, status);
	memcpy(m->last_status, status, sizeof(status));
}

/* ---- the VMs we know ---- */

static struct tracked_vm *find_vm(struct manager *m, pid_t pid)
{
	for (size_t i = 0; i < m->n_vms; i++)
		if (m->vms[i].vm.pid == pid)
			return &m->vms[i];
	return NULL;
}

static void tracked_done(struct tracked_vm *t)
{
	vm_done(&t->vm);
	free(t->group);
	free(t->renamed);
	*t = (struct tracked_vm){};
}

static void drop_vm(struct manager *m, size_t i)
{
	tracked_done(&m->vms[i]);
	m->vms[i] = m->vms[--m->n_vms];
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

static struct discover_opts discover_opts(struct manager *m, bool qmp)
{
	return (struct discover_opts){
		.boot_ticks = boot_ticks(),
		.proc_fd = m->proc_fd,
		.qemu_binaries = m->settings.qemu_binaries,
		.n_qemu_binaries = m->settings.n_qemu_binaries,
		.skip_managed = m->settings.skip_managed.value,
		.qmp = qmp && m->settings.qmp.value,
		.qmp_timeout_usec = QMP_TIMEOUT_USEC,
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

/* How long after its rename each renamed thread was in place (debug; the benchmark reads it). */
static void log_placed(struct tracked_vm *t)
{
	uint64_t now = now_ns();

	FOREACH_ARRAY (r, t->renamed, t->n_renamed) {
		char role[160] = "?";

		if (!r->at_ns)
			continue;
		FOREACH_ARRAY (th, t->vm.threads, t->vm.n_threads)
			if (th->tid == r->tid)
				thread_role_format(th, role, sizeof(role));
		log_about(LOG_DEBUG, &(struct log_about){ .vm = t->vm.name, .pid = t->vm.pid },
			  "placed %s (tid %d) %.3f ms after its rename", role, (int)r->tid,
			  (double)(now - r->at_ns) / 1e6);
		r->at_ns = 0;
	}
}

/*
 * Looks at a VM again, quickly: no QMP on the event path (it may take a while to answer);
 * threads seen renaming themselves are trusted by name at once.
 */
static int refresh(struct manager *m, struct tracked_vm *t)
{
	struct discover_opts o = discover_opts(m, false);
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
	r = discover_classify(&fresh, NULL);
	/* QMP knew more than names and KVM evidence do: ask it again. */
	if (r >= 0 && t->has_qmp && fresh.vcpus_found < fresh.vcpus_expected) {
		vm_done(&fresh);
		o.qmp = true;
		r = discover_vm(&o, t->vm.pid, &fresh);
		if (r <= 0)
			return r == 0 ? -ESRCH : r;
	}
	vm_done(&t->vm);
	t->vm = fresh;
	return 0;
}

static int enforce_tracked(struct manager *m, struct tracked_vm *t, bool drift)
{
	struct pass p = { .m = m, .vm = t->vm.name, .pid = t->vm.pid, .drift = drift };
	_cleanup_(diag_list_done) struct diag_list diags = {};
	_cleanup_(enforce_result_done) struct enforce_result res = {};
	_cleanup_(enforcer_done) struct enforcer e = {};
	int r;

	enforcer_for(m, &p, &e);
	r = enforce_vm(&e, &t->vm, &diags, &res);
	if (r < 0)
		return r;
	if (res.rule_broken) {
		FOREACH_ARRAY (d, diags.items, diags.n) {
			_cleanup_free_ char *text = diag_format(d);

			log_about(LOG_ERR,
				  &(struct log_about){ .vm = t->vm.name, .pid = t->vm.pid },
				  "%s; not enforced", text ?: "?");
		}
		m->failures++;
	}
	if (res.vm_group && !t->group)
		t->group = TAKE_PTR(res.vm_group);
	t->dirty = false;
	return res.ended ? -ESRCH : 0;
}

static int add_vm(struct manager *m, struct vm *vm, bool announce)
{
	struct tracked_vm *t;
	int r = GROW_ARRAY(m->vms, m->allocated_vms, m->n_vms + 1);

	if (r < 0)
		return r;
	t = &m->vms[m->n_vms++];
	*t = (struct tracked_vm){ .vm = *vm, .dirty = true, .has_qmp = vm->qmp_result == 0 };
	*vm = (struct vm){};
	/* No note here: at exec no thread has a name yet; `status` says what is unknown. */
	if (announce)
		log_about(LOG_INFO, &(struct log_about){ .vm = t->vm.name, .pid = t->vm.pid },
			  "found: %u vCPU(s)", t->vm.vcpus_expected);
	return 0;
}

/* Removal runs quietly: a group whose last threads are still leaving is tried again. */
static void report_quietly(void *userdata, const struct action *a, enum apply_outcome o,
			   const char *old, int error)
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

static void schedule_work(struct manager *m)
{
	(void)sd_event_source_set_enabled(m->work_source, SD_EVENT_ONESHOT);
}

static void add_candidate(struct manager *m, pid_t pid)
{
	if (GROW_ARRAY(m->candidates, m->allocated_candidates, m->n_candidates + 1) < 0) {
		log_error("out of memory: the next rescan will find pid %d", (int)pid);
		return;
	}
	m->candidates[m->n_candidates++] = pid;
	schedule_work(m);
}

static bool is_candidate(const struct manager *m, pid_t pid)
{
	for (size_t i = 0; i < m->n_candidates; i++)
		if (m->candidates[i] == pid)
			return true;
	return false;
}

static void on_event(const struct proc_ev *ev, void *userdata)
{
	struct manager *m = userdata;
	struct tracked_vm *t;

	switch (ev->kind) {
	case PROC_EV_EXEC:
		add_candidate(m, ev->tgid);
		break;
	case PROC_EV_FORK:
		if (ev->pid == ev->tgid) {
			/* -daemonize: QEMU forks without exec; its child is the VM */
			if (find_vm(m, ev->parent_tgid))
				add_candidate(m, ev->pid);
			break;
		}
		t = find_vm(m, ev->tgid);
		if (t) {
			t->forked = true;
			(void)sd_event_source_set_time_relative(m->settle_source, SETTLE_USEC);
			(void)sd_event_source_set_enabled(m->settle_source, SD_EVENT_ONESHOT);
		}
		break;
	case PROC_EV_COMM:
		t = find_vm(m, ev->tgid);
		if (!t && is_candidate(m, ev->tgid) &&
		    GROW_ARRAY(m->pending, m->allocated_pending, m->n_pending + 1) >= 0)
			m->pending[m->n_pending++] =
				(struct pending_rename){ ev->tgid, { ev->pid, ev->timestamp_ns } };
		if (t && renamed(t, ev->pid))
			renamed(t, ev->pid)->at_ns = ev->timestamp_ns;
		else if (t && GROW_ARRAY(t->renamed, t->allocated_renamed, t->n_renamed + 1) >= 0)
			t->renamed[t->n_renamed++] = (struct rename){ ev->pid, ev->timestamp_ns };
		if (t) {
			t->dirty = true;
			schedule_work(m);
		}
		break;
	case PROC_EV_EXIT:
		if (ev->pid == ev->tgid && (t = find_vm(m, ev->tgid))) {
			t->dirty = true; /* refresh finds it gone */
			schedule_work(m);
		}
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

static int on_settle(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct manager *m = userdata;

	for (size_t i = 0; i < m->n_vms; i++)
		if (m->vms[i].forked) {
			m->vms[i].forked = false;
			m->vms[i].dirty = true;
		}
	schedule_work(m);
	return 0;
}

/*
 * A new VM takes the renames seen before it was looked at: its names are trusted at once. Its
 * threads are looked at again after the settle time too, for those that rename themselves
 * later or never.
 */
static void adopt_pending(struct manager *m, struct tracked_vm *t)
{
	FOREACH_ARRAY (p, m->pending, m->n_pending)
		if (p->tgid == t->vm.pid &&
		    GROW_ARRAY(t->renamed, t->allocated_renamed, t->n_renamed + 1) >= 0)
			t->renamed[t->n_renamed++] = p->rename;
	FOREACH_ARRAY (th, t->vm.threads, t->vm.n_threads)
		if (renamed(t, th->tid))
			th->young = false;
	if (t->n_renamed > 0 && discover_classify(&t->vm, NULL) < 0)
		log_error("out of memory classifying %s", t->vm.name);
	t->forked = true;
	(void)sd_event_source_set_time_relative(m->settle_source, SETTLE_USEC);
	(void)sd_event_source_set_enabled(m->settle_source, SD_EVENT_ONESHOT);
}

static void examine_candidates(struct manager *m)
{
	struct discover_opts o = discover_opts(m, true);

	for (size_t i = 0; i < m->n_candidates; i++) {
		pid_t pid = m->candidates[i];
		struct vm vm;

		if (find_vm(m, pid) || discover_vm(&o, pid, &vm) <= 0)
			continue;
		if (add_vm(m, &vm, true) < 0) {
			vm_done(&vm);
			log_error("out of memory: the next rescan will find pid %d", (int)pid);
			continue;
		}
		adopt_pending(m, &m->vms[m->n_vms - 1]);
	}
	m->n_candidates = 0;
	m->n_pending = 0;
}

static int on_work(sd_event_source *s, void *userdata)
{
	struct manager *m = userdata;

	/* Known VMs first: a renamed vCPU should not wait while new processes are moved. */
	for (size_t i = 0; i < m->n_vms;) {
		struct tracked_vm *t = &m->vms[i];
		int r = 0;

		if (t->dirty && !t->group)
			r = enforce_tracked(m, t, false); /* just found */
		else if (t->dirty) {
			r = refresh(m, t);
			if (r >= 0)
				r = enforce_tracked(m, t, false);
		}
		if (r == -ESRCH || r == -ENOENT) {
			remove_vm(m, i);
			continue;
		}
		if (r >= 0)
			log_placed(t);
		if (r < 0)
			log_error("enforcing %s: %s", t->vm.name, strerror(-r));
		i++;
	}
	if (m->n_candidates > 0) {
		size_t known = m->n_vms;

		examine_candidates(m);
		for (size_t i = known; i < m->n_vms; i++) {
			int r = enforce_tracked(m, &m->vms[i], false);

			if (r < 0 && r != -ESRCH)
				log_error("enforcing %s: %s", m->vms[i].vm.name, strerror(-r));
			if (r >= 0)
				log_placed(&m->vms[i]);
		}
	}
	notify_status(m);
	return 0;
}

/* ---- full passes ---- */

int manager_full_pass(struct manager *m, const char *why)
{
	struct discover_opts o = discover_opts(m, true);
	/* Only a rescan finds drift; a reload's changes are the new policy's. */
	struct pass p = { .m = m, .drift = m->started && streq(why, "rescan") };
	struct vm *found = NULL;
	struct tracked_vm *old;
	size_t n = 0, n_old;
	struct apply_stats stats = {};
	struct enforcer e;
	int r = discover_all(&o, &found, &n);

	if (r < 0)
		return r;
	m->changes = m->failures = 0;
	/* Known VMs carry over (same pid, same start: the same VM); the rest are new. */
	old = TAKE_PTR(m->vms);
	n_old = m->n_vms;
	m->n_vms = m->allocated_vms = 0;
	for (size_t i = 0; i < n && r >= 0; i++) {
		struct tracked_vm *known = NULL, *t;

		for (size_t k = 0; k < n_old && !known; k++)
			if (old[k].vm.pid == found[i].pid &&
			    old[k].vm.starttime == found[i].starttime)
				known = &old[k];
		r = add_vm(m, &found[i], !known);
		if (r < 0)
			break;
		t = &m->vms[m->n_vms - 1];
		if (known) {
			t->group = TAKE_PTR(known->group);
			t->has_qmp = t->has_qmp || known->has_qmp;
		}
		r = enforce_tracked(m, t, p.drift && known); /* a VM new to a rescan is not drift */
		if (r == -ESRCH) {
			drop_vm(m, m->n_vms - 1);
			r = 0;
		}
	}
	for (size_t k = 0; k < n_old; k++)
		tracked_done(&old[k]);
	free(old);
	vms_free(found, n);
	if (r < 0)
		return r;
	enforcer_for(m, &p, &e);
	{
		struct vm *vms = calloc(m->n_vms + 1, sizeof(struct vm));

		for (size_t i = 0; vms && i < m->n_vms; i++)
			vms[i] = m->vms[i].vm; /* borrowed: names only */
		if (vms)
			r = enforce_remove_stale(&e, vms, m->n_vms, &stats);
		free(vms);
	}
	enforcer_done(&e);
	m->last_pass_changes = m->changes;
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

static int add_sources(struct manager *m)
{
	int fd, r;

	r = sd_event_add_defer(m->event, &m->work_source, on_work, m);
	if (r >= 0)
		r = sd_event_source_set_enabled(m->work_source, SD_EVENT_OFF);
	if (r >= 0)
		r = sd_event_add_time_relative(m->event, &m->settle_source, CLOCK_MONOTONIC,
					       SETTLE_USEC, 1000, on_settle, m);
	if (r >= 0)
		r = sd_event_source_set_enabled(m->settle_source, SD_EVENT_OFF);
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
	fd = proc_events_open();
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
	(void)sd_event_source_set_description(m->events_source, "kvmtuned-proc-events");
	return 0;
}

int manager_start(struct manager *m)
{
	int r = topology_read_host(&m->topo);

	if (r < 0) {
		log_error("cannot read the host's CPUs and NUMA nodes: %s", strerror(-r));
		return r;
	}
	r = cgroup_fs_open("/sys/fs/cgroup", &m->cgroups);
	if (r < 0) {
		log_error("no cgroup filesystem at /sys/fs/cgroup: %s", strerror(-r));
		return r;
	}
	m->proc_fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (m->proc_fd < 0)
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
	for (size_t i = 0; i < m->n_vms; i++)
		tracked_done(&m->vms[i]);
	free(m->vms);
	free(m->candidates);
	free(m->pending);
	sd_event_source_unref(m->events_source);
	sd_event_source_unref(m->rescan_source);
	sd_event_source_unref(m->work_source);
	sd_event_source_unref(m->settle_source);
	sd_event_source_unref(m->control_source);
	sd_event_source_unref(m->reap_source);
	for (size_t i = 0; i < m->n_reap; i++)
		free(m->reap[i]);
	free(m->reap);
	safe_close(m->control_fd);
	safe_close(m->proc_fd);
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
