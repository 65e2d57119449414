/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The control socket, <runtime dir>/control: `kvmtunectl reload` writes "reload\n" and gets
 * "ok <files with errors>\n" once the reload and the re-enforcement are done. systemd 252 has
 * no Type=notify-reload, so ExecReload= must wait like this.
 */

#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "log.h"
#include "manager.h"

static void answer(int fd, const char *text)
{
	(void)send(fd, text, strlen(text), MSG_NOSIGNAL);
}

static int on_client(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct manager *m = userdata;
	_cleanup_close_ int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	struct pollfd p = { .fd = c, .events = POLLIN };
	char buf[64] = "", reply[64];
	ssize_t n;
	int r;

	if (c < 0)
		return 0;
	/* A client says what it wants at once; one that does not gets dropped. */
	if (poll(&p, 1, 1000) <= 0 || (n = recv(c, buf, sizeof(buf) - 1, 0)) <= 0)
		return 0;
	buf[n] = '\0';
	if (strncmp(buf, "reload", 6) != 0) {
		answer(c, "error unknown command (allowed: reload)\n");
		return 0;
	}
	log_info("reload asked through the control socket");
	r = manager_reload(m);
	if (r < 0)
		(void)snprintf(reply, sizeof(reply), "error %s\n", strerror(-r));
	else
		(void)snprintf(reply, sizeof(reply), "ok %d\n", r);
	answer(c, reply);
	return 0;
}

int manager_listen_control(struct manager *m)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int r;

	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/control", m->runtime_dir) >=
	    sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	(void)mkdir(m->runtime_dir, 0755);
	(void)unlink(sa.sun_path);
	m->control_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (m->control_fd < 0)
		return -errno;
	/* root only: the socket makes the daemon work */
	if (bind(m->control_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(sa.sun_path, 0600) < 0 || listen(m->control_fd, 8) < 0)
		return -errno;
	r = sd_event_add_io(m->event, &m->control_source, m->control_fd, EPOLLIN, on_client, m);
	if (r >= 0)
		(void)sd_event_source_set_description(m->control_source, "kvmtuned-control");
	return r;
}
