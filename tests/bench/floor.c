/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The benchmark's floor (tests/bench/bench.py): the same kernel work kvmtuned does for renamed
 * vCPU threads, and nothing else. N threads rename themselves "CPU n/KVM" at once; the main
 * thread then pins each (sched_setaffinity to CPU n % ncpus) and writes it into its group's
 * tasks (v1) or cgroup.threads (v2) file of each hierarchy, through files opened beforehand:
 *   floor N GROUP_DIR_TEMPLATE...
 * where each template holds %d for the thread's index (".../vcpu%d"); the groups exist and
 * have their cpuset set (the benchmark makes them under its own parent). The kernel's
 * tracepoints time each thread (task_rename -> its last cgroup_attach_task); this program
 * prints "floor PLACED_US" (all N placed, from the last rename) for a cross-check.
 */

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static pthread_barrier_t start, renamed;
static pid_t *tids;

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void *vcpu(void *arg)
{
	int n = (int)(long)arg;
	char name[16];

	tids[n] = (pid_t)syscall(SYS_gettid);
	snprintf(name, sizeof(name), "CPU %d/KVM", n);
	pthread_barrier_wait(&start);
	prctl(PR_SET_NAME, name);
	pthread_barrier_wait(&renamed);
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[1]) : 0, ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	int groups = argc - 2, *fd;
	double t0;

	if (n <= 0) {
		fprintf(stderr, "usage: floor N GROUP_DIR_TEMPLATE...\n");
		return 2;
	}
	tids = calloc((size_t)n, sizeof(pid_t));
	fd = calloc((size_t)n * (size_t)groups, sizeof(int));
	for (int i = 0; i < n; i++)
		for (int g = 0; g < groups; g++) {
			char dir[4096], path[4200];

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
			snprintf(dir, sizeof(dir), argv[2 + g],
				 i); /* the benchmark's own template */
#pragma GCC diagnostic pop
			snprintf(path, sizeof(path), "%s/tasks", dir);
			fd[i * groups + g] = open(path, O_WRONLY | O_CLOEXEC);
			if (fd[i * groups + g] < 0) {
				snprintf(path, sizeof(path), "%s/cgroup.threads", dir);
				fd[i * groups + g] = open(path, O_WRONLY | O_CLOEXEC);
			}
			if (fd[i * groups + g] < 0) {
				perror(path);
				return 1;
			}
		}
	pthread_barrier_init(&start, NULL, (unsigned)n + 1);
	pthread_barrier_init(&renamed, NULL, (unsigned)n + 1);
	for (int i = 0; i < n; i++) {
		pthread_t th;

		pthread_create(&th, NULL, vcpu, (void *)(long)i);
	}
	pthread_barrier_wait(&start);
	pthread_barrier_wait(&renamed); /* every thread has its name: place them */
	t0 = now_us();
	for (int i = 0; i < n; i++) {
		cpu_set_t set;
		char id[16];
		int len = snprintf(id, sizeof(id), "%d", (int)tids[i]);

		CPU_ZERO(&set);
		CPU_SET(i % ncpus, &set);
		if (sched_setaffinity(tids[i], sizeof(set), &set) < 0)
			perror("sched_setaffinity");
		for (int g = 0; g < groups; g++)
			if (write(fd[i * groups + g], id, (size_t)len) != len)
				perror("write");
	}
	printf("floor %.0f\n", now_us() - t0);
	fflush(stdout);
	/* the benchmark reads the trace, then ends this process */
	for (;;)
		pause();
}
