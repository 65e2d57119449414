/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * kvmtuned's QMP questions, asked without ever waiting in the event loop. A VM's monitor is
 * asked only when names and KVM evidence leave a role unknown, at most once for each set of
 * threads the VM has: a socket that does not answer (or is not the VM's own) is not asked again
 * until the VM changes. The answer holds while the thread set it was given for lasts.
 */

#include <poll.h>
#include <string.h>

#include "log.h"
#include "manager.h"
#include "qmp-watch.h"

#define QUESTIONS_MAX 16 /* at once; the rest wait for a question to end */

struct question {
	struct manager *m;
	pid_t pid;
	uint64_t starttime;
	uint64_t threads; /* the thread set asked about */
	struct qmp_exchange *e;
	sd_event_source *io, *timer;
};

/* FNV-1a over the thread ids: which threads an answer was for. */
static uint64_t thread_set(const struct vm *vm)
{
	uint64_t h = UINT64_C(14695981039346656037);

	FOREACH_ARRAY (t, vm->threads, vm->n_threads) {
		h ^= (uint64_t)t->tid;
		h *= UINT64_C(1099511628211);
	}
	return h;
}

static bool roles_incomplete(const struct vm *vm)
{
	if (vm->cmdline.incomplete || vm->vcpus_found < vm->vcpus_expected)
		return true;
	for (size_t i = 0; i < vm->cmdline.n_iothreads; i++) {
		bool found = false;

		FOREACH_ARRAY (t, vm->threads, vm->n_threads)
			found = found || (t->role == ROLE_IOTHREAD &&
					  streq(t->iothread, vm->cmdline.iothreads[i]));
		if (!found)
			return true;
	}
	return false;
}

static struct question *question_of(struct manager *m, pid_t pid)
{
	for (size_t i = 0; i < m->n_questions; i++)
		if (m->questions[i]->pid == pid)
			return m->questions[i];
	return NULL;
}

int qmp_watch_classify(struct manager *m, struct tracked_vm *t)
{
	if (!t->have_qmp || t->qmp_threads != thread_set(&t->vm))
		return 0;
	return discover_classify(&t->vm, &t->qmp);
}

/* Only VMs a policy fits are asked (they have a group): the rest are none of kvmtuned's. */
static bool wanted(struct manager *m, const struct tracked_vm *t)
{
	return m->settings.qmp.value && t->group && t->vm.cmdline.qmp_socket &&
	       !(t->qmp_asked && t->qmp_threads == thread_set(&t->vm)) &&
	       roles_incomplete(&t->vm) && !question_of(m, t->vm.pid);
}

static void question_free(struct question *q)
{
	sd_event_source_disable_unref(q->io);
	sd_event_source_disable_unref(q->timer);
	qmp_exchange_free(q->e);
	free(q);
}

static void forget(struct manager *m, struct question *q)
{
	for (size_t i = 0; i < m->n_questions; i++)
		if (m->questions[i] == q) {
			m->questions[i] = m->questions[--m->n_questions];
			break;
		}
	question_free(q);
}

/* Why a VM's monitor did not answer: said once, since it is not asked again meanwhile. */
static void not_answered(struct tracked_vm *t, int r)
{
	t->qmp_result = r;
	log_about(r == -EPERM ? LOG_WARNING : LOG_INFO,
		  &(struct log_about){ .vm = t->vm.name, .pid = t->vm.pid },
		  "QMP socket %s: %s; not asked again until the VM changes",
		  t->vm.qmp_path ?: t->vm.cmdline.qmp_socket,
		  r == -EPERM ? "not a socket of the VM's own process, refused"
		  : r == -EPROTONOSUPPORT
			  ? "the kernel cannot show whose socket it is (no unix_diag; modprobe "
			    "unix_diag), not asked"
			  : strerror(-r));
}

/* The question ended (r: 1 answered, else why not). */
static void answered(struct question *q, int r)
{
	struct manager *m = q->m;
	struct tracked_vm *t = manager_find_vm(m, q->pid);
	struct qmp_info info = {};

	if (r > 0)
		r = qmp_exchange_result(q->e, &info);
	if (!t || t->vm.starttime != q->starttime || thread_set(&t->vm) != q->threads) {
		/* The VM ended or changed meanwhile: a new set of threads gets its own question. */
		qmp_info_done(&info);
		forget(m, q);
		if (t)
			qmp_watch_kick_vm(m, t);
		if (m->qmp_backlog)
			qmp_watch_kick(m);
		return;
	}
	if (r >= 0) {
		t->qmp_result = 0;
		qmp_info_done(&t->qmp);
		t->qmp = info;
		t->have_qmp = true;
		if (qmp_watch_classify(m, t) < 0)
			log_error("out of memory classifying %s", t->vm.name);
		manager_mark_dirty(m, t);
	} else
		not_answered(t, r);
	forget(m, q);
	if (m->qmp_backlog)
		qmp_watch_kick(m);
}

static int step(struct question *q)
{
	int r = qmp_exchange_step(q->e);

	if (r != 0)
		answered(q, r);
	else
		(void)sd_event_source_set_io_events(
			q->io, qmp_exchange_events(q->e) == POLLOUT ? EPOLLOUT : EPOLLIN);
	return 0;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	return step(userdata);
}

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata)
{
	return step(userdata); /* past the deadline, step ends it */
}

static int ask(struct manager *m, struct tracked_vm *t)
{
	struct qmp_target target = { .pid = t->vm.pid,
				     .starttime = t->vm.starttime,
				     .path = t->vm.cmdline.qmp_socket };
	struct question *q = calloc(1, sizeof(*q));
	int r;

	if (!q || GROW_ARRAY(m->questions, m->allocated_questions, m->n_questions + 1) < 0) {
		free(q);
		return -ENOMEM;
	}
	*q = (struct question){ .m = m,
				.pid = t->vm.pid,
				.starttime = t->vm.starttime,
				.threads = thread_set(&t->vm) };
	t->qmp_asked = true;
	t->qmp_threads = q->threads;
	r = qmp_exchange_start(m->proc_fd, &target, QMP_TIMEOUT_USEC, &q->e);
	if (r < 0) {
		free(q);
		not_answered(t, r);
		return 0;
	}
	r = sd_event_add_io(m->event, &q->io, qmp_exchange_fd(q->e), EPOLLOUT, on_io, q);
	if (r >= 0)
		r = sd_event_add_time(m->event, &q->timer, CLOCK_MONOTONIC,
				      qmp_exchange_deadline(q->e), 10 * 1000, on_deadline, q);
	if (r < 0) {
		question_free(q);
		return r;
	}
	(void)sd_event_source_set_description(q->io, "kvmtuned-qmp");
	(void)sd_event_source_set_description(q->timer, "kvmtuned-qmp-deadline");
	m->questions[m->n_questions++] = q;
	return 0;
}

void qmp_watch_kick(struct manager *m)
{
	m->qmp_backlog = false;
	for (size_t i = 0; i < m->n_vms; i++)
		qmp_watch_kick_vm(m, &m->vms[i]);
}

void qmp_watch_kick_vm(struct manager *m, struct tracked_vm *t)
{
	if (!wanted(m, t))
		return;
	if (m->n_questions >= QUESTIONS_MAX) {
		m->qmp_backlog = true; /* asked once a question ends */
		return;
	}
	if (ask(m, t) < 0)
		log_error("out of memory asking %s's QMP socket", t->vm.name);
}

void qmp_watch_carry(struct tracked_vm *to, struct tracked_vm *from)
{
	to->qmp = from->qmp;
	from->qmp = (struct qmp_info){};
	to->have_qmp = from->have_qmp;
	to->qmp_threads = from->qmp_threads;
	to->qmp_asked = from->qmp_asked;
	to->qmp_result = from->qmp_result;
}

void qmp_watch_done(struct manager *m)
{
	for (size_t i = 0; i < m->n_questions; i++)
		question_free(m->questions[i]);
	free(m->questions);
	m->questions = NULL;
	m->n_questions = m->allocated_questions = 0;
}
