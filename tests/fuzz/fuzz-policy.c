/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Fuzzes the policy loader: any input must be accepted or rejected with diagnostics, never
 * crash or leak. What is accepted must survive the round trip: its canonical dump parses again
 * and dumps to the same text. Merging and the effective checks run on every document.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy-dump.h"
#include "policy-load.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct topology topo;

static void round_trip(const struct policy *doc)
{
	struct policy_env env = { .topo = &topo };
	struct diag_list diags = {};
	struct policy_file *again = NULL;
	char *text = NULL, *text2 = NULL;

	if (policy_dump(doc, false, &text) < 0)
		return;
	if (policy_parse("dump", text, strlen(text), &env, &again, &diags) != 0 ||
	    policy_dump(&again->docs[0], false, &text2) < 0 || strcmp(text, text2) != 0) {
		diag_list_print(&diags, stderr);
		fprintf(stderr, "round trip failed for:\n%s\nsecond dump:\n%s\n", text,
			text2 ?: "(none)");
		abort();
	}
	free(text);
	free(text2);
	policy_file_free(again);
	diag_list_done(&diags);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_env env = { .topo = &topo };
	struct diag_list diags = {};
	struct policy_file *f = NULL;
	struct policy merged = {};

	if (cpuset_is_empty(&topo.cpus)) {
		(void)cpuset_add_range(&topo.cpus, 0, 7);
		(void)cpuset_add_range(&topo.nodes, 0, 1);
	}
	if (policy_parse("fuzz.yaml", (const char *)data, size, &env, &f, &diags) == 0) {
		FOREACH_ARRAY (doc, f->docs, f->n_docs) {
			round_trip(doc);
			(void)policy_merge(&merged, doc);
		}
		(void)policy_check_effective(&merged, &diags);
		policy_done(&merged);
		policy_file_free(f);
	}
	/* Every diagnostic must format. */
	FOREACH_ARRAY (d, diags.items, diags.n)
		free(diag_format(d));
	diag_list_done(&diags);
	return 0;
}
