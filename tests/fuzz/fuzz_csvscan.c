/*
 * fuzz_csvscan.c: libFuzzer target for the CSV record scanner (csvscan.h),
 * held to libcsv (CSV_STRICT | CSV_STRICT_FINI, no space trimming) under
 * the contract of tests/unit/check_csvscan.c: the records agree (start,
 * length, line, field count and values) until libcsv's first CSV_EPARSE;
 * there csvscan has a bad_quote record holding the failing byte, or, with
 * no such record, returns CSVSCAN_UNTERMINATED_QUOTE on the right line.
 *
 * The input is the document.  It is scanned whole (every field span kept,
 * every field unescaped), then through the carry protocol in two pieces and
 * in three pieces (keeping 1 to 4 spans), then whole again with the
 * callback stopping after some record; each must give the whole scan's
 * records (position, line, bad_quote, field count and spans), status,
 * error line and final offset.  Every buffer is allocated to exactly
 * len + CSVSCAN_PAD bytes and the pad holds quotes, commas and line ends,
 * which the scanner must not look at.  Split points, span capacity and pad
 * come from a hash of the input, so a saved crasher replays as it failed.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "payrun/csvscan.h"
#include "fuzz_common.h"
#include "fuzz_libcsv.h"

/* ---- csvscan results ---- */

struct rec_copy
{
	size_t           start; /* offset in the document */
	size_t           len;
	uint64_t         line;
	uint32_t         nfields;
	uint32_t         nspans;
	bool             bad;
	struct csv_span *spans; /* owned, nspans */
	char           **vals;  /* owned, nspans values unless bad; with_values only */
	size_t          *lens;
};

struct scan_result
{
	struct rec_copy    *recs; /* owned */
	size_t              nrecs;
	size_t              cap;
	enum csvscan_status status;
	uint64_t            error_line;
	size_t              consumed; /* document offset of the final *consumed */
	size_t              stop_at;  /* the callback stops after this many records; 0 never */
	uint32_t            span_cap;
	bool                with_values; /* unescape every field (csvscan_field) and keep it */
};

struct collect_ctx
{
	struct scan_result *res;
	const char         *buf;
	size_t              len;
	size_t              base; /* document offset of buf[0] */
};

static bool
collect(void *arg, const struct csv_record *rec)
{
	struct collect_ctx *ctx = arg;
	struct scan_result *res = ctx->res;
	struct rec_copy    *r;
	uint32_t            want_spans = rec->nfields < res->span_cap ? rec->nfields : res->span_cap;

	/* the record lies in the buffer and its spans tile it, comma separated */
	fuzz_require(rec->raw >= ctx->buf && rec->raw + rec->len <= ctx->buf + ctx->len,
				 "record outside the buffer");
	fuzz_require(rec->len > 0 && rec->nfields >= 1 && rec->nspans == want_spans,
				 "record of %zu bytes: nfields %u nspans %u (cap %u)", rec->len, rec->nfields,
				 rec->nspans, res->span_cap);
	for (uint32_t i = 0; i < rec->nspans; i++)
	{
		const struct csv_span *sp = &rec->spans[i];
		size_t                 end = (size_t) sp->off + sp->len;

		fuzz_require(i == 0 ? sp->off == 0
							: sp->off == rec->spans[i - 1].off + rec->spans[i - 1].len + 1,
					 "span %u does not follow the previous one", i);
		fuzz_require(end < rec->len ? rec->raw[end] == ','
									: end == rec->len && i + 1 == rec->nfields,
					 "span %u of %u ends at %zu of %zu", i, rec->nfields, end, rec->len);
	}

	if (res->nrecs == res->cap)
	{
		res->cap = res->cap ? res->cap * 2 : 16;
		res->recs = fuzz_realloc(res->recs, res->cap * sizeof(*res->recs));
	}
	r = &res->recs[res->nrecs++];
	memset(r, 0, sizeof(*r));
	r->start = ctx->base + (size_t) (rec->raw - ctx->buf);
	r->len = rec->len;
	r->line = rec->line;
	r->nfields = rec->nfields;
	r->nspans = rec->nspans;
	r->bad = rec->bad_quote;
	r->spans = fuzz_realloc(NULL, rec->nspans * sizeof(struct csv_span));
	memcpy(r->spans, rec->spans, rec->nspans * sizeof(struct csv_span));
	if (!r->bad && res->with_values)
	{
		r->vals = fuzz_realloc(NULL, rec->nspans * sizeof(char *));
		r->lens = fuzz_realloc(NULL, rec->nspans * sizeof(size_t));
		for (uint32_t i = 0; i < rec->nspans; i++)
		{
			/* scratch of exactly the span's length: an overrun shows under ASan */
			char       *scratch = fuzz_realloc(NULL, rec->spans[i].len);
			const char *v;
			size_t      vlen;

			csvscan_field(rec, i, scratch, &v, &vlen);
			fuzz_require(vlen <= rec->spans[i].len, "field %u longer than its span", i);
			r->vals[i] = fuzz_copy((const uint8_t *) v, vlen, 0);
			r->lens[i] = vlen;
			free(scratch);
		}
	}
	return res->stop_at == 0 || res->nrecs < res->stop_at;
}

static void
result_free(struct scan_result *res)
{
	for (size_t i = 0; i < res->nrecs; i++)
	{
		if (res->recs[i].vals)
			for (uint32_t j = 0; j < res->recs[i].nspans; j++)
				free(res->recs[i].vals[j]);
		free(res->recs[i].vals);
		free(res->recs[i].lens);
		free(res->recs[i].spans);
	}
	free(res->recs);
	memset(res, 0, sizeof(*res));
}

/* What the scanner must never look at: quotes, commas and line ends. */
static void
fill_pad(char *p, unsigned variant)
{
	static const char junk[] = "\",\n\r";

	for (int i = 0; i < CSVSCAN_PAD; i++)
		p[i] = junk[(i + (int) variant) % 4];
}

/*
 * Scans doc[0..len) fed in pieces: the new data of call k ends at cuts[k]
 * (the last cut is len, which comes with eof), and each call gets the
 * unconsumed tail of the previous one first.
 */
static void
scan_doc(const char *doc, size_t len, uint32_t span_cap, const size_t *cuts, int ncuts,
		 size_t stop_at, bool with_values, unsigned pad_variant, struct scan_result *res)
{
	struct csvscan scan;
	char          *carry = NULL;
	size_t         have = 0, next = 0, base = 0;

	fuzz_require(ncuts > 0 && cuts[ncuts - 1] == len, "the last cut is not the end");
	memset(res, 0, sizeof(*res));
	res->stop_at = stop_at;
	res->with_values = with_values;
	csvscan_init(&scan, span_cap);
	res->span_cap = scan.span_cap;
	for (int k = 0; k < ncuts; k++)
	{
		size_t              n = cuts[k] - next;
		size_t              consumed = SIZE_MAX;
		bool                eof = k == ncuts - 1;
		struct collect_ctx  ctx;
		enum csvscan_status st;
		char               *buf;

		/* a fresh buffer of exactly have + n + CSVSCAN_PAD bytes each call */
		buf = fuzz_realloc(NULL, have + n + CSVSCAN_PAD);
		if (have)
			memcpy(buf, carry, have);
		if (n)
			memcpy(buf + have, doc + next, n);
		free(carry);
		carry = NULL;
		have += n;
		next += n;
		fill_pad(buf + have, pad_variant + (unsigned) k);
		ctx.res = res;
		ctx.buf = buf;
		ctx.len = have;
		ctx.base = base;
		st = csvscan_feed(&scan, buf, have, eof, &consumed, collect, &ctx);
		fuzz_require(consumed <= have, "consumed %zu of %zu", consumed, have);
		if (st != CSVSCAN_OK || eof)
		{
			fuzz_require(st != CSVSCAN_OK || consumed == have, "eof but consumed %zu of %zu",
						 consumed, have);
			res->status = st;
			res->error_line = scan.error_line;
			res->consumed = base + consumed;
			free(buf);
			break;
		}
		carry = fuzz_copy((const uint8_t *) buf + consumed, have - consumed, 0);
		have -= consumed;
		base += consumed;
		free(buf);
	}
	free(carry);
	csvscan_release(&scan);
}

/*
 * got must equal want record for record; got may keep fewer spans (its
 * span_cap), which must be want's first ones.  With stop_at set
 * (at most want's record count), got holds want's first stop_at records
 * and has stopped just past the last one's line end.
 */
static void
compare_scans(const struct scan_result *want, const struct scan_result *got, size_t doc_len,
			  const char *how)
{
	size_t n = want->nrecs;

	if (got->stop_at)
	{
		const struct rec_copy *last;
		size_t                 after;

		n = got->stop_at;
		fuzz_require(got->status == CSVSCAN_STOPPED && got->nrecs == n,
					 "%s: status %d with %zu records, want STOPPED after %zu", how, got->status,
					 got->nrecs, n);
		last = &want->recs[n - 1];
		after = last->start + last->len + 1;
		if (after > doc_len)
			after = doc_len;
		fuzz_require(got->consumed == after,
					 "%s: stopped after record %zu, consumed %zu, "
					 "want %zu",
					 how, n - 1, got->consumed, after);
	}
	else
	{
		fuzz_require(got->status == want->status && got->nrecs == want->nrecs,
					 "%s: status %d with %zu records, whole scan %d with %zu", how, got->status,
					 got->nrecs, want->status, want->nrecs);
		fuzz_require(got->consumed == want->consumed, "%s: consumed up to %zu, whole scan %zu", how,
					 got->consumed, want->consumed);
		if (got->status == CSVSCAN_UNTERMINATED_QUOTE)
			fuzz_require(
				got->error_line == want->error_line, "%s: error line %llu, whole scan %llu", how,
				(unsigned long long) got->error_line, (unsigned long long) want->error_line);
	}
	for (size_t r = 0; r < n; r++)
	{
		const struct rec_copy *g = &got->recs[r];
		const struct rec_copy *w = &want->recs[r];

		fuzz_require(g->start == w->start && g->len == w->len && g->line == w->line &&
						 g->bad == w->bad && g->nfields == w->nfields,
					 "%s: record %zu at %zu+%zu line %llu bad %d fields %u; whole scan "
					 "%zu+%zu line %llu bad %d fields %u",
					 how, r, g->start, g->len, (unsigned long long) g->line, g->bad, g->nfields,
					 w->start, w->len, (unsigned long long) w->line, w->bad, w->nfields);
		/* same bytes and same spans: the same field values */
		fuzz_require(g->nspans <= w->nspans, "%s: record %zu has more spans", how, r);
		for (uint32_t f = 0; f < g->nspans; f++)
			fuzz_require(g->spans[f].off == w->spans[f].off && g->spans[f].len == w->spans[f].len,
						 "%s: record %zu field %u spans %u+%u, whole scan %u+%u", how, r, f,
						 g->spans[f].off, g->spans[f].len, w->spans[f].off, w->spans[f].len);
	}
}

/* The contract with libcsv (see the top of the file); sc keeps every span. */
static void
compare_with_libcsv(const char *doc, size_t len, const struct lc_result *lc,
					const struct scan_result *sc)
{
	size_t k = lc->nrecs; /* records libcsv completed */
	size_t start = skip_line_ends(doc, len, k ? lc->recs[k - 1].end + 1 : 0);

	for (size_t r = 0; r < k; r++)
	{
		const struct lc_rec   *want = &lc->recs[r];
		const struct rec_copy *got;

		fuzz_require(r < sc->nrecs, "csvscan has %zu records, libcsv %zu", sc->nrecs, k);
		got = &sc->recs[r];
		fuzz_require(!got->bad, "record %zu bad_quote, libcsv accepts it", r);
		fuzz_require(got->start == want->start && got->len == want->end - want->start,
					 "record %zu at %zu+%zu, libcsv %zu+%zu", r, got->start, got->len, want->start,
					 want->end - want->start);
		fuzz_require(got->line == want->line, "record %zu on line %llu, want %llu", r,
					 (unsigned long long) got->line, (unsigned long long) want->line);
		fuzz_require(got->nfields == want->nfields && got->nspans == got->nfields,
					 "record %zu has %u fields (%u spans), libcsv %zu", r, got->nfields,
					 got->nspans, want->nfields);
		for (uint32_t f = 0; f < got->nspans; f++)
			fuzz_require(got->lens[f] == want->lens[f] &&
							 memcmp(got->vals[f], want->vals[f], want->lens[f]) == 0,
						 "record %zu field %u differs from libcsv", r, f);
	}

	switch (lc->outcome)
	{
		case LC_CLEAN:
			fuzz_require(sc->status == CSVSCAN_OK && sc->nrecs == k,
						 "csvscan status %d with %zu records, libcsv clean with %zu", sc->status,
						 sc->nrecs, k);
			break;
		case LC_FINI_ERROR:
			fuzz_require(sc->status == CSVSCAN_UNTERMINATED_QUOTE && sc->nrecs == k,
						 "csvscan status %d with %zu records, libcsv unterminated after %zu",
						 sc->status, sc->nrecs, k);
			fuzz_require(sc->error_line == line_at(doc, len, start), "error line %llu, want %llu",
						 (unsigned long long) sc->error_line,
						 (unsigned long long) line_at(doc, len, start));
			break;
		case LC_PARSE_ERROR:
			if (sc->nrecs > k)
			{
				const struct rec_copy *got = &sc->recs[k];

				fuzz_require(got->bad, "record %zu not bad_quote; libcsv fails at byte %zu", k,
							 lc->err_pos);
				fuzz_require(got->start == start && lc->err_pos >= got->start &&
								 lc->err_pos < got->start + got->len,
							 "bad record %zu at %zu+%zu, libcsv fails at byte %zu", k, got->start,
							 got->len, lc->err_pos);
				fuzz_require(got->line == line_at(doc, len, start), "bad record %zu on line %llu",
							 k, (unsigned long long) got->line);
			}
			else
			{
				fuzz_require(sc->status == CSVSCAN_UNTERMINATED_QUOTE,
							 "csvscan status %d with %zu records, libcsv fails in record %zu",
							 sc->status, sc->nrecs, k);
				fuzz_require(sc->error_line == line_at(doc, len, start),
							 "error line %llu, want %llu", (unsigned long long) sc->error_line,
							 (unsigned long long) line_at(doc, len, start));
			}
			break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char        *doc = (const char *) data;
	uint64_t           rng = fuzz_hash(data, size);
	unsigned           pad = (unsigned) (fuzz_next(&rng) & 3);
	uint32_t           all_spans = (uint32_t) (size + 2); /* more than any record has */
	uint32_t           few_spans = (uint32_t) (1 + fuzz_next(&rng) % 4);
	struct scan_result whole, part;
	struct lc_result   lc;
	size_t             cuts[3];

	if (size > (1u << 20))
		return -1; /* run.sh caps -max_len well below this */

	/* whole, all spans, against libcsv */
	cuts[0] = size;
	scan_doc(doc, size, all_spans, cuts, 1, 0, true, pad, &whole);
	lc_parse(doc, size, &lc);
	compare_with_libcsv(doc, size, &lc, &whole);
	lc_free(&lc);

	/* two pieces */
	cuts[0] = (size_t) (fuzz_next(&rng) % (size + 1));
	cuts[1] = size;
	scan_doc(doc, size, all_spans, cuts, 2, 0, false, pad + 1, &part);
	compare_scans(&whole, &part, size, "two pieces");
	result_free(&part);

	/* three pieces, few spans */
	{
		size_t a = (size_t) (fuzz_next(&rng) % (size + 1));
		size_t b = (size_t) (fuzz_next(&rng) % (size + 1));

		cuts[0] = a < b ? a : b;
		cuts[1] = a < b ? b : a;
		cuts[2] = size;
	}
	scan_doc(doc, size, few_spans, cuts, 3, 0, false, pad + 2, &part);
	compare_scans(&whole, &part, size, "three pieces, few spans");
	result_free(&part);

	/* whole, the callback stopping after some record */
	if (whole.nrecs > 0)
	{
		cuts[0] = size;
		scan_doc(doc, size, all_spans, cuts, 1, (size_t) (1 + fuzz_next(&rng) % whole.nrecs), false,
				 pad + 3, &part);
		compare_scans(&whole, &part, size, "stopped");
		result_free(&part);
	}

	result_free(&whole);
	return 0;
}
