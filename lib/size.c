/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "macro.h"
#include "size.h"

static const struct {
	const char *suffix;
	uint64_t factor;
} units[] = {
	{ "b", 1 },
	{ "bytes", 1 },
	{ "kb", UINT64_C(1000) },
	{ "k", UINT64_C(1) << 10 },
	{ "kib", UINT64_C(1) << 10 },
	{ "mb", UINT64_C(1000000) },
	{ "m", UINT64_C(1) << 20 },
	{ "mib", UINT64_C(1) << 20 },
	{ "gb", UINT64_C(1000000000) },
	{ "g", UINT64_C(1) << 30 },
	{ "gib", UINT64_C(1) << 30 },
	{ "tb", UINT64_C(1000000000000) },
	{ "t", UINT64_C(1) << 40 },
	{ "tib", UINT64_C(1) << 40 },
};

int size_parse(const char *s, uint64_t bare_unit, uint64_t *ret_bytes, size_t *ret_offset)
{
	const char *p = s, *unit;
	uint64_t v = 0, factor = bare_unit;
	bool overflow = false;

	if (strcasecmp(s, "unlimited") == 0) {
		*ret_bytes = SIZE_UNLIMITED;
		return 0;
	}
	if (!isdigit((unsigned char)*p)) {
		*ret_offset = 0;
		return -EINVAL;
	}
	for (; isdigit((unsigned char)*p); p++) {
		if (v > (UINT64_MAX - 9) / 10)
			overflow = true;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	/* No space before the unit, as virsh: "1 G" is refused there too. */
	unit = p;
	if (*unit != '\0') {
		size_t i;

		for (i = 0; i < ARRAY_SIZE(units); i++)
			if (strcasecmp(unit, units[i].suffix) == 0)
				break;
		if (i == ARRAY_SIZE(units)) {
			*ret_offset = (size_t)(unit - s);
			return -EINVAL;
		}
		factor = units[i].factor;
	}
	if (overflow || (v > 0 && factor > SIZE_MAX_BYTES / v))
		return -ERANGE;
	*ret_bytes = v * factor;
	return 0;
}

const char *size_format(uint64_t bytes, char buf[static SIZE_FORMAT_MAX])
{
	static const char suffix[] = "KMGT";
	unsigned shift = 0;

	if (bytes == SIZE_UNLIMITED)
		return strcpy(buf, "unlimited");
	if (bytes == 0)
		return strcpy(buf, "0");
	while (shift < 4 && bytes % (UINT64_C(1) << (10 * (shift + 1))) == 0)
		shift++;
	if (shift == 0)
		(void)snprintf(buf, SIZE_FORMAT_MAX, "%" PRIu64 "b", bytes);
	else
		(void)snprintf(buf, SIZE_FORMAT_MAX, "%" PRIu64 "%c", bytes >> (10 * shift),
			       suffix[shift - 1]);
	return buf;
}

const char *size_format_human(uint64_t bytes, char buf[static SIZE_FORMAT_MAX])
{
	static const char suffix[] = "BKMGTPE";
	double v = (double)bytes;
	unsigned i = 0;

	while (v >= 1024 && i < sizeof(suffix) - 2) {
		v /= 1024;
		i++;
	}
	if (i == 0)
		(void)snprintf(buf, SIZE_FORMAT_MAX, "%" PRIu64 "B", bytes);
	else
		(void)snprintf(buf, SIZE_FORMAT_MAX, "%.1f%c", v, suffix[i]);
	return buf;
}

int parse_int64(const char *s, int64_t *ret)
{
	const char *p = s;
	bool negative = false;
	uint64_t v = 0, limit;

	if (*p == '-') {
		negative = true;
		p++;
	}
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; isdigit((unsigned char)*p); p++) {
		uint64_t d = (uint64_t)(*p - '0');

		if (v > (limit - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (*p != '\0')
		return -EINVAL;
	*ret = negative ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}
