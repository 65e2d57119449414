/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "diag.h"
#include "escape.h"
#include "strbuf.h"

static const char *const severity_names[] = {
	[DIAG_ERROR] = "error",
	[DIAG_WARNING] = "warning",
	[DIAG_NOTE] = "note",
};

void diag_file_begin(struct diag_list *l)
{
	l->capped = true;
	l->file_first = l->n;
	l->hidden_errors = l->hidden_warnings = 0;
}

bool diag_hidden(struct diag_list *l, enum diag_severity s)
{
	if (!l->capped || l->n - l->file_first < DIAG_SHOWN_PER_FILE)
		return false;
	if (s == DIAG_ERROR) {
		l->hidden_errors++;
		l->n_errors++;
	} else if (s == DIAG_WARNING)
		l->hidden_warnings++;
	return true;
}

int diag_file_end(struct diag_list *l, const char *file)
{
	_cleanup_(strbuf_done) struct strbuf what = {};
	size_t errors = l->hidden_errors, warnings = l->hidden_warnings;
	int r = 0;

	l->capped = false;
	if (errors == 0 && warnings == 0)
		return 0;
	if (errors > 0)
		r = strbuf_printf(&what, "%zu more error%s", errors, errors == 1 ? "" : "s");
	if (r >= 0 && warnings > 0)
		r = strbuf_printf(&what, "%s%zu more warning%s", errors ? " and " : "", warnings,
				  warnings == 1 ? "" : "s");
	if (r < 0)
		return r;
	return diag_add(l, DIAG_NOTE, file, 0, 0, NULL,
			"and %s, not shown (at most %d are shown per file)", what.buf,
			DIAG_SHOWN_PER_FILE);
}

int diag_add(struct diag_list *l, enum diag_severity severity, const char *file, unsigned line,
	     unsigned column, const char *key, const char *fmt, ...)
{
	_cleanup_(strbuf_done) struct strbuf msg = {};
	struct diag d = { .severity = severity, .line = line, .column = column };
	va_list ap;
	int r;

	if (diag_hidden(l, severity))
		return 0;
	va_start(ap, fmt);
	r = strbuf_vprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0)
		return r;
	r = GROW_ARRAY(l->items, l->allocated, l->n + 1);
	if (r < 0)
		return r;
	d.file = file ? strdup(file) : NULL;
	d.key = key ? strdup(key) : NULL;
	d.message = strbuf_steal(&msg);
	if ((file && !d.file) || (key && !d.key)) {
		free(d.file);
		free(d.key);
		free(d.message);
		return -ENOMEM;
	}
	l->items[l->n++] = d;
	if (severity == DIAG_ERROR)
		l->n_errors++;
	return 0;
}

char *diag_format(const struct diag *d)
{
	_cleanup_(strbuf_done) struct strbuf b = {};
	int r = strbuf_append(&b, "");

	if (r >= 0 && d->file)
		r = strbuf_printf(&b, "%s:", d->file);
	if (r >= 0 && d->file && d->line > 0)
		r = strbuf_printf(&b, "%u:", d->line);
	if (r >= 0 && d->file && d->line > 0 && d->column > 0)
		r = strbuf_printf(&b, "%u:", d->column);
	if (r >= 0)
		r = strbuf_printf(&b, "%s%s: ", d->file ? " " : "", severity_names[d->severity]);
	if (r >= 0 && d->key)
		r = strbuf_printf(&b, "%s: ", d->key);
	if (r >= 0)
		r = strbuf_append(&b, d->message);
	if (r < 0)
		return NULL;
	/* File names and quoted values are whoever wrote them: one line, no controls. */
	if (!escape_not_needed(b.buf))
		return escape_untrusted(b.buf);
	return strbuf_steal(&b);
}

void diag_list_print(const struct diag_list *l, FILE *f)
{
	FOREACH_ARRAY (d, l->items, l->n) {
		_cleanup_free_ char *s = diag_format(d);

		fprintf(f, "%s\n", s ? s : "out of memory");
	}
}

int diag_list_move(struct diag_list *dst, struct diag_list *src)
{
	int r = GROW_ARRAY(dst->items, dst->allocated, dst->n + src->n);

	if (r < 0)
		return r;
	memcpy(dst->items + dst->n, src->items, src->n * sizeof(struct diag));
	dst->n += src->n;
	dst->n_errors += src->n_errors;
	free(src->items);
	*src = (struct diag_list){};
	return 0;
}

void diag_list_done(struct diag_list *l)
{
	FOREACH_ARRAY (d, l->items, l->n) {
		free(d->file);
		free(d->key);
		free(d->message);
	}
	free(l->items);
	*l = (struct diag_list){};
}
