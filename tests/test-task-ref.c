/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

#include "proc.h"
#include "task-ref.h"
#include "tests.h"

static int proc_fd(void)
{
	int fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);

	ASSERT_TRUE(fd >= 0);
	return fd;
}

static uint64_t start_of(int proc, pid_t pid, pid_t tid)
{
	struct proc_stat st;

	ASSERT_OK(proc_read_stat(proc, pid, tid == pid ? 0 : tid, &st));
	return st.starttime;
}

static pid_t sleeper(void)
{
	pid_t pid = fork();

	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	return pid;
}

TEST(process_bound_while_alive_gone_once_ended)
{
	int proc = proc_fd();
	pid_t pid = sleeper();
	struct task_ref r;

	ASSERT_OK(task_ref_open(proc, pid, pid, start_of(proc, pid, pid), &r));
	ASSERT_OK(task_ref_check(&r, proc));
	kill(pid, SIGKILL);
	/* A zombie still holds its pid but is no longer the process: gone. */
	ASSERT_OK(waitid(P_PID, (id_t)pid, &(siginfo_t){}, WEXITED | WNOWAIT));
	ASSERT_ERROR(task_ref_check(&r, proc), ESRCH);
	waitpid(pid, NULL, 0);
	ASSERT_ERROR(task_ref_check(&r, proc), ESRCH);
	task_ref_done(&r);
	close(proc);
}

TEST(another_start_time_is_another_task)
{
	int proc = proc_fd();
	pid_t pid = sleeper();
	struct task_ref r;

	/* What a TID reused by a later task looks like: the same number, a later start. */
	ASSERT_ERROR(task_ref_open(proc, pid, pid, start_of(proc, pid, pid) + 1, &r), ESRCH);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	ASSERT_ERROR(task_ref_open(proc, pid, pid, 0, &r), ESRCH);
	close(proc);
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t thread_tid;

static void *thread_main(void *arg)
{
	thread_tid = gettid();
	pthread_mutex_lock(&lock); /* held by the test until it lets the thread end */
	pthread_mutex_unlock(&lock);
	return NULL;
}

TEST(thread_bound_while_alive_gone_once_ended)
{
	int proc = proc_fd();
	struct task_ref r;
	pthread_t t;

	pthread_mutex_lock(&lock);
	ASSERT_EQ(pthread_create(&t, NULL, thread_main, NULL), 0);
	while (__atomic_load_n(&thread_tid, __ATOMIC_SEQ_CST) == 0)
		usleep(1000);
	ASSERT_OK(task_ref_open(proc, getpid(), thread_tid, start_of(proc, getpid(), thread_tid),
				&r));
	ASSERT_OK(task_ref_check(&r, proc));
	/* A thread of another process is not ours: its path under our pid does not exist. */
	{
		struct task_ref other;

		ASSERT_ERROR(task_ref_open(proc, getppid(), thread_tid, 0, &other), ESRCH);
	}
	pthread_mutex_unlock(&lock);
	pthread_join(t, NULL);
	/* join returns when the thread cleared its tid, a little before the kernel has let go of
	 * it: until then it is still the thread (and its TID still its own). */
	for (int i = 0; i < 10000 && task_ref_check(&r, proc) == 0; i++)
		usleep(1000);
	ASSERT_ERROR(task_ref_check(&r, proc), ESRCH);
	task_ref_done(&r);
	close(proc);
}
