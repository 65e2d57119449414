/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * kvmtuned's metrics: its counters (for `kvmtunectl metrics`, through the control socket) and,
 * with metrics_textfile: in kvmtuned.yaml, the effect of every VM's limits with those counters
 * in node_exporter's textfile directory, rewritten whole at each full pass.
 */

#include <string.h>

#include "log.h"
#include "manager.h"
#include "vm-effect.h"

static void add_counters(struct manager *m, struct om_writer *w)
{
	struct daemon_counters c = m->counters;

	c.vms = c.threads = 0;
	for (size_t i = 0; i < m->n_vms; i++)
		if (m->vms[i].group) {
			c.vms++;
			c.threads += m->vms[i].vm.n_threads;
		}
	metrics_add_daemon(w, &c);
}

int manager_metrics_text(struct manager *m, enum om_format format, bool with_vms, char **ret)
{
	_cleanup_(om_writer_done) struct om_writer w = { .format = format };

	if (with_vms) {
		metrics_declare_vms(&w);
		for (size_t i = 0; i < m->n_vms; i++) {
			_cleanup_(vm_effect_done) struct vm_effect e = {};
			int r = vm_effect_read(&m->cgroups, m->proc_fd, &m->vms[i].vm,
					       m->vms[i].group, &e);

			if (r < 0)
				return r;
			metrics_add_vm(&w, &m->vms[i].vm, &e);
		}
	}
	add_counters(m, &w);
	return with_vms ? om_finish(&w, ret) : om_finish_fragment(&w, ret);
}

void manager_write_textfile(struct manager *m)
{
	const char *path = m->settings.metrics_textfile.value;
	_cleanup_free_ char *text = NULL;
	int r;

	if (!path)
		return;
	r = manager_metrics_text(m, OM_PROMETHEUS, true, &text);
	if (r >= 0)
		r = metrics_write_file(path, text);
	/* Said once until it works again: a rescan every few seconds should not flood the log. */
	if (r < 0 && !m->textfile_failing)
		log_error("metrics_textfile %s: %s (the directory must exist; metrics are written "
			  "again at each rescan)",
			  path, strerror(-r));
	m->textfile_failing = r < 0;
}
