/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * A hostile stand-in for QEMU (tests/test-hostile-live.py): run from a path that the test's
 * qemu_binaries match, with a QEMU-like command line (-name guest=NAME -smp N -qmp
 * unix:PATH,server=on). Its main thread plays the emulator and serves the QMP socket; it makes
 * N vCPU threads (named "CPU n/KVM" unless STANDIN_NAMES=0). STANDIN_MODE says how it serves:
 *   normal    a correct QMP conversation
 *   events    the greeting, then events without end
 *   longline  the greeting, then one line without end
 *   drip      a byte now and then, for ever
 *   swap      on connect: vCPU 1's thread ends, its TID is written to STANDIN_TID_FILE (a FIFO
 *             the test reads); once STANDIN_GO_FILE exists, a correct conversation that still
 *             names the ended TID as vCPU 1
 * STANDIN_THREAD_NAME renames the last thread (any bytes). Ends on SIGTERM.
 */

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define THREADS_MAX 64

static pid_t tids[THREADS_MAX]; /* of the vCPU threads */
static int n_threads = 1;
static int end_pipe[THREADS_MAX][2]; /* a byte ends thread i */

static void *vcpu_main(void *arg)
{
	int i = (int)(long)arg;
	char name[16], c;

	tids[i] = (pid_t)syscall(SYS_gettid);
	if (!getenv("STANDIN_NAMES") || strcmp(getenv("STANDIN_NAMES"), "0") != 0) {
		snprintf(name, sizeof(name), "CPU %d/KVM", i);
		prctl(PR_SET_NAME, name);
	}
	if (i == n_threads - 1 && getenv("STANDIN_THREAD_NAME"))
		prctl(PR_SET_NAME, getenv("STANDIN_THREAD_NAME"));
	while (read(end_pipe[i][0], &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

static const char *qmp_path(int argc, char **argv)
{
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "-qmp") == 0 && strncmp(argv[i + 1], "unix:", 5) == 0) {
			char *p = strdup(argv[i + 1] + 5);

			p[strcspn(p, ",")] = '\0';
			return p;
		}
	return NULL;
}

static int smp(int argc, char **argv)
{
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "-smp") == 0)
			return atoi(argv[i + 1]);
	return 1;
}

static void say(int fd, const char *s)
{
	(void)send(fd, s, strlen(s), MSG_NOSIGNAL);
}

/* The id of a command line '{"execute": "x", "id": N}'. */
static int id_of(const char *line)
{
	const char *p = strstr(line, "\"id\":");

	return p ? atoi(p + 5) : 0;
}

static void converse(int fd)
{
	char buf[4096], reply[4096];
	size_t len = 0;

	say(fd, "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}}, "
		"\"capabilities\": []}}\r\n");
	for (;;) {
		ssize_t n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
		char *nl;

		if (n <= 0)
			return;
		len += (size_t)n;
		buf[len] = '\0';
		while ((nl = strchr(buf, '\n'))) {
			*nl = '\0';
			if (strstr(buf, "qmp_capabilities")) {
				snprintf(reply, sizeof(reply), "{\"return\": {}, \"id\": %d}\r\n",
					 id_of(buf));
			} else if (strstr(buf, "query-cpus-fast")) {
				size_t k = (size_t)snprintf(reply, sizeof(reply), "{\"return\": [");

				for (int i = 0; i < n_threads; i++)
					k += (size_t)snprintf(
						reply + k, sizeof(reply) - k,
						"%s{\"cpu-index\": %d, \"thread-id\": %d}",
						i ? ", " : "", i, (int)tids[i]);
				snprintf(reply + k, sizeof(reply) - k, "], \"id\": %d}\r\n",
					 id_of(buf));
			} else
				snprintf(reply, sizeof(reply), "{\"return\": [], \"id\": %d}\r\n",
					 id_of(buf));
			say(fd, reply);
			len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len + 1);
		}
	}
}

static void flood(int fd, const char *mode)
{
	static const char event[] = "{\"event\": \"RTC_CHANGE\", \"data\": {\"offset\": 0}, "
				    "\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}}\r\n";

	static char chunk[64 * 1024];

	memset(chunk, 'x', sizeof(chunk));
	say(fd, "{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n");
	if (strcmp(mode, "longline") == 0)
		say(fd, "{\"a\": \"");
	for (;;) {
		ssize_t w;

		if (strcmp(mode, "events") == 0)
			w = send(fd, event, sizeof(event) - 1, MSG_NOSIGNAL);
		else if (strcmp(mode, "longline") == 0)
			w = send(fd, chunk, sizeof(chunk), MSG_NOSIGNAL);
		else {
			w = send(fd, " ", 1, MSG_NOSIGNAL);
			usleep(20 * 1000);
		}
		if (w < 0)
			return;
	}
}

static void wait_for_file(const char *path)
{
	struct stat st;

	for (int i = 0; i < 6000 && stat(path, &st) < 0; i++)
		usleep(10 * 1000);
}

static void swap(int fd)
{
	const char *tid_file = getenv("STANDIN_TID_FILE"), *go = getenv("STANDIN_GO_FILE");
	pid_t tid = tids[1];
	FILE *f;

	(void)write(end_pipe[1][1], "x", 1); /* vCPU 1's thread ends ... */
	while (syscall(SYS_tgkill, getpid(), tid, 0) == 0)
		usleep(1000);
	f = fopen(tid_file, "w"); /* ... and the test may hand its TID to another process */
	fprintf(f, "%d\n", (int)tid);
	fclose(f);
	wait_for_file(go);
	converse(fd);
	for (;;) /* once is enough: this VM's story is told */
		pause();
}

int main(int argc, char **argv)
{
	const char *path = qmp_path(argc, argv), *mode = getenv("STANDIN_MODE");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	pthread_t t;
	int s;

	n_threads = smp(argc, argv);
	if (n_threads < 1 || n_threads > THREADS_MAX)
		n_threads = 1;
	for (int i = 0; i < n_threads; i++) {
		if (pipe(end_pipe[i]) < 0)
			return 1;
		pthread_create(&t, NULL, vcpu_main, (void *)(long)i);
	}
	if (!path) {
		for (;;)
			pause();
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 1) < 0) {
		perror("standin: qmp socket");
		return 1;
	}
	for (;;) {
		int c = accept(s, NULL, NULL);

		if (c < 0)
			continue;
		if (!mode || strcmp(mode, "normal") == 0)
			converse(c);
		else if (strcmp(mode, "swap") == 0)
			swap(c);
		else
			flood(c, mode);
		close(c);
	}
}
