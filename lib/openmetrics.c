/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "openmetrics.h"

static const char *const type_names[] = {
	[OM_COUNTER] = "counter",
	[OM_GAUGE] = "gauge",
	[OM_HISTOGRAM] = "histogram",
	[OM_INFO] = "info",
};

bool om_name_is_valid(const char *name, bool label)
{
	if (!name || !*name || (*name >= '0' && *name <= '9'))
		return false;
	for (const char *c = name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '_' || (!label && *c == ':')))
			return false;
	return true;
}

static struct om_entry *entry(struct om_writer *w, const struct om_family *f)
{
	FOREACH_ARRAY (e, w->families, w->n)
		if (e->family == f || streq(e->family->name, f->name))
			return e;
	if (w->error)
		return NULL;
	if (GROW_ARRAY(w->families, w->allocated, w->n + 1) < 0) {
		w->error = -ENOMEM;
		return NULL;
	}
	w->families[w->n] = (struct om_entry){ .family = f };
	return &w->families[w->n++];
}

void om_declare(struct om_writer *w, const struct om_family *f)
{
	(void)entry(w, f);
}

/* "\\", "\"" and newlines escaped, as both formats want label values. */
static int append_escaped(struct strbuf *b, const char *s, bool quote)
{
	int r = 0;

	for (const char *c = s; *c && r >= 0; c++)
		r = *c == '\\'		 ? strbuf_append(b, "\\\\")
		    : *c == '\n'	 ? strbuf_append(b, "\\n")
		    : *c == '"' && quote ? strbuf_append(b, "\\\"")
					 : strbuf_printf(b, "%c", *c);
	return r;
}

/* name{labels[,extra="value"]} */
static int append_series(struct strbuf *b, const char *name, const char *suffix,
			 const char *const *labels, const char *extra, const char *extra_value)
{
	bool first = true;
	int r = strbuf_printf(b, "%s%s", name, suffix);

	for (size_t i = 0; labels && labels[i] && r >= 0; i += 2) {
		if (!labels[i + 1])
			continue;
		r = strbuf_printf(b, "%s%s=\"", first ? "{" : ",", labels[i]);
		if (r >= 0)
			r = append_escaped(b, labels[i + 1], true);
		if (r >= 0)
			r = strbuf_append(b, "\"");
		first = false;
	}
	if (extra && r >= 0)
		r = strbuf_printf(b, "%s%s=\"%s\"", first ? "{" : ",", extra, extra_value);
	if (r >= 0 && (!first || extra))
		r = strbuf_append(b, "}");
	return r;
}

static const char *sample_suffix(const struct om_family *f)
{
	return f->type == OM_COUNTER ? "_total" : f->type == OM_INFO ? "_info" : "";
}

static void add_text(struct om_writer *w, const struct om_family *f, const char *const *labels,
		     const char *value)
{
	struct om_entry *e = entry(w, f);
	int r;

	if (!e)
		return;
	r = append_series(&e->samples, f->name, sample_suffix(f), labels, NULL, NULL);
	if (r >= 0)
		r = strbuf_printf(&e->samples, " %s\n", value);
	if (r < 0 && !w->error)
		w->error = r;
}

void om_add_u64(struct om_writer *w, const struct om_family *f, const char *const *labels,
		uint64_t value)
{
	char v[32];

	(void)snprintf(v, sizeof(v), "%" PRIu64, value);
	add_text(w, f, labels, v);
}

/* Enough digits for nanoseconds of a counter running for years; never "nan"/"inf". */
static const char *format_double(double d, char buf[static 40])
{
	if (!isfinite(d))
		d = 0;
	(void)snprintf(buf, 40, "%.15g", d);
	return buf;
}

void om_add_double(struct om_writer *w, const struct om_family *f, const char *const *labels,
		   double value)
{
	char v[40];

	add_text(w, f, labels, format_double(value, v));
}

void om_add_histogram(struct om_writer *w, const struct om_family *f, const char *const *labels,
		      const double *bounds, const uint64_t *counts, size_t n, double sum)
{
	struct om_entry *e = entry(w, f);
	uint64_t cumulative = 0;
	char le[40], v[40];
	int r = 0;

	if (!e)
		return;
	for (size_t i = 0; i <= n && r >= 0; i++) {
		cumulative += counts[i];
		r = append_series(&e->samples, f->name, "_bucket", labels, "le",
				  i < n ? format_double(bounds[i], le) : "+Inf");
		if (r >= 0)
			r = strbuf_printf(&e->samples, " %" PRIu64 "\n", cumulative);
	}
	if (r >= 0)
		r = append_series(&e->samples, f->name, "_count", labels, NULL, NULL);
	if (r >= 0)
		r = strbuf_printf(&e->samples, " %" PRIu64 "\n", cumulative);
	if (r >= 0)
		r = append_series(&e->samples, f->name, "_sum", labels, NULL, NULL);
	if (r >= 0)
		r = strbuf_printf(&e->samples, " %s\n", format_double(sum, v));
	if (r < 0 && !w->error)
		w->error = r;
}

/* # HELP, # TYPE, # UNIT: OpenMetrics names the family, Prometheus 0.0.4 the series. */
static int append_metadata(struct strbuf *b, enum om_format format, const struct om_family *f)
{
	bool om = format == OM_OPENMETRICS;
	const char *suffix = om || f->type == OM_HISTOGRAM ? "" : sample_suffix(f);
	const char *type = !om && f->type == OM_INFO ? "gauge" : type_names[f->type];
	int r = strbuf_printf(b, "# HELP %s%s ", f->name, suffix);

	if (r >= 0)
		r = append_escaped(b, f->help, om); /* 0.0.4 escapes only \\ and \n in HELP */
	if (r >= 0)
		r = strbuf_printf(b, "\n# TYPE %s%s %s\n", f->name, suffix, type);
	if (r >= 0 && om && f->unit)
		r = strbuf_printf(b, "# UNIT %s %s\n", f->name, f->unit);
	return r;
}

static int finish(struct om_writer *w, bool eof, char **ret)
{
	_cleanup_(strbuf_done) struct strbuf b = {};
	int r = w->error;

	FOREACH_ARRAY (e, w->families, w->n) {
		if (r < 0)
			break;
		if (!e->samples.len)
			continue;
		r = append_metadata(&b, w->format, e->family);
		if (r >= 0)
			r = strbuf_append(&b, e->samples.buf);
	}
	if (r >= 0 && eof && w->format == OM_OPENMETRICS)
		r = strbuf_append(&b, "# EOF\n");
	if (r >= 0 && !b.buf)
		r = strbuf_append(&b, "");
	if (r < 0)
		return r;
	*ret = strbuf_steal(&b);
	return 0;
}

int om_finish(struct om_writer *w, char **ret)
{
	return finish(w, true, ret);
}

int om_finish_fragment(struct om_writer *w, char **ret)
{
	return finish(w, false, ret);
}

void om_writer_done(struct om_writer *w)
{
	FOREACH_ARRAY (e, w->families, w->n)
		strbuf_done(&e->samples);
	free(w->families);
	*w = (struct om_writer){ .format = w->format };
}
