/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Sizes with libvirt's units, and integers parsed strictly. Size units (case does not matter):
 * b/bytes; KB=1000, K/KiB=1024; MB, M/MiB; GB, G/GiB; TB, T/TiB. A bare number is in the
 * caller's default unit (KiB for memtune, bytes for throttles). "unlimited" is SIZE_UNLIMITED.
 */

#include <stddef.h>
#include <stdint.h>

#define SIZE_UNLIMITED UINT64_MAX
#define SIZE_MAX_BYTES ((uint64_t)INT64_MAX) /* the kernel's counters are signed 64-bit */

/*
 * Parses s into bytes. Returns 0, -EINVAL (not a size; *ret_offset points at the first byte
 * that is wrong), -ERANGE (larger than SIZE_MAX_BYTES, or the multiplication overflows).
 */
int size_parse(const char *s, uint64_t bare_unit, uint64_t *ret_bytes, size_t *ret_offset);

/*
 * Writes bytes in the largest binary unit that divides it exactly ("1G", "768M", "1536K",
 * "1000b"), or "unlimited". buf must hold SIZE_FORMAT_MAX bytes.
 */
#define SIZE_FORMAT_MAX 32
const char *size_format(uint64_t bytes, char buf[static SIZE_FORMAT_MAX]);

/* A measurement for people, one decimal in the largest fitting binary unit: "285.2M". */
const char *size_format_human(uint64_t bytes, char buf[static SIZE_FORMAT_MAX]);

/* Strict decimal integer: optional '-', digits only, no spaces, no overflow. 0/-EINVAL/-ERANGE. */
int parse_int64(const char *s, int64_t *ret);
