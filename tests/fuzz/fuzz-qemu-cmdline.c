/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Fuzzes the QEMU command-line reader on /proc/PID/cmdline text (NUL-separated arguments that
 * whoever starts the process chooses). Beyond not crashing, what it derives must be coherent:
 * at least one vCPU, no more than maxcpus, and the x86 APIC id of every possible cpu-index maps
 * back to that index.
 */

#include "fuzz.h"
#include "qemu-cmdline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qemu_cmdline c = {};

	if (qemu_cmdline_parse_buf((const char *)data, size, &c) < 0)
		return 0;
	FUZZ_ASSERT(c.vcpus >= 1 && c.vcpus <= c.maxcpus);
	for (size_t i = 0; i < c.n_iothreads; i++)
		FUZZ_ASSERT(c.iothreads[i] && c.iothreads[i][0]);
	for (unsigned i = 0; i < c.maxcpus && i < 4096; i++) {
		long apic = qemu_cpu_index_to_apic_id(&c, i);

		FUZZ_ASSERT(apic < 0 || qemu_apic_id_to_cpu_index(&c, (unsigned)apic) == (int)i);
	}
	FUZZ_ASSERT(c.n_accels <= QEMU_ACCELS_MAX);
	FUZZ_ASSERT(!c.uuid || strlen(c.uuid) == 36);
	qemu_cmdline_done(&c);
	return 0;
}
