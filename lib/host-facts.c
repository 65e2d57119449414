/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "cgroup-read.h"
#include "fileio.h"
#include "host-facts.h"
#include "macro.h"

/* $ cat /sys/block/sda/queue/scheduler
 * mq-deadline [bfq] none */
static bool any_disk_offers_bfq(int sys_fd)
{
	int fd = openat(sys_fd, "block", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	bool found = false;

	if (!d) {
		safe_close(fd);
		return false;
	}
	for (struct dirent *de; !found && (de = readdir(d));) {
		_cleanup_free_ char *s = NULL;
		char path[300];

		if (de->d_name[0] == '.')
			continue;
		(void)snprintf(path, sizeof(path), "%s/queue/scheduler", de->d_name);
		found = read_file_at(dirfd(d), path, 4096, &s, NULL) >= 0 && strstr(s, "bfq");
	}
	closedir(d);
	return found;
}

int host_facts_read(const struct cgroup_fs *fs, int sys_fd, const struct topology *topo,
		    const char *parent, struct plan_host *ret)
{
	struct plan_host h = {
		.topo = topo,
		.parent = parent,
		.memory_limit = CG_UNLIMITED,
		.memsw_limit = CG_UNLIMITED,
	};
	int fd, version;

	for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++)
		if (cgroup_fs_controller(fs, c, &fd, &version) >= 0) {
			h.version[c] = version;
			h.with[c] = version == 1 ? fs->v1_with[c] : 0;
		}
	if (h.version[CGROUP_MEMORY] == 1 &&
	    cgroup_fs_controller(fs, CGROUP_MEMORY, &fd, &version) >= 0) {
		_cleanup_free_ char *s = NULL;

		h.memsw = cgroup_read(fd, "", "memory.memsw.limit_in_bytes", &s) >= 0;
	}
	h.bfq = any_disk_offers_bfq(sys_fd);
	/* $ cat /sys/fs/cgroup/io.cost.qos
	 * 8:0 enable=1 ctrl=auto rpct=0.00 rlat=250000 wpct=0.00 wlat=250000 min=1.00 max=10000.00
	 */
	if (h.version[CGROUP_IO] == 2 && cgroup_fs_controller(fs, CGROUP_IO, &fd, &version) >= 0)
		(void)cgroup_read(fd, "", "io.cost.qos", &h.iocost);
	*ret = h;
	return 0;
}

void host_facts_done(struct plan_host *h)
{
	free(h->iocost);
	h->iocost = NULL;
}
