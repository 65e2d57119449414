/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <stdarg.h>
#include <string.h>

#include "cpuset.h"
#include "macro.h"
#include "strbuf.h"

static int cpuset_reserve(struct cpuset *s, unsigned id)
{
	size_t need = id / 64 + 1;
	uint64_t *w;

	if (need <= s->n_words)
		return 0;
	w = realloc(s->words, need * sizeof(uint64_t));
	if (!w)
		return -ENOMEM;
	memset(w + s->n_words, 0, (need - s->n_words) * sizeof(uint64_t));
	s->words = w;
	s->n_words = need;
	return 0;
}

int cpuset_add(struct cpuset *s, unsigned id)
{
	int r = cpuset_reserve(s, id);

	if (r < 0)
		return r;
	s->words[id / 64] |= UINT64_C(1) << (id % 64);
	return 0;
}

int cpuset_add_range(struct cpuset *s, unsigned first, unsigned last)
{
	int r = cpuset_reserve(s, last);

	if (r < 0)
		return r;
	for (unsigned i = first; i <= last; i++)
		s->words[i / 64] |= UINT64_C(1) << (i % 64);
	return 0;
}

void cpuset_remove(struct cpuset *s, unsigned id)
{
	if (id / 64 < s->n_words)
		s->words[id / 64] &= ~(UINT64_C(1) << (id % 64));
}

bool cpuset_contains(const struct cpuset *s, unsigned id)
{
	return id / 64 < s->n_words && (s->words[id / 64] >> (id % 64)) & 1;
}

unsigned cpuset_count(const struct cpuset *s)
{
	unsigned n = 0;

	for (size_t i = 0; i < s->n_words; i++)
		n += (unsigned)__builtin_popcountll(s->words[i]);
	return n;
}

bool cpuset_is_empty(const struct cpuset *s)
{
	return cpuset_next(s, 0) < 0;
}

int cpuset_next(const struct cpuset *s, unsigned from)
{
	for (size_t i = from / 64; i < s->n_words; i++) {
		uint64_t w = s->words[i];

		if (i == from / 64)
			w &= ~UINT64_C(0) << (from % 64);
		if (w)
			return (int)(i * 64 + (size_t)__builtin_ctzll(w));
	}
	return -1;
}

static uint64_t word_at(const struct cpuset *s, size_t i)
{
	return i < s->n_words ? s->words[i] : 0;
}

bool cpuset_equal(const struct cpuset *a, const struct cpuset *b)
{
	for (size_t i = 0; i < MAX(a->n_words, b->n_words); i++)
		if (word_at(a, i) != word_at(b, i))
			return false;
	return true;
}

bool cpuset_is_subset(const struct cpuset *sub, const struct cpuset *super)
{
	for (size_t i = 0; i < sub->n_words; i++)
		if (sub->words[i] & ~word_at(super, i))
			return false;
	return true;
}

bool cpuset_overlaps(const struct cpuset *a, const struct cpuset *b)
{
	for (size_t i = 0; i < MIN(a->n_words, b->n_words); i++)
		if (a->words[i] & b->words[i])
			return true;
	return false;
}

int cpuset_copy(struct cpuset *dst, const struct cpuset *src)
{
	uint64_t *w = NULL;

	if (src->n_words > 0) {
		w = malloc(src->n_words * sizeof(uint64_t));
		if (!w)
			return -ENOMEM;
		memcpy(w, src->words, src->n_words * sizeof(uint64_t));
	}
	free(dst->words);
	dst->words = w;
	dst->n_words = src->n_words;
	return 0;
}

int cpuset_union(struct cpuset *dst, const struct cpuset *src)
{
	int r;

	if (src->n_words == 0)
		return 0;
	r = cpuset_reserve(dst, (unsigned)(src->n_words * 64 - 1));
	if (r < 0)
		return r;
	for (size_t i = 0; i < src->n_words; i++)
		dst->words[i] |= src->words[i];
	return 0;
}

void cpuset_subtract(struct cpuset *dst, const struct cpuset *src)
{
	for (size_t i = 0; i < MIN(dst->n_words, src->n_words); i++)
		dst->words[i] &= ~src->words[i];
}

void cpuset_done(struct cpuset *s)
{
	free(s->words);
	*s = (struct cpuset){};
}

char *cpuset_format(const struct cpuset *s)
{
	_cleanup_(strbuf_done) struct strbuf b = {};
	int first = cpuset_next(s, 0);

	if (strbuf_append(&b, "") < 0)
		return NULL;
	while (first >= 0) {
		int last = first;

		while (cpuset_contains(s, (unsigned)last + 1))
			last++;
		if (strbuf_printf(&b, "%s%d", b.len > 0 ? "," : "", first) < 0)
			return NULL;
		if (last > first && strbuf_printf(&b, "-%d", last) < 0)
			return NULL;
		first = cpuset_next(s, (unsigned)last + 1);
	}
	return strbuf_steal(&b);
}

_printf_(3, 4) static int fail(struct cpuset_error *err, size_t offset, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		err->offset = offset;
		va_start(ap, fmt);
		(void)vsnprintf(err->message, sizeof(err->message), fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Reads a decimal id at *p; leaves *p after it. 0, or -EINVAL (not a number) / -ERANGE. */
static int parse_id(const char **p, unsigned limit, unsigned *ret)
{
	const char *c = *p;
	unsigned long v = 0;

	if (!isdigit((unsigned char)*c))
		return -EINVAL;
	for (; isdigit((unsigned char)*c); c++) {
		v = v * 10 + (unsigned long)(*c - '0');
		if (v >= limit) {
			while (isdigit((unsigned char)*c))
				c++;
			*p = c;
			return -ERANGE;
		}
	}
	*p = c;
	*ret = (unsigned)v;
	return 0;
}

static const char *skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static int parse_item(const char *s, const char **p, unsigned limit, struct cpuset *incl,
		      struct cpuset *excl, struct cpuset_error *err)
{
	const char *item = *p;
	bool negate = false;
	unsigned first, last;
	int r;

	if (*item == '^') {
		negate = true;
		*p = skip_space(item + 1);
	}
	r = parse_id(p, limit, &first);
	if (r == -ERANGE)
		return fail(err, (size_t)(item - s), "'%.*s' is out of range (largest allowed: %u)",
			    (int)(*p - item), item, limit - 1);
	if (r < 0) {
		if (**p == '\0' || **p == ',')
			return negate ? fail(err, (size_t)(item - s), "'^' needs a number after it")
				      : fail(err, (size_t)(*p - s), "empty item");
		return fail(err, (size_t)(*p - s), "expected a number, got '%.16s'", *p);
	}
	last = first;
	if (**p == '-') {
		const char *second = ++*p;

		if (negate)
			return fail(err, (size_t)(item - s),
				    "'^' takes a single number, not a range");
		r = parse_id(p, limit, &last);
		if (r == -ERANGE)
			return fail(err, (size_t)(second - s),
				    "'%.*s' is out of range (largest allowed: %u)",
				    (int)(*p - second), second, limit - 1);
		if (r < 0)
			return fail(err, (size_t)(second - s), "range '%.*s' has no end",
				    (int)(second - item), item);
		if (last < first)
			return fail(err, (size_t)(item - s),
				    "range '%u-%u' is reversed (write '%u-%u')", first, last, last,
				    first);
	}
	/* libvirt's syntax allows "0,0,0,0", but it was likely meant as something else: say so. */
	for (unsigned i = first; err && !err->message[0] && i <= last; i++)
		if (cpuset_contains(negate ? excl : incl, i)) {
			err->offset = (size_t)(item - s);
			(void)snprintf(err->message, sizeof(err->message),
				       "%s%u is listed twice (allowed, as in libvirt; was another "
				       "list meant?)",
				       negate ? "^" : "", i);
		}
	r = cpuset_add_range(negate ? excl : incl, first, last);
	return r < 0 ? r : 0;
}

int cpuset_parse(const char *s, unsigned limit, struct cpuset *ret, struct cpuset_error *err)
{
	_cleanup_(cpuset_done) struct cpuset incl = {}, excl = {};
	const char *p = skip_space(s), *comma;
	int r;

	if (err)
		err->message[0] = '\0';
	if (*p == '\0')
		return fail(err, 0, "empty list");
	for (;;) {
		r = parse_item(s, &p, limit, &incl, &excl, err);
		if (r < 0)
			return r;
		p = skip_space(p);
		if (*p == '\0')
			break;
		if (*p != ',')
			return fail(err, (size_t)(p - s), "expected ',' or the end, got '%.16s'",
				    p);
		comma = p;
		p = skip_space(p + 1);
		if (*p == '\0')
			return fail(err, (size_t)(comma - s), "trailing ','");
	}
	cpuset_subtract(&incl, &excl);
	if (cpuset_is_empty(&incl))
		return fail(err, 0, "the list selects nothing");
	cpuset_done(ret);
	*ret = incl;
	incl = (struct cpuset){};
	return 0;
}
