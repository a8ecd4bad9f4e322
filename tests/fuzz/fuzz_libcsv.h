/*
 * fuzz_libcsv.h: libcsv as the reference CSV reader for the fuzz targets:
 * CSV_STRICT | CSV_STRICT_FINI, no space trimming, default terminators,
 * the dialect csvscan.h promises.  libcsv is fed one byte at a time, so
 * the callbacks know where each record ends; a record starts at the first
 * byte after the previous record's terminator that is not CR or LF
 * (libcsv skips empty lines), and its line is 1 + the LFs before that.
 */
#ifndef PAYRUN_FUZZ_LIBCSV_H
#define PAYRUN_FUZZ_LIBCSV_H

#include <csv.h>

#include "fuzz_common.h"

struct lc_rec
{
	size_t   start;
	size_t   end;  /* offset of the terminator, or of the end of data */
	uint64_t line; /* of start */
	size_t   nfields;
	char   **vals; /* owned */
	size_t  *lens;
};

enum lc_outcome
{
	LC_CLEAN,       /* parsed to the end */
	LC_PARSE_ERROR, /* CSV_EPARSE at err_pos */
	LC_FINI_ERROR   /* unterminated quote, reported by csv_fini */
};

struct lc_result
{
	struct lc_rec  *recs; /* owned */
	size_t          nrecs;
	size_t          cap;
	char          **cur_vals; /* the record being built */
	size_t         *cur_lens;
	size_t          cur_n;
	size_t          cur_cap;
	size_t          pos; /* offset of the byte being fed */
	enum lc_outcome outcome;
	size_t          err_pos;
};

static void
lc_field(void *s, size_t len, void *data)
{
	struct lc_result *lc = data;

	if (lc->cur_n == lc->cur_cap)
	{
		lc->cur_cap = lc->cur_cap ? lc->cur_cap * 2 : 8;
		lc->cur_vals = fuzz_realloc(lc->cur_vals, lc->cur_cap * sizeof(char *));
		lc->cur_lens = fuzz_realloc(lc->cur_lens, lc->cur_cap * sizeof(size_t));
	}
	lc->cur_vals[lc->cur_n] = fuzz_copy(s, len, 0);
	lc->cur_lens[lc->cur_n++] = len;
}

static void
lc_row(int c, void *data)
{
	struct lc_result *lc = data;
	struct lc_rec    *r;

	(void) c;
	if (lc->nrecs == lc->cap)
	{
		lc->cap = lc->cap ? lc->cap * 2 : 16;
		lc->recs = fuzz_realloc(lc->recs, lc->cap * sizeof(*lc->recs));
	}
	r = &lc->recs[lc->nrecs++];
	r->end = lc->pos;
	r->nfields = lc->cur_n;
	r->vals = lc->cur_vals;
	r->lens = lc->cur_lens;
	lc->cur_vals = NULL;
	lc->cur_lens = NULL;
	lc->cur_n = lc->cur_cap = 0;
}

static int
no_space(unsigned char c)
{
	(void) c;
	return 0;
}

FUZZ_UNUSED static size_t
skip_line_ends(const char *doc, size_t len, size_t i)
{
	while (i < len && (doc[i] == '\n' || doc[i] == '\r'))
		i++;
	return i;
}

/* Does a line end at doc[i]: an LF, or a CR not followed by an LF (a CR-only file's)? */
FUZZ_UNUSED static bool
ends_line(const char *doc, size_t len, size_t i)
{
	return doc[i] == '\n' || (doc[i] == '\r' && (i + 1 >= len || doc[i + 1] != '\n'));
}

/* The line of doc[pos]: LF, CRLF and a lone CR each end one. */
FUZZ_UNUSED static uint64_t
line_at(const char *doc, size_t len, size_t pos)
{
	uint64_t line = 1;

	for (size_t i = 0; i < pos; i++)
		line += ends_line(doc, len, i);
	return line;
}

FUZZ_UNUSED static void
lc_parse(const char *doc, size_t len, struct lc_result *lc)
{
	struct csv_parser p;

	memset(lc, 0, sizeof(*lc));
	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0)
		fuzz_fail("csv_init failed");
	csv_set_space_func(&p, no_space);
	lc->outcome = LC_CLEAN;
	for (size_t i = 0; i < len; i++)
	{
		lc->pos = i;
		if (csv_parse(&p, doc + i, 1, lc_field, lc_row, lc) != 1)
		{
			fuzz_require(csv_error(&p) == CSV_EPARSE, "libcsv: %s", csv_strerror(csv_error(&p)));
			lc->outcome = LC_PARSE_ERROR;
			lc->err_pos = i;
			break;
		}
	}
	if (lc->outcome == LC_CLEAN)
	{
		lc->pos = len;
		if (csv_fini(&p, lc_field, lc_row, lc) != 0)
			lc->outcome = LC_FINI_ERROR;
	}
	csv_free(&p);

	/* a record starts at the first byte after the previous one's end that is no line end */
	{
		size_t   from = 0, at = 0;
		uint64_t line = 1;

		for (size_t r = 0; r < lc->nrecs; r++)
		{
			lc->recs[r].start = skip_line_ends(doc, len, from);
			for (; at < lc->recs[r].start; at++)
				line += ends_line(doc, len, at);
			lc->recs[r].line = line;
			from = lc->recs[r].end + 1;
		}
	}
}

FUZZ_UNUSED static void
lc_free(struct lc_result *lc)
{
	for (size_t r = 0; r < lc->nrecs; r++)
	{
		for (size_t f = 0; f < lc->recs[r].nfields; f++)
			free(lc->recs[r].vals[f]);
		free(lc->recs[r].vals);
		free(lc->recs[r].lens);
	}
	for (size_t f = 0; f < lc->cur_n; f++)
		free(lc->cur_vals[f]);
	free(lc->cur_vals);
	free(lc->cur_lens);
	free(lc->recs);
}

#endif
