/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kvmtunectl metrics: the effect of every VM's limits (lib/metrics.h) as OpenMetrics text, and
 * kvmtuned's counters when it runs (asked through its control socket).
 */
#include <getopt.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "assess.h"
#include "ctl.h"
#include "metrics.h"

#define DAEMON_TIMEOUT_MS 5000
#define DAEMON_REPLY_MAX  (1024 * 1024)

static const struct om_family daemon_up = {
	"kvmtune_daemon_up", OM_GAUGE, NULL,
	"1 when kvmtuned answered on its control socket (its counters follow), 0 when not"
};

/* Reads until the daemon closes, within the timeout. NULL on any failure. */
static char *read_all(int fd)
{
	_cleanup_(strbuf_done) struct strbuf b = {};
	struct timespec start, now;
	char buf[4096];

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long left;
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &now);
		left = DAEMON_TIMEOUT_MS - ((now.tv_sec - start.tv_sec) * 1000 +
					    (now.tv_nsec - start.tv_nsec) / 1000000);
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return NULL;
		n = recv(fd, buf, sizeof(buf) - 1, 0);
		if (n < 0)
			return NULL;
		if (n == 0)
			return b.buf ? strbuf_steal(&b) : strdup("");
		buf[n] = '\0';
		if (b.len + (size_t)n > DAEMON_REPLY_MAX || strbuf_append(&b, buf) < 0)
			return NULL;
	}
}

/* kvmtuned's families in format, or NULL when it does not run or does not answer. */
static char *ask_daemon(const struct ctl *c, enum om_format format)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	const char *cmd =
		format == OM_OPENMETRICS ? "metrics openmetrics\n" : "metrics prometheus\n";
	char *reply;

	(void)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/control", c->runtime_dir);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return NULL;
	if (send(fd, cmd, strlen(cmd), MSG_NOSIGNAL) != (ssize_t)strlen(cmd))
		return NULL;
	reply = read_all(fd);
	/* "ok\n" then the text; an older kvmtuned answers "error unknown command" */
	if (!reply || strncmp(reply, "ok\n", 3) != 0) {
		free(reply);
		return NULL;
	}
	memmove(reply, reply + 3, strlen(reply + 3) + 1);
	return reply;
}

static const char metrics_help[] =
	"Usage: kvmtunectl metrics [--format openmetrics|prometheus] [VM...]\n"
	"\n"
	"The effect of each VM's limits as metrics for Prometheus: CPU used and throttled per\n"
	"group (vm, emulator, vcpuN, iothread-ID), memory used against each limit, memory\n"
	"events, I/O per device, pressure stall time; then kvmtuned's own counters when it\n"
	"runs. Every figure is read from the kernel now; one the host cannot give is absent.\n"
	"\n"
	"Options:\n"
	"      --format F  openmetrics (the default: OpenMetrics 1.0, ending with # EOF) or\n"
	"                  prometheus (the text format 0.0.4 node_exporter's textfile collector\n"
	"                  and promtool read)\n"
	"  -h, --help      This text\n";

static int parse_format(const char *s, enum om_format *ret)
{
	if (streq(s, "openmetrics"))
		*ret = OM_OPENMETRICS;
	else if (streq(s, "prometheus"))
		*ret = OM_PROMETHEUS;
	else {
		fprintf(stderr,
			"kvmtunectl metrics: --format '%s' is unknown (allowed: openmetrics, "
			"prometheus)\n",
			shown(s));
		return -EINVAL;
	}
	return 0;
}

static int add_vms(struct ctl_world *w, struct vm **vms, const struct assessment *states, size_t n,
		   struct om_writer *om)
{
	metrics_declare_vms(om);
	for (size_t i = 0; i < n; i++) {
		_cleanup_(vm_effect_done) struct vm_effect e = {};

		if (vm_effect_read(&w->cgroups, w->proc_fd, vms[i], states[i].vm_group, &e) < 0)
			return log_oom();
		metrics_add_vm(om, vms[i], &e);
	}
	return EXIT_OK;
}

int verb_metrics(struct ctl *c, int argc, char **argv)
{
	static const struct option options[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	_cleanup_(om_writer_done) struct om_writer om = {};
	_cleanup_(ctl_world_done) struct ctl_world w = {};
	_cleanup_free_ struct vm **vms = NULL;
	_cleanup_free_ char *daemon = NULL, *text = NULL;
	struct assessment *states = NULL;
	size_t n = 0;
	int opt, r;

	optind = 1;
	while ((opt = ctl_getopt("metrics", argc, argv, ":h", options)) >= 0)
		switch (opt) {
		case 'f':
			if (parse_format(optarg, &om.format) < 0)
				return EXIT_USAGE;
			break;
		case 'h':
			fputs(metrics_help, stdout);
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	r = ctl_world_load(c, &w);
	if (r == EXIT_OK)
		r = ctl_select_vms(&w, argv + optind, (size_t)(argc - optind), &vms, &n);
	if (r == EXIT_OK)
		r = ctl_assess(&w, vms, n, &states);
	if (r == EXIT_OK)
		r = add_vms(&w, vms, states, n, &om);
	ctl_assessments_free(states, n);
	if (r != EXIT_OK)
		return r;
	daemon = ask_daemon(c, om.format);
	om_add_u64(&om, &daemon_up, NULL, daemon ? 1 : 0);
	if (om_finish_fragment(&om, &text) < 0)
		return log_oom();
	/* kvmtuned's families are its own names: appended, they stay whole */
	printf("%s%s%s", text, daemon ?: "", om.format == OM_OPENMETRICS ? "# EOF\n" : "");
	return EXIT_OK;
}
