/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the virsh-shaped verbs share (ctl-virsh.c, ctl-virsh-tune.c). */

#include <getopt.h>

#include "ctl.h"

/* virsh's --live, --config, --current, and --runtime for --live: options of every such verb. */
enum {
	VIRSH_ARG_LIVE = 0x200,
	VIRSH_ARG_CONFIG,
	VIRSH_ARG_CURRENT,
};
#define VIRSH_SCOPE_OPTIONS                                        \
	{ "live", no_argument, NULL, VIRSH_ARG_LIVE },             \
		{ "runtime", no_argument, NULL, VIRSH_ARG_LIVE },  \
		{ "config", no_argument, NULL, VIRSH_ARG_CONFIG }, \
	{                                                          \
		"current", no_argument, NULL, VIRSH_ARG_CURRENT    \
	}
#define VIRSH_SCOPE_HELP                                                                   \
	"      --live, --runtime  The runtime drop-in (gone at reboot)\n"                  \
	"      --config       The persistent drop-in\n"                                    \
	"      --current      The runtime drop-in when the VM runs, else the persistent\n" \
	"                     one (the default)\n"                                         \
	"  -h, --help         This text\n"

/* true when opt was one of them (recorded in *scopes). */
bool virsh_scope_option(int opt, unsigned *scopes);
/* The scopes for ctl_set(): --current when none given. EXIT_USAGE (printed) on a conflict. */
int virsh_scopes(const char *verb, unsigned scopes, unsigned *ret);

/* KEY=VALUE pairs being collected for ctl_set(). */
struct virsh_kv {
	char **keys, **values;
	size_t n, allocated;
};
_printf_(3, 4) int virsh_kv_add(struct virsh_kv *kv, const char *value, const char *key_fmt, ...);
/* ctl_set() with the pairs; frees them. */
int virsh_kv_set(struct ctl *c, const char *verb, const char *vm, unsigned scopes,
		 struct virsh_kv *kv);
void virsh_kv_done(struct virsh_kv *kv);

/* What a printing verb prints from: the VM (NULL when not running) and its effective policy. */
struct virsh_state {
	struct ctl *c;
	const char *name;
	const struct vm *vm;
	const struct policy *p;
	int only; /* vcpupin VM VCPU: that vCPU; -1 all */
};
/* Loads the world and the effective policy of VM name, then print(). An EXIT_ code. */
int virsh_show(struct ctl *c, const char *name, int only,
	       void (*print)(const struct virsh_state *s));

/*
 * The end of a setting verb whose options gave r (an EXIT_ code) and kv: with no value, prints
 * the VM's state; else ctl_set() for the pairs in the scopes chosen. An EXIT_ code.
 */
int virsh_finish(struct ctl *c, const char *verb, int r, const char *vm, unsigned scopes,
		 struct virsh_kv *kv, void (*print)(const struct virsh_state *s));

/* "  (FILE:LINE)" of a value from a policy, or " (default)". */
void virsh_print_origin(const struct origin *o, bool set);
