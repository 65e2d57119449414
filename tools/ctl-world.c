/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* What the verbs about running VMs share: settings, policies, discovered VMs. */

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "cgroup-mounts.h"
#include "ctl.h"
#include "enforce.h"
#include "host-facts.h"

int ctl_world_load(struct ctl *c, struct ctl_world *w)
{
	_cleanup_free_ char *settings_path = NULL;
	struct discover_opts o;
	struct policy_env env;
	size_t k = 0;
	int r = ctl_need_root();

	*w = (struct ctl_world){ .runtime_dir = c->runtime_dir,
				 .proc_fd = -EBADF,
				 .sys_fd = -EBADF,
				 .cgroups = { .unified_fd = -EBADF } };
	for (int i = 0; i < _CGROUP_CONTROLLER_MAX; i++)
		w->cgroups.v1_fd[i] = -EBADF;
	if (r == EXIT_OK)
		r = ctl_load_topology(c);
	if (r != EXIT_OK)
		return r;
	w->topo = &c->topo;
	env = ctl_policy_env(c);
	if (settings_defaults(&w->settings) < 0 ||
	    asprintf(&settings_path, "%s/kvmtuned.yaml", c->config_dir) < 0)
		return log_oom();
	r = settings_load(settings_path, true, &w->settings, &w->diags);
	if (r == -ENOMEM || policy_set_load_config(&w->policies, c->config_dir, c->runtime_dir,
						   &env, &w->diags) < 0)
		return log_oom();
	if (w->diags.n_errors > 0) {
		diag_list_print(&w->diags, stderr);
		fprintf(stderr, "kvmtunectl: files with errors are left out (settings: the "
				"built-in defaults).\n");
	}
	w->sys_fd = open(c->sys_root ?: "/sys", O_PATH | O_DIRECTORY | O_CLOEXEC);
	w->proc_fd = open(c->proc_root ?: "/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	w->host_proc = !c->proc_root;
	if (w->proc_fd < 0) {
		fprintf(stderr, "kvmtunectl: %s: %m\n", c->proc_root ?: "/proc");
		return EXIT_USAGE;
	}
	o = (struct discover_opts){
		.proc_fd = w->proc_fd,
		.qemu_binaries = w->settings.qemu_binaries,
		.n_qemu_binaries = w->settings.n_qemu_binaries,
		.skip_managed = false, /* listed as skipped, not left out unsaid */
		.qmp = w->settings.qmp.value,
		.qmp_timeout_usec = QMP_TIMEOUT_USEC,
	};
	/* Without cgroups (a container, a test's fixture tree) status shows only threads. */
	(void)cgroup_fs_open_host(&w->cgroups, NULL);
	r = discover_all(&o, &w->vms, &w->n_vms);
	if (r < 0) {
		fprintf(stderr, "kvmtunectl: cannot look for VMs: %s\n", strerror(-r));
		return EXIT_INVALID;
	}
	w->vm_list = calloc(w->n_vms + 1, sizeof(*w->vm_list));
	if (!w->vm_list)
		return log_oom();
	for (size_t i = 0; i < w->n_vms; i++)
		if (!ctl_vm_skipped(w, &w->vms[i]))
			w->vm_list[k++] = &w->vms[i];
	w->n_vm_list = k;
	return EXIT_OK;
}

bool ctl_vm_skipped(const struct ctl_world *w, const struct vm *vm)
{
	return vm->managed && w->settings.skip_managed.value;
}

int ctl_need_root(void)
{
	if (geteuid() == 0)
		return EXIT_OK;
	fprintf(stderr, "kvmtunectl: needs root (reading other users' /proc and writing "
			"cgroups)\n");
	return EXIT_NOT_PERMITTED;
}

int ctl_world_backend(struct ctl_world *w)
{
	_cleanup_free_ char *why = NULL;
	int r = backend_open(&w->settings, &w->cgroups, &w->bus, &why);

	if (r == -ENOMEM)
		return log_oom();
	if (r < 0) {
		fprintf(stderr, "kvmtunectl: backend systemd (kvmtuned.yaml): %s\n",
			why ?: strerror(-r));
		return EXIT_INVALID;
	}
	w->backend = r;
	if (backend_parent(&w->settings, w->backend, &w->parent) < 0)
		return log_oom();
	(void)host_facts_read(&w->cgroups, w->sys_fd, w->topo, w->parent, &w->host);
	return EXIT_OK;
}

const char *ctl_backend_name(const struct ctl_world *w)
{
	static char buf[256];

	if (!w->parent)
		return "unknown (cannot be used)";
	(void)snprintf(buf, sizeof(buf), "%s, parent %s, cgroup %s",
		       w->backend == BACKEND_SYSTEMD ? "systemd" : "cgroupfs",
		       w->settings.cgroup_parent.value, cgroup_layout_to_string(w->cgroups.layout));
	return buf;
}

void ctl_world_done(struct ctl_world *w)
{
	settings_done(&w->settings);
	policy_set_done(&w->policies);
	diag_list_done(&w->diags);
	vms_free(w->vms, w->n_vms);
	free(w->vm_list);
	safe_close(w->proc_fd);
	safe_close(w->sys_fd);
	free(w->parent);
	host_facts_done(&w->host);
	cgroup_fs_done(&w->cgroups);
	if (w->bus)
		unit_bus_free(w->bus);
	*w = (struct ctl_world){ .proc_fd = -EBADF, .sys_fd = -EBADF };
}

bool ctl_vm_is(const struct vm *vm, const char *arg)
{
	char pid[16];

	(void)snprintf(pid, sizeof(pid), "%d", (int)vm->pid);
	return streq(arg, pid) || streq(arg, vm->name) ||
	       (vm->cmdline.uuid && strcasecmp(arg, vm->cmdline.uuid) == 0);
}

int ctl_select_vms(struct ctl_world *w, char **args, size_t n, struct vm ***ret, size_t *ret_n)
{
	struct vm **v = calloc(w->n_vms + 1, sizeof(*v));
	size_t k = 0;

	if (!v)
		return log_oom();
	for (size_t i = 0; i < w->n_vms; i++) {
		bool wanted = n == 0;

		for (size_t j = 0; j < n && !wanted; j++)
			wanted = ctl_vm_is(&w->vms[i], args[j]);
		if (wanted)
			v[k++] = &w->vms[i];
	}
	for (size_t j = 0; j < n; j++) {
		bool found = false;

		for (size_t i = 0; i < w->n_vms && !found; i++)
			found = ctl_vm_is(&w->vms[i], args[j]);
		if (!found) {
			fprintf(stderr,
				"kvmtunectl: no VM '%s' (a name, pid or uuid of a running "
				"QEMU; see kvmtunectl list)\n",
				shown(args[j]));
			free(v);
			return EXIT_NO_VM;
		}
	}
	*ret = v;
	*ret_n = k;
	return EXIT_OK;
}

void ctl_enforcer(struct ctl_world *w, struct enforcer *e)
{
	e->policies = &w->policies;
	e->host = &w->host;
	e->cgroups = &w->cgroups;
	e->proc_fd = w->proc_fd;
	e->sys_fd = w->sys_fd;
	e->slice = w->backend == BACKEND_SYSTEMD ? w->settings.cgroup_parent.value : NULL;
	e->bus = w->bus;
	e->wait_for_units = true;
	e->runtime_dir = w->runtime_dir;
	e->vms = w->vm_list;
	e->n_vms = w->n_vm_list;
}
