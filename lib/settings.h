/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The daemon's settings, kvmtuned.yaml (spec §5): every key optional, built-in defaults. */

#include "diag.h"
#include "value.h"

enum backend {
	BACKEND_AUTO,
	BACKEND_SYSTEMD,
	BACKEND_CGROUPFS,
	_BACKEND_MAX,
	_BACKEND_INVALID = -EINVAL,
};

#define SETTINGS_BINARIES_MAX	 64
#define RESCAN_INTERVAL_MIN_USEC (UINT64_C(1) * 1000000)
#define RESCAN_INTERVAL_MAX_USEC (UINT64_C(3600) * 1000000)

struct settings {
	char *path; /* the file, or NULL when built-in defaults only; origins point here */
	struct penum backend;
	struct pstr cgroup_parent;
	char **qemu_binaries; /* absolute globs */
	size_t n_qemu_binaries;
	struct origin qemu_binaries_origin;
	struct pint skip_managed; /* 0/1 */
	struct pint rescan_interval_usec;
	struct pint qmp; /* 0/1 */
	/* node_exporter's textfile: kvmtuned writes the metrics there at each rescan; NULL: off */
	struct pstr metrics_textfile;
};

/* Fills s with the built-in defaults. Returns 0 or -ENOMEM. */
int settings_defaults(struct settings *s);

/*
 * Reads path over the defaults. A missing file is not an error (defaults stay, returns 0).
 * Returns -EINVAL when the file has errors (all in diags; *s keeps the defaults), -ENOMEM.
 * With check_owner, the file must be root's and not group/other-writable.
 */
int settings_load(const char *path, bool check_owner, struct settings *s, struct diag_list *diags);

/* Parses text (size bytes) as the settings file path, over the defaults; returns as above. */
int settings_parse(const char *path, const char *text, size_t size, struct settings *s,
		   struct diag_list *diags);

/* The settings as YAML, every key, in the order of spec §5. Caller frees *ret. */
int settings_dump(const struct settings *s, char **ret);

const char *backend_to_string(enum backend b);
void settings_done(struct settings *s);
