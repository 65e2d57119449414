/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * A stand-in for QEMU, for the benchmark: run from a path that kvmtuned's qemu_binaries match,
 * with a QEMU-like command line (-name guest=NAME -smp N). Its N threads rename themselves
 * "CPU n/KVM" as QEMU's vCPU threads do, and each measures, from inside, how long after its
 * rename its cgroup and affinity were in place. Prints, then idles until killed:
 *   exec <µs>            main thread: from exec to being in a cgroup whose path has --expect
 *   vcpu <n> <µs>        thread n: from its rename to its own vcpu<n> group and CPU n % ncpus
 * With --idle it prints "idle" and measures nothing: no polling load on the host; with
 * --exec-only only the main thread measures.
 * A measurement that does not come within --timeout seconds prints "timeout".
 * With -qmp unix:PATH,server=on,wait=off it answers QMP on PATH once its vCPU threads exist, as
 * QEMU does after machine init: the greeting, qmp_capabilities, query-cpus-fast (its vCPU
 * threads) and query-iothreads (none), each reply with the command's id.
 */

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static const char *expect = "kvmtune-";
static double timeout_s = 10;
static int ncpus;
static int want_cpus = 1; /* 0: measure the cgroup only (a classifier that does not pin) */
static int idle;	  /* --idle: rename, then measure nothing (no polling load) */
static int exec_only;	  /* --exec-only: only the main thread measures (exec -> classified) */
static pthread_mutex_t out = PTHREAD_MUTEX_INITIALIZER;
static pid_t vcpu_tids[256];
static int n_vcpus;

/* One client: each command's reply, with the id it came with (a number). */
static void qmp_client(int c)
{
	static const char greeting[] =
		"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": "
		"7}, \"package\": \"\"}, \"capabilities\": []}}\r\n";
	char buf[4096], reply[16384];
	size_t have = 0;
	ssize_t n;

	(void)!write(c, greeting, sizeof(greeting) - 1);
	while ((n = read(c, buf + have, sizeof(buf) - 1 - have)) > 0) {
		char *line, *nl;

		have += (size_t)n;
		buf[have] = '\0';
		for (line = buf; (nl = strchr(line, '\n')); line = nl + 1) {
			const char *id = strstr(line, "\"id\"");
			int idv = id ? atoi(strchr(id, ':') + 1) : 0;
			size_t len = 0;

			*nl = '\0';
			if (strstr(line, "query-cpus-fast")) {
				len += (size_t)snprintf(reply, sizeof(reply), "{\"return\": [");
				for (int i = 0; i < n_vcpus; i++)
					len += (size_t)snprintf(
						reply + len, sizeof(reply) - len,
						"%s{\"cpu-index\": %d, \"thread-id\": %d, "
						"\"qom-path\": \"/machine/unattached/device[%d]\", "
						"\"target\": \"x86_64\"}",
						i ? ", " : "", i, (int)vcpu_tids[i], i);
				len += (size_t)snprintf(reply + len, sizeof(reply) - len, "]");
			} else
				len += (size_t)snprintf(reply, sizeof(reply), "{\"return\": %s",
							strstr(line, "query-iothreads") ? "[]"
											: "{}");
			len += (size_t)snprintf(reply + len, sizeof(reply) - len,
						", \"id\": %d}\r\n", idv);
			(void)!write(c, reply, len);
		}
		have = strlen(line);
		memmove(buf, line, have);
	}
	close(c);
}

static void *qmp_server(void *arg)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", (const char *)arg);
	unlink(sa.sun_path);
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 16) < 0)
		return NULL;
	for (;;) {
		int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);

		if (c >= 0)
			qmp_client(c);
	}
	return NULL;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int in_group(const char *suffix)
{
	char path[64], buf[4096];
	FILE *f;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/self/task/%ld/cgroup", (long)syscall(SYS_gettid));
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(buf, sizeof(buf), f))
		if (strstr(buf, expect) && (!suffix || strstr(buf, suffix)))
			found = 1;
	fclose(f);
	return found;
}

static int pinned_to(int cpu)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return 0;
	return CPU_COUNT(&set) == 1 && CPU_ISSET(cpu, &set);
}

static void *vcpu(void *arg)
{
	int n = (int)(long)arg;
	char name[16], group[32];
	double t0, t;

	vcpu_tids[n] = (pid_t)syscall(SYS_gettid);
	snprintf(name, sizeof(name), "CPU %d/KVM", n);
	snprintf(group, sizeof(group), "/vcpu%d\n", n);
	prctl(PR_SET_NAME, name);
	if (idle || exec_only)
		for (;;)
			pause();
	t0 = now_us();
	for (;;) {
		t = now_us();
		if (in_group(group) && (!want_cpus || pinned_to(n % ncpus)))
			break;
		if (t - t0 > timeout_s * 1e6)
			break;
		usleep(50);
	}
	pthread_mutex_lock(&out);
	if (t - t0 > timeout_s * 1e6)
		printf("vcpu %d timeout\n", n);
	else
		printf("vcpu %d %.0f\n", n, t - t0);
	fflush(stdout);
	pthread_mutex_unlock(&out);
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	double t0 = now_us(), t;
	int vcpus = 1;
	static char qmp_path[108];

	ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--idle"))
			idle = 1;
		else if (!strcmp(argv[i], "--exec-only"))
			exec_only = 1;
	for (int i = 1; i + 1 < argc; i++) {
		if (!strcmp(argv[i], "-smp"))
			vcpus = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--expect"))
			expect = argv[i + 1];
		else if (!strcmp(argv[i], "--timeout"))
			timeout_s = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--no-pinning"))
			want_cpus = 0;
		else if (!strcmp(argv[i], "-qmp") && !strncmp(argv[i + 1], "unix:", 5))
			snprintf(qmp_path, sizeof(qmp_path), "%.*s",
				 (int)strcspn(argv[i + 1] + 5, ","), argv[i + 1] + 5);
	}
	/* QEMU creates its vCPU threads after machine init, 20-300 ms after exec
	 * (research/qemu-threads.md 2.5): the same here, 30 ms; not when only exec is measured. */
	if (!exec_only)
		usleep(30 * 1000);
	n_vcpus = vcpus < 256 ? vcpus : 256;
	for (int n = 0; n < vcpus; n++) {
		pthread_t th;

		pthread_create(&th, NULL, vcpu, (void *)(long)n);
	}
	if (qmp_path[0]) {
		pthread_t th;

		usleep(1000); /* the vCPU threads have their ids */
		pthread_create(&th, NULL, qmp_server, qmp_path);
	}
	if (idle) {
		printf("idle\n");
		fflush(stdout);
		for (;;)
			pause();
	}
	for (;;) {
		t = now_us();
		if (in_group(NULL) || t - t0 > timeout_s * 1e6)
			break;
		usleep(50);
	}
	pthread_mutex_lock(&out);
	if (t - t0 > timeout_s * 1e6)
		printf("exec timeout\n");
	else
		printf("exec %.0f\n", t - t0);
	fflush(stdout);
	pthread_mutex_unlock(&out);
	for (;;)
		pause();
}
