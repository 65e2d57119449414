/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * kvmtuned's state and its one event loop: process events make VMs and threads known within
 * milliseconds, a rescan timer is the safety net that also undoes drift, SIGHUP or the control
 * socket reload the configuration. Stopping leaves every VM as it is.
 */

#include <systemd/sd-event.h>

#include "cgroup-fs.h"
#include "discover.h"
#include "enforce.h"
#include "metrics.h"
#include "pid-map.h"
#include "plan.h"
#include "policy-set.h"
#include "settings.h"
#include "topology.h"
#include "unit-bus.h"

struct tracked_vm {
	struct vm vm;
	char *group; /* its VM group, once enforced */
	struct rename {
		pid_t tid;
		uint64_t at_ns; /* CLOCK_MONOTONIC of its rename, until the thread is placed */
	} * renamed;		/* threads seen renaming themselves: their names are trusted */
	size_t n_renamed, allocated_renamed;
	bool dirty;	 /* something changed: enforce again (it is on the manager's dirty list) */
	bool forked;	 /* a thread appeared: look again once it had time to rename */
	bool look_whole; /* once settled: new, its threads were not placed one by one */
	pid_t *forks;	 /* threads that appeared and have not renamed themselves since */
	size_t n_forks, allocated_forks;
	/* The merged policy of its last enforcement, while the configuration it came from is in
	 * force: a renamed thread is placed from it alone (the fast path, fast-path.c). */
	struct policy effective;
	bool have_effective;
	bool known;   /* a full pass found it known from before */
	bool refused; /* another VM of that name has its group (said once) */
	/* Per-disk throttles (QMP sessions that are waited for): in place since the last full
	 * pass; since then, how many event-driven passes waited in vain (at most DISK_TRIES),
	 * and how many retries the disk timer made (at most DISK_RETRIES). */
	bool disks_done;
	bool disk_retry; /* the disk timer enforces it again */
	unsigned disk_timeouts, disk_retries;

	/* QMP (qmp-watch.c): the last answer holds for the thread set it was given for. */
	struct qmp_info qmp;
	bool have_qmp;
	bool qmp_asked;	      /* a question about qmp_threads was asked, answered or not */
	uint64_t qmp_threads; /* the thread set asked about */
	int qmp_result;	      /* 0 answered, -errno why not */
};

struct manager {
	sd_event *event;
	const char *config_dir;
	const char *runtime_dir;

	struct settings settings;
	struct policy_set policies; /* in force: each file's last good version */
	struct topology topo;
	struct cgroup_fs cgroups;
	int proc_fd, sys_fd;
	char *parent;	       /* where the backend puts VM groups (backend_parent) */
	struct plan_host host; /* the facts of the last full pass (host-facts.h) */
	int backend;	       /* BACKEND_SYSTEMD or BACKEND_CGROUPFS, resolved */
	struct unit_bus *bus;  /* the systemd backend's connection */

	sd_event_source *events_source, *rescan_source, *work_source, *settle_source;
	sd_event_source *disk_retry_source; /* VMs whose disks are not in place yet */
	sd_event_source *reap_source;	    /* retries removing the groups of ended VMs */
	char **reap; /* VM groups to remove once their last thread has left */
	size_t n_reap, allocated_reap;
	unsigned reap_tries;
	int control_fd;
	sd_event_source *control_source;
	struct control_client **clients; /* connected to the control socket (control.c) */
	size_t n_clients, allocated_clients;

	struct tracked_vm *vms;
	size_t n_vms, allocated_vms;
	struct pid_map vm_index; /* a VM's pid -> its index in vms */
	size_t n_threads;	 /* of all VMs, kept as they change (STATUS=) */
	pid_t *dirty;		 /* VMs to look at again, each once (tracked_vm.dirty) */
	size_t n_dirty, allocated_dirty, first_dirty; /* a queue */
	/* Threads that renamed themselves in known VMs: placed first, on the fast path. */
	struct fresh_thread {
		pid_t tgid, tid;
	} * fresh;
	size_t n_fresh, allocated_fresh;
	pid_t *settling; /* VMs with threads that appeared: looked at after the settle time */
	size_t n_settling, allocated_settling;
	struct question **questions; /* QMP exchanges in flight (qmp-watch.c) */
	size_t n_questions, allocated_questions;
	bool qmp_backlog;  /* a VM waits for a question to end before its own is asked */
	pid_t *candidates; /* processes to look at: exec'd, or forked by a VM (-daemonize) */
	size_t n_candidates, allocated_candidates, first_candidate; /* a queue */
	struct pid_map candidate_set;				    /* the same, to look them up */
	/* Renames of threads of candidates not looked at yet (the events of one read come
	 * before the look): handed to the VM when it is added. */
	struct pending_rename {
		pid_t tgid;
		struct rename rename;
	} * pending;
	size_t n_pending, allocated_pending;

	bool started;	   /* the first full enforcement is done */
	unsigned changes;  /* in the current pass */
	unsigned failures; /* in the last full pass */
	unsigned last_pass_changes;
	unsigned reloads;
	char last_status[256];		 /* the STATUS= last sent: only news is sent */
	struct daemon_counters counters; /* since start, for the metrics (metrics.c) */
	bool textfile_failing;		 /* the last write of metrics_textfile failed (said) */
};

int manager_new(const char *config_dir, const char *runtime_dir, struct manager **ret);
/* Loads the configuration, enforces every VM, subscribes to events; then READY=1. */
int manager_start(struct manager *m);
int manager_run(struct manager *m);
struct manager *manager_free(struct manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct manager *, manager_free)

/* reload.c: settings and policies anew, each file keeping its last good version on errors.
 * Returns the number of files with errors (logged). */
int manager_load_config(struct manager *m);

/* control.c: the socket `kvmtunectl reload` talks to. */
int manager_listen_control(struct manager *m);
void manager_control_done(struct manager *m);

/* metrics.c: the counters (and with with_vms every VM's effect) as text in format. */
int manager_metrics_text(struct manager *m, enum om_format format, bool with_vms, char **ret);
/* Writes metrics_textfile, when it is set; errors logged. */
void manager_write_textfile(struct manager *m);

/* The tracked VM of that pid, or NULL. O(1). */
struct tracked_vm *manager_find_vm(struct manager *m, pid_t pid);
/* Enforces the dirty VMs at the loop's next turn. */
void manager_schedule_work(struct manager *m);
/* Puts t on the dirty list: it is looked at again and enforced soon. */
void manager_mark_dirty(struct manager *m, struct tracked_vm *t);
/* Forgets every VM's merged policy (the configuration changed). */
void manager_forget_effective(struct manager *m);

/* Enforces what t's plan says for thread tid alone (enforce_thread), reported as any pass. */
int manager_enforce_thread(struct manager *m, struct tracked_vm *t, pid_t tid,
			   struct apply_stats *stats);

/* fast-path.c: places one thread that renamed itself in an enforced VM from the VM's merged
 * policy, without looking at the rest of the VM. Returns 1 when done, 0 when the VM needs the
 * full look instead, -errno. */
int manager_place_thread(struct manager *m, struct tracked_vm *t, pid_t tid);

/* A full pass: rescan /proc, enforce every VM, remove stale groups, tell systemd. */
int manager_full_pass(struct manager *m, const char *why);
int manager_reload(struct manager *m);
