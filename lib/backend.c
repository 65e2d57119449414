/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "backend.h"
#include "macro.h"
#include "unit-name.h"

/* 0 when the systemd backend can serve this host, else -errno and why. */
static int systemd_usable(const struct settings *s, const struct cgroup_fs *fs,
			  struct unit_bus **ret_bus, char **ret_why, bool *ret_bus_failed)
{
	_cleanup_(unit_bus_freep) struct unit_bus *bus = NULL;
	_cleanup_free_ char *group = NULL, *version = NULL;
	int r;

	if (sd_booted() <= 0)
		return asprintf(ret_why, "systemd is not PID 1") < 0 ? -ENOMEM : -ENOMEDIUM;
	if (fs->layout != CGROUP_UNIFIED)
		return asprintf(ret_why,
				"the cgroup hierarchy is %s, not unified (cgroup v2 only): on v1 a "
				"scope's Delegate=yes hands over no cpuset and no blkio group, so "
				"pinning and throttles would stay outside the unit",
				cgroup_layout_to_string(fs->layout)) < 0
			       ? -ENOMEM
			       : -EOPNOTSUPP;
	r = slice_path(s->cgroup_parent.value, &group);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return asprintf(ret_why,
				"cgroup_parent '%s' is not a slice unit name (such as "
				"machine.slice)",
				s->cgroup_parent.value) < 0
			       ? -ENOMEM
			       : -EINVAL;
	r = unit_bus_open(NULL, &bus);
	if (r >= 0)
		r = unit_bus_systemd_version(bus, &version);
	if (r < 0) {
		*ret_bus_failed = true;
		return asprintf(ret_why, "systemd does not answer on the system bus: %s",
				strerror(-r)) < 0
			       ? -ENOMEM
			       : r;
	}
	*ret_bus = TAKE_PTR(bus);
	return 0;
}

int backend_parent(const struct settings *s, int backend, char **ret)
{
	if (backend == BACKEND_SYSTEMD)
		return slice_path(s->cgroup_parent.value, ret);
	*ret = strdup(s->cgroup_parent.value);
	return *ret ? 0 : -ENOMEM;
}

int backend_open(const struct settings *s, const struct cgroup_fs *fs, struct unit_bus **ret_bus,
		 char **ret_why)
{
	bool bus_failed = false;
	int r;

	*ret_bus = NULL;
	*ret_why = NULL;
	if (s->backend.value == BACKEND_CGROUPFS)
		return BACKEND_CGROUPFS;
	r = systemd_usable(s, fs, ret_bus, ret_why, &bus_failed);
	if (r >= 0)
		return BACKEND_SYSTEMD;
	/* A host that is systemd's whose bus does not answer now (a daemon-reexec, an upgrade)
	 * is still systemd's: auto does not switch to writing systemd's files behind it. */
	if (r == -ENOMEM || s->backend.value == BACKEND_SYSTEMD || bus_failed)
		return r;
	return BACKEND_CGROUPFS;
}
