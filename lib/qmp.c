/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "macro.h"
#include "qmp.h"

#define QMP_LINE_MAX (1024 * 1024)

struct conn {
	int fd;
	uint64_t deadline; /* CLOCK_MONOTONIC µs */
	char *buf;
	size_t len, allocated;
};

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Waits for events on the socket until the deadline. 0, -ETIMEDOUT or -errno. */
static int wait_for(struct conn *c, short events)
{
	for (;;) {
		struct pollfd p = { .fd = c->fd, .events = events };
		uint64_t now = now_usec();
		int r;

		if (now >= c->deadline)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)((c->deadline - now + 999) / 1000));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		return 0;
	}
}

static int send_all(struct conn *c, const char *s)
{
	size_t n = strlen(s);

	while (n > 0) {
		ssize_t w = send(c->fd, s, n, MSG_NOSIGNAL);

		if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			int r = wait_for(c, POLLOUT);

			if (r < 0)
				return r;
			continue;
		}
		if (w < 0)
			return -errno;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads the next JSON message (one line) that is not an event. Caller puts it. */
static int read_message(struct conn *c, struct json_object **ret)
{
	for (;;) {
		char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;

		if (nl) {
			struct json_object *j, *event;
			size_t line = (size_t)(nl - c->buf) + 1;

			*nl = '\0';
			j = json_tokener_parse(c->buf);
			memmove(c->buf, c->buf + line, c->len - line);
			c->len -= line;
			if (!j)
				return -EPROTO;
			if (json_object_object_get_ex(j, "event", &event)) {
				json_object_put(j);
				continue;
			}
			*ret = j;
			return 0;
		}
		if (c->len >= QMP_LINE_MAX)
			return -EPROTO;
		if (GROW_ARRAY(c->buf, c->allocated, c->len + 4096) < 0)
			return -ENOMEM;
		ssize_t n = recv(c->fd, c->buf + c->len, c->allocated - c->len, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			int r = wait_for(c, POLLIN);

			if (r < 0)
				return r;
			continue;
		}
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		c->len += (size_t)n;
	}
}

/* Sends a command and returns its "return" member (a new reference). */
static int execute(struct conn *c, const char *command, struct json_object **ret)
{
	char msg[128];
	struct json_object *reply, *value;
	int r;

	(void)snprintf(msg, sizeof(msg), "{\"execute\": \"%s\"}\n", command);
	r = send_all(c, msg);
	if (r < 0)
		return r;
	r = read_message(c, &reply);
	if (r < 0)
		return r;
	if (!json_object_object_get_ex(reply, "return", &value)) {
		json_object_put(reply);
		return -EPROTO;
	}
	*ret = json_object_get(value);
	json_object_put(reply);
	return 0;
}

static int get_int(struct json_object *o, const char *key, int64_t *ret)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return -EPROTO;
	*ret = json_object_get_int64(v);
	return 0;
}

static int parse_cpus(struct json_object *a, struct qmp_info *info)
{
	size_t n;

	if (!json_object_is_type(a, json_type_array))
		return -EPROTO;
	n = json_object_array_length(a);
	info->cpus = calloc(n ? n : 1, sizeof(struct qmp_cpu));
	if (!info->cpus)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(a, i);
		int64_t index, tid;

		if (get_int(e, "cpu-index", &index) < 0 || get_int(e, "thread-id", &tid) < 0)
			return -EPROTO;
		info->cpus[info->n_cpus++] = (struct qmp_cpu){ (int)index, (pid_t)tid };
	}
	return 0;
}

static int parse_iothreads(struct json_object *a, struct qmp_info *info)
{
	size_t n;

	if (!json_object_is_type(a, json_type_array))
		return -EPROTO;
	n = json_object_array_length(a);
	info->iothreads = calloc(n ? n : 1, sizeof(struct qmp_iothread));
	if (!info->iothreads)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(a, i), *id;
		int64_t tid;

		if (get_int(e, "thread-id", &tid) < 0 || !json_object_object_get_ex(e, "id", &id))
			return -EPROTO;
		info->iothreads[info->n_iothreads].id = strdup(json_object_get_string(id));
		if (!info->iothreads[info->n_iothreads].id)
			return -ENOMEM;
		info->iothreads[info->n_iothreads++].thread_id = (pid_t)tid;
	}
	return 0;
}

static int connect_unix(struct conn *c, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->fd < 0)
		return -errno;
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return 0;
	if (errno != EINPROGRESS && errno != EAGAIN)
		return -errno;
	r = wait_for(c, POLLOUT);
	if (r < 0)
		return r;
	socklen_t len = sizeof(r);
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &r, &len) < 0)
		return -errno;
	return -r;
}

int qmp_query(const char *path, uint64_t timeout_usec, struct qmp_info *ret)
{
	struct conn c = { .fd = -EBADF, .deadline = now_usec() + timeout_usec };
	struct json_object *greeting = NULL, *cpus = NULL, *iothreads = NULL, *caps = NULL, *q;
	struct qmp_info info = {};
	int r = connect_unix(&c, path);

	/* The greeting comes only when no other client holds the monitor. */
	if (r >= 0)
		r = read_message(&c, &greeting);
	if (r >= 0 && !json_object_object_get_ex(greeting, "QMP", &q))
		r = -EPROTO;
	if (r >= 0)
		r = execute(&c, "qmp_capabilities", &caps);
	if (r >= 0)
		r = execute(&c, "query-cpus-fast", &cpus);
	if (r >= 0)
		r = execute(&c, "query-iothreads", &iothreads);
	if (r >= 0)
		r = parse_cpus(cpus, &info);
	if (r >= 0)
		r = parse_iothreads(iothreads, &info);
	json_object_put(greeting);
	json_object_put(caps);
	json_object_put(cpus);
	json_object_put(iothreads);
	safe_close(c.fd);
	free(c.buf);
	if (r < 0) {
		qmp_info_done(&info);
		return r;
	}
	*ret = info;
	return 0;
}

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
