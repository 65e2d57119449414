/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Fuzzes the readers of cgroup values (what status shows and drift is measured against). The
 * first byte picks the file format: 0 a limit (memory.max, cpu.shares, ...), 1 cpu.max, 2 a
 * weight file (io.weight, io.bfq.weight).
 */

#include "cgroup-read.h"
#include "fuzz.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t a = 0, b = 0;
	char *s;
	int r;

	if (size < 1)
		return 0;
	s = fuzz_string(data + 1, size - 1);
	if (!s)
		return 0;
	switch (data[0] % 3) {
	case 0:
		r = cg_parse_limit(s, &a);
		FUZZ_ASSERT(r == 0 || r == -EINVAL);
		/* What parses is a number, "max" or "-1". */
		FUZZ_ASSERT(r < 0 || a == CG_UNLIMITED || (s[0] >= '0' && s[0] <= '9'));
		break;
	case 1:
		r = cg_parse_cpu_max(s, &a, &b);
		FUZZ_ASSERT(r == 0 || r == -EINVAL);
		FUZZ_ASSERT(r < 0 || b > 0);
		break;
	default:
		r = cg_parse_weight(s, &a);
		FUZZ_ASSERT(r == 0 || r == -EINVAL);
		break;
	}
	free(s);
	return 0;
}
