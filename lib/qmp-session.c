/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "qmp-session.h"

/* query-block nests a disk's backing chain (inserted.image.backing-image...): room for it. */
#define SESSION_JSON_DEPTH 64

struct qmp_session {
	int fd;
	uint64_t deadline; /* CLOCK_MONOTONIC µs */
	int64_t next_id;
	char *in; /* received, not yet a whole line */
	size_t in_len, in_allocated;
	size_t received; /* in all: at most QMP_BYTES_MAX */
	unsigned events;
};

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Waits until the socket allows events, or the deadline passes (-ETIMEDOUT). */
static int wait_for(struct qmp_session *s, short events)
{
	for (;;) {
		struct pollfd p = { .fd = s->fd, .events = events };
		uint64_t now = now_usec();
		int r;

		if (now >= s->deadline)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)((s->deadline - now + 999) / 1000));
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r > 0)
			return 0;
	}
}

static int send_all(struct qmp_session *s, const char *data, size_t n)
{
	while (n > 0) {
		ssize_t w = send(s->fd, data, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		int r;

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN)
			return -errno;
		if (w < 0 && (r = wait_for(s, POLLOUT)) < 0)
			return r;
		if (w > 0) {
			data += w;
			n -= (size_t)w;
		}
	}
	return 0;
}

/* A whole line out of what was received: one JSON value and nothing after it but blanks. */
static int take_line(struct qmp_session *s, struct json_object **ret)
{
	char *nl = s->in_len ? memchr(s->in, '\n', s->in_len) : NULL;
	struct json_tokener *tok;
	struct json_object *j;
	size_t n, end;
	int r = -EPROTO;

	*ret = NULL;
	if (!nl)
		return s->in_len > QMP_LINE_MAX ? -EMSGSIZE : 0;
	n = (size_t)(nl - s->in);
	tok = json_tokener_new_ex(SESSION_JSON_DEPTH);
	if (!tok)
		return -ENOMEM;
	j = json_tokener_parse_ex(tok, s->in, (int)n);
	end = j && json_tokener_get_error(tok) == json_tokener_success
		      ? json_tokener_get_parse_end(tok)
		      : 0;
	if (j && json_object_is_type(j, json_type_object) && end > 0 &&
	    strspn(s->in + end, "\r \t") == n - end) {
		*ret = j;
		r = 1;
	} else
		json_object_put(j);
	json_tokener_free(tok);
	memmove(s->in, nl + 1, s->in_len - n - 1);
	s->in_len -= n + 1;
	return r;
}

/* The next message the peer sends, skipping events (at most QMP_EVENTS_MAX in all). */
static int next_message(struct qmp_session *s, struct json_object **ret)
{
	for (;;) {
		char buf[4096];
		ssize_t n;
		int r = take_line(s, ret);

		if (r > 0 && json_object_object_get_ex(*ret, "event", NULL)) {
			json_object_put(*ret);
			*ret = NULL;
			if (++s->events > QMP_EVENTS_MAX)
				return -EMSGSIZE;
			continue;
		}
		if (r != 0)
			return r < 0 ? r : 0;
		if (now_usec() >= s->deadline)
			return -ETIMEDOUT;
		n = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if ((r = wait_for(s, POLLIN)) < 0)
				return r;
			continue;
		}
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		if ((size_t)n > QMP_BYTES_MAX - s->received)
			return -EMSGSIZE;
		s->received += (size_t)n;
		if (GROW_ARRAY(s->in, s->in_allocated, s->in_len + (size_t)n + 1) < 0)
			return -ENOMEM;
		memcpy(s->in + s->in_len, buf, (size_t)n);
		s->in_len += (size_t)n;
	}
}

/* "Class: description" of an error reply, or NULL when it is none (or nonsense). */
static char *error_text(struct json_object *reply)
{
	struct json_object *e, *class, *desc;
	char *s;

	if (!json_object_object_get_ex(reply, "error", &e) ||
	    !json_object_object_get_ex(e, "desc", &desc) ||
	    !json_object_is_type(desc, json_type_string))
		return NULL;
	if (!json_object_object_get_ex(e, "class", &class) ||
	    !json_object_is_type(class, json_type_string))
		return strndup(json_object_get_string(desc), 512);
	return asprintf(&s, "%.64s: %.512s", json_object_get_string(class),
			json_object_get_string(desc)) < 0
		       ? NULL
		       : s;
}

int qmp_session_call(struct qmp_session *s, const char *command, struct json_object *arguments,
		     struct json_object **ret, char **error)
{
	_cleanup_(json_object_putp) struct json_object *req = json_object_new_object();
	int64_t id = s->next_id++;
	const char *text;
	int r;

	if (ret)
		*ret = NULL;
	if (error)
		*error = NULL;
	if (!req || json_object_object_add(req, "execute", json_object_new_string(command)) < 0 ||
	    (arguments &&
	     json_object_object_add(req, "arguments", json_object_get(arguments)) < 0) ||
	    json_object_object_add(req, "id", json_object_new_int64(id)) < 0)
		return -ENOMEM;
	text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	r = text ? send_all(s, text, strlen(text)) : -ENOMEM;
	if (r >= 0)
		r = send_all(s, "\n", 1);
	while (r >= 0) {
		_cleanup_(json_object_putp) struct json_object *reply = NULL;
		struct json_object *v;

		r = next_message(s, &reply);
		if (r < 0)
			return r;
		/* QEMU echoes the id; a reply to anything else is not ours. */
		if (!json_object_object_get_ex(reply, "id", &v) ||
		    !json_object_is_type(v, json_type_int) || json_object_get_int64(v) != id)
			return -EPROTO;
		if (json_object_object_get_ex(reply, "return", &v)) {
			if (ret)
				*ret = json_object_get(v);
			return 0;
		}
		if (error)
			*error = error_text(reply);
		return json_object_object_get_ex(reply, "error", NULL) ? -EREMOTEIO : -EPROTO;
	}
	return r;
}

int qmp_session_open(int proc_fd, const struct qmp_target *t, uint64_t timeout_usec,
		     struct qmp_session **ret)
{
	_cleanup_(qmp_session_closep) struct qmp_session *s = NULL;
	_cleanup_(json_object_putp) struct json_object *greeting = NULL;
	int fd = qmp_connect(proc_fd, t), r;

	if (fd < 0)
		return fd;
	s = calloc(1, sizeof(*s));
	if (!s) {
		safe_close(fd);
		return -ENOMEM;
	}
	*s = (struct qmp_session){ .fd = fd, .deadline = now_usec() + timeout_usec, .next_id = 1 };
	r = next_message(s, &greeting);
	if (r < 0)
		return r;
	if (!json_object_object_get_ex(greeting, "QMP", NULL))
		return -EPROTO;
	r = qmp_session_call(s, "qmp_capabilities", NULL, NULL, NULL);
	if (r < 0)
		return r == -EREMOTEIO ? -EPROTO : r;
	*ret = TAKE_PTR(s);
	return 0;
}

struct qmp_session *qmp_session_close(struct qmp_session *s)
{
	if (!s)
		return NULL;
	safe_close(s->fd);
	free(s->in);
	free(s);
	return NULL;
}
