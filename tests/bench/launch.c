/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The benchmark's barrier (tests/bench/bench.py): starts N stand-in VMs truly together.
 *   launch N BINARY PREFIX [ARG...]
 * forks N children, each blocked in read() on one pipe; once all are forked the pipe's write
 * end is closed and every child returns from read() at once and execs
 *   BINARY -name guest=PREFIX-I,debug-threads=on ARG...
 * with I from 0, its QMP socket path given as -qmp unix:DIR/PREFIX-I.sock,server=on,wait=off
 * when ARG holds "--qmp-dir DIR". Prints "pid I PID" for each, then waits for all children.
 * Not a test; it judges nothing. This program's own exe is not a QEMU path, so kvmtuned only
 * sees the children (after their exec).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int fds[2], n;
	const char *qmp_dir = NULL;

	if (argc < 4 || (n = atoi(argv[1])) <= 0) {
		fprintf(stderr, "usage: launch N BINARY PREFIX [ARG...]\n");
		return 2;
	}
	for (int i = 4; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--qmp-dir"))
			qmp_dir = argv[i + 1];
	if (pipe(fds) < 0)
		return 1;
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0)
			return 1;
		if (pid == 0) {
			char name[256], qmp[4096], c;
			char **args = calloc((size_t)argc + 8, sizeof(char *));
			int k = 0;

			close(fds[1]);
			snprintf(name, sizeof(name), "guest=%s-%d,debug-threads=on", argv[3], i);
			args[k++] = argv[2];
			args[k++] = "-name";
			args[k++] = name;
			if (qmp_dir) {
				snprintf(qmp, sizeof(qmp), "unix:%s/%s-%d.sock,server=on,wait=off",
					 qmp_dir, argv[3], i);
				args[k++] = "-qmp";
				args[k++] = qmp;
			}
			for (int a = 4; a < argc; a++)
				args[k++] = argv[a];
			(void)!read(fds[0], &c,
				    1); /* returns 0 for all once the write end closes */
			execv(argv[2], args);
			_exit(127);
		}
		printf("pid %d %d\n", i, (int)pid);
	}
	fflush(stdout);
	close(fds[0]);
	close(fds[1]); /* the barrier opens */
	while (wait(NULL) > 0)
		;
	return 0;
}
