/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Fuzzes the QMP client as the untrusted peer drives it: the input is what a monitor sends,
 * delivered in pieces of changing size (1, 7, 64, 4096 bytes, in turn: partial frames), the
 * client's commands taken out after each piece as a socket would. Never crash; an exchange
 * that ends stays ended; an answer respects every budget of qmp.h.
 */

#include <stdint.h>
#include <stdlib.h>

#include "qmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t pieces[] = { 1, 7, 64, 4096 };
	struct qmp_exchange *e;
	struct qmp_info info;
	size_t at = 0, turn = 0, n;
	int r = 0;

	if (qmp_exchange_new_detached(&e) < 0)
		return 0;
	while (at < size) {
		size_t len = pieces[turn++ % 4];
		int again;

		len = len < size - at ? len : size - at;
		again = qmp_exchange_feed(e, (const char *)data + at, len);
		if (r != 0 && again != r)
			abort(); /* an ended exchange stays ended, with the same result */
		r = again;
		(void)qmp_exchange_take_output(e, &n);
		at += len;
	}
	if (r == 1) {
		if (qmp_exchange_result(e, &info) < 0 || info.n_cpus > QMP_CPUS_MAX ||
		    info.n_iothreads > QMP_IOTHREADS_MAX)
			abort();
		for (size_t i = 0; i < info.n_iothreads; i++)
			if (!info.iothreads[i].id[0])
				abort();
		qmp_info_done(&info);
	}
	qmp_exchange_free(e);
	return 0;
}
