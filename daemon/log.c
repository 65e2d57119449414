/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-journal.h>

#include "log.h"

static int max_priority = LOG_INFO;
static bool journal;

void log_setup(int priority)
{
	max_priority = priority;
	/* Under systemd stderr is the journal; talk to it directly to keep the fields. */
	journal = getenv("JOURNAL_STREAM") != NULL;
}

void log_about(int priority, const struct log_about *about, const char *fmt, ...)
{
	char msg[2048], pid[16] = "";
	va_list ap;

	if (priority > max_priority)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (about && about->pid)
		(void)snprintf(pid, sizeof(pid), "%d", (int)about->pid);
	if (journal && sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%i", priority,
				       "SYSLOG_IDENTIFIER=kvmtuned", "KVMTUNE_VM=%s",
				       about && about->vm ? about->vm : "", "KVMTUNE_PID=%s", pid,
				       "KVMTUNE_POLICY=%s",
				       about && about->policy ? about->policy : "", NULL) >= 0)
		return;
	if (about && about->vm)
		fprintf(stderr, "kvmtuned: %s%s%s%s: %s\n", about->vm, pid[0] ? " (pid " : "", pid,
			pid[0] ? ")" : "", msg);
	else
		fprintf(stderr, "kvmtuned: %s\n", msg);
}
