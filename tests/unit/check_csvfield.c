/*
 * check_csvfield.c: unit tests of csvfield.h, fields by name and of any
 * length, on records made by the real scanner (csvscan_feed over a buffer
 * with CSVSCAN_PAD zero bytes after the data).
 *
 * Header matching is a table of headers with the columns expected for
 * the names stream_id, node_id, payout_amount (the previous ledger's); a
 * refused header must say so on stderr with "path:line:" and, where a
 * column is at fault, the column quoted.  Field values are a table of
 * records and the bytes each field holds, then a round trip of random
 * values through an RFC 4180 encoder written here.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "payrun/csvfield.h"
#include "payrun/csvscan.h"

/*
 * ck_assert_msg() reports every passing check to the Check runner (a pipe
 * write per call in fork mode); loops that check many values use this
 * instead, which reports failures only.
 */
#define require(cond, ...)                                                                         \
	do                                                                                             \
	{                                                                                              \
		if (!(cond))                                                                               \
			ck_abort_msg(__VA_ARGS__);                                                             \
	} while (0)

#define NROWS(a) ((int) (sizeof(a) / sizeof((a)[0])))

/* A document given as a string literal, which may hold NUL bytes. */
#define DOC(lit) (lit), (sizeof(lit) - 1)

#define ABSENT (-1)

static uint64_t
next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* The bytes of s[0..len) made printable for messages: \0, \n, \xNN. */
static const char *
shown(const char *s, size_t len)
{
	static char out[1024];
	size_t      o = 0;

	for (size_t i = 0; i < len && o + 5 < sizeof(out); i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c == '\0')
			o += (size_t) snprintf(out + o, sizeof(out) - o, "\\0");
		else if (c == '\n')
			o += (size_t) snprintf(out + o, sizeof(out) - o, "\\n");
		else if (c == '\r')
			o += (size_t) snprintf(out + o, sizeof(out) - o, "\\r");
		else if (c < 0x20 || c >= 0x7f)
			o += (size_t) snprintf(out + o, sizeof(out) - o, "\\x%02x", c);
		else
			out[o++] = (char) c;
	}
	out[o] = '\0';
	return out;
}

/* Scans doc[0..len) whole, from a copy with CSVSCAN_PAD zero bytes after it. */
static enum csvscan_status
scan_doc(const char *doc, size_t len, uint32_t span_cap, csvscan_fn fn, void *arg)
{
	char               *buf = malloc(len + CSVSCAN_PAD);
	struct csvscan      scan;
	size_t              consumed;
	enum csvscan_status status;

	ck_assert_ptr_nonnull(buf);
	memcpy(buf, doc, len);
	memset(buf + len, 0, CSVSCAN_PAD);
	csvscan_init(&scan, span_cap);
	status = csvscan_feed(&scan, buf, len, true, &consumed, fn, arg);
	csvscan_release(&scan);
	free(buf);
	return status;
}

/* ---- stderr, captured: what a refused header said ---- */

struct capture
{
	int   saved;
	FILE *file;
};

static void
capture_begin(struct capture *c)
{
	fflush(stderr);
	c->file = tmpfile();
	ck_assert_ptr_nonnull(c->file);
	c->saved = dup(STDERR_FILENO);
	ck_assert_int_ge(c->saved, 0);
	ck_assert_int_ge(dup2(fileno(c->file), STDERR_FILENO), 0);
}

/* Restores stderr; returns what was written (malloc'd, NUL-terminated). */
static char *
capture_end(struct capture *c)
{
	long  n;
	char *text;

	fflush(stderr);
	ck_assert_int_ge(dup2(c->saved, STDERR_FILENO), 0);
	close(c->saved);
	n = ftell(c->file);
	ck_assert_int_ge(n, 0);
	text = calloc(1, (size_t) n + 1);
	ck_assert_ptr_nonnull(text);
	rewind(c->file);
	ck_assert_uint_eq(fread(text, 1, (size_t) n, c->file), (size_t) n);
	fclose(c->file);
	return text;
}

/* ---- csvfield_match_header ---- */

static const char *const names[3] = { "stream_id", "node_id", "payout_amount" };

struct header_run
{
	size_t   nrequired;
	bool     called;
	bool     ok;
	uint32_t cols[3];
	uint32_t last;
};

static bool
on_header(void *arg, const struct csv_record *rec)
{
	struct header_run *h = arg;

	h->called = true;
	h->ok = csvfield_match_header(rec, "t.csv", names, 3, h->nrequired, h->cols, &h->last);
	return false; /* the header only */
}

/* Scans doc's first record as a header; *err gets what was logged (free it). */
static struct header_run
match(const char *doc, size_t len, uint32_t span_cap, size_t nrequired, char **err)
{
	struct header_run h;
	struct capture    cap;

	memset(&h, 0, sizeof(h));
	memset(h.cols, 0x5a, sizeof(h.cols));
	h.nrequired = nrequired;
	h.last = 12345;
	capture_begin(&cap);
	scan_doc(doc, len, span_cap, on_header, &h);
	*err = capture_end(&cap);
	ck_assert_msg(h.called, "'%s': no record", shown(doc, len));
	return h;
}

/* Headers accepted: the field index of each name (or ABSENT) and the highest found. */
struct good_header
{
	const char *doc;
	size_t      len;
	uint32_t    span_cap;
	size_t      nrequired;
	int         cols[3];
	int         last;
};

static const struct good_header good_headers[] = {
	{ DOC("stream_id,node_id,payout_amount\n"), 64, 3, { 0, 1, 2 }, 2 },
	/* any order, other columns ignored, no line end at EOF */
	{ DOC("payout_amount,x,stream_id,y,node_id"), 64, 3, { 2, 4, 0 }, 4 },
	{ DOC("x,stream_id,x,node_id,payout_amount,x"), 64, 3, { 1, 3, 4 }, 4 },
	{ DOC(",,stream_id,,node_id,payout_amount,"), 64, 3, { 2, 4, 5 }, 5 },
	/* CRLF: the CR is no part of the last name */
	{ DOC("stream_id,node_id,payout_amount\r\n"), 64, 3, { 0, 1, 2 }, 2 },
	/* quoted names are unquoted first */
	{ DOC("\"stream_id\",\"node_id\",\"payout_amount\""), 64, 3, { 0, 1, 2 }, 2 },
	/* a UTF-8 byte order mark before the first field */
	{ DOC("\xEF\xBB\xBFstream_id,node_id,payout_amount\r\n"), 64, 3, { 0, 1, 2 }, 2 },
	{ DOC("\xEF\xBB\xBF,stream_id,node_id,payout_amount"), 64, 3, { 1, 2, 3 }, 3 },
	/* ... only there: in the second field it is part of the name */
	{ DOC("node_id,\xEF\xBB\xBFstream_id,payout_amount"), 64, 0, { ABSENT, 0, 2 }, 2 },
	/* optional columns (past nrequired) may be missing */
	{ DOC("node_id,stream_id"), 64, 2, { 1, 0, ABSENT }, 1 },
	{ DOC("stream_id"), 64, 1, { 0, ABSENT, ABSENT }, 0 },
	/* as many fields as the scanner keeps spans for */
	{ DOC("stream_id,node_id,payout_amount,a,b"), 5, 3, { 0, 1, 2 }, 2 },
};

START_TEST(test_header_good)
{
	const struct good_header *c = &good_headers[_i];
	char                     *err;
	struct header_run         h = match(c->doc, c->len, c->span_cap, c->nrequired, &err);

	ck_assert_msg(h.ok, "row %d '%s' refused: %s", _i, shown(c->doc, c->len), err);
	for (int k = 0; k < 3; k++)
	{
		uint32_t want = c->cols[k] == ABSENT ? CSVFIELD_ABSENT : (uint32_t) c->cols[k];

		ck_assert_msg(h.cols[k] == want, "row %d '%s': column %s at %u, want %u", _i,
					  shown(c->doc, c->len), names[k], h.cols[k], want);
	}
	ck_assert_msg(h.last == (uint32_t) c->last, "row %d '%s': last column %u, want %d", _i,
				  shown(c->doc, c->len), h.last, c->last);
	ck_assert_msg(err[0] == '\0', "row %d: accepted with a message: %s", _i, err);
	free(err);
}
END_TEST

/*
 * Headers refused: the message names "t.csv:LINE:" and, when a column is
 * at fault, quotes it.
 */
struct bad_header
{
	const char *doc;
	size_t      len;
	uint32_t    span_cap;
	size_t      nrequired;
	int         line;
	const char *column; /* quoted, or NULL */
};

static const struct bad_header bad_headers[] = {
	/* required columns missing */
	{ DOC("stream_id,payout_amount"), 64, 3, 1, "'node_id'" },
	{ DOC("node_id,stream_id"), 64, 3, 1, "'payout_amount'" },
	{ DOC("a,b,c"), 64, 1, 1, "'stream_id'" },
	{ DOC(","), 64, 1, 1, "'stream_id'" },
	/* the line is where the header record starts (empty lines are skipped) */
	{ DOC("\n\nnode_id,payout_amount\n"), 64, 3, 3, "'stream_id'" },
	/* a byte order mark elsewhere than first, or twice, stays in the name */
	{ DOC("node_id,\xEF\xBB\xBFstream_id,payout_amount"), 64, 3, 1, "'stream_id'" },
	{ DOC("\xEF\xBB\xBF\xEF\xBB\xBFstream_id,node_id,payout_amount"), 64, 3, 1, "'stream_id'" },
	/* names are compared byte for byte: case, spaces, NUL, prefixes, quotes */
	{ DOC("Stream_id,node_id,payout_amount"), 64, 3, 1, "'stream_id'" },
	{ DOC("stream_id ,node_id,payout_amount"), 64, 3, 1, "'stream_id'" },
	{ DOC(" stream_id,node_id,payout_amount"), 64, 3, 1, "'stream_id'" },
	{ DOC("stream_id\0,node_id,payout_amount"), 64, 3, 1, "'stream_id'" },
	{ DOC("stream_id_x,stream,node_id,payout_amount"), 64, 3, 1, "'stream_id'" },
	{ DOC("stream_id,\"node\"\"_id\",payout_amount"), 64, 3, 1, "'node_id'" },
	{ DOC("\"stream_id,node_id\",payout_amount"), 64, 3, 1, "'stream_id'" },
	/* a wanted column twice, required or optional */
	{ DOC("stream_id,node_id,payout_amount,node_id"), 64, 3, 1, "'node_id'" },
	{ DOC("node_id,stream_id,payout_amount,payout_amount"), 64, 2, 1, "'payout_amount'" },
	{ DOC("stream_id,stream_id"), 64, 0, 1, "'stream_id'" },
	/* malformed quotes */
	{ DOC("stream_id,no\"de_id,payout_amount"), 64, 3, 1, NULL },
	{ DOC("\"stream_id\"x,node_id,payout_amount"), 64, 3, 1, NULL },
	/* more fields than the scanner keeps spans for, even with the names early */
	{ DOC("stream_id,node_id,payout_amount,a,b"), 4, 3, 1, NULL },
};

START_TEST(test_header_bad)
{
	const struct bad_header *c = &bad_headers[_i];
	char                    *err;
	struct header_run        h = match(c->doc, c->len, c->span_cap, c->nrequired, &err);
	char                     where[32];

	ck_assert_msg(!h.ok, "row %d '%s' accepted", _i, shown(c->doc, c->len));
	snprintf(where, sizeof(where), "t.csv:%d:", c->line);
	ck_assert_msg(strstr(err, where) != NULL, "row %d: message '%s' does not say %s", _i, err,
				  where);
	if (c->column)
		ck_assert_msg(strstr(err, c->column) != NULL, "row %d: message '%s' does not name %s", _i,
					  err, c->column);
	free(err);
}
END_TEST

/* last_col may be NULL; nnames 0 accepts any well-formed header. */
static bool
on_header_no_last(void *arg, const struct csv_record *rec)
{
	uint32_t *cols = arg;

	ck_assert(csvfield_match_header(rec, "t.csv", names, 3, 3, cols, NULL));
	ck_assert(csvfield_match_header(rec, "t.csv", names, 0, 0, cols + 3, NULL));
	return false;
}

START_TEST(test_header_no_last_col)
{
	uint32_t cols[6] = { 7, 7, 7, 7, 7, 7 };

	scan_doc(DOC("node_id,stream_id,payout_amount\n"), 64, on_header_no_last, cols);
	ck_assert_uint_eq(cols[0], 1);
	ck_assert_uint_eq(cols[1], 0);
	ck_assert_uint_eq(cols[2], 2);
	ck_assert_uint_eq(cols[3], 7); /* no names: nothing written */
}
END_TEST

/* Names far out: 64 fields, the wanted ones last, span capacity exactly 64. */
START_TEST(test_header_wide)
{
	char              doc[1024];
	size_t            n = 0;
	char             *err;
	struct header_run h;

	for (int i = 0; i < 61; i++)
		n += (size_t) snprintf(doc + n, sizeof(doc) - n, "c%d,", i);
	n += (size_t) snprintf(doc + n, sizeof(doc) - n, "payout_amount,node_id,stream_id\n");
	h = match(doc, n, 64, 3, &err);
	ck_assert_msg(h.ok, "refused: %s", err);
	ck_assert_uint_eq(h.cols[0], 63);
	ck_assert_uint_eq(h.cols[1], 62);
	ck_assert_uint_eq(h.cols[2], 61);
	ck_assert_uint_eq(h.last, 63);
	free(err);

	/* one span fewer than fields */
	h = match(doc, n, 63, 3, &err);
	ck_assert(!h.ok);
	ck_assert_msg(strstr(err, "t.csv:1:") != NULL, "message '%s'", err);
	free(err);
}
END_TEST

/* ---- csvfield_value ---- */

struct value_case
{
	const char *doc; /* one record */
	size_t      len;
	uint32_t    field;
	const char *want;
	size_t      want_len;
};

static const struct value_case value_cases[] = {
	{ DOC("abc,def"), 0, DOC("abc") },
	{ DOC("abc,def"), 1, DOC("def") },
	{ DOC("abc,"), 1, DOC("") },
	{ DOC(",abc"), 0, DOC("") },
	{ DOC(" a b ,x"), 0, DOC(" a b ") }, /* no trimming */
	{ DOC("\"\""), 0, DOC("") },
	{ DOC("\"\",x"), 0, DOC("") },
	{ DOC("\"abc\""), 0, DOC("abc") },
	{ DOC("\"a,b\",c"), 0, DOC("a,b") },
	{ DOC("\"a,b\",c"), 1, DOC("c") },
	{ DOC("\"a\"\"b\""), 0, DOC("a\"b") },
	{ DOC("\"\"\"\""), 0, DOC("\"") },
	{ DOC("\"\"\"\"\"\""), 0, DOC("\"\"") },
	{ DOC("\"\"\"a\"\"\""), 0, DOC("\"a\"") },
	{ DOC("x,\"y\"\"\",z"), 1, DOC("y\"") },
	{ DOC("x,\"y\"\"\",z"), 2, DOC("z") },
	{ DOC("\"a\nb\""), 0, DOC("a\nb") },
	{ DOC("\"a\r\nb\",x"), 0, DOC("a\r\nb") },
	{ DOC("\"\n\",x"), 0, DOC("\n") },
	{ DOC("a\0b,c"), 0, DOC("a\0b") },
	{ DOC("\"a\0\"\"\",c"), 0, DOC("a\0\"") },
	{ DOC("\xff\x80,x"), 0, DOC("\xff\x80") },
	{ DOC("x,\"\xEF\xBB\xBF\""), 1, DOC("\xEF\xBB\xBF") },
	{ DOC("a,b,c,d,e,f,g,h,i,j"), 9, DOC("j") },
};

struct value_run
{
	const struct value_case *c;
	int                      row;
	bool                     called;
};

static bool
on_value(void *arg, const struct csv_record *rec)
{
	struct value_run        *v = arg;
	const struct value_case *c = v->c;
	struct csvfield_buf      buf = { 0 };
	const char              *got;
	size_t                   len = 12345;

	v->called = true;
	require(!rec->bad_quote && c->field < rec->nspans, "row %d: record %s", v->row,
			rec->bad_quote ? "has a bad quote" : "too short");
	got = csvfield_value(&buf, rec, c->field, &len);
	require(len == c->want_len && memcmp(got, c->want, len) == 0, "row %d '%s' field %u: '%s'",
			v->row, shown(c->doc, c->len), c->field, shown(got, len));
	csvfield_buf_release(&buf);
	ck_assert_ptr_null(buf.data);
	ck_assert_uint_eq(buf.cap, 0);
	return true;
}

START_TEST(test_value_table)
{
	struct value_run v = { &value_cases[_i], _i, false };

	ck_assert_int_eq(scan_doc(v.c->doc, v.c->len, 64, on_value, &v), CSVSCAN_OK);
	ck_assert_msg(v.called, "row %d: no record", _i);
}
END_TEST

/*
 * A 200,002-byte quoted field of 100,000 quotes, then short ones: the
 * buffer grows to hold the long one, values stay right after it, and it
 * does not shrink for the next, shorter record.
 */
struct long_run
{
	struct csvfield_buf buf;
	int                 records;
};

static bool
on_long(void *arg, const struct csv_record *rec)
{
	struct long_run *r = arg;
	const char      *v;
	size_t           len;

	ck_assert(!rec->bad_quote);
	if (r->records++ == 0)
	{
		ck_assert_uint_eq(rec->nfields, 3);
		v = csvfield_value(&r->buf, rec, 0, &len);
		ck_assert_uint_eq(len, 100000);
		for (size_t i = 0; i < len; i++)
			require(v[i] == '"', "byte %zu of the long field is 0x%02x", i, (unsigned char) v[i]);
		ck_assert_uint_ge(r->buf.cap, 200002);
		v = csvfield_value(&r->buf, rec, 1, &len);
		ck_assert(len == 2 && memcmp(v, "a\"", 2) == 0);
		v = csvfield_value(&r->buf, rec, 2, &len);
		ck_assert(len == 5 && memcmp(v, "short", 5) == 0);
	}
	else
	{
		size_t cap = r->buf.cap;

		v = csvfield_value(&r->buf, rec, 0, &len);
		ck_assert_msg(len == 3 && memcmp(v, "x\"y", 3) == 0, "second record: '%s'", shown(v, len));
		ck_assert_uint_eq(r->buf.cap, cap);
	}
	return true;
}

START_TEST(test_value_long_field)
{
	static const char tail[] = "\",\"a\"\"\",short\n\"x\"\"y\"\n";
	size_t            n = 0;
	char             *doc = malloc(300000);
	struct long_run   r = { { 0 }, 0 };

	ck_assert_ptr_nonnull(doc);
	doc[n++] = '"';
	for (int i = 0; i < 100000; i++)
	{
		doc[n++] = '"';
		doc[n++] = '"';
	}
	memcpy(doc + n, tail, sizeof(tail) - 1);
	n += sizeof(tail) - 1;
	ck_assert_int_eq(scan_doc(doc, n, 64, on_long, &r), CSVSCAN_OK);
	ck_assert_int_eq(r.records, 2);
	csvfield_buf_release(&r.buf);
	free(doc);
}
END_TEST

/* ---- random values through an RFC 4180 encoder ---- */

#define RT_MAXF 8
#define RT_MAXV 300

struct rt_record
{
	char   value[RT_MAXF][RT_MAXV];
	size_t len[RT_MAXF];
	int    nfields;
};

struct rt_run
{
	struct rt_record   *recs;
	int                 nrecs;
	int                 seen;
	struct csvfield_buf buf; /* one for every record: grows and is reused */
	int                 quoted_specials;
};

static bool
on_rt(void *arg, const struct csv_record *rec)
{
	struct rt_run          *r = arg;
	const struct rt_record *want;

	require(r->seen < r->nrecs, "more records than written");
	want = &r->recs[r->seen];
	require(!rec->bad_quote && rec->nfields == (uint32_t) want->nfields &&
				rec->nspans == rec->nfields,
			"record %d: %u fields, want %d", r->seen, rec->nfields, want->nfields);
	for (int f = 0; f < want->nfields; f++)
	{
		size_t      len;
		const char *v = csvfield_value(&r->buf, rec, (uint32_t) f, &len);

		require(len == want->len[f] && memcmp(v, want->value[f], len) == 0,
				"record %d field %d: '%s'", r->seen, f, shown(v, len));
	}
	r->seen++;
	return true;
}

START_TEST(test_value_round_trip)
{
	static const char alphabet[] = { 'a', 'b', ',', '"', '\r', '\n', '\0', (char) 0xff, ' ' };
	uint64_t          rng = 4180;
	enum
	{
		NRECS = 3000
	};
	struct rt_run r;
	size_t        cap = (size_t) NRECS * RT_MAXF * (2 * RT_MAXV + 3) + 16;
	char         *doc = malloc(cap);
	size_t        n = 0;

	memset(&r, 0, sizeof(r));
	r.recs = calloc(NRECS, sizeof(*r.recs));
	r.nrecs = NRECS;
	ck_assert(doc && r.recs);
	for (int i = 0; i < NRECS; i++)
	{
		struct rt_record *rec = &r.recs[i];

		rec->nfields = 1 + (int) (next_random(&rng) % RT_MAXF);
		for (int f = 0; f < rec->nfields; f++)
		{
			size_t len = next_random(&rng) % 8 == 0 ? next_random(&rng) % RT_MAXV
													: next_random(&rng) % 6;
			bool   special = false;

			for (size_t k = 0; k < len; k++)
			{
				char ch = alphabet[next_random(&rng) % sizeof(alphabet)];

				rec->value[f][k] = ch;
				special |= ch == ',' || ch == '"' || ch == '\r' || ch == '\n';
			}
			rec->len[f] = len;
			if (f > 0)
				doc[n++] = ',';
			/* quote when needed, sometimes when not; a lone empty field must be */
			if (special || next_random(&rng) % 4 == 0 || (rec->nfields == 1 && len == 0))
			{
				doc[n++] = '"';
				for (size_t k = 0; k < len; k++)
				{
					doc[n++] = rec->value[f][k];
					if (rec->value[f][k] == '"')
						doc[n++] = '"';
				}
				doc[n++] = '"';
				r.quoted_specials += special;
			}
			else
			{
				memcpy(doc + n, rec->value[f], len);
				n += len;
			}
		}
		if (next_random(&rng) % 2)
			doc[n++] = '\r';
		doc[n++] = '\n';
	}
	ck_assert_int_eq(scan_doc(doc, n, RT_MAXF, on_rt, &r), CSVSCAN_OK);
	ck_assert_int_eq(r.seen, NRECS);
	ck_assert_int_gt(r.quoted_specials, 1000);
	csvfield_buf_release(&r.buf);
	free(r.recs);
	free(doc);
}
END_TEST

static Suite *
csvfield_suite(void)
{
	Suite *s = suite_create("csvfield");
	TCase *tc;

	tc = tcase_create("header");
	tcase_add_loop_test(tc, test_header_good, 0, NROWS(good_headers));
	tcase_add_loop_test(tc, test_header_bad, 0, NROWS(bad_headers));
	tcase_add_test(tc, test_header_no_last_col);
	tcase_add_test(tc, test_header_wide);
	suite_add_tcase(s, tc);

	tc = tcase_create("value");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_value_table, 0, NROWS(value_cases));
	tcase_add_test(tc, test_value_long_field);
	tcase_add_test(tc, test_value_round_trip);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(csvfield_suite());
	int      failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
