/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Runs a fuzz target over files given on the command line, so the targets build and run in
 * every (gcc) build over the seed corpus; clang builds link libFuzzer instead (-Dfuzz=true).
 */

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>

#include "fileio.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		_cleanup_free_ char *buf = NULL;
		size_t size;
		int r = read_file_at(AT_FDCWD, argv[i], 16 * 1024 * 1024, &buf, &size);

		if (r < 0) {
			fprintf(stderr, "%s: cannot read\n", argv[i]);
			return 1;
		}
		(void)LLVMFuzzerTestOneInput((const uint8_t *)buf, size);
	}
	printf("replayed %d input(s)\n", argc - 1);
	return 0;
}
