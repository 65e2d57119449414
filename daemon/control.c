/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The control socket, <runtime dir>/control: `kvmtunectl reload` writes "reload\n" and gets
 * "ok <files with errors>\n" once the reload and the re-enforcement are done. systemd 252 has
 * no Type=notify-reload, so ExecReload= must wait like this. `kvmtunectl metrics` writes
 * "metrics openmetrics\n" (or "metrics prometheus\n") and gets "ok\n" and kvmtuned's counters
 * in that format, until the socket closes.
 *
 * Only root may talk to it (the socket is made 0600 at bind, and the peer's credentials are
 * checked), only whole known commands are taken, and a client costs the event loop nothing
 * while it says nothing: it is read when it writes and dropped after CLIENT_TIMEOUT_USEC.
 */

#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "log.h"
#include "manager.h"

#define CLIENT_TIMEOUT_USEC (10 * 1000 * 1000)
#define CLIENTS_MAX	    16
#define COMMAND_MAX	    64

struct control_client {
	struct manager *m;
	int fd;
	sd_event_source *io, *timer;
	char buf[COMMAND_MAX];
	size_t len;
};

static void answer(int fd, const char *text)
{
	(void)send(fd, text, strlen(text), MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* A longer answer, whole: the client reads until we close; a client that stops reading for a
 * second loses the rest rather than holding the loop. */
static void answer_all(int fd, const char *text)
{
	size_t len = strlen(text);

	while (len > 0) {
		ssize_t n = send(fd, text, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		struct pollfd p = { .fd = fd, .events = POLLOUT };

		if (n > 0) {
			text += n;
			len -= (size_t)n;
		} else if (n < 0 && errno == EAGAIN && poll(&p, 1, 1000) > 0)
			continue;
		else
			return;
	}
}

static void client_free(struct control_client *c)
{
	sd_event_source_disable_unref(c->io);
	sd_event_source_disable_unref(c->timer);
	safe_close(c->fd);
	free(c);
}

static void drop(struct control_client *c)
{
	struct manager *m = c->m;

	for (size_t i = 0; i < m->n_clients; i++)
		if (m->clients[i] == c) {
			m->clients[i] = m->clients[--m->n_clients];
			break;
		}
	client_free(c);
}

static void run_metrics(struct control_client *c, enum om_format format)
{
	_cleanup_free_ char *text = NULL, *reply = NULL;
	int r = manager_metrics_text(c->m, format, false, &text);

	if (r < 0 || asprintf(&reply, "ok\n%s", text) < 0) {
		answer(c->fd, "error out of memory\n");
		return;
	}
	answer_all(c->fd, reply);
}

/* One whole command: "reload", "metrics openmetrics", "metrics prometheus". */
static void run_command(struct control_client *c, const char *command)
{
	char reply[64];
	int r;

	if (streq(command, "metrics openmetrics") || streq(command, "metrics prometheus")) {
		run_metrics(c,
			    streq(command, "metrics openmetrics") ? OM_OPENMETRICS : OM_PROMETHEUS);
		return;
	}
	if (!streq(command, "reload")) {
		answer(c->fd, "error unknown command (allowed: reload, metrics openmetrics, "
			      "metrics prometheus)\n");
		return;
	}
	log_info("reload asked through the control socket");
	r = manager_reload(c->m);
	if (r < 0)
		(void)snprintf(reply, sizeof(reply), "error %s\n", strerror(-r));
	else
		(void)snprintf(reply, sizeof(reply), "ok %d\n", r);
	/* The reply sends the admin to the log: what the reload logged is there first. */
	log_flush();
	answer(c->fd, reply);
}

static int on_client_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct control_client *c = userdata;
	ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, MSG_DONTWAIT);
	char *nl;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) { /* gone, or said nothing whole */
		drop(c);
		return 0;
	}
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	nl = memchr(c->buf, '\n', c->len);
	if (!nl && c->len < sizeof(c->buf) - 1)
		return 0; /* more to come */
	if (nl)
		*nl = '\0';
	if (!nl || strlen(c->buf) != (size_t)(nl - c->buf))
		answer(c->fd, "error not a command (allowed: reload, metrics openmetrics, metrics "
			      "prometheus)\n");
	else
		run_command(c, c->buf);
	drop(c);
	return 0;
}

static int on_client_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	drop(userdata);
	return 0;
}

/* The peer is root (the socket's mode says so; a descriptor passed on could say otherwise). */
static bool peer_is_root(int fd)
{
	struct ucred peer;
	socklen_t len = sizeof(peer);

	return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) == 0 && peer.uid == 0;
}

static int on_connect(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct manager *m = userdata;
	_cleanup_close_ int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	struct control_client *c;
	int r;

	if (cfd < 0)
		return 0;
	if (!peer_is_root(cfd)) {
		answer(cfd, "error permission denied (root only)\n");
		return 0;
	}
	if (m->n_clients >= CLIENTS_MAX) {
		answer(cfd, "error busy\n");
		return 0;
	}
	c = calloc(1, sizeof(*c));
	if (!c || GROW_ARRAY(m->clients, m->allocated_clients, m->n_clients + 1) < 0) {
		free(c);
		return 0;
	}
	*c = (struct control_client){ .m = m, .fd = TAKE_FD(cfd) };
	r = sd_event_add_io(m->event, &c->io, c->fd, EPOLLIN, on_client_io, c);
	if (r >= 0)
		r = sd_event_add_time_relative(m->event, &c->timer, CLOCK_MONOTONIC,
					       CLIENT_TIMEOUT_USEC, 100 * 1000, on_client_timeout,
					       c);
	if (r < 0) {
		client_free(c);
		return 0;
	}
	m->clients[m->n_clients++] = c;
	return 0;
}

/* The runtime directory: made root's and private, or refused when someone else's. */
static int runtime_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (lstat(dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022))
		return -EPERM;
	return 0;
}

int manager_listen_control(struct manager *m)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t mask;
	int r;

	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/control", m->runtime_dir) >=
	    sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	r = runtime_dir(m->runtime_dir);
	if (r < 0) {
		log_error("%s: %s (allowed: a directory of this user's, not writable by others)",
			  m->runtime_dir, strerror(-r));
		return r;
	}
	(void)unlink(sa.sun_path);
	m->control_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (m->control_fd < 0)
		return -errno;
	/* The socket is born 0600: no moment in which the umask's mode lets others in. */
	mask = umask(0177);
	r = bind(m->control_fd, (struct sockaddr *)&sa, sizeof(sa));
	(void)umask(mask);
	if (r < 0 || listen(m->control_fd, 8) < 0)
		return -errno;
	r = sd_event_add_io(m->event, &m->control_source, m->control_fd, EPOLLIN, on_connect, m);
	if (r >= 0)
		(void)sd_event_source_set_description(m->control_source, "kvmtuned-control");
	return r;
}

void manager_control_done(struct manager *m)
{
	for (size_t i = 0; i < m->n_clients; i++)
		client_free(m->clients[i]);
	free(m->clients);
	m->clients = NULL;
	m->n_clients = m->allocated_clients = 0;
}
