/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* kvmtuned's QMP questions (qmp-watch.c): never waited for in the event loop. */

struct manager;
struct tracked_vm;

/* Starts the questions that are wanted now: VMs whose roles are not all known, asked at most
 * once per set of threads. */
void qmp_watch_kick(struct manager *m);
/* The same for one VM (one that changed): O(its threads), not O(all VMs). */
void qmp_watch_kick_vm(struct manager *m, struct tracked_vm *t);

/* Classifies t's threads with its last QMP answer, if that answer is for the threads it has. */
int qmp_watch_classify(struct manager *m, struct tracked_vm *t);

/* A full pass makes its tracked VMs anew: what QMP said moves from the old one. */
void qmp_watch_carry(struct tracked_vm *to, struct tracked_vm *from);

/* Ends every question in flight. */
void qmp_watch_done(struct manager *m);
