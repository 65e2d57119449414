/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Command-line mistakes, answered the way a person needs: which word was wrong, what it
 * probably meant, where the help is. getopt's own messages name neither the program nor the
 * verb, and suggest nothing.
 */

#include <getopt.h>
#include <string.h>

#include "ctl.h"

/* Optimal string alignment distance: insertions, deletions, substitutions, transpositions. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t d[3][64], *prev2 = d[0], *prev = d[1], *cur = d[2];

	if (la >= 63 || lb >= 63)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t *t;

		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];

			cur[j] = MIN(MIN(prev[j] + 1, cur[j - 1] + 1), prev[j - 1] + cost);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
				cur[j] = MIN(cur[j], prev2[j - 2] + 1);
		}
		t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb];
}

const char *ctl_suggest(const char *word, const char *const *candidates, size_t n)
{
	const char *best = NULL;
	size_t best_d = SIZE_MAX, len = strlen(word);

	for (size_t i = 0; i < n; i++) {
		size_t d = edit_distance(word, candidates[i]);

		/* A prefix is a guess too: "stat" for "status". */
		if (len >= 3 && strncmp(candidates[i], word, len) == 0)
			d = MIN(d, (size_t)1);
		if (d < best_d) {
			best_d = d;
			best = candidates[i];
		}
	}
	/* Close enough to be a typo, not another word: at most 2 edits, and fewer than half. */
	return best && best_d <= 2 && best_d * 2 < MAX(len, (size_t)2) ? best : NULL;
}

/* The option the user typed, as typed, without "=value". */
static void offending(char **argv, char buf[static 64])
{
	const char *arg = optind > 0 ? argv[optind - 1] : "";

	if (optopt && optopt < 0x100 && (arg[0] != '-' || arg[1] != '-')) {
		(void)snprintf(buf, 64, "-%c", optopt);
		return;
	}
	(void)snprintf(buf, 64, "%.*s", (int)strcspn(arg, "="), arg);
}

int ctl_getopt(const char *verb, int argc, char **argv, const char *shortopts,
	       const struct option *longopts)
{
	const char *names[32];
	char bad[64], with_verb[64];
	size_t n = 0;
	int opt;

	opterr = 0;
	opt = getopt_long(argc, argv, shortopts, longopts, NULL);
	if (opt != '?' && opt != ':')
		return opt;
	(void)snprintf(with_verb, sizeof(with_verb), "kvmtunectl%s%s", verb ? " " : "", verb ?: "");
	offending(argv, bad);
	if (opt == ':') {
		fprintf(stderr, "%s: option '%s' needs a value. Try '%s --help'.\n", with_verb,
			shown(bad), with_verb);
		return '?';
	}
	for (const struct option *o = longopts; o->name && n < ARRAY_SIZE(names); o++)
		names[n++] = o->name;
	{
		const char *word = bad[0] == '-' && bad[1] == '-' ? bad + 2 : bad + 1;
		const char *guess = ctl_suggest(word, names, n);

		fprintf(stderr, "%s: unknown option '%s'", with_verb, shown(bad));
		if (guess)
			fprintf(stderr, "; did you mean '--%s'?", guess);
		else
			fputc('.', stderr);
		fprintf(stderr, " Try '%s --help'.\n", with_verb);
	}
	return '?';
}
