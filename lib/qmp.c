/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "macro.h"
#include "proc.h"
#include "qmp.h"
#include "sock-owner.h"

#define QMP_JSON_DEPTH 16
#define READ_CHUNK     4096
#define READ_PER_STEP  (256 * 1024) /* then the caller's loop gets a turn */

/* The conversation, in order. */
enum stage {
	STAGE_GREETING,
	STAGE_CAPABILITIES,
	STAGE_CPUS,
	STAGE_IOTHREADS,
	STAGE_DONE,
};

static const char *const commands[] = {
	[STAGE_CAPABILITIES] = "qmp_capabilities",
	[STAGE_CPUS] = "query-cpus-fast",
	[STAGE_IOTHREADS] = "query-iothreads",
};

struct qmp_exchange {
	int fd;		   /* -EBADF when detached */
	uint64_t deadline; /* CLOCK_MONOTONIC µs */
	enum stage stage;
	int result; /* 0 while going on, then 1 or -errno for good */

	char *in; /* received, not yet a whole line */
	size_t in_len, in_allocated;
	size_t received; /* bytes in all: at most QMP_BYTES_MAX */
	unsigned events;

	char out[192]; /* the commands, all sent at once after the greeting */
	size_t out_len, out_sent;

	struct qmp_info info;
};

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* ---- the replies ---- */

static int get_int(struct json_object *o, const char *key, int64_t *ret)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return -EPROTO;
	*ret = json_object_get_int64(v);
	return 0;
}

static int get_tid(struct json_object *o, pid_t *ret)
{
	int64_t tid;

	if (get_int(o, "thread-id", &tid) < 0 || tid <= 0 || tid > INT32_MAX)
		return -EPROTO;
	*ret = (pid_t)tid;
	return 0;
}

static int parse_cpus(struct json_object *a, struct qmp_info *info)
{
	size_t n;

	if (!json_object_is_type(a, json_type_array))
		return -EPROTO;
	n = json_object_array_length(a);
	if (n > QMP_CPUS_MAX)
		return -EMSGSIZE;
	info->cpus = calloc(n + 1, sizeof(struct qmp_cpu));
	if (!info->cpus)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(a, i);
		struct qmp_cpu *c = &info->cpus[info->n_cpus];
		int64_t index;

		if (get_int(e, "cpu-index", &index) < 0 || index < 0 || index >= QMP_CPUS_MAX ||
		    get_tid(e, &c->thread_id) < 0)
			return -EPROTO;
		c->cpu_index = (int)index;
		info->n_cpus++;
	}
	return 0;
}

static int parse_iothreads(struct json_object *a, struct qmp_info *info)
{
	size_t n;

	if (!json_object_is_type(a, json_type_array))
		return -EPROTO;
	n = json_object_array_length(a);
	if (n > QMP_IOTHREADS_MAX)
		return -EMSGSIZE;
	info->iothreads = calloc(n + 1, sizeof(struct qmp_iothread));
	if (!info->iothreads)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(a, i), *id;
		struct qmp_iothread *t = &info->iothreads[info->n_iothreads];

		if (get_tid(e, &t->thread_id) < 0 || !json_object_object_get_ex(e, "id", &id) ||
		    !json_object_is_type(id, json_type_string) ||
		    json_object_get_string_len(id) == 0 ||
		    json_object_get_string_len(id) > QMP_ID_MAX)
			return -EPROTO;
		t->id = strdup(json_object_get_string(id));
		if (!t->id)
			return -ENOMEM;
		info->n_iothreads++;
	}
	return 0;
}

/* ---- the conversation ---- */

/*
 * All three commands at once, after the greeting: QEMU runs a monitor's commands in the order
 * they come (qmp_capabilities first switches it to command mode), so one round trip serves
 * where three would on a slow host. The id ties each reply to its command: QEMU echoes it.
 */
static void queue_commands(struct qmp_exchange *e)
{
	e->out_len = 0;
	for (enum stage s = STAGE_CAPABILITIES; s < STAGE_DONE; s++)
		e->out_len += (size_t)snprintf(e->out + e->out_len, sizeof(e->out) - e->out_len,
					       "{\"execute\": \"%s\", \"id\": %d}\n", commands[s],
					       (int)s);
	e->out_sent = 0;
}

/* The reply to the command whose turn it is: its id, and "return". */
static int reply_value(struct json_object *j, const struct qmp_exchange *e,
		       struct json_object **ret)
{
	int64_t id;

	if (get_int(j, "id", &id) < 0 || id != (int64_t)e->stage)
		return -EPROTO;
	if (!json_object_object_get_ex(j, "return", ret))
		return -EPROTO; /* an "error" reply, or nonsense */
	return 0;
}

static int on_message(struct qmp_exchange *e, struct json_object *j)
{
	struct json_object *v;
	int r;

	if (!json_object_is_type(j, json_type_object))
		return -EPROTO;
	if (e->stage == STAGE_GREETING) {
		if (!json_object_object_get_ex(j, "QMP", &v))
			return -EPROTO;
		e->stage = STAGE_CAPABILITIES;
		queue_commands(e);
		return 0;
	}
	if (json_object_object_get_ex(j, "event", &v))
		return ++e->events > QMP_EVENTS_MAX ? -EMSGSIZE : 0;
	r = reply_value(j, e, &v);
	if (r >= 0 && e->stage == STAGE_CPUS)
		r = parse_cpus(v, &e->info);
	else if (r >= 0 && e->stage == STAGE_IOTHREADS)
		r = parse_iothreads(v, &e->info);
	if (r < 0)
		return r;
	e->stage++;
	return e->stage == STAGE_DONE ? 1 : 0;
}

static int on_line(struct qmp_exchange *e, const char *line, size_t n)
{
	struct json_tokener *tok;
	struct json_object *j;
	int r;

	if (n == 0 || (n == 1 && line[0] == '\r'))
		return 0;
	tok = json_tokener_new_ex(QMP_JSON_DEPTH);
	if (!tok)
		return -ENOMEM;
	j = json_tokener_parse_ex(tok, line, (int)n);
	/* One whole JSON value per line, nothing after it but the line end. */
	r = j && json_tokener_get_error(tok) == json_tokener_success &&
			    strspn(line + json_tokener_get_parse_end(tok), "\r\n \t") ==
				    n - json_tokener_get_parse_end(tok)
		    ? on_message(e, j)
		    : -EPROTO;
	json_object_put(j);
	json_tokener_free(tok);
	return r;
}

/* The exchange's result from now on: the first end sticks. */
static int end(struct qmp_exchange *e, int r)
{
	if (r != 0 && e->result == 0)
		e->result = r;
	return e->result;
}

int qmp_exchange_feed(struct qmp_exchange *e, const char *data, size_t n)
{
	size_t start = 0;
	int r = 0;

	if (e->result != 0)
		return e->result;
	if (n > QMP_BYTES_MAX - e->received)
		return end(e, -EMSGSIZE);
	e->received += n;
	if (GROW_ARRAY(e->in, e->in_allocated, e->in_len + n + 1) < 0)
		return end(e, -ENOMEM);
	memcpy(e->in + e->in_len, data, n);
	e->in_len += n;
	for (size_t i = e->in_len - n; r == 0 && i < e->in_len; i++)
		if (e->in[i] == '\n') {
			e->in[i] = '\0';
			r = on_line(e, e->in + start, i - start);
			start = i + 1;
		}
	memmove(e->in, e->in + start, e->in_len - start);
	e->in_len -= start;
	if (r == 0 && e->in_len > QMP_LINE_MAX)
		r = -EMSGSIZE;
	return end(e, r);
}

const char *qmp_exchange_take_output(struct qmp_exchange *e, size_t *ret_n)
{
	const char *s = e->out + e->out_sent;

	*ret_n = e->out_len - e->out_sent;
	e->out_sent = e->out_len;
	return s;
}

/* ---- the socket ---- */

static int send_pending(struct qmp_exchange *e)
{
	while (e->out_sent < e->out_len) {
		ssize_t w = send(e->fd, e->out + e->out_sent, e->out_len - e->out_sent,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return 0;
		if (w < 0)
			return -errno;
		e->out_sent += (size_t)w;
	}
	return 0;
}

int qmp_exchange_step(struct qmp_exchange *e)
{
	char buf[READ_CHUNK];
	size_t got = 0;

	while (e->result == 0) {
		ssize_t n;
		int r;

		if (now_usec() >= e->deadline)
			return end(e, -ETIMEDOUT);
		r = send_pending(e);
		if (r < 0)
			return end(e, r);
		if (e->out_sent < e->out_len || got >= READ_PER_STEP)
			return 0;
		n = recv(e->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0)
			return end(e, -errno);
		if (n == 0)
			return end(e, -ECONNRESET);
		got += (size_t)n;
		(void)qmp_exchange_feed(e, buf, (size_t)n);
	}
	return e->result;
}

/* The socket file, looked up as the VM sees it: its root for absolute paths, else its cwd. */
static int open_in_view(int proc_fd, const struct qmp_target *t)
{
	_cleanup_free_ char *view = NULL;
	int fd;

	if (asprintf(&view, "%d/%s/%s", (int)t->pid, t->path[0] == '/' ? "root" : "cwd",
		     t->path + (t->path[0] == '/')) < 0)
		return -ENOMEM;
	fd = openat(proc_fd, view, O_PATH | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static bool vm_is(int proc_fd, const struct qmp_target *t)
{
	struct proc_stat st;

	return proc_read_stat(proc_fd, t->pid, 0, &st) >= 0 && st.starttime == t->starttime;
}

/* A connection to the socket path_fd pins, made only after it is proven the VM's own. */
static int connect_vm_socket(int proc_fd, const struct qmp_target *t, int path_fd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -EBADF;
	struct ucred peer;
	socklen_t len = sizeof(peer);
	int r = unix_socket_is_listener_of(proc_fd, t->pid, path_fd);

	if (r == 0)
		return -EPERM;
	if (r < 0)
		return r;
	if (!vm_is(proc_fd, t))
		return -ESRCH; /* the pid is no longer the VM: its fds were someone else's */
	/* Through the fd: the very inode just proven, not the path again. */
	(void)snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d", path_fd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno; /* EAGAIN: its backlog is full, another client holds it */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) < 0)
		return -errno;
	if (peer.pid != t->pid)
		return -EPERM;
	return TAKE_FD(fd);
}

int qmp_connect(int proc_fd, const struct qmp_target *t)
{
	_cleanup_close_ int path_fd = open_in_view(proc_fd, t);

	if (path_fd < 0)
		return path_fd;
	return connect_vm_socket(proc_fd, t, path_fd);
}

int qmp_exchange_new_detached(struct qmp_exchange **ret)
{
	struct qmp_exchange *e = calloc(1, sizeof(*e));

	if (!e)
		return -ENOMEM;
	e->fd = -EBADF;
	e->deadline = UINT64_MAX;
	*ret = e;
	return 0;
}

int qmp_exchange_start(int proc_fd, const struct qmp_target *t, uint64_t timeout_usec,
		       struct qmp_exchange **ret)
{
	struct qmp_exchange *e;
	int fd = qmp_connect(proc_fd, t), r;

	if (fd < 0)
		return fd;
	r = qmp_exchange_new_detached(&e);
	if (r < 0) {
		safe_close(fd);
		return r;
	}
	e->fd = fd;
	e->deadline = now_usec() + timeout_usec;
	*ret = e;
	return 0;
}

int qmp_exchange_fd(const struct qmp_exchange *e)
{
	return e->fd;
}

short qmp_exchange_events(const struct qmp_exchange *e)
{
	return e->out_sent < e->out_len ? POLLOUT : POLLIN;
}

uint64_t qmp_exchange_deadline(const struct qmp_exchange *e)
{
	return e->deadline;
}

int qmp_exchange_result(struct qmp_exchange *e, struct qmp_info *ret)
{
	if (e->result != 1)
		return e->result < 0 ? e->result : -EINPROGRESS;
	*ret = e->info;
	e->info = (struct qmp_info){};
	return 0;
}

struct qmp_exchange *qmp_exchange_free(struct qmp_exchange *e)
{
	if (!e)
		return NULL;
	safe_close(e->fd);
	free(e->in);
	qmp_info_done(&e->info);
	free(e);
	return NULL;
}

/* ---- many at once, for a command-line tool ---- */

void qmp_query_many(int proc_fd, const struct qmp_target *t, size_t n, uint64_t timeout_usec,
		    struct qmp_info *infos, int *results)
{
	_cleanup_free_ struct qmp_exchange **e = calloc(n + 1, sizeof(*e));
	_cleanup_free_ struct pollfd *p = calloc(n + 1, sizeof(*p));
	uint64_t deadline = now_usec() + timeout_usec;
	size_t open = 0;

	for (size_t i = 0; i < n; i++) {
		infos[i] = (struct qmp_info){};
		results[i] =
			e && p ? qmp_exchange_start(proc_fd, &t[i], timeout_usec, &e[i]) : -ENOMEM;
		open += results[i] >= 0;
	}
	while (open > 0) {
		uint64_t now = now_usec();
		size_t k = 0;

		for (size_t i = 0; i < n; i++)
			if (e[i])
				p[k++] = (struct pollfd){ .fd = qmp_exchange_fd(e[i]),
							  .events = qmp_exchange_events(e[i]) };
		if (now < deadline && poll(p, k, (int)((deadline - now + 999) / 1000)) < 0 &&
		    errno != EINTR)
			break;
		k = 0;
		for (size_t i = 0; i < n; i++) {
			int r;

			if (!e[i])
				continue;
			r = p[k++].revents || now_usec() >= deadline ? qmp_exchange_step(e[i]) : 0;
			if (r == 0)
				continue;
			results[i] = r < 0 ? r : qmp_exchange_result(e[i], &infos[i]);
			e[i] = qmp_exchange_free(e[i]);
			open--;
		}
	}
	for (size_t i = 0; e && i < n; i++)
		if (e[i]) {
			results[i] = -ETIMEDOUT;
			e[i] = qmp_exchange_free(e[i]);
		}
}

/* ---- fixtures ---- */

int qmp_info_from_json(const char *cpus_json, const char *iothreads_json, struct qmp_info *ret)
{
	struct json_object *cpus = json_tokener_parse(cpus_json);
	struct json_object *iothreads = json_tokener_parse(iothreads_json);
	struct qmp_info info = {};
	int r = cpus && iothreads ? 0 : -EPROTO;

	if (r >= 0)
		r = parse_cpus(cpus, &info);
	if (r >= 0)
		r = parse_iothreads(iothreads, &info);
	json_object_put(cpus);
	json_object_put(iothreads);
	if (r < 0) {
		qmp_info_done(&info);
		return r;
	}
	*ret = info;
	return 0;
}

void qmp_info_done(struct qmp_info *i)
{
	for (size_t k = 0; k < i->n_iothreads; k++)
		free(i->iothreads[k].id);
	free(i->iothreads);
	free(i->cpus);
	*i = (struct qmp_info){};
}
