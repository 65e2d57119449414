/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Fuzzes the settings loader (kvmtuned.yaml): any input is accepted or rejected with
 * diagnostics. Accepted settings survive the round trip: their dump parses again to the same
 * dump (what `check -v` prints is settings again).
 */

#include "fuzz.h"
#include "settings.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag_list diags = {}, again_diags = {};
	struct settings s = {}, again = {};
	char *text = NULL, *text2 = NULL;

	if (settings_defaults(&s) < 0)
		abort();
	if (settings_parse("fuzz.yaml", (const char *)data, size, &s, &diags) == 0 &&
	    settings_dump(&s, &text) == 0) {
		FUZZ_ASSERT(settings_parse("dump", text, strlen(text), &again, &again_diags) == 0);
		FUZZ_ASSERT(settings_dump(&again, &text2) == 0 && streq(text, text2));
	}
	FOREACH_ARRAY (d, diags.items, diags.n)
		free(diag_format(d));
	free(text);
	free(text2);
	settings_done(&s);
	settings_done(&again);
	diag_list_done(&diags);
	diag_list_done(&again_diags);
	return 0;
}
