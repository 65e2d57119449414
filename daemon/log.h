/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * kvmtuned's log: to the journal with KVMTUNE_VM=, KVMTUNE_PID=, KVMTUNE_POLICY= fields when
 * systemd runs it (JOURNAL_STREAM is set), to stderr otherwise. Every message is one line.
 * stderr is buffered (a burst's lines leave in one write): log_flush() after each turn of the
 * loop and before anything waits.
 */

#include <sys/types.h>
#include <syslog.h>

#include "macro.h"

/* What a message is about; any field may be NULL / 0. */
struct log_about {
	const char *vm;
	pid_t pid;
	const char *policy; /* "file:line" */
};

void log_setup(int max_priority);
void log_flush(void);
_printf_(3, 4) void log_about(int priority, const struct log_about *about, const char *fmt, ...);

#define log_error(...)	 log_about(LOG_ERR, NULL, __VA_ARGS__)
#define log_warning(...) log_about(LOG_WARNING, NULL, __VA_ARGS__)
#define log_info(...)	 log_about(LOG_INFO, NULL, __VA_ARGS__)
#define log_debug(...)	 log_about(LOG_DEBUG, NULL, __VA_ARGS__)
