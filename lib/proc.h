/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Reading /proc through a root directory fd (tests point it at fixture trees). Functions take
 * (proc_fd, pid, tid); tid 0 means the process itself (/proc/PID/...), otherwise the thread
 * (/proc/PID/task/TID/...). Processes and threads that are gone give -ENOENT or -ESRCH: normal.
 */

#include <stdint.h>
#include <sys/types.h>

/* The fields of /proc/PID/stat that kvmtune uses. */
struct proc_stat {
	char comm[64];
	char state;
	pid_t ppid;
	unsigned flags;	       /* PF_*; PF_USER_WORKER = 0x4000 marks kernel-made threads */
	uint64_t utime, stime; /* clock ticks */
	uint64_t starttime;    /* clock ticks after boot: with the pid, who a process is */
	int processor;	       /* CPU it last ran on */
	unsigned rt_priority;
	unsigned policy; /* SCHED_* */
};

#define PF_EXITING     0x00000004u
#define PF_IO_WORKER   0x00000010u
#define PF_USER_WORKER 0x00004000u

/*
 * Parses the text of a stat file:
 *   1234 (CPU 0/KVM) S 1 1234 1234 0 -1 4194368 ... (52 fields on 6.x)
 * comm may hold spaces, ')' and '/': fields are counted from the last ')'.
 */
int proc_stat_parse(const char *buf, struct proc_stat *ret);
int proc_read_stat(int proc_fd, pid_t pid, pid_t tid, struct proc_stat *ret);

/* Numeric entries of /proc (pids) or /proc/PID/task (tids), ascending. Caller frees. */
int proc_list_pids(int proc_fd, pid_t **ret, size_t *ret_n);
int proc_list_tids(int proc_fd, pid_t pid, pid_t **ret, size_t *ret_n);
/* Open fd numbers of a process (/proc/PID/fd), ascending. Caller frees. */
int proc_list_fds(int proc_fd, pid_t pid, int **ret, size_t *ret_n);

/* readlink of /proc/PID/exe with a trailing " (deleted)" removed. */
int proc_read_exe(int proc_fd, pid_t pid, char **ret);
/* readlink of /proc/PID/cwd, /proc/PID/fd/FD. */
int proc_read_link(int proc_fd, pid_t pid, const char *name, char **ret);
/* The raw NUL-separated command line. */
int proc_read_cmdline(int proc_fd, pid_t pid, char **ret, size_t *ret_size);
/* comm without its newline. */
int proc_read_comm(int proc_fd, pid_t pid, pid_t tid, char **ret);

/*
 * One "Name:\tvalue" line of status, value without leading blanks. -ENODATA if absent.
 *   Name:	CPU 0/KVM
 *   Uid:	107	107	107	107
 *   SigBlk:	0000000010002240
 */
int proc_status_field_parse(const char *buf, const char *field, char **ret);
int proc_read_status_field(int proc_fd, pid_t pid, pid_t tid, const char *field, char **ret);

/*
 * The syscall file: "16 0xb 0xae80 0x0 ..." gives nr 16 and args; "running" (or "-1 ...")
 * gives -EBUSY: the thread is not blocked in a system call.
 */
struct proc_syscall {
	long nr;
	uint64_t args[6];
};
int proc_syscall_parse(const char *buf, struct proc_syscall *ret);
int proc_read_syscall(int proc_fd, pid_t pid, pid_t tid, struct proc_syscall *ret);

/*
 * The path of the cgroup file's line for the unified hierarchy ("0::/path", controller NULL) or
 * a v1 controller ("4:cpu,cpuacct:/path"). -ENODATA if there is none.
 */
int proc_cgroup_parse(const char *buf, const char *controller, char **ret);
int proc_read_cgroup(int proc_fd, pid_t pid, pid_t tid, const char *controller, char **ret);
/* The whole file in one read, to ask proc_cgroup_parse() about several hierarchies. */
int proc_read_cgroup_file(int proc_fd, pid_t pid, pid_t tid, char **ret);
