/*
 * check_adjust.c: unit tests of adjust.h, what a rerun changes.
 *
 * adjust_compute() is given previous payouts and new ledger rows built by
 * hand; every expected row (node rows, the stream totals rows with an
 * empty node id after each adjusted stream, the period row with both ids
 * empty) is worked out in the comment above its test.  A random test
 * compares it with a reference written here the plain way: the union of
 * (stream, node) keys, sorted, each looked up in both lists.
 *
 * adjust_load_previous() reads real files in a temporary directory: a
 * ledger.csv and a manifest.json whose SHA-256 of it is computed here
 * with OpenSSL's EVP_Digest (checked on the FIPS 180-2 "abc" vector), not
 * with payrun's own sha256 module.  Refusals must say why on stderr.
 *
 * Amounts are up to 2^256 - 1 base units.  The reference's arithmetic is
 * its own, on decimal strings (schoolbook addition and subtraction), so
 * it shares nothing with amount.c; amounts reach the code under test and
 * come back only through amount.h (amount_parse, amount_format,
 * amount_delta_format).
 */
#include <check.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "payrun/adjust.h"
#include "payrun/aggregate.h"
#include "payrun/ledger.h"
#include "payrun/payout.h"
#include "payrun/period.h"
#include "payrun/pools.h"

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

/* Ids given as string literals, which may hold NUL bytes. */
#define ID(lit) (lit), (sizeof(lit) - 1)

/* The bytes of s[0..len) made printable for messages: \0, \n, \xNN. */
static const char *
shown(const char *s, size_t len)
{
	static char out[2][512];
	static int  which;
	char       *o = out[which ^= 1];
	size_t      k = 0;

	for (size_t i = 0; i < len && k + 5 < sizeof(out[0]); i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c == '\0')
			k += (size_t) snprintf(o + k, sizeof(out[0]) - k, "\\0");
		else if (c == '\n')
			k += (size_t) snprintf(o + k, sizeof(out[0]) - k, "\\n");
		else if (c < 0x20 || c >= 0x7f)
			k += (size_t) snprintf(o + k, sizeof(out[0]) - k, "\\x%02x", c);
		else
			o[k++] = (char) c;
	}
	o[k] = '\0';
	return o;
}

static bool
id_is(const char *p, size_t len, const char *want, size_t want_len)
{
	return len == want_len && (len == 0 || memcmp(p, want, len) == 0);
}

/* 2^256 - 1 and its parts (exact, from Python) */
#define MAX_TEXT     "115792089237316195423570985008687907853269984665640564039457584007913129639935"
#define HALF_TEXT    "57896044618658097711785492504343953926634992332820282019728792003956564819968"
#define QUARTER_TEXT "28948022309329048855892746252171976963317496166410141009864396001978282409984"

/* ---- the reference's numbers: decimal strings ---- */

#define DEC_LEN 96 /* digits of any sum here, and the NUL */

struct dec
{
	char d[DEC_LEN]; /* no leading zeros ("0" for zero), NUL-terminated */
};

static struct dec
dec_of(const char *text)
{
	struct dec r;
	size_t     n = strlen(text);

	ck_assert_msg(n > 0 && n < DEC_LEN && strspn(text, "0123456789") == n &&
					  (text[0] != '0' || n == 1),
				  "reference: '%s' is not a canonical number", text);
	memcpy(r.d, text, n + 1);
	return r;
}

static struct dec
dec_u64(uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long) v);
	return dec_of(buf);
}

static int
dec_cmp(const struct dec *a, const struct dec *b)
{
	size_t la = strlen(a->d), lb = strlen(b->d);
	int    c;

	if (la != lb)
		return la < lb ? -1 : 1;
	c = strcmp(a->d, b->d);
	return c < 0 ? -1 : c > 0;
}

/* Drops the leading zeros of digits[0..n) into a dec. */
static struct dec
dec_trim(const char *digits, size_t n)
{
	struct dec r;
	size_t     i = 0;

	while (i + 1 < n && digits[i] == '0')
		i++;
	memcpy(r.d, digits + i, n - i);
	r.d[n - i] = '\0';
	return r;
}

/* a + b, the schoolbook way from the last digit */
static struct dec
dec_add(const struct dec *a, const struct dec *b)
{
	char   out[DEC_LEN];
	size_t la = strlen(a->d), lb = strlen(b->d);
	size_t n = (la > lb ? la : lb) + 1;
	int    carry = 0;

	ck_assert_uint_lt(n, DEC_LEN);
	for (size_t k = 0; k < n; k++)
	{
		int x = k < la ? a->d[la - 1 - k] - '0' : 0;
		int y = k < lb ? b->d[lb - 1 - k] - '0' : 0;
		int t = x + y + carry;

		out[n - 1 - k] = (char) ('0' + t % 10);
		carry = t / 10;
	}
	return dec_trim(out, n);
}

/* a - b, with b <= a */
static struct dec
dec_sub(const struct dec *a, const struct dec *b)
{
	char   out[DEC_LEN];
	size_t la = strlen(a->d), lb = strlen(b->d);
	int    borrow = 0;

	ck_assert_msg(dec_cmp(a, b) >= 0, "reference: %s - %s", a->d, b->d);
	for (size_t k = 0; k < la; k++)
	{
		int t = (a->d[la - 1 - k] - '0') - (k < lb ? b->d[lb - 1 - k] - '0' : 0) - borrow;

		borrow = t < 0;
		out[la - 1 - k] = (char) ('0' + (t + 10) % 10);
	}
	return dec_trim(out, la);
}

/* now - before as text: "-5", "5", "0" */
static const char *
dec_delta(const struct dec *now_due, const struct dec *before, char buf[DEC_LEN + 1])
{
	struct dec m = dec_cmp(now_due, before) >= 0 ? dec_sub(now_due, before)
												 : dec_sub(before, now_due);

	snprintf(buf, DEC_LEN + 1, "%s%s", dec_cmp(now_due, before) < 0 ? "-" : "", m.d);
	return buf;
}

/* ---- amounts, through their API only ---- */

static struct amount
amt(const char *text)
{
	struct amount      a;
	enum amount_status st = amount_parse(text, strlen(text), 0, &a);

	ck_assert_msg(st == AMOUNT_OK, "amount_parse('%s'): %s", text, amount_status_message(st));
	return a;
}

static struct amount
amt_u64(uint64_t v)
{
	struct amount a;

	amount_from_u64(&a, v);
	return a;
}

/* The decimal text of an amount or a delta, for comparisons and messages (a ring of 8). */
static const char *
amt_text(const struct amount *a)
{
	static char ring[8][AMOUNT_TEXT_LEN];
	static int  k;
	char       *buf = ring[k++ % 8];

	amount_format(a, buf);
	return buf;
}

static const char *
delta_text(const struct amount_delta *d)
{
	static char ring[8][AMOUNT_TEXT_LEN];
	static int  k;
	char       *buf = ring[k++ % 8];

	amount_delta_format(d, false, buf);
	return buf;
}

/* The reference checks itself on numbers whose digits are known. */
START_TEST(test_reference_self_check)
{
	struct dec half = dec_of(HALF_TEXT), quarter = dec_of(QUARTER_TEXT), max = dec_of(MAX_TEXT);
	struct dec one = dec_u64(1), x;
	char       buf[DEC_LEN + 1];

	x = dec_add(&half, &half);
	x = dec_sub(&x, &one);
	ck_assert_str_eq(x.d, MAX_TEXT);
	x = dec_add(&quarter, &quarter);
	ck_assert_str_eq(x.d, HALF_TEXT);
	x = dec_add(&max, &one);
	ck_assert_str_eq(
		x.d, "115792089237316195423570985008687907853269984665640564039457584007913129639936");
	x = dec_sub(&x, &x);
	ck_assert_str_eq(x.d, "0");
	x = dec_u64(999);
	x = dec_add(&x, &one);
	ck_assert_str_eq(x.d, "1000");
	x = dec_sub(&x, &one);
	ck_assert_str_eq(x.d, "999");
	ck_assert(dec_cmp(&half, &max) < 0 && dec_cmp(&max, &half) > 0 && dec_cmp(&x, &x) == 0);
	ck_assert(dec_cmp(&(struct dec){ "99" }, &(struct dec){ "100" }) < 0);
	ck_assert_str_eq(
		dec_delta(&one, &half, buf),
		"-57896044618658097711785492504343953926634992332820282019728792003956564819967");
	ck_assert_str_eq(dec_delta(&max, &max, buf), "0");
	x = dec_u64(0);
	ck_assert_str_eq(dec_delta(&max, &x, buf), MAX_TEXT);
}
END_TEST

/* ---- previous payouts and new rows, by hand ---- */

static void *
xmemdup(const void *p, size_t len)
{
	char *q = malloc(len ? len : 1);

	ck_assert_ptr_nonnull(q);
	if (len)
		memcpy(q, p, len);
	return q;
}

/* Appends a previous payout; the caller gives them sorted, as loading does. */
static void
prev_text(struct adjustments *adj, const char *s, size_t slen, const char *n, size_t nlen,
		  const char *payout)
{
	struct adjust_prev_row *r;

	adj->prev = realloc(adj->prev, (adj->nprev + 1) * sizeof(*adj->prev));
	ck_assert_ptr_nonnull(adj->prev);
	r = &adj->prev[adj->nprev++];
	r->stream = xmemdup(s, slen);
	r->stream_len = slen;
	r->node = xmemdup(n, nlen);
	r->node_len = nlen;
	r->payout = amt(payout);
}

static void
prev(struct adjustments *adj, const char *s, size_t slen, const char *n, size_t nlen,
	 uint64_t payout)
{
	char text[24];

	snprintf(text, sizeof(text), "%llu", (unsigned long long) payout);
	prev_text(adj, s, slen, n, nlen, text);
}

/* A new ledger of at most 16 rows; only ids and payouts matter here. */
struct new_ledger
{
	struct ledger     ledger;
	struct ledger_row rows[16];
};

static void
now_text(struct new_ledger *nl, const char *s, size_t slen, const char *n, size_t nlen,
		 const char *payout)
{
	struct ledger_row *r;

	ck_assert_uint_lt(nl->ledger.nrows, 16);
	nl->ledger.rows = nl->rows;
	r = &nl->rows[nl->ledger.nrows++];
	memset(r, 0, sizeof(*r));
	r->stream = s;
	r->stream_len = slen;
	r->node = n;
	r->node_len = nlen;
	r->base = amt(payout);
	r->payout = r->base;
}

static void
now(struct new_ledger *nl, const char *s, size_t slen, const char *n, size_t nlen, uint64_t payout)
{
	char text[24];

	snprintf(text, sizeof(text), "%llu", (unsigned long long) payout);
	now_text(nl, s, slen, n, nlen, text);
}

struct want_row
{
	const char *stream;
	size_t      stream_len;
	const char *node;
	size_t      node_len;
	int64_t     previously_paid;
	int64_t     now_due;
	int64_t     delta;
};

/* The same as text, for amounts past 64 bits; delta "-5", "5" or "0". */
struct want_text
{
	const char *stream;
	size_t      stream_len;
	const char *node;
	size_t      node_len;
	const char *previously_paid;
	const char *now_due;
	const char *delta;
};

/* A stream totals row: node id empty. */
#define TOTAL(s)   (s), (sizeof(s) - 1), "", 0
#define ROW(s, n)  (s), (sizeof(s) - 1), (n), (sizeof(n) - 1)
#define PERIOD_ROW "", 0, "", 0

/* The rows, then the period's totals (the period row's figures), as text. */
static void
assert_adjustments_text(const struct adjustments *adj, const struct want_text *want, size_t n,
						size_t nnodes, const char *previously_paid, const char *now_due,
						const char *delta)
{
	for (size_t i = 0; i < n && i < adj->nrows; i++)
	{
		const struct adjustment *a = &adj->rows[i];
		const struct want_text  *w = &want[i];
		struct amount            p = amt(w->previously_paid), d = amt(w->now_due);

		ck_assert_msg(id_is(a->stream, a->stream_len, w->stream, w->stream_len) &&
						  id_is(a->node, a->node_len, w->node, w->node_len),
					  "row %zu is '%s'/'%s', want '%s'/'%s'", i, shown(a->stream, a->stream_len),
					  shown(a->node, a->node_len), shown(w->stream, w->stream_len),
					  shown(w->node, w->node_len));
		ck_assert_msg(amount_cmp(&a->previously_paid, &p) == 0 &&
						  amount_cmp(&a->now_due, &d) == 0 &&
						  strcmp(delta_text(&a->delta), w->delta) == 0,
					  "row %zu ('%s'/'%s'): %s -> %s (%s), want %s -> %s (%s)", i,
					  shown(a->stream, a->stream_len), shown(a->node, a->node_len),
					  amt_text(&a->previously_paid), amt_text(&a->now_due), delta_text(&a->delta),
					  w->previously_paid, w->now_due, w->delta);
		/* the sign is the flag; zero is never negative */
		ck_assert_msg(a->delta.negative == (w->delta[0] == '-') &&
						  strcmp(amt_text(&a->delta.magnitude), w->delta + (w->delta[0] == '-')) ==
							  0,
					  "row %zu: delta magnitude %s negative %d, want %s", i,
					  amt_text(&a->delta.magnitude), a->delta.negative, w->delta);
	}
	ck_assert_uint_eq(adj->nrows, n);
	ck_assert_uint_eq(adj->nnodes, nnodes);
	ck_assert_str_eq(amt_text(&adj->previously_paid), previously_paid);
	ck_assert_str_eq(amt_text(&adj->now_due), now_due);
	ck_assert_str_eq(delta_text(&adj->delta), delta);
	ck_assert(adj->delta.negative == (delta[0] == '-'));
}

static void
assert_adjustments(const struct adjustments *adj, const struct want_row *want, size_t n,
				   size_t nnodes, int64_t previously_paid, int64_t now_due)
{
	struct want_text rows[16];
	char             text[16][3][24], totals[3][24];

	ck_assert_uint_le(n, 16);
	for (size_t i = 0; i < n; i++)
	{
		rows[i] = (struct want_text){ want[i].stream,   want[i].stream_len, want[i].node,
									  want[i].node_len, text[i][0],         text[i][1],
									  text[i][2] };
		snprintf(text[i][0], 24, "%lld", (long long) want[i].previously_paid);
		snprintf(text[i][1], 24, "%lld", (long long) want[i].now_due);
		snprintf(text[i][2], 24, "%lld", (long long) want[i].delta);
	}
	snprintf(totals[0], 24, "%lld", (long long) previously_paid);
	snprintf(totals[1], 24, "%lld", (long long) now_due);
	snprintf(totals[2], 24, "%lld", (long long) (now_due - previously_paid));
	assert_adjustments_text(adj, rows, n, nnodes, totals[0], totals[1], totals[2]);
}

/* stderr, captured: what a refusal said. */
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

/* ---- adjust_compute, by hand ---- */

/*
 * Previous: s1/a 100, s1/b 50, s1/c 30, s2/x 10.
 * New:      s1/a 100, s1/b 60, s1/d 5, s2/x 10.
 *   s1/a unchanged: no row.  s1/b changed 50 -> 60 (+10).  s1/c
 *   disappeared 30 -> 0 (-30).  s1/d appeared 0 -> 5 (+5).
 *   s1's totals over all its nodes: 180 -> 165 (-15).
 *   s2 unchanged: no rows at all.
 *   The period: 190 -> 175 (-15); 3 node rows, 5 rows.
 */
static const struct want_row want_changed[] = {
	{ ROW("s1", "b"), 50, 60, 10 }, /* changed */
	{ ROW("s1", "c"), 30, 0, -30 }, /* disappeared */
	{ ROW("s1", "d"), 0, 5, 5 },    /* appeared */
	{ TOTAL("s1"), 180, 165, -15 }, /* all of s1's nodes */
	{ PERIOD_ROW, 190, 175, -15 },  /* the period */
};

START_TEST(test_changed_appeared_disappeared)
{
	struct adjustments adj;
	struct new_ledger  nl;

	memset(&adj, 0, sizeof(adj));
	memset(&nl, 0, sizeof(nl));
	prev(&adj, ID("s1"), ID("a"), 100);
	prev(&adj, ID("s1"), ID("b"), 50);
	prev(&adj, ID("s1"), ID("c"), 30);
	prev(&adj, ID("s2"), ID("x"), 10);
	now(&nl, ID("s1"), ID("a"), 100);
	now(&nl, ID("s1"), ID("b"), 60);
	now(&nl, ID("s1"), ID("d"), 5);
	now(&nl, ID("s2"), ID("x"), 10);
	ck_assert(adjust_compute(&adj, &nl.ledger));
	assert_adjustments(&adj, want_changed, NROWS(want_changed), 3, 190, 175);
	adjust_release(&adj);
}
END_TEST

/* Nothing changed: no rows, but the period's totals are still summed (190 both). */
START_TEST(test_nothing_changed)
{
	struct adjustments adj;
	struct new_ledger  nl;

	memset(&adj, 0, sizeof(adj));
	memset(&nl, 0, sizeof(nl));
	prev(&adj, ID("s1"), ID("a"), 100);
	prev(&adj, ID("s1"), ID("b"), 80);
	prev(&adj, ID("s2"), ID("x"), 10);
	now(&nl, ID("s1"), ID("a"), 100);
	now(&nl, ID("s1"), ID("b"), 80);
	now(&nl, ID("s2"), ID("x"), 10);
	ck_assert(adjust_compute(&adj, &nl.ledger));
	assert_adjustments(&adj, NULL, 0, 0, 190, 190);
	adjust_release(&adj);

	/* both empty */
	memset(&adj, 0, sizeof(adj));
	memset(&nl, 0, sizeof(nl));
	ck_assert(adjust_compute(&adj, &nl.ledger));
	assert_adjustments(&adj, NULL, 0, 0, 0, 0);
	adjust_release(&adj);
}
END_TEST

/*
 * Several streams, one unchanged, one gone, one new.
 * Previous: a/n1 10, a/n2 20, b/n1 5, c/n1 7, gone/z 3.
 * New:      a/n1 11, a/n2 20, b/n1 5, c/n1 0, c/n2 4, new/y 8.
 *   a/n1 10 -> 11 (+1); a's totals 30 -> 31 (+1).
 *   b: unchanged, no rows.
 *   c/n1 7 -> 0 (-7, still listed with 0); c/n2 0 -> 4 (+4); c 7 -> 4 (-3).
 *   gone/z 3 -> 0 (-3); gone 3 -> 0.
 *   new/y 0 -> 8 (+8); new 0 -> 8.
 *   The period: 45 -> 48 (+3) = 1 - 7 + 4 - 3 + 8; 5 node rows, 10 rows.
 */
static const struct want_row want_several[] = {
	{ ROW("a", "n1"), 10, 11, 1 },  /* changed */
	{ TOTAL("a"), 30, 31, 1 },      /* a */
	{ ROW("c", "n1"), 7, 0, -7 },   /* changed to 0 */
	{ ROW("c", "n2"), 0, 4, 4 },    /* appeared */
	{ TOTAL("c"), 7, 4, -3 },       /* c */
	{ ROW("gone", "z"), 3, 0, -3 }, /* disappeared */
	{ TOTAL("gone"), 3, 0, -3 },    /* gone */
	{ ROW("new", "y"), 0, 8, 8 },   /* appeared */
	{ TOTAL("new"), 0, 8, 8 },      /* new */
	{ PERIOD_ROW, 45, 48, 3 },      /* the period */
};

START_TEST(test_several_streams)
{
	struct adjustments adj;
	struct new_ledger  nl;

	memset(&adj, 0, sizeof(adj));
	memset(&nl, 0, sizeof(nl));
	prev(&adj, ID("a"), ID("n1"), 10);
	prev(&adj, ID("a"), ID("n2"), 20);
	prev(&adj, ID("b"), ID("n1"), 5);
	prev(&adj, ID("c"), ID("n1"), 7);
	prev(&adj, ID("gone"), ID("z"), 3);
	now(&nl, ID("a"), ID("n1"), 11);
	now(&nl, ID("a"), ID("n2"), 20);
	now(&nl, ID("b"), ID("n1"), 5);
	now(&nl, ID("c"), ID("n1"), 0);
	now(&nl, ID("c"), ID("n2"), 4);
	now(&nl, ID("new"), ID("y"), 8);
	ck_assert(adjust_compute(&adj, &nl.ledger));
	assert_adjustments(&adj, want_several, NROWS(want_several), 5, 45, 48);
	adjust_release(&adj);
}
END_TEST

/*
 * Appearing and disappearing are adjustments even at 0: s/a 0 gone, s/b
 * 0 new.  Rows s/a 0 -> 0, s/b 0 -> 0, s 0 -> 0, the period 0 -> 0.
 */
static const struct want_row want_zero[] = {
	{ ROW("s", "a"), 0, 0, 0 }, /* disappeared */
	{ ROW("s", "b"), 0, 0, 0 }, /* appeared */
	{ TOTAL("s"), 0, 0, 0 },    /* s */
	{ PERIOD_ROW, 0, 0, 0 },    /* the period */
};

START_TEST(test_zero_payouts)
{
	struct adjustments adj;
	struct new_ledger  nl;

	memset(&adj, 0, sizeof(adj));
	memset(&nl, 0, sizeof(nl));
	prev(&adj, ID("s"), ID("a"), 0);
	now(&nl, ID("s"), ID("b"), 0);
	ck_assert(adjust_compute(&adj, &nl.ledger));
	assert_adjustments(&adj, want_zero, NROWS(want_zero), 2, 0, 0);
	adjust_release(&adj);
}
END_TEST

/*
 * Keys in byte order, NUL a byte like any other: "a" < "a\0" as streams,
 * "n" < "n\0" as nodes; the same concatenated bytes are different keys.
 * Previous: a/n\0 4, a\0/n 5.  New: a/n 4, a/n\0 4, a\0/n 5, ab/x 1.
 *   a/n appeared 0 -> 4; a/n\0 unchanged; a's totals 4 -> 8.
 *   a\0/n unchanged: no rows for a\0.
 *   ab/x appeared 0 -> 1; ab 0 -> 1.
 *   The period 9 -> 14.
 */
static const struct want_row want_byte_order[] = {
	{ ROW("a", "n"), 0, 4, 4 },  /* appeared */
	{ TOTAL("a"), 4, 8, 4 },     /* a */
	{ ROW("ab", "x"), 0, 1, 1 }, /* appeared */
	{ TOTAL("ab"), 0, 1, 1 },    /* ab */
	{ PERIOD_ROW, 9, 14, 5 },    /* the period */
};

START_TEST(test_byte_order_keys)
{
	struct adjustments adj;
	struct new_ledger  nl;

	memset(&adj, 0, sizeof(adj));
	memset(&nl, 0, sizeof(nl));
	prev(&adj, ID("a"), ID("n\0"), 4);
	prev(&adj, ID("a\0"), ID("n"), 5);
	now(&nl, ID("a"), ID("n"), 4);
	now(&nl, ID("a"), ID("n\0"), 4);
	now(&nl, ID("a\0"), ID("n"), 5);
	now(&nl, ID("ab"), ID("x"), 1);
	ck_assert(adjust_compute(&adj, &nl.ledger));
	assert_adjustments(&adj, want_byte_order, NROWS(want_byte_order), 2, 9, 14);
	adjust_release(&adj);
}
END_TEST

/*
 * A first run compared with nothing: every node appeared.
 * New: s/a 5, s/b 0, t/c 7: rows s/a 0 -> 5, s/b 0 -> 0, s 0 -> 5,
 * t/c 0 -> 7, t 0 -> 7, the period 0 -> 12.
 */
static const struct want_row want_all_new[] = {
	{ ROW("s", "a"), 0, 5, 5 }, /* appeared */
	{ ROW("s", "b"), 0, 0, 0 }, /* appeared, at 0 */
	{ TOTAL("s"), 0, 5, 5 },    /* s */
	{ ROW("t", "c"), 0, 7, 7 }, /* appeared */
	{ TOTAL("t"), 0, 7, 7 },    /* t */
	{ PERIOD_ROW, 0, 12, 12 },  /* the period */
};

START_TEST(test_all_new)
{
	struct adjustments adj;
	struct new_ledger  nl;

	memset(&adj, 0, sizeof(adj));
	memset(&nl, 0, sizeof(nl));
	now(&nl, ID("s"), ID("a"), 5);
	now(&nl, ID("s"), ID("b"), 0);
	now(&nl, ID("t"), ID("c"), 7);
	ck_assert(adjust_compute(&adj, &nl.ledger));
	assert_adjustments(&adj, want_all_new, NROWS(want_all_new), 3, 0, 12);
	adjust_release(&adj);
}
END_TEST

/*
 * Totals past 2^256 - 1 on either side are refused; exactly 2^256 - 1 is
 * fine, and so is a delta of -(2^256 - 1).
 */
START_TEST(test_overflow)
{
	struct adjustments adj;
	struct new_ledger  nl;
	struct capture     cap;
	char              *err;

	/* previous: (2^256 - 1) + 1 */
	memset(&adj, 0, sizeof(adj));
	memset(&nl, 0, sizeof(nl));
	prev_text(&adj, ID("s"), ID("a"), MAX_TEXT);
	prev(&adj, ID("s"), ID("b"), 1);
	now(&nl, ID("s"), ID("a"), 0);
	capture_begin(&cap);
	ck_assert(!adjust_compute(&adj, &nl.ledger));
	err = capture_end(&cap);
	ck_assert_msg(strstr(err, "2^256 - 1") != NULL, "message '%s'", err);
	free(err);
	adjust_release(&adj);

	/* new: 2^255 + 2^255 = 2^256, across two streams */
	memset(&adj, 0, sizeof(adj));
	memset(&nl, 0, sizeof(nl));
	now_text(&nl, ID("s"), ID("a"), HALF_TEXT);
	now_text(&nl, ID("t"), ID("a"), HALF_TEXT);
	capture_begin(&cap);
	ck_assert(!adjust_compute(&adj, &nl.ledger));
	err = capture_end(&cap);
	ck_assert_msg(strstr(err, "2^256 - 1") != NULL, "message '%s'", err);
	free(err);
	adjust_release(&adj);

	/*
	 * Previous s/a 2^256 - 2, s/b 1; new s/a 2^256 - 1, s/b 0: rows
	 * s/a +1, s/b -1, s 0, the period (2^256 - 1) -> (2^256 - 1).
	 */
	{
		static const struct want_text want[] = {
			{ ROW("s", "a"),
			  "115792089237316195423570985008687907853269984665640564039457584007913129639934",
			  MAX_TEXT, "1" },
			{ ROW("s", "b"), "1", "0", "-1" },
			{ TOTAL("s"), MAX_TEXT, MAX_TEXT, "0" },
			{ PERIOD_ROW, MAX_TEXT, MAX_TEXT, "0" },
		};

		memset(&adj, 0, sizeof(adj));
		memset(&nl, 0, sizeof(nl));
		prev_text(&adj, ID("s"), ID("a"),
				  "115792089237316195423570985008687907853269984665640564039457584007913129639934");
		prev(&adj, ID("s"), ID("b"), 1);
		now_text(&nl, ID("s"), ID("a"), MAX_TEXT);
		now(&nl, ID("s"), ID("b"), 0);
		ck_assert(adjust_compute(&adj, &nl.ledger));
		assert_adjustments_text(&adj, want, NROWS(want), 2, MAX_TEXT, MAX_TEXT, "0");
		adjust_release(&adj);
	}
	/* all of 2^256 - 1 gone, then all of it new */
	{
		static const struct want_text want[] = {
			{ ROW("s", "a"), MAX_TEXT, "0", "-" MAX_TEXT },
			{ TOTAL("s"), MAX_TEXT, "0", "-" MAX_TEXT },
			{ PERIOD_ROW, MAX_TEXT, "0", "-" MAX_TEXT },
		};
		static const struct want_text want_new[] = {
			{ ROW("s", "a"), "0", MAX_TEXT, MAX_TEXT },
			{ TOTAL("s"), "0", MAX_TEXT, MAX_TEXT },
			{ PERIOD_ROW, "0", MAX_TEXT, MAX_TEXT },
		};

		memset(&adj, 0, sizeof(adj));
		memset(&nl, 0, sizeof(nl));
		prev_text(&adj, ID("s"), ID("a"), MAX_TEXT);
		ck_assert(adjust_compute(&adj, &nl.ledger));
		assert_adjustments_text(&adj, want, NROWS(want), 1, MAX_TEXT, "0", "-" MAX_TEXT);
		adjust_release(&adj);

		memset(&adj, 0, sizeof(adj));
		memset(&nl, 0, sizeof(nl));
		now_text(&nl, ID("s"), ID("a"), MAX_TEXT);
		ck_assert(adjust_compute(&adj, &nl.ledger));
		assert_adjustments_text(&adj, want_new, NROWS(want_new), 1, "0", MAX_TEXT, MAX_TEXT);
		adjust_release(&adj);
	}
}
END_TEST

/*
 * Deltas negative, positive and zero at 2^256 scale, q = 2^254, h = 2^255;
 * both sides total exactly 2^256 - 1.
 * Previous: s/a h, s/b q, s/c 5, t/x q - 6.
 * New:      s/a 0, s/b q, s/c h + 5, s/d q - 6, u/y 0.
 *   s/a h -> 0 (-h); s/b unchanged: no row; s/c 5 -> h + 5 (+h);
 *   s/d appeared 0 -> q - 6; s's totals h + q + 5 -> 2^256 - 1 (+(q - 6)).
 *   t/x disappeared q - 6 -> 0; t the same.
 *   u/y appeared at 0: 0 -> 0 (delta 0), and u 0 -> 0.
 *   The period: 2^256 - 1 -> 2^256 - 1, delta 0; 5 node rows, 9 rows.
 */
#define Q_6  "28948022309329048855892746252171976963317496166410141009864396001978282409978"
#define H_5  "57896044618658097711785492504343953926634992332820282019728792003956564819973"
#define HQ_5 "86844066927987146567678238756515930889952488499230423029593188005934847229957"

static const struct want_text want_uint256[] = {
	{ ROW("s", "a"), HALF_TEXT, "0", "-" HALF_TEXT }, /* changed to 0 */
	{ ROW("s", "c"), "5", H_5, HALF_TEXT },           /* changed */
	{ ROW("s", "d"), "0", Q_6, Q_6 },                 /* appeared */
	{ TOTAL("s"), HQ_5, MAX_TEXT, Q_6 },              /* s */
	{ ROW("t", "x"), Q_6, "0", "-" Q_6 },             /* disappeared */
	{ TOTAL("t"), Q_6, "0", "-" Q_6 },                /* t */
	{ ROW("u", "y"), "0", "0", "0" },                 /* appeared at 0 */
	{ TOTAL("u"), "0", "0", "0" },                    /* u */
	{ PERIOD_ROW, MAX_TEXT, MAX_TEXT, "0" },          /* the period */
};

START_TEST(test_uint256_deltas)
{
	struct adjustments adj;
	struct new_ledger  nl;

	memset(&adj, 0, sizeof(adj));
	memset(&nl, 0, sizeof(nl));
	prev_text(&adj, ID("s"), ID("a"), HALF_TEXT);
	prev_text(&adj, ID("s"), ID("b"), QUARTER_TEXT);
	prev(&adj, ID("s"), ID("c"), 5);
	prev_text(&adj, ID("t"), ID("x"), Q_6);
	now(&nl, ID("s"), ID("a"), 0);
	now_text(&nl, ID("s"), ID("b"), QUARTER_TEXT);
	now_text(&nl, ID("s"), ID("c"), H_5);
	now_text(&nl, ID("s"), ID("d"), Q_6);
	now(&nl, ID("u"), ID("y"), 0);
	ck_assert(adjust_compute(&adj, &nl.ledger));
	assert_adjustments_text(&adj, want_uint256, NROWS(want_uint256), 5, MAX_TEXT, MAX_TEXT, "0");
	adjust_release(&adj);
}
END_TEST

/*
 * Totals rows past 64 bits: stream s of 40 nodes n00..n39, each 2^63 + i
 * before and 2^64 + i after (+2^63 each).
 *   s before: 40 * 2^63 + 780 = 368934881474191033100
 *   s after:  40 * 2^64 + 780 = 737869762948382065420
 *   delta +40 * 2^63 = 368934881474191032320
 * The reference sums the same rows on its own; the period row equals s's.
 */
START_TEST(test_totals_rows_past_64_bits)
{
	struct adjustments adj;
	struct new_ledger  nl;
	struct ledger_row  rows[40];
	char               ids[40][4];
	struct dec         sp = dec_u64(0), sd = dec_u64(0);
	char               buf[DEC_LEN + 1];

	memset(&adj, 0, sizeof(adj));
	memset(&nl, 0, sizeof(nl));
	memset(rows, 0, sizeof(rows));
	for (int i = 0; i < 40; i++)
	{
		struct dec p = dec_u64((UINT64_C(1) << 63) + (uint64_t) i),
				   two63 = dec_u64(UINT64_C(1) << 63);
		struct dec d = dec_add(&p, &two63);

		snprintf(ids[i], sizeof(ids[i]), "n%02d", i);
		prev_text(&adj, ID("s"), ids[i], 3, p.d);
		rows[i].stream = "s";
		rows[i].stream_len = 1;
		rows[i].node = ids[i];
		rows[i].node_len = 3;
		rows[i].payout = amt(d.d);
		sp = dec_add(&sp, &p);
		sd = dec_add(&sd, &d);
	}
	nl.ledger.rows = rows;
	nl.ledger.nrows = 40;
	ck_assert(adjust_compute(&adj, &nl.ledger));
	ck_assert_uint_eq(adj.nrows, 42);
	ck_assert_uint_eq(adj.nnodes, 40);
	ck_assert_str_eq(sp.d, "368934881474191033100");
	ck_assert_str_eq(sd.d, "737869762948382065420");
	for (int r = 40; r < 42; r++)
	{
		const struct adjustment *a = &adj.rows[r];

		ck_assert(id_is(a->stream, a->stream_len, r == 40 ? "s" : "", r == 40 ? 1 : 0) &&
				  id_is(a->node, a->node_len, "", 0));
		ck_assert_str_eq(amt_text(&a->previously_paid), sp.d);
		ck_assert_str_eq(amt_text(&a->now_due), sd.d);
		ck_assert_str_eq(delta_text(&a->delta), "368934881474191032320");
		ck_assert_str_eq(delta_text(&a->delta), dec_delta(&sd, &sp, buf));
	}
	ck_assert_str_eq(delta_text(&adj.rows[7].delta), "9223372036854775808");
	ck_assert_str_eq(amt_text(&adj.rows[7].now_due), "18446744073709551623");
	adjust_release(&adj);
}
END_TEST

/* ---- adjust_compute against a reference ---- */

static uint64_t
next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Byte order, a prefix first; a byte loop independent of memcmp. */
static int
ref_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	for (size_t i = 0; i < alen && i < blen; i++)
		if (a[i] != b[i])
			return (unsigned char) a[i] < (unsigned char) b[i] ? -1 : 1;
	return alen == blen ? 0 : (alen < blen ? -1 : 1);
}

struct key
{
	char       s[2];
	size_t     slen;
	char       n[2];
	size_t     nlen;
	struct dec payout;
};

static int
key_cmp(const void *x, const void *y)
{
	const struct key *a = x;
	const struct key *b = y;
	int               c = ref_cmp(a->s, a->slen, b->s, b->slen);

	return c ? c : ref_cmp(a->n, a->nlen, b->n, b->nlen);
}

static void
random_key(uint64_t *rng, struct key *k)
{
	static const char alphabet[] = { 'a', 'b', '\0', (char) 0x80 };

	memset(k, 0, sizeof(*k));
	k->slen = 1 + (size_t) (next_random(rng) % 2);
	k->nlen = 1 + (size_t) (next_random(rng) % 2);
	for (size_t i = 0; i < k->slen; i++)
		k->s[i] = alphabet[next_random(rng) % sizeof(alphabet)];
	for (size_t i = 0; i < k->nlen; i++)
		k->n[i] = alphabet[next_random(rng) % sizeof(alphabet)];
}

static const struct key *
find(const struct key *list, size_t n, const struct key *k)
{
	for (size_t i = 0; i < n; i++)
		if (key_cmp(&list[i], k) == 0)
			return &list[i];
	return NULL;
}

/* Adds k to a list unless its key is there. */
static bool
add_key(struct key *list, size_t *n, size_t max, const struct key *k)
{
	if (*n == max || find(list, *n, k))
		return false;
	list[(*n)++] = *k;
	return true;
}

struct ref_row
{
	struct key k;    /* payout unused; slen 0 / nlen 0 for totals rows */
	struct dec p, d; /* previously paid, now due */
};

/*
 * A payout: small, or (huge) of `digits` random digits, at most 2^256 - 1:
 * the iteration picks one length, so its sums pass 2^256 - 1 at 77 and 78
 * digits and stay below it at fewer.
 */
static struct dec
random_payout(uint64_t *rng, size_t digits)
{
	static const struct dec max = { MAX_TEXT };
	char                    buf[DEC_LEN];
	struct dec              r;

	if (digits == 0)
		return dec_u64(next_random(rng) % 50);
	do
	{
		for (size_t i = 0; i < digits; i++)
			buf[i] = (char) ('0' + next_random(rng) % 10);
		r = dec_trim(buf, digits);
	} while (dec_cmp(&r, &max) > 0);
	return r;
}

START_TEST(test_random_vs_reference)
{
	enum
	{
		ITERS = 5000,
		MAXK = 40
	};
	static const struct dec max = { MAX_TEXT };
	uint64_t                rng = 7;
	int                     n_rows = 0, n_empty = 0, n_overflow = 0, n_unchanged = 0;
	int                     n_huge_ok = 0, n_negative = 0;

	for (int iter = 0; iter < ITERS; iter++)
	{
		struct key         pk[MAXK], nk[MAXK], uni[2 * MAXK];
		size_t             np = 0, nn = 0, nu = 0;
		struct ref_row     want[4 * MAXK];
		size_t             nw = 0, wnodes = 0;
		bool               huge = next_random(&rng) % 10 == 0;
		bool               same = next_random(&rng) % 10 == 0; /* a rerun that changes nothing */
		size_t             digits = 0;
		struct adjustments adj;
		struct ledger      ledger;
		struct ledger_row  rows[MAXK];
		struct dec         tp = dec_u64(0), td = dec_u64(0);
		bool               ok, overflow;
		struct capture     cap;
		char               buf[DEC_LEN + 1];

		if (huge)
			digits = next_random(&rng) % 3 ? 20 + (size_t) (next_random(&rng) % 57)
										   : 77 + (size_t) (next_random(&rng) % 2);
		/* previous payouts, then new ones: kept, changed, dropped, added */
		for (int i = 0, m = (int) (next_random(&rng) % MAXK); i < m; i++)
		{
			struct key k;

			random_key(&rng, &k);
			k.payout = random_payout(&rng, digits);
			add_key(pk, &np, MAXK, &k);
		}
		for (size_t i = 0; i < np; i++)
		{
			struct key k = pk[i];

			switch (same ? 3 : next_random(&rng) % 4)
			{
				case 0:
					continue; /* disappears */
				case 1:
					k.payout = random_payout(&rng, digits);
					break;
				default:
					break; /* same payout */
			}
			add_key(nk, &nn, MAXK, &k);
		}
		for (int i = 0, m = same ? 0 : (int) (next_random(&rng) % 8); i < m; i++)
		{
			struct key k;

			random_key(&rng, &k);
			k.payout = random_payout(&rng, 0);
			add_key(nk, &nn, MAXK, &k);
		}
		qsort(pk, np, sizeof(pk[0]), key_cmp);
		qsort(nk, nn, sizeof(nk[0]), key_cmp);

		/* the reference: every key of either side, in order, looked up in both */
		for (size_t i = 0; i < np; i++)
			add_key(uni, &nu, 2 * MAXK, &pk[i]);
		for (size_t i = 0; i < nn; i++)
			add_key(uni, &nu, 2 * MAXK, &nk[i]);
		qsort(uni, nu, sizeof(uni[0]), key_cmp);
		for (size_t i = 0; i < nu;)
		{
			size_t     j = i, adjusted = 0;
			struct dec sp = dec_u64(0), sd = dec_u64(0);

			while (j < nu && ref_cmp(uni[j].s, uni[j].slen, uni[i].s, uni[i].slen) == 0)
			{
				const struct key *p = find(pk, np, &uni[j]);
				const struct key *d = find(nk, nn, &uni[j]);
				struct dec        pv = p ? p->payout : dec_u64(0);
				struct dec        dv = d ? d->payout : dec_u64(0);

				tp = dec_add(&tp, &pv);
				td = dec_add(&td, &dv);
				sp = dec_add(&sp, &pv);
				sd = dec_add(&sd, &dv);
				if (p && d && dec_cmp(&pv, &dv) == 0)
					n_unchanged++;
				else
				{
					want[nw].k = uni[j];
					want[nw].p = pv;
					want[nw++].d = dv;
					adjusted++;
				}
				j++;
			}
			if (adjusted)
			{
				memset(&want[nw].k, 0, sizeof(want[nw].k));
				memcpy(want[nw].k.s, uni[i].s, uni[i].slen);
				want[nw].k.slen = uni[i].slen;
				want[nw].p = sp;
				want[nw++].d = sd;
			}
			wnodes += adjusted;
			i = j;
		}
		if (wnodes)
		{
			memset(&want[nw], 0, sizeof(want[nw]));
			want[nw].p = tp;
			want[nw++].d = td;
		}
		/* all payouts are non-negative: a side's total passes 2^256 - 1 iff a prefix does */
		overflow = dec_cmp(&tp, &max) > 0 || dec_cmp(&td, &max) > 0;

		/* the code under test */
		memset(&adj, 0, sizeof(adj));
		for (size_t i = 0; i < np; i++)
			prev_text(&adj, pk[i].s, pk[i].slen, pk[i].n, pk[i].nlen, pk[i].payout.d);
		memset(&ledger, 0, sizeof(ledger));
		memset(rows, 0, sizeof(rows));
		for (size_t i = 0; i < nn; i++)
		{
			rows[i].stream = nk[i].s;
			rows[i].stream_len = nk[i].slen;
			rows[i].node = nk[i].n;
			rows[i].node_len = nk[i].nlen;
			rows[i].payout = amt(nk[i].payout.d);
		}
		ledger.rows = rows;
		ledger.nrows = nn;
		capture_begin(&cap); /* overflows are logged */
		ok = adjust_compute(&adj, &ledger);
		free(capture_end(&cap));

		if (overflow)
		{
			require(!ok, "iteration %d: totals past 2^256 - 1 accepted", iter);
			n_overflow++;
			adjust_release(&adj);
			continue;
		}
		require(ok, "iteration %d: refused", iter);
		require(adj.nrows == nw && adj.nnodes == wnodes,
				"iteration %d: %zu rows %zu nodes, want %zu %zu", iter, adj.nrows, adj.nnodes, nw,
				wnodes);
		for (size_t i = 0; i < nw; i++)
		{
			const struct adjustment *a = &adj.rows[i];
			const char              *wd = dec_delta(&want[i].d, &want[i].p, buf);

			require(id_is(a->stream, a->stream_len, want[i].k.s, want[i].k.slen) &&
						id_is(a->node, a->node_len, want[i].k.n, want[i].k.nlen),
					"iteration %d row %zu: '%s'/'%s', want '%s'/'%s'", iter, i,
					shown(a->stream, a->stream_len), shown(a->node, a->node_len),
					shown(want[i].k.s, want[i].k.slen), shown(want[i].k.n, want[i].k.nlen));
			require(strcmp(amt_text(&a->previously_paid), want[i].p.d) == 0 &&
						strcmp(amt_text(&a->now_due), want[i].d.d) == 0 &&
						strcmp(delta_text(&a->delta), wd) == 0 &&
						a->delta.negative == (wd[0] == '-'),
					"iteration %d row %zu: %s -> %s (%s), want %s -> %s (%s)", iter, i,
					amt_text(&a->previously_paid), amt_text(&a->now_due), delta_text(&a->delta),
					want[i].p.d, want[i].d.d, wd);
			n_negative += a->delta.negative;
		}
		require(strcmp(amt_text(&adj.previously_paid), tp.d) == 0 &&
					strcmp(amt_text(&adj.now_due), td.d) == 0 &&
					strcmp(delta_text(&adj.delta), dec_delta(&td, &tp, buf)) == 0,
				"iteration %d: period totals %s -> %s (%s), want %s -> %s", iter,
				amt_text(&adj.previously_paid), amt_text(&adj.now_due), delta_text(&adj.delta),
				tp.d, td.d);
		n_rows += nw > 0;
		n_empty += nw == 0;
		n_huge_ok += digits >= 20;
		adjust_release(&adj);
	}
	ck_assert_int_gt(n_rows, 3000);
	ck_assert_int_gt(n_empty, 50);
	ck_assert_int_gt(n_overflow, 50);
	ck_assert_int_gt(n_unchanged, 10000);
	ck_assert_int_gt(n_huge_ok, 200);
	ck_assert_int_gt(n_negative, 1000);
}
END_TEST

/* ---- adjust_load_previous, from real files ---- */

/* The SHA-256 of data as lowercase hex, by OpenSSL directly. */
static void
sha256_hex(const void *data, size_t len, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int  mdlen = 0;

	ck_assert(EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) == 1);
	ck_assert_uint_eq(mdlen, 32);
	for (unsigned i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

START_TEST(test_sha256_helper)
{
	char hex[65];

	/* FIPS 180-2, appendix B.1 */
	sha256_hex("abc", 3, hex);
	ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sha256_hex("", 0, hex);
	ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}
END_TEST

struct tmpdir
{
	char path[256];
};

static void
tmpdir_make(struct tmpdir *t)
{
	const char *base = getenv("TMPDIR");

	snprintf(t->path, sizeof(t->path), "%s/check_adjust.XXXXXX", base && *base ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(t->path));
}

static void
tmpdir_write(const struct tmpdir *t, const char *name, const char *data, size_t len)
{
	char  path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", t->path, name);
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

static void
tmpdir_remove(const struct tmpdir *t)
{
	static const char *const names[] = { "ledger.csv", "manifest.json" };
	char                     path[512];

	for (size_t i = 0; i < 2; i++)
	{
		snprintf(path, sizeof(path), "%s/%s", t->path, names[i]);
		unlink(path);
	}
	ck_assert_int_eq(rmdir(t->path), 0);
}

/* A manifest recording sha256 for ledger.csv, next to another output. */
static void
write_manifest(const struct tmpdir *t, const char *ledger_sha)
{
	char json[1024];
	int  n = snprintf(json, sizeof(json),
					  "{\"period\": {\"label\": \"2026-11-01\"}, \"version\": 1,\n"
					   " \"outputs\": [\n"
					   "  {\"name\": \"streams.csv\", \"bytes\": 3, \"sha256\": "
					   "\"%064d\"},\n"
					   "  {\"name\": \"ledger.csv\", \"bytes\": 0, \"sha256\": \"%s\"}\n"
					   " ]}\n",
					  0, ledger_sha);

	ck_assert(n > 0 && (size_t) n < sizeof(json));
	tmpdir_write(t, "manifest.json", json, (size_t) n);
}

/* Writes ledger.csv and a manifest that records its digest. */
static void
write_version(const struct tmpdir *t, const char *ledger, size_t len)
{
	char hex[65];

	tmpdir_write(t, "ledger.csv", ledger, len);
	sha256_hex(ledger, len, hex);
	write_manifest(t, hex);
}

/* Loads t's version; *err gets what was logged (free it). */
static bool
load(const struct tmpdir *t, struct adjustments *adj, int version, char **err)
{
	struct capture cap;
	bool           ok;

	capture_begin(&cap);
	ok = adjust_load_previous(adj, t->path, version);
	*err = capture_end(&cap);
	return ok;
}

#define HEADER                                                                                     \
	"period_start,period_end,stream_id,node_id,total_polls,successful_polls,failed_spot_checks,"   \
	"uptime_ppm,contribution_ppm,base_amount,forfeited_amount,payout_amount\n"
#define B "2026-11-01T00:00:00Z,2026-11-02T00:00:00Z,"

/*
 * A ledger as sink_files writes it, rows out of order, ids quoted where
 * they hold a comma or a quote.  Loaded sorted by (stream, node):
 * alpha/b (0x62) < alpha/"n,1" (0x6e) < alpha/"q\"uote" (0x71) < beta/x.
 */
static const char good_ledger[] = HEADER B
	"beta,x,5,0,2,0,0,0,0,0\n" B "alpha,\"q\"\"uote\",2,1,0,500000,250000,250,0,250\n" B
	"alpha,\"n,1\",4,3,1,750000,750000,750,375,375\n" B "alpha,b,0,0,0,0,0,0,0,0\n";

START_TEST(test_load_digest_match)
{
	struct tmpdir      t;
	struct adjustments adj;
	char              *err;

	tmpdir_make(&t);
	write_version(&t, good_ledger, sizeof(good_ledger) - 1);
	ck_assert_msg(load(&t, &adj, 3, &err), "refused: %s", err);
	ck_assert_int_eq(adj.previous_version, 3);
	ck_assert_uint_eq(adj.nprev, 4);
	ck_assert(id_is(adj.prev[0].stream, adj.prev[0].stream_len, ID("alpha")) &&
			  id_is(adj.prev[0].node, adj.prev[0].node_len, ID("b")) &&
			  amount_is_zero(&adj.prev[0].payout));
	ck_assert(id_is(adj.prev[1].stream, adj.prev[1].stream_len, ID("alpha")) &&
			  id_is(adj.prev[1].node, adj.prev[1].node_len, ID("n,1")) &&
			  strcmp(amt_text(&adj.prev[1].payout), "375") == 0);
	ck_assert(id_is(adj.prev[2].stream, adj.prev[2].stream_len, ID("alpha")) &&
			  id_is(adj.prev[2].node, adj.prev[2].node_len, ID("q\"uote")) &&
			  strcmp(amt_text(&adj.prev[2].payout), "250") == 0);
	ck_assert(id_is(adj.prev[3].stream, adj.prev[3].stream_len, ID("beta")) &&
			  id_is(adj.prev[3].node, adj.prev[3].node_len, ID("x")) &&
			  amount_is_zero(&adj.prev[3].payout));
	ck_assert_uint_eq(adj.nrows, 0);
	free(err);
	adjust_release(&adj);
	tmpdir_remove(&t);
}
END_TEST

/* One byte changed after the manifest was written: refused, saying so. */
START_TEST(test_load_digest_mismatch)
{
	struct tmpdir      t;
	struct adjustments adj;
	char               changed[sizeof(good_ledger)];
	char               hex[65];
	char              *err;
	char              *p;

	tmpdir_make(&t);
	write_version(&t, good_ledger, sizeof(good_ledger) - 1);
	memcpy(changed, good_ledger, sizeof(good_ledger));
	p = strstr(changed, ",375\n");
	ck_assert_ptr_nonnull(p);
	p[3] = '6'; /* 375 -> 376 */
	tmpdir_write(&t, "ledger.csv", changed, sizeof(changed) - 1);
	ck_assert(!load(&t, &adj, 1, &err));
	sha256_hex(changed, sizeof(changed) - 1, hex);
	ck_assert_msg(strstr(err, "does not match") != NULL && strstr(err, hex) != NULL,
				  "message '%s' does not give the mismatch and the digest %s", err, hex);
	ck_assert_uint_eq(adj.nprev, 0);
	free(err);
	adjust_release(&adj);

	/* the digest of other content, or of nothing */
	sha256_hex("", 0, hex);
	write_manifest(&t, hex);
	ck_assert(!load(&t, &adj, 1, &err));
	ck_assert_msg(strstr(err, "does not match") != NULL, "message '%s'", err);
	free(err);
	adjust_release(&adj);
	tmpdir_remove(&t);
}
END_TEST

/* No manifest, a manifest without the ledger's digest, or not JSON: refused. */
START_TEST(test_load_manifest_problems)
{
	/* @ stands for the right digest */
	static const char *const manifests[] = {
		"{\"outputs\": [{\"name\": \"streams.csv\", \"sha256\": \"@\"}]}",
		"{\"outputs\": []}",
		"{}",
		"[]",
		"{\"outputs\": [{\"name\": \"ledger.csv\"}]}",
		"{\"outputs\": [{\"name\": \"ledger.csv\", \"sha256\": 5}]}",
		"{\"outputs\": [{\"name\": \"ledger.csv\", \"sha256\": \"abc\"}]}",
		"{\"outputs\": [{\"name\": \"ledger.csv\", \"sha256\": \"@\"",
		"{\"outputs\": [{\"name\": \"Ledger.csv\", \"sha256\": \"@\"}]}",
		"{\"outputs\": {\"name\": \"ledger.csv\", \"sha256\": \"@\"}}",
		"",
		"not json",
	};
	struct tmpdir      t;
	struct adjustments adj;
	char               hex[65];
	char              *err;

	tmpdir_make(&t);
	tmpdir_write(&t, "ledger.csv", good_ledger, sizeof(good_ledger) - 1);
	sha256_hex(good_ledger, sizeof(good_ledger) - 1, hex);

	ck_assert(!load(&t, &adj, 1, &err));
	ck_assert_msg(strstr(err, "manifest.json") != NULL, "message '%s'", err);
	free(err);
	adjust_release(&adj);

	for (size_t i = 0; i < sizeof(manifests) / sizeof(manifests[0]); i++)
	{
		char        json[512];
		size_t      n = 0;
		const char *at = strchr(manifests[i], '@');

		if (at == NULL)
			n = (size_t) snprintf(json, sizeof(json), "%s", manifests[i]);
		else
			n = (size_t) snprintf(json, sizeof(json), "%.*s%s%s", (int) (at - manifests[i]),
								  manifests[i], hex, at + 1);

		tmpdir_write(&t, "manifest.json", json, n);
		ck_assert_msg(!load(&t, &adj, 1, &err), "manifest %zu '%s' accepted", i, json);
		ck_assert_msg(strstr(err, "manifest.json") != NULL, "manifest %zu: message '%s'", i, err);
		free(err);
		adjust_release(&adj);
	}
	tmpdir_remove(&t);
}
END_TEST

/* The manifest is there but ledger.csv is not. */
START_TEST(test_load_missing_ledger)
{
	struct tmpdir      t;
	struct adjustments adj;
	char               hex[65];
	char              *err;

	tmpdir_make(&t);
	sha256_hex(good_ledger, sizeof(good_ledger) - 1, hex);
	write_manifest(&t, hex);
	ck_assert(!load(&t, &adj, 1, &err));
	ck_assert_msg(strstr(err, "ledger.csv") != NULL, "message '%s'", err);
	free(err);
	adjust_release(&adj);
	tmpdir_remove(&t);
}
END_TEST

/*
 * Ledgers whose digest matches, well- or malformed.  A refusal must log a
 * message holding 'reason' (the file and line, or the column).
 */
struct ledger_case
{
	const char *text;
	size_t      len;
	bool        ok;
	size_t      nprev;
	const char *first_payout; /* of the first row, sorted, when nprev > 0 */
	const char *reason;
};

#define TEXT(lit) (lit), (sizeof(lit) - 1)

static const struct ledger_case ledger_cases[] = {
	{ TEXT(HEADER), true, 0, NULL, NULL },
	{ TEXT(HEADER B "s,n,1,1,0,1000000,1000000,9,0,9"), true, 1, "9", NULL }, /* no line end */
	{ TEXT(HEADER B "s,n,1,1,0,1000000,1000000,9,0,9\r\n"), true, 1, "9", NULL },
	{ TEXT(HEADER B "s,n,1,1,0,1000000,1000000,9223372036854775807,0,9223372036854775807\n"), true,
	  1, "9223372036854775807", NULL },
	{ TEXT(HEADER B "s,n,1,1,0,1000000,1000000,7,0,007\n"), true, 1, "7", NULL },
	/* only the three columns matter, in any order; a byte order mark is fine */
	{ TEXT("payout_amount,x,node_id,stream_id\r\n12,?,n,s\r\n"), true, 1, "12", NULL },
	{ TEXT("\xEF\xBB\xBFstream_id,node_id,payout_amount\ns,n,4\n"), true, 1, "4", NULL },
	/* an id with a line end inside quotes */
	{ TEXT("stream_id,node_id,payout_amount\n\"s\nt\",n,4\n"), true, 1, "4", NULL },
	/* malformed records */
	{ TEXT(HEADER B "s,n,1,1,0,1000000,1000000,9,0\n"), false, 0, NULL, "ledger.csv:2:" },
	{ TEXT(HEADER B "s,n,1,1,0,1000000,1000000,9,0,9,extra\n"), false, 0, NULL, "ledger.csv:2:" },
	{ TEXT("stream_id,node_id,payout_amount\ns,n,1\ns,m\n"), false, 0, NULL, "ledger.csv:3:" },
	{ TEXT("stream_id,node_id,payout_amount\ns,n\"x,1\n"), false, 0, NULL, "ledger.csv:2:" },
	{ TEXT("stream_id,node_id,payout_amount\ns,\"n\"x,1\n"), false, 0, NULL, "ledger.csv:2:" },
	{ TEXT("stream_id,node_id,payout_amount\ns,\"n,1\n"), false, 0, NULL, "malformed ledger" },
	/* payouts in base units up to 2^256 - 1 (2^63 is no limit any more) */
	{ TEXT("stream_id,node_id,payout_amount\ns,n,9223372036854775808\n"), true, 1,
	  "9223372036854775808", NULL },
	{ TEXT("stream_id,node_id,payout_amount\ns,n,"
		   "115792089237316195423570985008687907853269984665640564039457584007913129639935\n"),
	  true, 1, MAX_TEXT, NULL },
	{ TEXT("stream_id,node_id,payout_amount\ns,n,"
		   "000115792089237316195423570985008687907853269984665640564039457584007913129639935\n"),
	  true, 1, MAX_TEXT, NULL },
	{ TEXT("stream_id,node_id,payout_amount\ns,n,-1\n"), false, 0, NULL, "ledger.csv:2:" },
	{ TEXT("stream_id,node_id,payout_amount\ns,n,abc\n"), false, 0, NULL, "ledger.csv:2:" },
	{ TEXT("stream_id,node_id,payout_amount\ns,n,\n"), false, 0, NULL, "ledger.csv:2:" },
	{ TEXT("stream_id,node_id,payout_amount\ns,n, 5\n"), false, 0, NULL, "ledger.csv:2:" },
	{ TEXT("stream_id,node_id,payout_amount\ns,n,1.5\n"), false, 0, NULL, "ledger.csv:2:" },
	{ TEXT("stream_id,node_id,payout_amount\ns,n,"
		   "115792089237316195423570985008687907853269984665640564039457584007913129639936\n"),
	  false, 0, NULL, "ledger.csv:2:" }, /* 2^256 */
	{ TEXT("stream_id,node_id,payout_amount\ns,n,"
		   "999999999999999999999999999999999999999999999999999999999999999999999999999999999\n"),
	  false, 0, NULL, "ledger.csv:2:" },
	{ TEXT("stream_id,node_id,payout_amount\ns,n,1\nt,n,2\nu,n,x\n"), false, 0, NULL,
	  "ledger.csv:4:" },
	/* headers: empty, missing or repeated columns, bad quotes */
	{ TEXT(""), false, 0, NULL, "malformed ledger" },
	{ TEXT("\n\n"), false, 0, NULL, "malformed ledger" },
	{ TEXT("stream_id,node_id,payout\ns,n,1\n"), false, 0, NULL, "'payout_amount'" },
	{ TEXT("stream_id,payout_amount\ns,1\n"), false, 0, NULL, "'node_id'" },
	{ TEXT("stream,node_id,payout_amount\ns,n,1\n"), false, 0, NULL, "'stream_id'" },
	{ TEXT("stream_id,node_id,payout_amount,stream_id\ns,n,1,s\n"), false, 0, NULL, "'stream_id'" },
	{ TEXT("stream_id,node_id,pay\"out_amount\ns,n,1\n"), false, 0, NULL, "ledger.csv:1:" },
};

START_TEST(test_load_ledger_table)
{
	const struct ledger_case *c = &ledger_cases[_i];
	struct tmpdir             t;
	struct adjustments        adj;
	char                     *err;
	bool                      ok;

	tmpdir_make(&t);
	write_version(&t, c->text, c->len);
	ok = load(&t, &adj, 1, &err);
	ck_assert_msg(ok == c->ok, "row %d '%s': %s, want %s (%s)", _i, shown(c->text, c->len),
				  ok ? "accepted" : "refused", c->ok ? "accepted" : "refused", err);
	if (ok)
	{
		ck_assert_msg(adj.nprev == c->nprev, "row %d: %zu rows, want %zu", _i, adj.nprev, c->nprev);
		if (c->nprev > 0)
			ck_assert_msg(strcmp(amt_text(&adj.prev[0].payout), c->first_payout) == 0,
						  "row %d: payout %s, want %s", _i, amt_text(&adj.prev[0].payout),
						  c->first_payout);
	}
	else
		ck_assert_msg(strstr(err, c->reason) != NULL, "row %d: message '%s' does not say %s", _i,
					  err, c->reason);
	free(err);
	adjust_release(&adj);
	tmpdir_remove(&t);
}
END_TEST

/*
 * Loaded, then compared with a ledger settled by ledger_build.
 * Previous (file): alpha/a 375, alpha/b 250, beta/x 0.
 * New: f = 0.5, default pool 40; pools alpha 1000.
 *   alpha: a (S 3, F 0), b (S 1): W = 4, a 750, b 250.
 *   beta: x (S 0): W = 0, pays nothing.  gamma: n (S 1): the default 40.
 * Adjustments: alpha/a 375 -> 750 (+375), alpha 625 -> 1000 (+375);
 * beta unchanged; gamma/n 0 -> 40, gamma 0 -> 40; the period 625 -> 1040.
 */
static const struct want_row want_load_compute[] = {
	{ ROW("alpha", "a"), 375, 750, 375 }, /* changed */
	{ TOTAL("alpha"), 625, 1000, 375 },   /* alpha */
	{ ROW("gamma", "n"), 0, 40, 40 },     /* appeared */
	{ TOTAL("gamma"), 0, 40, 40 },        /* gamma */
	{ PERIOD_ROW, 625, 1040, 415 },       /* the period */
};

START_TEST(test_load_then_compute)
{
	static const char      file[] = "stream_id,node_id,payout_amount\n"
									"beta,x,0\n"
									"alpha,b,250\n"
									"alpha,a,375\n";
	struct tmpdir          t;
	struct adjustments     adj;
	char                  *err;
	struct aggregate       agg;
	struct pools           pools;
	struct period          period;
	struct ledger          ledger;
	struct ledger_settings settings;
	struct agg_counts      a = { 3, 3, 0 }, b = { 1, 1, 0 }, x = { 2, 0, 0 }, n = { 1, 1, 0 };
	char                   msg[256];

	tmpdir_make(&t);
	write_version(&t, file, sizeof(file) - 1);
	ck_assert_msg(load(&t, &adj, 1, &err), "refused: %s", err);
	free(err);

	memset(&settings, 0, sizeof(settings));
	settings.default_pool = amt_u64(40);
	aggregate_init(&agg);
	pools_init(&pools);
	ck_assert(period_parse("2026-11-01", PERIOD_LENGTH_DAY, &period, msg, sizeof(msg)));
	ck_assert(payout_keep_parse("0.5", &settings.keep));
	ck_assert(aggregate_add(&agg, ID("alpha"), ID("a"), &a));
	ck_assert(aggregate_add(&agg, ID("alpha"), ID("b"), &b));
	ck_assert(aggregate_add(&agg, ID("beta"), ID("x"), &x));
	ck_assert(aggregate_add(&agg, ID("gamma"), ID("n"), &n));
	pools_begin_rows(&pools, POOLS_TABLE, 0);
	ck_assert(pools_add_text(&pools, "payout_pools", 1, ID("alpha"), "1000", 4));
	ck_assert(pools_finish(&pools, "pools.csv"));
	ck_assert_int_eq(ledger_build(&ledger, &period, &agg, &pools, &settings, msg, sizeof(msg)),
					 LEDGER_OK);

	ck_assert(adjust_compute(&adj, &ledger));
	assert_adjustments(&adj, want_load_compute, NROWS(want_load_compute), 2, 625, 1040);

	adjust_release(&adj);
	ledger_release(&ledger);
	pools_release(&pools);
	aggregate_release(&agg);
	tmpdir_remove(&t);
}
END_TEST

static Suite *
adjust_suite(void)
{
	Suite *s = suite_create("adjust");
	TCase *tc;

	tc = tcase_create("compute");
	tcase_add_test(tc, test_changed_appeared_disappeared);
	tcase_add_test(tc, test_nothing_changed);
	tcase_add_test(tc, test_several_streams);
	tcase_add_test(tc, test_zero_payouts);
	tcase_add_test(tc, test_byte_order_keys);
	tcase_add_test(tc, test_all_new);
	tcase_add_test(tc, test_overflow);
	suite_add_tcase(s, tc);

	tc = tcase_create("uint256");
	tcase_add_test(tc, test_reference_self_check);
	tcase_add_test(tc, test_uint256_deltas);
	tcase_add_test(tc, test_totals_rows_past_64_bits);
	suite_add_tcase(s, tc);

	tc = tcase_create("random");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_random_vs_reference);
	suite_add_tcase(s, tc);

	tc = tcase_create("load");
	tcase_add_test(tc, test_sha256_helper);
	tcase_add_test(tc, test_load_digest_match);
	tcase_add_test(tc, test_load_digest_mismatch);
	tcase_add_test(tc, test_load_manifest_problems);
	tcase_add_test(tc, test_load_missing_ledger);
	tcase_add_loop_test(tc, test_load_ledger_table, 0, NROWS(ledger_cases));
	tcase_add_test(tc, test_load_then_compute);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(adjust_suite());
	int      failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
