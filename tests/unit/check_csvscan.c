/*
 * check_csvscan.c: unit tests of csvscan.h, the block-wise RFC 4180 scanner,
 * and a differential test holding it to libcsv (CSV_STRICT, no trimming).
 *
 * Every document is scanned whole and again in many piece sizes through
 * the carry protocol (re-feed buf[consumed..] plus more data), with junk
 * (quotes, commas, line ends) in the CSVSCAN_PAD bytes past the data, and
 * the results must not depend on either.  Results are rendered as text,
 * one record per line: "<line>:[field][field]", or "<line>:BAD{raw bytes}"
 * for a bad_quote record, then "UNTERMINATED@<line>" or "STOPPED" if the
 * scan ended so; bytes other than printable ASCII are shown as \n, \r,
 * \xNN.
 */
#include <check.h>
#include <csv.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payrun/csvscan.h"

/*
 * ck_assert_msg() reports every passing check to the Check runner (a pipe
 * write per call in fork mode); loops that check many values use this
 * instead, which reports failures only.
 */
/*
 * Which build of the scanner the suite runs (csvscan.h): main() runs the
 * whole suite once with each the CPU can run.
 */
static enum csvscan_impl impl = CSVSCAN_BASELINE;

static enum csvscan_status
scan_feed(struct csvscan *scan, const char *buf, size_t len, bool eof, size_t *consumed,
		  csvscan_fn fn, void *arg)
{
	return csvscan_feed_with(impl, scan, buf, len, eof, consumed, fn, arg);
}

#define require(cond, ...)                                                                         \
	do                                                                                             \
	{                                                                                              \
		if (!(cond))                                                                               \
			ck_abort_msg(__VA_ARGS__);                                                             \
	} while (0)

/* A document given as a string literal, which may hold NUL bytes. */
#define DOC(lit) (lit), (sizeof(lit) - 1)

#define SPAN_CAP_ALL 4096 /* more fields than any test record has */
#define DIFF_DOCS    4000 /* documents per differential test */

static uint64_t
next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		ck_abort_msg("out of memory");
	return p;
}

/* ---- a growable string ---- */

struct sbuf
{
	char  *p; /* owned, NUL-terminated */
	size_t len;
	size_t cap;
};

static void
sb_put(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap)
	{
		b->cap = (b->len + n + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
sb_puts(struct sbuf *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

static void
sb_repeat(struct sbuf *b, char c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sb_put(b, &c, 1);
}

__attribute__((format(printf, 2, 3))) static void
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	char    tmp[256];
	va_list ap;
	int     n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	ck_assert(n >= 0 && (size_t) n < sizeof(tmp));
	sb_put(b, tmp, (size_t) n);
}

/* Printable ASCII as is (but backslash), the rest as \n, \r or \xNN. */
static void
sb_escaped(struct sbuf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c == '\n')
			sb_puts(b, "\\n");
		else if (c == '\r')
			sb_puts(b, "\\r");
		else if (c < 0x20 || c >= 0x7f || c == '\\')
			sb_printf(b, "\\x%02x", c);
		else
			sb_put(b, s + i, 1);
	}
}

static void
sb_free(struct sbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* ---- scanning a document through the carry protocol ---- */

struct rec_copy
{
	size_t   start; /* offset in the document */
	size_t   len;
	uint64_t line;
	uint32_t nfields;
	uint32_t nspans;
	bool     bad;
	char    *raw;  /* owned, len bytes */
	char   **vals; /* owned, nspans values unless bad */
	size_t  *lens;
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
	require(rec->raw >= ctx->buf && rec->raw + rec->len <= ctx->buf + ctx->len,
			"record outside the buffer");
	require(rec->len > 0 && rec->nfields >= 1 && rec->nspans == want_spans,
			"record of %zu bytes: nfields %u nspans %u", rec->len, rec->nfields, rec->nspans);
	for (uint32_t i = 0; i < rec->nspans; i++)
	{
		const struct csv_span *sp = &rec->spans[i];
		size_t                 end = (size_t) sp->off + sp->len;

		require(i == 0 ? sp->off == 0
					   : sp->off == rec->spans[i - 1].off + rec->spans[i - 1].len + 1,
				"span %u does not follow the previous one", i);
		require(end < rec->len ? rec->raw[end] == ',' : end == rec->len && i + 1 == rec->nfields,
				"span %u of %u ends at %zu of %zu", i, rec->nfields, end, rec->len);
	}

	if (res->nrecs == res->cap)
	{
		res->cap = res->cap ? res->cap * 2 : 16;
		res->recs = xrealloc(res->recs, res->cap * sizeof(*res->recs));
	}
	r = &res->recs[res->nrecs++];
	memset(r, 0, sizeof(*r));
	r->start = ctx->base + (size_t) (rec->raw - ctx->buf);
	r->len = rec->len;
	r->line = rec->line;
	r->nfields = rec->nfields;
	r->nspans = rec->nspans;
	r->bad = rec->bad_quote;
	r->raw = xrealloc(NULL, rec->len);
	memcpy(r->raw, rec->raw, rec->len);
	if (!r->bad)
	{
		r->vals = xrealloc(NULL, rec->nspans * sizeof(char *));
		r->lens = xrealloc(NULL, rec->nspans * sizeof(size_t));
		for (uint32_t i = 0; i < rec->nspans; i++)
		{
			/* scratch of exactly the span's length: overruns show under ASan */
			char       *scratch = xrealloc(NULL, rec->spans[i].len);
			const char *v;
			size_t      vlen;

			csvscan_field(rec, i, scratch, &v, &vlen);
			r->vals[i] = xrealloc(NULL, vlen);
			memcpy(r->vals[i], v, vlen);
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
		free(res->recs[i].raw);
	}
	free(res->recs);
	res->recs = NULL;
	res->nrecs = res->cap = 0;
}

/* What the scanner must never look at: quotes, commas and line ends. */
static void
fill_pad(char *p)
{
	static const char junk[] = "\",\n\r";

	for (int i = 0; i < CSVSCAN_PAD; i++)
		p[i] = junk[i % 4];
}

/*
 * Scans doc[0..len) with span_cap spans.  piece 0 feeds it whole; otherwise
 * pieces of piece bytes (seed 0) or of 1..piece bytes at random (seed > 0),
 * carrying the unconsumed tail to the next call.
 */
static void
scan_doc(const char *doc, size_t len, uint32_t span_cap, size_t piece, uint64_t seed,
		 struct scan_result *res)
{
	struct csvscan scan;
	char          *buf = xrealloc(NULL, len + CSVSCAN_PAD);
	size_t         have = 0, next = 0, base = 0;

	res->recs = NULL;
	res->nrecs = res->cap = 0;
	csvscan_init(&scan, span_cap);
	res->span_cap = scan.span_cap;
	for (;;)
	{
		size_t              n = len - next;
		size_t              consumed = SIZE_MAX;
		bool                eof;
		struct collect_ctx  ctx;
		enum csvscan_status st;

		if (piece > 0)
		{
			size_t want = seed ? 1 + next_random(&seed) % piece : piece;

			if (want < n)
				n = want;
		}
		memcpy(buf + have, doc + next, n);
		have += n;
		next += n;
		eof = next == len;
		fill_pad(buf + have);
		ctx.res = res;
		ctx.buf = buf;
		ctx.len = have;
		ctx.base = base;
		st = scan_feed(&scan, buf, have, eof, &consumed, collect, &ctx);
		require(consumed <= have, "consumed %zu of %zu", consumed, have);
		if (st != CSVSCAN_OK || eof)
		{
			require(st != CSVSCAN_OK || consumed == have, "eof but consumed %zu of %zu", consumed,
					have);
			res->status = st;
			res->error_line = scan.error_line;
			res->consumed = base + consumed;
			break;
		}
		memmove(buf, buf + consumed, have - consumed);
		have -= consumed;
		base += consumed;
	}
	csvscan_release(&scan);
	free(buf);
}

static void
render(const struct scan_result *res, bool with_lines, struct sbuf *out)
{
	for (size_t i = 0; i < res->nrecs; i++)
	{
		const struct rec_copy *r = &res->recs[i];

		if (with_lines)
			sb_printf(out, "%llu:", (unsigned long long) r->line);
		if (r->bad)
		{
			sb_puts(out, "BAD{");
			sb_escaped(out, r->raw, r->len);
			sb_puts(out, "}");
		}
		else
			for (uint32_t j = 0; j < r->nspans; j++)
			{
				sb_puts(out, "[");
				sb_escaped(out, r->vals[j], r->lens[j]);
				sb_puts(out, "]");
			}
		sb_puts(out, "\n");
	}
	if (res->status == CSVSCAN_UNTERMINATED_QUOTE)
		sb_printf(out, "UNTERMINATED@%llu\n", (unsigned long long) res->error_line);
	else if (res->status == CSVSCAN_STOPPED)
		sb_puts(out, "STOPPED\n");
}

/*
 * Scans doc whole, in fixed pieces of sizes around the 64-byte block, and in
 * random pieces; every rendering must equal want.
 */
static void
expect_scan_opts(const char *doc, size_t len, const char *want, bool with_lines)
{
	static const size_t fixed[] = { 0, 1, 2, 3, 5, 7, 13, 31, 63, 64, 65, 127, 128, 129 };

	for (size_t k = 0; k < sizeof(fixed) / sizeof(fixed[0]) + 12; k++)
	{
		struct scan_result res = { 0 };
		struct sbuf        got = { 0 };
		size_t   piece = k < sizeof(fixed) / sizeof(fixed[0]) ? fixed[k] : (k % 2 ? 40 : 200);
		uint64_t seed = k < sizeof(fixed) / sizeof(fixed[0]) ? 0 : k;

		scan_doc(doc, len, SPAN_CAP_ALL, piece, seed, &res);
		render(&res, with_lines, &got);
		sb_puts(&got, ""); /* "" rather than NULL when there are no records */
		require(strcmp(got.p, want) == 0, "pieces of %zu (seed %llu):\ngot:\n%swant:\n%s", piece,
				(unsigned long long) seed, got.p, want);
		sb_free(&got);
		result_free(&res);
	}
}

static void
expect_scan(const char *doc, size_t len, const char *want)
{
	expect_scan_opts(doc, len, want, true);
}

/* ---- records, fields, line ends ---- */

START_TEST(test_simple)
{
	expect_scan(DOC("a,b,c\n1,2,3\n"), "1:[a][b][c]\n2:[1][2][3]\n");
	expect_scan(DOC("single\n"), "1:[single]\n");
	expect_scan(DOC(""), "");
}
END_TEST

/*
 * Quoted fields: a comma, a newline (the record spans lines 1-2, so the next
 * starts on line 3), doubled quotes, a quoted CR.
 */
START_TEST(test_quoted)
{
	expect_scan(DOC("\"a,b\",\"c\nd\",\"e\"\"f\"\nx,\"\"\"\"\n\"\r\"\n"),
				"1:[a,b][c\\nd][e\"f]\n3:[x][\"]\n4:[\\r]\n");
	/* "" inside quotes, at the start, the end, and doubled twice */
	expect_scan(DOC("\"\"\"a\",\"a\"\"\",\"a\"\"\"\"b\",\"\"\"\"\"\"\n"),
				"1:[\"a][a\"][a\"\"b][\"\"]\n");
}
END_TEST

/*
 * CRLF: the CR ends the record and the LF is an empty line, skipped.
 * Line 3 is an empty CRLF line; the quoted CRLF on line 4 is data.
 */
START_TEST(test_crlf)
{
	expect_scan(DOC("a,b\r\nc,d\r\n\r\n\"e\r\nf\",g\r\n"), "1:[a][b]\n2:[c][d]\n4:[e\\r\\nf][g]\n");
	/* a lone CR ends a record too, as in libcsv, and a line: a CR-only file's */
	expect_scan(DOC("a\rb\r\rc"), "1:[a]\n2:[b]\n4:[c]\n");
	expect_scan(DOC("a,\r\"b\"\r"), "1:[a][]\n2:[b]\n");
	expect_scan(DOC("a\r\"x\ry\"\rb\n"), "1:[a]\n2:[x\\ry]\n4:[b]\n");
}
END_TEST

/* Empty lines are skipped but counted: a on line 3, b on line 6. */
START_TEST(test_empty_lines)
{
	expect_scan(DOC("\n\na\n\n\nb\n\r\n\n"), "3:[a]\n6:[b]\n");
	expect_scan(DOC("\n\r\n\n\r"), "");
	expect_scan(DOC("\n"), "");
}
END_TEST

START_TEST(test_no_final_newline)
{
	expect_scan(DOC("a,b\nc,d"), "1:[a][b]\n2:[c][d]\n");
	expect_scan(DOC("a,"), "1:[a][]\n");
	expect_scan(DOC("x\n\"q\""), "1:[x]\n2:[q]\n");
	expect_scan(DOC("\"a\nb\""), "1:[a\\nb]\n");
	expect_scan(DOC("\"\""), "1:[]\n");
	expect_scan(DOC(","), "1:[][]\n");
}
END_TEST

START_TEST(test_empty_fields)
{
	expect_scan(DOC(",\n,,\n\"\"\n\"\",\n,\"\"\n"), "1:[][]\n2:[][][]\n3:[]\n4:[][]\n5:[][]\n");
}
END_TEST

/* Spaces are data (no trimming), NUL and bytes >= 0x80 are ordinary. */
START_TEST(test_bytes)
{
	expect_scan(DOC(" a , b \n"), "1:[ a ][ b ]\n");
	expect_scan(DOC("a\0b,\xc3\xa9\n\"\0\"\n\t\n"),
				"1:[a\\x00b][\\xc3\\xa9]\n2:[\\x00]\n3:[\\x09]\n");
}
END_TEST

/*
 * Line numbers across multi-line quoted fields.  The lines are:
 *   1 a,"x   2 y   3 z"   4 b   5 "   6 "   7 c
 */
START_TEST(test_line_numbers)
{
	expect_scan(DOC("a,\"x\ny\nz\"\nb\n\"\n\"\nc"), "1:[a][x\\ny\\nz]\n4:[b]\n5:[\\n]\n7:[c]\n");
}
END_TEST

/* ---- the carry protocol, call by call ---- */

struct calls
{
	struct scan_result res;
	struct collect_ctx ctx;
	struct csvscan     scan;
	char               buf[256];
};

static enum csvscan_status
feed(struct calls *c, const char *data, size_t len, bool eof, size_t *consumed)
{
	ck_assert_uint_lt(len + CSVSCAN_PAD, sizeof(c->buf));
	memcpy(c->buf, data, len);
	fill_pad(c->buf + len);
	c->ctx.res = &c->res;
	c->ctx.buf = c->buf;
	c->ctx.len = len;
	c->ctx.base = 0;
	*consumed = SIZE_MAX;
	return scan_feed(&c->scan, c->buf, len, eof, consumed, collect, &c->ctx);
}

static void
calls_init(struct calls *c)
{
	memset(c, 0, sizeof(*c));
	c->res.span_cap = 8;
	csvscan_init(&c->scan, 8);
}

static void
calls_free(struct calls *c)
{
	result_free(&c->res);
	csvscan_release(&c->scan);
}

START_TEST(test_carry_protocol)
{
	struct calls c;
	size_t       consumed;

	calls_init(&c);
	/* no line end yet: nothing consumed, no record */
	ck_assert_int_eq(feed(&c, DOC("abc,de"), false, &consumed), CSVSCAN_OK);
	ck_assert_uint_eq(consumed, 0);
	ck_assert_uint_eq(c.res.nrecs, 0);
	/* the same bytes again plus more: one record; "xy" is left over */
	ck_assert_int_eq(feed(&c, DOC("abc,def\nxy"), false, &consumed), CSVSCAN_OK);
	ck_assert_uint_eq(consumed, 8);
	ck_assert_uint_eq(c.res.nrecs, 1);
	ck_assert_uint_eq(c.res.recs[0].line, 1);
	ck_assert_uint_eq(c.res.recs[0].nfields, 2);
	ck_assert_mem_eq(c.res.recs[0].vals[1], "def", 3);
	/* the carry plus the rest of its line: line 2 */
	ck_assert_int_eq(feed(&c, DOC("xyz\n"), false, &consumed), CSVSCAN_OK);
	ck_assert_uint_eq(consumed, 4);
	ck_assert_uint_eq(c.res.nrecs, 2);
	ck_assert_uint_eq(c.res.recs[1].line, 2);
	ck_assert_uint_eq(c.res.recs[1].lens[0], 3);
	ck_assert_mem_eq(c.res.recs[1].vals[0], "xyz", 3);
	/* end of data with nothing left */
	ck_assert_int_eq(feed(&c, "", 0, true, &consumed), CSVSCAN_OK);
	ck_assert_uint_eq(consumed, 0);
	ck_assert_uint_eq(c.res.nrecs, 2);
	calls_free(&c);

	/* a closing quote at the end of data may be the first of "": wait */
	calls_init(&c);
	ck_assert_int_eq(feed(&c, DOC("\"a\""), false, &consumed), CSVSCAN_OK);
	ck_assert_uint_eq(consumed, 0);
	ck_assert_uint_eq(c.res.nrecs, 0);
	ck_assert_int_eq(feed(&c, DOC("\"a\"\"b\"\n"), false, &consumed), CSVSCAN_OK);
	ck_assert_uint_eq(consumed, 7);
	ck_assert_uint_eq(c.res.nrecs, 1);
	ck_assert_uint_eq(c.res.recs[0].lens[0], 3);
	ck_assert_mem_eq(c.res.recs[0].vals[0], "a\"b", 3);
	calls_free(&c);

	/* CR at the end of data ends the record; its LF comes in the next call */
	calls_init(&c);
	ck_assert_int_eq(feed(&c, DOC("a\r"), false, &consumed), CSVSCAN_OK);
	ck_assert_uint_eq(consumed, 2);
	ck_assert_uint_eq(c.res.nrecs, 1);
	ck_assert_int_eq(feed(&c, DOC("\nb\n"), true, &consumed), CSVSCAN_OK);
	ck_assert_uint_eq(consumed, 3);
	ck_assert_uint_eq(c.res.nrecs, 2);
	ck_assert_uint_eq(c.res.recs[0].line, 1);
	ck_assert_uint_eq(c.res.recs[1].line, 2);
	calls_free(&c);

	/* ... and when the next call does not start with LF, the CR was a line of its own */
	calls_init(&c);
	ck_assert_int_eq(feed(&c, DOC("a\r"), false, &consumed), CSVSCAN_OK);
	ck_assert_int_eq(feed(&c, DOC("b\rc\r"), false, &consumed), CSVSCAN_OK);
	ck_assert_int_eq(feed(&c, DOC("d\r"), true, &consumed), CSVSCAN_OK);
	ck_assert_uint_eq(c.res.nrecs, 4);
	ck_assert_uint_eq(c.res.recs[1].line, 2);
	ck_assert_uint_eq(c.res.recs[2].line, 3);
	ck_assert_uint_eq(c.res.recs[3].line, 4);
	calls_free(&c);

	/* an unterminated quote reports where its record began, nothing consumed of it */
	calls_init(&c);
	ck_assert_int_eq(feed(&c, DOC("ok\n\n\"open\nmore"), true, &consumed),
					 CSVSCAN_UNTERMINATED_QUOTE);
	ck_assert_uint_eq(c.res.nrecs, 1);
	ck_assert_uint_eq(consumed, 4); /* "ok\n\n" */
	ck_assert_uint_eq(c.scan.error_line, 3);
	calls_free(&c);
}
END_TEST

static void
expect_stop(const char *doc, size_t len, size_t stop_at, const char *want, size_t consumed)
{
	for (size_t piece = 0; piece < 8; piece++)
	{
		struct scan_result res = { 0 };
		struct sbuf        got = { 0 };

		res.stop_at = stop_at;
		scan_doc(doc, len, SPAN_CAP_ALL, piece, 0, &res);
		render(&res, true, &got);
		ck_assert_str_eq(got.p, want);
		ck_assert_uint_eq(res.consumed, consumed);
		sb_free(&got);
		result_free(&res);
	}
}

/* The callback stops the scan: *consumed is just past the record's line end. */
START_TEST(test_stop)
{
	/* "a\r\nb\r": the CR at 4 ended b */
	expect_stop(DOC("a\r\nb\r\nc\n"), 2, "1:[a]\n2:[b]\nSTOPPED\n", 5);
	/* the same after a bad record: "a\"b\r" */
	expect_stop(DOC("a\"b\r\nc\n"), 1, "1:BAD{a\"b}\nSTOPPED\n", 4);
	/* stopping on the last record, without a line end: everything consumed */
	expect_stop(DOC("x\na\"b"), 2, "1:[x]\n2:BAD{a\"b}\nSTOPPED\n", 5);
	expect_stop(DOC("x\nab"), 2, "1:[x]\n2:[ab]\nSTOPPED\n", 4);
}
END_TEST

/* ---- quotes where RFC 4180 allows none ---- */

/*
 * A record holding a misplaced quote is handed out whole with bad_quote;
 * within it such a quote is an ordinary byte (as in libcsv without
 * CSV_STRICT), so the record ends at the next line end outside a properly
 * quoted field, and scanning goes on with the next record.
 */
START_TEST(test_bad_quote)
{
	/* a quote inside an unquoted field */
	expect_scan(DOC("ab\"c\",x\ny\n"), "1:BAD{ab\"c\",x}\n2:[y]\n");
	expect_scan(DOC("ab\"\"c\nx\n"), "1:BAD{ab\"\"c}\n2:[x]\n");
	/* text after a closing quote */
	expect_scan(DOC("\"ab\"c,d\nx\n"), "1:BAD{\"ab\"c,d}\n2:[x]\n");
	/* a space after a closing quote, or before an opening one: no trimming */
	expect_scan(DOC("a,\"b\" ,c\nx\n"), "1:BAD{a,\"b\" ,c}\n2:[x]\n");
	expect_scan(DOC(" \"a\"\nx\n"), "1:BAD{ \"a\"}\n2:[x]\n");
	/* a bad record between good ones, and two in a row */
	expect_scan(DOC("a\nb\"c\"\nd\n"), "1:[a]\n2:BAD{b\"c\"}\n3:[d]\n");
	expect_scan(DOC("a\"\nb\"\nc\n"), "1:BAD{a\"}\n2:BAD{b\"}\n3:[c]\n");
	/* a stray quote does not swallow the records after it */
	expect_scan(DOC("o\"ops,x\nnext,1\nlast,2\n"), "1:BAD{o\"ops,x}\n2:[next][1]\n3:[last][2]\n");
	/* CRLF after a bad record */
	expect_scan(DOC("a\"b\r\nc\r\n"), "1:BAD{a\"b}\n2:[c]\n");
	/*
	 * Properly quoted fields inside a bad record still hold their line
	 * ends: the record covers lines 1-3, z is on line 4.
	 */
	expect_scan(DOC("\"a\nb\"x,\"c\nd\"\nz\n"), "1:BAD{\"a\\nb\"x,\"c\\nd\"}\n4:[z]\n");
	/* the last record, without a line end */
	expect_scan(DOC("x\n\"a\"b"), "1:[x]\n2:BAD{\"a\"b}\n");
	expect_scan(DOC("x\nab\"c"), "1:[x]\n2:BAD{ab\"c}\n");
}
END_TEST

START_TEST(test_unterminated)
{
	expect_scan(DOC("a\n\"b,c\nd\n"), "1:[a]\nUNTERMINATED@2\n");
	expect_scan(DOC("\"abc"), "UNTERMINATED@1\n");
	expect_scan(DOC("\""), "UNTERMINATED@1\n");
	/* `y,"z""`: the "" is an escaped quote, so the field is still open */
	expect_scan(DOC("x\n\ny,\"z\"\"\n"), "1:[x]\nUNTERMINATED@3\n");
	/* after a bad record (line 1), a quoted field opens on line 2 */
	expect_scan(DOC("a\"\n\"b\nx\n"), "1:BAD{a\"}\nUNTERMINATED@2\n");
	/* a properly opened field after a misplaced quote in the same record */
	expect_scan(DOC("a\"b,\"open\nmore"), "UNTERMINATED@1\n");
}
END_TEST

/* ---- span capacity ---- */

START_TEST(test_span_cap)
{
	struct scan_result res = { 0 };

	scan_doc(DOC("a,b,c,d\ne\n"), 2, 0, 0, &res);
	ck_assert_uint_eq(res.nrecs, 2);
	ck_assert_uint_eq(res.recs[0].nfields, 4); /* all fields counted */
	ck_assert_uint_eq(res.recs[0].nspans, 2);  /* the first two kept */
	ck_assert_mem_eq(res.recs[0].vals[0], "a", 1);
	ck_assert_mem_eq(res.recs[0].vals[1], "b", 1);
	ck_assert_uint_eq(res.recs[1].nfields, 1);
	ck_assert_uint_eq(res.recs[1].nspans, 1);
	result_free(&res);

	/* capacity 1, in pieces, with a quoted comma */
	scan_doc(DOC("\"x,y\",z\n"), 1, 3, 0, &res);
	ck_assert_uint_eq(res.nrecs, 1);
	ck_assert_uint_eq(res.recs[0].nfields, 2);
	ck_assert_uint_eq(res.recs[0].nspans, 1);
	ck_assert_uint_eq(res.recs[0].lens[0], 3);
	ck_assert_mem_eq(res.recs[0].vals[0], "x,y", 3);
	result_free(&res);

	/* and it can be raised on a live scanner */
	{
		struct calls c;
		size_t       consumed;

		calls_init(&c);
		c.res.span_cap = 1;
		csvscan_set_span_cap(&c.scan, 1);
		ck_assert_int_eq(feed(&c, DOC("a,b,c\n"), false, &consumed), CSVSCAN_OK);
		c.res.span_cap = 5;
		csvscan_set_span_cap(&c.scan, 5);
		ck_assert_int_eq(feed(&c, DOC("a,b,c\n"), true, &consumed), CSVSCAN_OK);
		ck_assert_uint_eq(c.res.nrecs, 2);
		ck_assert_uint_eq(c.res.recs[0].nspans, 1);
		ck_assert_uint_eq(c.res.recs[1].nspans, 3);
		ck_assert_mem_eq(c.res.recs[1].vals[2], "c", 1);
		calls_free(&c);
	}
}
END_TEST

/* A callback that widens the spans after the first record (a header). */
struct grow_ctx
{
	struct collect_ctx inner;
	struct csvscan    *scan;
};

static bool
collect_and_grow(void *arg, const struct csv_record *rec)
{
	struct grow_ctx *g = arg;
	bool             go = collect(&g->inner, rec);

	if (g->inner.res->nrecs == 1)
	{
		csvscan_set_span_cap(g->scan, 64);
		g->inner.res->span_cap = 64;
	}
	return go;
}

/*
 * The callback may resize the spans during a feed: later records of the
 * same call use the new array (under ASan, the old one is freed memory).
 */
START_TEST(test_span_cap_grown_in_callback)
{
	static const char  doc[] = "h\nb,c,d\ne,f,\"g\"\"\",h\ni\"j,k\nl,m";
	struct scan_result res = { 0 };
	struct grow_ctx    g;
	struct csvscan     scan;
	char               buf[sizeof(doc) - 1 + CSVSCAN_PAD];
	size_t             consumed;
	struct sbuf        got = { 0 };

	memcpy(buf, doc, sizeof(doc) - 1);
	fill_pad(buf + sizeof(doc) - 1);
	csvscan_init(&scan, 1);
	res.span_cap = 1;
	g.inner.res = &res;
	g.inner.buf = buf;
	g.inner.len = sizeof(doc) - 1;
	g.inner.base = 0;
	g.scan = &scan;
	ck_assert_int_eq(scan_feed(&scan, buf, sizeof(doc) - 1, true, &consumed, collect_and_grow, &g),
					 CSVSCAN_OK);
	render(&res, true, &got);
	ck_assert_str_eq(got.p, "1:[h]\n2:[b][c][d]\n3:[e][f][g\"][h]\n4:BAD{i\"j,k}\n5:[l][m]\n");
	ck_assert_uint_eq(res.recs[2].nspans, 4);
	ck_assert_uint_eq(res.recs[3].nfields, 2);
	ck_assert_uint_eq(res.recs[3].nspans, 2);
	sb_free(&got);
	result_free(&res);
	csvscan_release(&scan);
}
END_TEST

/* csvscan_field on a record built by hand. */
START_TEST(test_field_unescape)
{
	static const char            raw[] = "plain,\"quoted\",\"a\"\"b\",\"\",\"\"\"\",\"x\"\"\"\"\"";
	static const struct csv_span spans[] = { { 0, 5 },  { 6, 8 },  { 15, 6 },
											 { 22, 2 }, { 25, 4 }, { 30, 7 } };
	static const char *const     want[] = { "plain", "quoted", "a\"b", "", "\"", "x\"\"" };
	struct csv_record            rec;

	memset(&rec, 0, sizeof(rec));
	rec.raw = raw;
	rec.len = sizeof(raw) - 1;
	rec.nfields = rec.nspans = 6;
	rec.spans = spans;
	for (uint32_t i = 0; i < 6; i++)
	{
		char        scratch[16];
		const char *v;
		size_t      vlen;

		memset(scratch, '#', sizeof(scratch));
		csvscan_field(&rec, i, scratch, &v, &vlen);
		ck_assert_msg(vlen == strlen(want[i]) && memcmp(v, want[i], vlen) == 0,
					  "field %u: got '%.*s', want '%s'", i, (int) vlen, v, want[i]);
	}
}
END_TEST

/* ---- 64-byte block boundaries ---- */

/*
 * A record with fields of 0..200 bytes, so that commas, quotes, the quoted
 * "" and LF, and the line end fall on every position of a 64-byte block;
 * a leading line of (L * 7) % 64 bytes shifts it further.  Record 1 (or an
 * empty line 1), then the record on lines 2-3, then "z" on line 4.
 */
START_TEST(test_block_boundaries)
{
	for (size_t L = 0; L <= 200; L++)
	{
		size_t      pre = (L * 7) % 64;
		struct sbuf doc = { 0 }, want = { 0 }, b = { 0 };

		if (pre > 0)
		{
			sb_repeat(&doc, 'q', pre);
			sb_puts(&want, "1:[");
			sb_repeat(&want, 'q', pre);
			sb_puts(&want, "]\n");
		}
		sb_puts(&doc, "\n");

		/* field B's value: b * L/3, a quote, a comma, an LF, c * L%7 */
		sb_repeat(&b, 'b', L / 3);
		sb_puts(&b, "\",\n");
		sb_repeat(&b, 'c', L % 7);

		sb_repeat(&doc, 'a', L);
		sb_puts(&doc, ",\"");
		sb_repeat(&doc, 'b', L / 3);
		sb_puts(&doc, "\"\",\n");
		sb_repeat(&doc, 'c', L % 7);
		sb_puts(&doc, "\",");
		sb_repeat(&doc, 'd', 200 - L);
		sb_puts(&doc, L % 2 ? "\r\nz" : "\nz");
		if (L % 3 != 0)
			sb_puts(&doc, "\n");

		sb_puts(&want, "2:[");
		sb_repeat(&want, 'a', L);
		sb_puts(&want, "][");
		sb_escaped(&want, b.p, b.len);
		sb_puts(&want, "][");
		sb_repeat(&want, 'd', 200 - L);
		sb_puts(&want, "]\n4:[z]\n");

		expect_scan(doc.p, doc.len, want.p);
		sb_free(&doc);
		sb_free(&want);
		sb_free(&b);
	}
}
END_TEST

/*
 * Quote legality and recovery across block edges: after `pos` bytes of 'a'
 * comes one of
 *   ,"x"\n            good: an opening quote after a comma
 *   ,"x"y\n           bad: text after the closing quote
 *   "x"\n             bad after 'a' (a quote in an unquoted field); good at 0
 *   "x\n              bad after 'a'; at 0 an unterminated quoted field
 *   "x,b..b\n         bad, ending anywhere in a block, then good records
 * each followed by more records, which must come out intact.
 */
START_TEST(test_quote_edges)
{
	for (size_t pos = 0; pos <= 130; pos++)
	{
		struct sbuf doc = { 0 }, want = { 0 };

		sb_repeat(&doc, 'a', pos);
		sb_puts(&doc, ",\"x\"\nok\n");
		sb_puts(&want, "1:[");
		sb_repeat(&want, 'a', pos);
		sb_puts(&want, "][x]\n2:[ok]\n");
		expect_scan(doc.p, doc.len, want.p);

		doc.len = want.len = 0;
		sb_repeat(&doc, 'a', pos);
		sb_puts(&doc, ",\"x\"y\nok\n");
		sb_puts(&want, "1:BAD{");
		sb_repeat(&want, 'a', pos);
		sb_puts(&want, ",\"x\"y}\n2:[ok]\n");
		expect_scan(doc.p, doc.len, want.p);

		doc.len = want.len = 0;
		sb_repeat(&doc, 'a', pos);
		sb_puts(&doc, "\"x\"\nok\n");
		if (pos == 0)
			sb_puts(&want, "1:[x]\n2:[ok]\n");
		else
		{
			sb_puts(&want, "1:BAD{");
			sb_repeat(&want, 'a', pos);
			sb_puts(&want, "\"x\"}\n2:[ok]\n");
		}
		expect_scan(doc.p, doc.len, want.p);

		doc.len = want.len = 0;
		sb_repeat(&doc, 'a', pos);
		sb_puts(&doc, "\"x\nok\n");
		if (pos == 0)
			sb_puts(&want, "UNTERMINATED@1\n");
		else
		{
			sb_puts(&want, "1:BAD{");
			sb_repeat(&want, 'a', pos);
			sb_puts(&want, "\"x}\n2:[ok]\n");
		}
		expect_scan(doc.p, doc.len, want.p);

		/* lines: 1 the bad record, 2-3 a record with a quoted LF, 4 f */
		doc.len = want.len = 0;
		sb_repeat(&doc, 'a', pos % 5);
		sb_puts(&doc, "b\"x,");
		sb_repeat(&doc, 'b', pos);
		sb_puts(&doc, "\nc,\"d\ne\"\nf\n");
		sb_puts(&want, "1:BAD{");
		sb_repeat(&want, 'a', pos % 5);
		sb_puts(&want, "b\"x,");
		sb_repeat(&want, 'b', pos);
		sb_puts(&want, "}\n2:[c][d\\ne]\n4:[f]\n");
		expect_scan(doc.p, doc.len, want.p);

		sb_free(&doc);
		sb_free(&want);
	}
}
END_TEST

/* ---- differential tests: libcsv, and a byte-at-a-time model ---- */

/*
 * Random documents go through csvscan, through libcsv (CSV_STRICT,
 * CSV_STRICT_FINI, no space trimming, default terminators), and through
 * model_scan() below.  libcsv is the reference up to its first error; the
 * model states the whole contract, recovery after a bad quote included.
 *
 * libcsv is fed one byte at a time, so the callbacks know where each record
 * ends; the start of a record is the first byte after the previous record's
 * terminator that is not CR or LF (libcsv skips empty lines), and its line
 * is 1 + the LFs before that.
 */
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
		lc->cur_vals = xrealloc(lc->cur_vals, lc->cur_cap * sizeof(char *));
		lc->cur_lens = xrealloc(lc->cur_lens, lc->cur_cap * sizeof(size_t));
	}
	lc->cur_vals[lc->cur_n] = xrealloc(NULL, len);
	memcpy(lc->cur_vals[lc->cur_n], s, len);
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
		lc->recs = xrealloc(lc->recs, lc->cap * sizeof(*lc->recs));
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

static size_t
skip_line_ends(const char *doc, size_t len, size_t i)
{
	while (i < len && (doc[i] == '\n' || doc[i] == '\r'))
		i++;
	return i;
}

/* Does a line end at doc[i]: an LF, or a CR not followed by an LF (a CR-only file's)? */
static bool
ends_line(const char *doc, size_t len, size_t i)
{
	return doc[i] == '\n' || (doc[i] == '\r' && (i + 1 >= len || doc[i + 1] != '\n'));
}

static void
lc_parse(const char *doc, size_t len, struct lc_result *lc)
{
	struct csv_parser p;

	memset(lc, 0, sizeof(*lc));
	ck_assert_int_eq(csv_init(&p, CSV_STRICT | CSV_STRICT_FINI), 0);
	csv_set_space_func(&p, no_space);
	lc->outcome = LC_CLEAN;
	for (size_t i = 0; i < len; i++)
	{
		lc->pos = i;
		if (csv_parse(&p, doc + i, 1, lc_field, lc_row, lc) != 1)
		{
			require(csv_error(&p) == CSV_EPARSE, "libcsv: %s", csv_strerror(csv_error(&p)));
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

	/* where each record starts, and on which line */
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

static void
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

static uint64_t
line_at(const char *doc, size_t len, size_t off)
{
	uint64_t line = 1;

	for (size_t i = 0; i < off; i++)
		line += ends_line(doc, len, i);
	return line;
}

/* Counts of what the differential test met, so it can check its reach. */
struct diff_stats
{
	int      clean;
	int      bad_quote;          /* libcsv EPARSE, csvscan bad_quote */
	int      parse_unterminated; /* libcsv EPARSE, csvscan unterminated */
	int      fini_unterminated;  /* both: unterminated at the end */
	uint64_t records;
};

/* Fails the test, quoting the start of the document. */
__attribute__((format(printf, 4, 5))) static void
diff_fail(const char *how, const char *doc, size_t len, const char *fmt, ...)
{
	char        msg[512];
	struct sbuf d = { 0 };
	va_list     ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sb_escaped(&d, doc, len < 300 ? len : 300);
	ck_abort_msg("%s, document of %zu bytes '%s': %s", how, len, d.p, msg);
}

/* The model. */

static void
push_record(struct scan_result *res, const char *doc, size_t start, size_t end, uint64_t line,
			bool bad, const size_t *fstart, const size_t *fend, uint32_t nfields)
{
	struct rec_copy *r;

	if (res->nrecs == res->cap)
	{
		res->cap = res->cap ? res->cap * 2 : 16;
		res->recs = xrealloc(res->recs, res->cap * sizeof(*res->recs));
	}
	r = &res->recs[res->nrecs++];
	memset(r, 0, sizeof(*r));
	r->start = start;
	r->len = end - start;
	r->line = line;
	r->nfields = nfields;
	r->nspans = nfields < res->span_cap ? nfields : res->span_cap;
	r->bad = bad;
	r->raw = xrealloc(NULL, r->len);
	memcpy(r->raw, doc + start, r->len);
	if (bad)
		return;
	r->vals = xrealloc(NULL, r->nspans * sizeof(char *));
	r->lens = xrealloc(NULL, r->nspans * sizeof(size_t));
	for (uint32_t f = 0; f < r->nspans; f++)
	{
		const char *p = doc + fstart[f];
		size_t      n = fend[f] - fstart[f];
		size_t      out = 0;

		r->vals[f] = xrealloc(NULL, n);
		if (n >= 2 && p[0] == '"')
		{
			/* a quoted field: drop the outer quotes, "" is one quote */
			for (size_t k = 1; k + 1 < n; k++)
			{
				r->vals[f][out++] = p[k];
				if (p[k] == '"')
					k++;
			}
		}
		else
		{
			memcpy(r->vals[f], p, n);
			out = n;
		}
		r->lens[f] = out;
	}
}

/*
 * RFC 4180 plus the recovery rule of test_bad_quote, one byte at a time:
 * a quote inside an unquoted field, or text after a closing quote, makes
 * the record bad and is an ordinary byte; line ends end a record unless
 * inside a quoted field; empty records are skipped.
 */
static void
model_scan(const char *doc, size_t len, uint32_t span_cap, struct scan_result *res)
{
	enum
	{
		START,
		UNQUOTED,
		QUOTED,
		AFTER_QUOTE
	} st = START;
	size_t  *fstart = NULL, *fend = NULL;
	size_t   fcap = 0;
	uint32_t nfields = 0;
	size_t   rec_start = 0, field_start = 0;
	uint64_t lfs = 0, /* line ends in doc[0..i): LF, CRLF, lone CR */
		rec_line = 1;
	bool bad = false;

	memset(res, 0, sizeof(*res));
	res->span_cap = span_cap;
	res->status = CSVSCAN_OK;
	for (size_t i = 0; i <= len; i++)
	{
		char c = i < len ? doc[i] : '\0';
		bool boundary = false, term = false;

		if (i == len)
		{
			if (st == QUOTED)
			{
				res->status = CSVSCAN_UNTERMINATED_QUOTE;
				res->error_line = rec_line;
				break;
			}
			boundary = term = true;
		}
		else if (st == QUOTED)
			st = c == '"' ? AFTER_QUOTE : QUOTED;
		else if (c == ',' || c == '\n' || c == '\r')
		{
			boundary = true;
			term = c != ',';
		}
		else if (st == START)
			st = c == '"' ? QUOTED : UNQUOTED;
		else if (st == AFTER_QUOTE)
		{
			if (c == '"')
				st = QUOTED; /* "" */
			else
			{
				bad = true; /* text after the closing quote */
				st = UNQUOTED;
			}
		}
		else if (c == '"')
			bad = true; /* a quote inside an unquoted field */

		if (boundary)
		{
			if (nfields == fcap)
			{
				fcap = fcap ? fcap * 2 : 16;
				fstart = xrealloc(fstart, fcap * sizeof(size_t));
				fend = xrealloc(fend, fcap * sizeof(size_t));
			}
			fstart[nfields] = field_start;
			fend[nfields++] = i;
			field_start = i + 1;
			st = START;
		}
		if (term)
		{
			if (i > rec_start)
				push_record(res, doc, rec_start, i, rec_line, bad, fstart, fend, nfields);
			rec_start = field_start = i + 1;
			nfields = 0;
			bad = false;
			rec_line = 1 + lfs + (i < len && ends_line(doc, len, i));
		}
		lfs += i < len && ends_line(doc, len, i);
	}
	free(fstart);
	free(fend);
}

/* csvscan and the model agree on every record and on how the scan ended. */
static void
compare_with_model(const char *doc, size_t len, const struct scan_result *want,
				   const struct scan_result *got, const char *how)
{
#define DIFF(cond, ...)                                                                            \
	do                                                                                             \
	{                                                                                              \
		if (cond)                                                                                  \
			diff_fail(how, doc, len, __VA_ARGS__);                                                 \
	} while (0)

	DIFF(got->status != want->status || got->nrecs != want->nrecs,
		 "status %d with %zu records, model %d with %zu", got->status, got->nrecs, want->status,
		 want->nrecs);
	DIFF(got->status == CSVSCAN_UNTERMINATED_QUOTE && got->error_line != want->error_line,
		 "error line %llu, model %llu", (unsigned long long) got->error_line,
		 (unsigned long long) want->error_line);
	for (size_t r = 0; r < want->nrecs; r++)
	{
		const struct rec_copy *g = &got->recs[r];
		const struct rec_copy *w = &want->recs[r];

		DIFF(g->start != w->start || g->len != w->len || g->line != w->line || g->bad != w->bad ||
				 g->nfields != w->nfields || g->nspans != w->nspans,
			 "record %zu: at %zu+%zu line %llu bad %d fields %u; model %zu+%zu line %llu "
			 "bad %d fields %u",
			 r, g->start, g->len, (unsigned long long) g->line, g->bad, g->nfields, w->start,
			 w->len, (unsigned long long) w->line, w->bad, w->nfields);
		for (uint32_t f = 0; !w->bad && f < w->nspans; f++)
			DIFF(g->lens[f] != w->lens[f] || memcmp(g->vals[f], w->vals[f], w->lens[f]) != 0,
				 "record %zu field %u differs from the model", r, f);
	}
#undef DIFF
}

/*
 * The contract: records agree (position, line, field count and values)
 * until libcsv's first error; at that record csvscan says bad_quote, or,
 * having no such record, that the data ended inside a quote.
 */
static void
compare_with_libcsv(const char *doc, size_t len, const struct lc_result *lc,
					const struct scan_result *sc, const char *how, struct diff_stats *st)
{
	size_t k = lc->nrecs; /* records libcsv completed */

#define DIFF(cond, ...)                                                                            \
	do                                                                                             \
	{                                                                                              \
		if (cond)                                                                                  \
			diff_fail(how, doc, len, __VA_ARGS__);                                                 \
	} while (0)

	for (size_t r = 0; r < k; r++)
	{
		const struct lc_rec   *want = &lc->recs[r];
		const struct rec_copy *got;

		DIFF(r >= sc->nrecs, "csvscan has %zu records, libcsv %zu", sc->nrecs, k);
		got = &sc->recs[r];
		DIFF(got->bad, "record %zu bad_quote, libcsv accepts it", r);
		DIFF(got->start != want->start || got->len != want->end - want->start,
			 "record %zu at %zu+%zu, libcsv %zu+%zu", r, got->start, got->len, want->start,
			 want->end - want->start);
		DIFF(got->line != want->line, "record %zu on line %llu, want %llu", r,
			 (unsigned long long) got->line, (unsigned long long) want->line);
		DIFF(got->nfields != want->nfields, "record %zu has %u fields, libcsv %zu", r, got->nfields,
			 want->nfields);
		for (uint32_t f = 0; f < got->nspans; f++)
			DIFF(got->lens[f] != want->lens[f] ||
					 memcmp(got->vals[f], want->vals[f], want->lens[f]) != 0,
				 "record %zu field %u differs", r, f);
	}
	st->records += k;

	switch (lc->outcome)
	{
		case LC_CLEAN:
			DIFF(sc->status != CSVSCAN_OK || sc->nrecs != k,
				 "csvscan status %d with %zu records, libcsv clean with %zu", sc->status, sc->nrecs,
				 k);
			st->clean++;
			break;
		case LC_FINI_ERROR:
		{
			size_t start = skip_line_ends(doc, len, k ? lc->recs[k - 1].end + 1 : 0);

			DIFF(sc->status != CSVSCAN_UNTERMINATED_QUOTE || sc->nrecs != k,
				 "csvscan status %d with %zu records, libcsv unterminated after %zu", sc->status,
				 sc->nrecs, k);
			DIFF(sc->error_line != line_at(doc, len, start), "error line %llu, want %llu",
				 (unsigned long long) sc->error_line,
				 (unsigned long long) line_at(doc, len, start));
			st->fini_unterminated++;
			break;
		}
		case LC_PARSE_ERROR:
		{
			size_t start = skip_line_ends(doc, len, k ? lc->recs[k - 1].end + 1 : 0);

			if (sc->nrecs > k)
			{
				const struct rec_copy *got = &sc->recs[k];

				DIFF(!got->bad, "record %zu not bad_quote; libcsv fails at byte %zu", k,
					 lc->err_pos);
				DIFF(got->start != start || lc->err_pos < got->start ||
						 lc->err_pos >= got->start + got->len,
					 "bad record %zu at %zu+%zu, libcsv fails at byte %zu", k, got->start, got->len,
					 lc->err_pos);
				DIFF(got->line != line_at(doc, len, start), "bad record %zu on line %llu", k,
					 (unsigned long long) got->line);
				st->bad_quote++;
			}
			else
			{
				DIFF(sc->status != CSVSCAN_UNTERMINATED_QUOTE,
					 "csvscan status %d with %zu records, libcsv fails in record %zu", sc->status,
					 sc->nrecs, k);
				DIFF(sc->error_line != line_at(doc, len, start), "error line %llu, want %llu",
					 (unsigned long long) sc->error_line,
					 (unsigned long long) line_at(doc, len, start));
				st->parse_unterminated++;
			}
			break;
		}
	}
#undef DIFF
}

/* Random bytes, heavy in the ones that matter. */
static void
gen_soup(uint64_t *rng, struct sbuf *doc)
{
	static const char alphabet[] = "\"\"\"\"\",,,,\n\n\n\r\r\raaaaaab  \t\xe9";
	size_t len = next_random(rng) % 8 == 0 ? next_random(rng) % 1500 : next_random(rng) % 120;

	for (size_t i = 0; i < len; i++)
	{
		char c = alphabet[next_random(rng) % (sizeof(alphabet) - 1)];

		if (next_random(rng) % 64 == 0)
			c = '\0';
		sb_put(doc, &c, 1);
	}
}

/* Well-formed CSV: random fields, quoted when they must be and at random. */
static void
gen_structured(uint64_t *rng, struct sbuf *doc, size_t nrecs)
{
	static const char plain[] = "aaabbxyz 0\t\xe9";
	static const char special[] = ",\"\n\r";

	for (size_t r = 0; r < nrecs; r++)
	{
		size_t nf = 1 + next_random(rng) % 6;

		if (next_random(rng) % 10 == 0)
			sb_puts(doc, next_random(rng) % 2 ? "\n" : "\r\n"); /* an empty line */
		for (size_t f = 0; f < nf; f++)
		{
			struct sbuf v = { 0 };
			size_t      vlen;
			bool        needs = false;

			switch (next_random(rng) % 4)
			{
				case 0:
					vlen = 0;
					break;
				case 1:
					vlen = 60 + next_random(rng) % 100;
					break;
				default:
					vlen = 1 + next_random(rng) % 6;
					break;
			}
			for (size_t i = 0; i < vlen; i++)
			{
				char c;

				if (next_random(rng) % 6 == 0)
				{
					c = special[next_random(rng) % 4];
					needs = true;
				}
				else
					c = plain[next_random(rng) % (sizeof(plain) - 1)];
				if (next_random(rng) % 100 == 0)
					c = '\0';
				sb_put(&v, &c, 1);
			}
			if (f > 0)
				sb_puts(doc, ",");
			if (needs || next_random(rng) % 3 == 0)
			{
				sb_puts(doc, "\"");
				for (size_t i = 0; i < v.len; i++)
				{
					if (v.p[i] == '"')
						sb_puts(doc, "\"");
					sb_put(doc, v.p + i, 1);
				}
				sb_puts(doc, "\"");
			}
			else if (v.len > 0)
				sb_put(doc, v.p, v.len);
			sb_free(&v);
		}
		if (r + 1 < nrecs || next_random(rng) % 3 != 0)
		{
			switch (next_random(rng) % 10)
			{
				case 0:
					sb_puts(doc, "\r");
					break;
				case 1:
				case 2:
				case 3:
					sb_puts(doc, "\r\n");
					break;
				default:
					sb_puts(doc, "\n");
					break;
			}
		}
	}
}

/* One to three random edits of a document: insert, delete or replace a byte. */
static void
mutate(uint64_t *rng, struct sbuf *doc)
{
	static const char alphabet[] = "\"\",\n\ra ";
	int               nedits = 1 + (int) (next_random(rng) % 3);

	for (int e = 0; e < nedits; e++)
	{
		size_t at = doc->len ? next_random(rng) % (doc->len + 1) : 0;
		char   c = alphabet[next_random(rng) % (sizeof(alphabet) - 1)];

		switch (next_random(rng) % 3)
		{
			case 0: /* insert */
				sb_put(doc, "", 1);
				memmove(doc->p + at + 1, doc->p + at, doc->len - 1 - at);
				doc->p[at] = c;
				break;
			case 1: /* delete */
				if (at < doc->len)
				{
					memmove(doc->p + at, doc->p + at + 1, doc->len - at - 1);
					doc->len--;
				}
				break;
			default: /* replace */
				if (at < doc->len)
					doc->p[at] = c;
				break;
		}
	}
}

/*
 * Scans doc three ways (whole, random pieces, few spans), each compared
 * with libcsv up to its first error and with the model throughout.
 */
static void
differential(const char *doc, size_t len, uint64_t *rng, struct diff_stats *st)
{
	struct lc_result   lc;
	struct scan_result sc = { 0 }, model, model_few;
	size_t             piece = 1 + next_random(rng) % (next_random(rng) % 2 ? 16 : 300);
	uint32_t           few = 1 + (uint32_t) (next_random(rng) % 4);

	lc_parse(doc, len, &lc);
	model_scan(doc, len, SPAN_CAP_ALL, &model);
	model_scan(doc, len, few, &model_few);

	scan_doc(doc, len, SPAN_CAP_ALL, 0, 0, &sc);
	compare_with_libcsv(doc, len, &lc, &sc, "whole", st);
	compare_with_model(doc, len, &model, &sc, "whole");
	result_free(&sc);

	scan_doc(doc, len, SPAN_CAP_ALL, piece, next_random(rng) | 1, &sc);
	compare_with_libcsv(doc, len, &lc, &sc, "random pieces", st);
	compare_with_model(doc, len, &model, &sc, "random pieces");
	result_free(&sc);

	scan_doc(doc, len, few, piece, 0, &sc);
	compare_with_libcsv(doc, len, &lc, &sc, "fixed pieces, few spans", st);
	compare_with_model(doc, len, &model_few, &sc, "fixed pieces, few spans");
	result_free(&sc);

	result_free(&model);
	result_free(&model_few);
	lc_free(&lc);
}

START_TEST(test_libcsv_soup)
{
	uint64_t          rng = 1;
	struct diff_stats st = { 0 };

	for (int i = 0; i < DIFF_DOCS; i++)
	{
		struct sbuf doc = { 0 };

		gen_soup(&rng, &doc);
		sb_put(&doc, "", 0);
		differential(doc.p, doc.len, &rng, &st);
		sb_free(&doc);
	}
	/* the generator reached every outcome (each document counted 3 times) */
	ck_assert_int_gt(st.clean, 300);
	ck_assert_int_gt(st.bad_quote, 5000);
	ck_assert_int_gt(st.parse_unterminated, 30);
	ck_assert_int_gt(st.fini_unterminated, 200);
}
END_TEST

START_TEST(test_libcsv_structured)
{
	uint64_t          rng = 2;
	struct diff_stats st = { 0 };

	for (int i = 0; i < DIFF_DOCS; i++)
	{
		struct sbuf doc = { 0 };

		gen_structured(&rng, &doc, next_random(&rng) % 12);
		sb_put(&doc, "", 0);
		differential(doc.p, doc.len, &rng, &st);
		sb_free(&doc);
	}
	/* well-formed input is never an error */
	ck_assert_int_eq(st.clean, 3 * DIFF_DOCS);
	ck_assert_uint_gt(st.records, 3 * DIFF_DOCS * 4);
}
END_TEST

START_TEST(test_libcsv_mutated)
{
	uint64_t          rng = 3;
	struct diff_stats st = { 0 };

	for (int i = 0; i < DIFF_DOCS; i++)
	{
		struct sbuf doc = { 0 };

		gen_structured(&rng, &doc, 1 + next_random(&rng) % 8);
		mutate(&rng, &doc);
		sb_put(&doc, "", 0);
		differential(doc.p, doc.len, &rng, &st);
		sb_free(&doc);
	}
	ck_assert_int_gt(st.clean, 3000);
	ck_assert_int_gt(st.bad_quote, 2000);
	ck_assert_int_gt(st.fini_unterminated, 100);
}
END_TEST

/* One large document (about 2 MB) in pieces of up to 100 KB. */
START_TEST(test_libcsv_large)
{
	uint64_t           rng = 4;
	struct sbuf        doc = { 0 };
	struct lc_result   lc;
	struct scan_result sc = { 0 }, model;
	struct diff_stats  st = { 0 };

	gen_structured(&rng, &doc, 30000);
	sb_put(&doc, "", 0);
	lc_parse(doc.p, doc.len, &lc);
	ck_assert_int_eq(lc.outcome, LC_CLEAN);
	model_scan(doc.p, doc.len, SPAN_CAP_ALL, &model);
	scan_doc(doc.p, doc.len, SPAN_CAP_ALL, 100000, 99, &sc);
	compare_with_libcsv(doc.p, doc.len, &lc, &sc, "large", &st);
	compare_with_model(doc.p, doc.len, &model, &sc, "large");
	result_free(&model);
	ck_assert_uint_eq(st.records, lc.nrecs);
	ck_assert_uint_gt(lc.nrecs, 25000); /* a few single empty fields are empty lines */
	ck_assert_uint_gt(doc.len, 1000000);
	result_free(&sc);
	lc_free(&lc);
	sb_free(&doc);
}
END_TEST

static Suite *
csvscan_suite(void)
{
	Suite *s = suite_create("csvscan");
	TCase *tc;

	tc = tcase_create("records");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_simple);
	tcase_add_test(tc, test_quoted);
	tcase_add_test(tc, test_crlf);
	tcase_add_test(tc, test_empty_lines);
	tcase_add_test(tc, test_no_final_newline);
	tcase_add_test(tc, test_empty_fields);
	tcase_add_test(tc, test_bytes);
	tcase_add_test(tc, test_line_numbers);
	tcase_add_test(tc, test_carry_protocol);
	tcase_add_test(tc, test_stop);
	tcase_add_test(tc, test_bad_quote);
	tcase_add_test(tc, test_unterminated);
	tcase_add_test(tc, test_span_cap);
	tcase_add_test(tc, test_span_cap_grown_in_callback);
	tcase_add_test(tc, test_field_unescape);
	suite_add_tcase(s, tc);

	tc = tcase_create("blocks");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_block_boundaries);
	tcase_add_test(tc, test_quote_edges);
	suite_add_tcase(s, tc);

	tc = tcase_create("libcsv");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_libcsv_soup);
	tcase_add_test(tc, test_libcsv_structured);
	tcase_add_test(tc, test_libcsv_mutated);
	tcase_add_test(tc, test_libcsv_large);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	int failed = 0;

	for (int k = 0; k < 2; k++)
	{
		SRunner *sr;

		impl = k == 0 ? CSVSCAN_BASELINE : CSVSCAN_AVX2;
		if (impl == CSVSCAN_AVX2 && !csvscan_have_avx2())
		{
			/* said, not counted as passed: this CPU cannot run that build */
			printf("# check_csvscan: the AVX2 build not run: this CPU lacks AVX2, BMI or PCLMUL\n");
			break;
		}
		printf("# check_csvscan: the %s build\n", k == 0 ? "baseline (SSE2)" : "AVX2");
		fflush(stdout);
		sr = srunner_create(csvscan_suite());
		srunner_run_all(sr, CK_ENV);
		failed += srunner_ntests_failed(sr);
		srunner_free(sr);
	}
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
