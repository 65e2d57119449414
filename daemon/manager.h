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
	bool dirty;   /* something changed: enforce again */
	bool forked;  /* a thread appeared: look again once it had time to rename */
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
	struct question **questions; /* QMP exchanges in flight (qmp-watch.c) */
	size_t n_questions, allocated_questions;
	pid_t *candidates; /* processes to look at: exec'd, or forked by a VM (-daemonize) */
	size_t n_candidates, allocated_candidates;
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
	char last_status[256]; /* the STATUS= last sent: only news is sent */
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

/* The tracked VM of that pid, or NULL. */
struct tracked_vm *manager_find_vm(struct manager *m, pid_t pid);
/* Enforces the dirty VMs at the loop's next turn. */
void manager_schedule_work(struct manager *m);

/* A full pass: rescan /proc, enforce every VM, remove stale groups, tell systemd. */
int manager_full_pass(struct manager *m, const char *why);
int manager_reload(struct manager *m);
