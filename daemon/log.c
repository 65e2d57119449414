/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-journal.h>

#include "escape.h"
#include "log.h"

static int max_priority = LOG_INFO;
static bool journal;

void log_setup(int priority)
{
	max_priority = priority;
	/* Under systemd stderr is the journal; talk to it directly to keep the fields. */
	journal = getenv("JOURNAL_STREAM") != NULL;
	(void)setvbuf(stderr, NULL, _IOFBF, 64 * 1024);
}

void log_flush(void)
{
	(void)fflush(stderr);
}

void log_about(int priority, const struct log_about *about, const char *fmt, ...)
{
	_cleanup_free_ char *safe_msg = NULL, *safe_vm = NULL;
	const char *vm = about && about->vm ? about->vm : NULL;
	char msg[2048], pid[16] = "";
	va_list ap;

	if (priority > max_priority)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* A message is one line, and VM, thread and file names in it are other people's text:
	 * nothing of theirs may break the line or reach a terminal as a control. */
	if (!escape_not_needed(msg) && (safe_msg = escape_untrusted(msg)))
		(void)snprintf(msg, sizeof(msg), "%s", safe_msg);
	if (vm && !escape_not_needed(vm) && (safe_vm = escape_untrusted(vm)))
		vm = safe_vm;
	if (about && about->pid)
		(void)snprintf(pid, sizeof(pid), "%d", (int)about->pid);
	if (journal && sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%i", priority,
				       "SYSLOG_IDENTIFIER=kvmtuned", "KVMTUNE_VM=%s", vm ?: "",
				       "KVMTUNE_PID=%s", pid, "KVMTUNE_POLICY=%s",
				       about && about->policy ? about->policy : "", NULL) >= 0)
		return;
	if (vm)
		fprintf(stderr, "kvmtuned: %s%s%s%s: %s\n", vm, pid[0] ? " (pid " : "", pid,
			pid[0] ? ")" : "", msg);
	else
		fprintf(stderr, "kvmtuned: %s\n", msg);
}
