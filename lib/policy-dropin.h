/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The drop-in policy of `kvmtunectl set`: one VM's values as dotted keys (the policy's own
 * names: cputune.shares, cputune.vcpupin.0, blkiotune.devices./dev/sda.weight), and the YAML
 * file that holds them. The text is only ever judged by the real policy parser (policy-yaml.h):
 * this file knows the shape of the keys, not what their values may be.
 *
 * Key syntax:
 *   SECTION.KEY                 cputune.shares, memtune.hard_limit, blkiotune.weight
 *   SECTION.MAP.FIELD           numatune.memory.mode (also numatune.mode),
 *                               cputune.emulatorsched.scheduler
 *   SECTION.LIST.ID             the pinning lists, whose only field is the CPU list:
 *                               cputune.vcpupin.0, cputune.vcpupin.2-3, cputune.iothreadpin.io1
 *   SECTION.LIST.ID.FIELD       lists with several fields; ID is everything between the list
 *                               and the last dot, so paths with dots work:
 *                               blkiotune.devices./dev/sda.read_bytes_sec,
 *                               cputune.vcpusched.0-1.scheduler
 */

#include <stdbool.h>
#include <stddef.h>

struct dropin_entry {
	char *key; /* canonical */
	char *value;
};

struct dropin {
	char *name; /* the VM's name, matched exactly (glob characters escaped in the file) */
	char *uuid; /* NULL when unknown */
	struct dropin_entry *entries;
	size_t n_entries, allocated;
};

/*
 * Checks KEY (without "=VALUE") and returns its canonical spelling in *ret. On a key that is not
 * one, -EINVAL and in *ret_error a sentence (what was wrong, a suggestion, what is allowed);
 * the caller frees either. -ENOMEM.
 */
int dropin_key_parse(const char *key, char **ret, char **ret_error);

/* Sets (adds or replaces) a canonical key. 0 or -ENOMEM. */
int dropin_set(struct dropin *d, const char *key, const char *value);

/*
 * Removes key, or every key below it when it names a section, list or list entry
 * ("cputune", "cputune.vcpupin", "blkiotune.devices./dev/sda"). The number removed (0: none).
 */
size_t dropin_unset(struct dropin *d, const char *key);

/* The value of a canonical key, or NULL. */
const char *dropin_get(const struct dropin *d, const char *key);

/* The drop-in as YAML: match, then the sections in the policy's order. Caller frees. */
int dropin_format(const struct dropin *d, char **ret);

/*
 * Reads a drop-in that dropin_format() wrote (path names it in errors). A file not in that shape
 * (edited by hand beyond it) is -EINVAL with *ret_error saying where; -ENOMEM.
 */
int dropin_parse(const char *path, const char *text, size_t size, struct dropin *d,
		 char **ret_error);

/* "90-set-<name>.yaml", "/" and unusual bytes of the name as \xNN. Caller frees; NULL on -ENOMEM.
 */
char *dropin_file_name(const char *vm_name);

void dropin_done(struct dropin *d);
