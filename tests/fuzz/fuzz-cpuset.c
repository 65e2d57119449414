/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Fuzzes the CPU/node list parser: never crash; errors point inside the input; an accepted list
 * formats to a canonical text that parses to the same set and formats to itself.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cpuset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = strndup((const char *)data, size);
	struct cpuset set = {}, again = {};
	struct cpuset_error e;
	char *text, *text2;

	if (!s)
		return 0;
	if (cpuset_parse(s, CPUSET_LIMIT, &set, &e) < 0) {
		if (e.offset > strlen(s))
			abort();
		free(s);
		return 0;
	}
	text = cpuset_format(&set);
	if (!text || cpuset_parse(text, CPUSET_LIMIT, &again, NULL) < 0 ||
	    !cpuset_equal(&set, &again) || cpuset_is_empty(&set))
		abort();
	text2 = cpuset_format(&again);
	if (!text2 || strcmp(text, text2) != 0)
		abort();
	free(text);
	free(text2);
	cpuset_done(&set);
	cpuset_done(&again);
	free(s);
	return 0;
}
