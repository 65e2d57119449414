/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * kvmtunectl reload: asks the running kvmtuned to read its configuration again and re-enforce
 * every VM, and returns when that is done (systemd 252's ExecReload= needs exactly that).
 */

#include <getopt.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "ctl.h"

#define RELOAD_TIMEOUT_MS (5 * 60 * 1000)

static const char reload_help[] =
	"Usage: kvmtunectl reload [--wait]\n"
	"\n"
	"Asks the running kvmtuned (its control socket in the runtime directory) to read its\n"
	"configuration again and re-enforce every VM, and returns when that is done, as\n"
	"systemctl reload kvmtuned does. Exit 1 when a file has errors (it keeps its last good\n"
	"version) or kvmtuned does not answer.\n"
	"\n"
	"Options:\n"
	"  -w, --wait    Accepted for scripts; reload always waits\n"
	"  -h, --help    This text\n";

static int absent_errno;

int ctl_daemon_reload(struct ctl *c, bool *ret_absent)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -EBADF;
	struct pollfd p;
	char reply[128] = "";
	ssize_t n;
	int errors;

	*ret_absent = false;
	(void)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/control", c->runtime_dir);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		/* No socket, or nobody listening on it: no daemon runs. */
		if (fd >= 0 && (errno == ENOENT || errno == ECONNREFUSED)) {
			absent_errno = errno;
			*ret_absent = true;
			return EXIT_OK;
		}
		fprintf(stderr, "kvmtunectl: kvmtuned does not answer at %s: %m\n", sa.sun_path);
		return EXIT_INVALID;
	}
	if (send(fd, "reload\n", 7, MSG_NOSIGNAL) != 7) {
		fprintf(stderr, "kvmtunectl: %s: %m\n", sa.sun_path);
		return EXIT_INVALID;
	}
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	if (poll(&p, 1, RELOAD_TIMEOUT_MS) <= 0 ||
	    (n = recv(fd, reply, sizeof(reply) - 1, 0)) <= 0) {
		fprintf(stderr, "kvmtunectl: kvmtuned did not say whether the reload worked\n");
		return EXIT_INVALID;
	}
	reply[n] = '\0';
	if (sscanf(reply, "ok %d", &errors) != 1) {
		fprintf(stderr, "kvmtunectl: reload failed: %s", reply);
		return EXIT_INVALID;
	}
	if (errors > 0) {
		fprintf(stderr,
			"kvmtunectl: reloaded; %d file(s) have errors and keep their last good "
			"version (see kvmtuned's log, or kvmtunectl check)\n",
			errors);
		return EXIT_INVALID;
	}
	return EXIT_OK;
}

int verb_reload(struct ctl *c, int argc, char **argv)
{
	static const struct option options[] = {
		{ "wait", no_argument, NULL, 'w' }, /* always waits; kept for scripts that say so */
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	bool absent = false;
	int opt, errors;

	optind = 1;
	while ((opt = ctl_getopt("reload", argc, argv, ":wh", options)) >= 0)
		switch (opt) {
		case 'w':
			break;
		case 'h':
			fputs(reload_help, stdout);
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	errors = ctl_need_root();
	if (errors != EXIT_OK)
		return errors;
	errors = ctl_daemon_reload(c, &absent);
	if (errors == EXIT_OK && absent) {
		fprintf(stderr,
			"kvmtunectl: kvmtuned does not answer at %s/control: %s (is it "
			"running?)\n",
			c->runtime_dir, strerror(absent_errno));
		return EXIT_INVALID;
	}
	if (errors != EXIT_OK)
		return errors;
	printf("reloaded\n");
	return EXIT_OK;
}
