/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * One option argument of a QEMU command line ("socket,id=m,path=/run/a,,b,server=on"), split as
 * QEMU's QemuOpts does (util/qemu-option.c):
 *   - items are separated by ','; in a value ",," is a comma; a name ends at '=' or ',';
 *   - a first item without '=' is the implied key's value (read as a value: ",," escapes);
 *   - any other item without '=' is a flag: "name" is name=on, "noname" is name=off;
 *   - of a key given twice the last counts (qemu_opt_get), but of "id" the first (opts_parse_id,
 *     which reads every item as a name, even the first).
 * The keyval syntax of -machine and -smp (util/keyval.c) reads the same way wherever QEMU
 * accepts both; where they differ QEMU refuses to start, so one reader serves both.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct qemu_opt {
	char *key;
	char *value;
};

struct qemu_opts {
	struct qemu_opt *items; /* in order; "id" is not among them */
	size_t n;
	char *id; /* NULL when none */
};

/* Splits s; implied_key may be NULL. Returns 0 or -ENOMEM; free with qemu_opts_done(). */
int qemu_opts_parse(const char *s, const char *implied_key, struct qemu_opts *ret);
void qemu_opts_done(struct qemu_opts *o);

/* The value of key (the last one given), or NULL. */
const char *qemu_opts_get(const struct qemu_opts *o, const char *key);

/*
 * A boolean as QEMU's qapi_bool_parse() reads it: on, yes, true, y / off, no, false, n.
 * Returns 1, 0, or -EINVAL (QEMU refuses anything else).
 */
int qemu_parse_bool(const char *v);

/*
 * A number as QEMU reads one (qemu_strtoi64() with base 0, as the keyval visitor of -smp
 * does, or strtoull() with base 0 in older QemuOpts): leading blanks and a sign allowed,
 * "0x" hexadecimal, a leading "0" octal, the whole string consumed. Returns 0 or -EINVAL
 * (not a number, or out of int64 range).
 */
int qemu_parse_number(const char *v, int64_t *ret);
