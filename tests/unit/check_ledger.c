/*
 * check_ledger.c: unit tests of ledger.h, the settlement of a period from
 * an aggregate, the pools and the settings.
 *
 * The small cases are worked out by hand in the comment above each: floor
 * shares, the leftover units to the largest remainders (ties by node id in
 * byte order), the penalty floored once per failed spot check, the pools
 * file or the default pool, the union of streams and the totals.  The
 * random test builds aggregates and pools from a plain list kept here and
 * checks every row, stream and total against a naive settlement written
 * here (repeated max-selection for the remainders, a byte loop for ids),
 * and the properties on their own: every stream balances, the totals are
 * the sums of the streams, rows and streams are sorted, the streams are
 * the union of those with probes and those in the pools.  The model's
 * arithmetic is its own (numbers of 32-bit words, products in 64 bits),
 * independent of amount.c; amounts go in and out of the code under test
 * only through amount.h (amount_parse, amount_format, amount_cmp).
 *
 * ledger_check is given ledgers corrupted one way at a time, and must
 * refuse each, naming the stream; ledger_sum_totals re-adds the totals.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payrun/aggregate.h"
#include "payrun/ledger.h"
#include "payrun/payout.h"
#include "payrun/period.h"
#include "payrun/pools.h"

typedef unsigned __int128 u128;

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

/* Ids given as string literals, which may hold NUL bytes. */
#define ID(lit) (lit), (sizeof(lit) - 1)

/* 2^256 - 1, the largest amount, and its neighbours (exact, from Python) */
#define MAX_TEXT   "115792089237316195423570985008687907853269984665640564039457584007913129639935"
#define MAX_1_TEXT "115792089237316195423570985008687907853269984665640564039457584007913129639934"
#define HALF_TEXT  "57896044618658097711785492504343953926634992332820282019728792003956564819968"

/* ---- the reference's numbers: 320 bits in 32-bit words ---- */

/*
 * Enough for a 256-bit pool times a 64-bit count.  Written the schoolbook
 * way with 32-bit words and 64-bit products (amount.c has 64-bit limbs and
 * 128-bit products; only the division by a 64-bit W here goes through 128
 * bits, a word at a time), so the two share no code and no representation.
 */
#define BIG_WORDS 10
#define BIG_TEXT  100

struct big
{
	uint32_t w[BIG_WORDS]; /* little-endian */
};

static struct big
big_u64(uint64_t v)
{
	struct big b;

	memset(&b, 0, sizeof(b));
	b.w[0] = (uint32_t) v;
	b.w[1] = (uint32_t) (v >> 32);
	return b;
}

static int
big_cmp(const struct big *a, const struct big *b)
{
	for (int i = BIG_WORDS - 1; i >= 0; i--)
	{
		if (a->w[i] != b->w[i])
			return a->w[i] < b->w[i] ? -1 : 1;
	}
	return 0;
}

static bool
big_is_zero(const struct big *a)
{
	for (int i = 0; i < BIG_WORDS; i++)
	{
		if (a->w[i] != 0)
			return false;
	}
	return true;
}

/* 2^256 - 1: eight words of ones */
static struct big
big_max(void)
{
	struct big b = big_u64(0);

	for (int i = 0; i < 8; i++)
		b.w[i] = UINT32_MAX;
	return b;
}

static struct big
big_add(struct big a, const struct big *b)
{
	uint64_t carry = 0;

	for (int i = 0; i < BIG_WORDS; i++)
	{
		carry += (uint64_t) a.w[i] + b->w[i];
		a.w[i] = (uint32_t) carry;
		carry >>= 32;
	}
	require(carry == 0, "reference: sum past 320 bits");
	return a;
}

static struct big
big_add_u64(struct big a, uint64_t v)
{
	struct big b = big_u64(v);

	return big_add(a, &b);
}

/* a - b, with b <= a */
static struct big
big_sub(struct big a, const struct big *b)
{
	uint32_t borrow = 0;

	for (int i = 0; i < BIG_WORDS; i++)
	{
		uint64_t sub = (uint64_t) b->w[i] + borrow;

		borrow = a.w[i] < sub;
		a.w[i] = (uint32_t) ((uint64_t) a.w[i] + (borrow ? UINT64_C(1) << 32 : 0) - sub);
	}
	require(borrow == 0, "reference: difference below zero");
	return a;
}

/* a * m */
static struct big
big_mul(const struct big *a, uint64_t m)
{
	uint32_t   r[BIG_WORDS + 2] = { 0 };
	uint32_t   half[2] = { (uint32_t) m, (uint32_t) (m >> 32) };
	struct big out;

	for (int j = 0; j < 2; j++)
	{
		uint64_t carry = 0;

		for (int i = 0; i < BIG_WORDS; i++)
		{
			uint64_t t = (uint64_t) a->w[i] * half[j] + r[i + j] + carry;

			r[i + j] = (uint32_t) t;
			carry = t >> 32;
		}
		r[BIG_WORDS + j] = (uint32_t) carry;
	}
	require(r[BIG_WORDS] == 0 && r[BIG_WORDS + 1] == 0, "reference: product past 320 bits");
	memcpy(out.w, r, sizeof(out.w));
	return out;
}

/* *q = floor(a / d); returns a mod d.  d > 0; q may be a. */
static uint64_t
big_divmod(struct big *q, const struct big *a, uint64_t d)
{
	u128 r = 0;

	require(d > 0, "reference: division by 0");
	for (int i = BIG_WORDS - 1; i >= 0; i--)
	{
		u128 cur = (r << 32) | a->w[i];

		q->w[i] = (uint32_t) (cur / d); /* < 2^32 as r < d */
		r = cur % d;
	}
	return (uint64_t) r;
}

static struct big
big_of(const char *dec)
{
	struct big b = big_u64(0);

	require(dec[0] != '\0', "reference: empty number");
	for (const char *p = dec; *p; p++)
	{
		require(*p >= '0' && *p <= '9', "reference: '%s' is not a number", dec);
		b = big_mul(&b, 10);
		b = big_add_u64(b, (uint64_t) (*p - '0'));
	}
	return b;
}

static const char *
big_text(const struct big *a, char buf[BIG_TEXT])
{
	char       rev[BIG_TEXT];
	size_t     n = 0;
	struct big x = *a;

	do
		rev[n++] = (char) ('0' + big_divmod(&x, &x, 10));
	while (!big_is_zero(&x));
	for (size_t i = 0; i < n; i++)
		buf[i] = rev[n - 1 - i];
	buf[n] = '\0';
	return buf;
}

/* ---- amounts, through their API only ---- */

/* The amount of a decimal string of base units. */
static struct amount
amt(const char *dec)
{
	struct amount      a;
	enum amount_status st = amount_parse(dec, strlen(dec), 0, &a);

	ck_assert_msg(st == AMOUNT_OK, "amount_parse('%s'): %s", dec, amount_status_message(st));
	return a;
}

static struct amount
amt_u64(uint64_t v)
{
	struct amount a;

	amount_from_u64(&a, v);
	return a;
}

/* The decimal text of an amount, for messages (a ring of 8 buffers). */
static const char *
amt_text(const struct amount *a)
{
	static char ring[8][AMOUNT_TEXT_LEN];
	static int  k;
	char       *buf = ring[k++ % 8];

	amount_format(a, buf);
	return buf;
}

static struct amount
amt_big(const struct big *b)
{
	char buf[BIG_TEXT];

	return amt(big_text(b, buf));
}

static struct big
big_amt(const struct amount *a)
{
	char buf[AMOUNT_TEXT_LEN];

	amount_format(a, buf);
	return big_of(buf);
}

/* The reference checks itself on numbers whose digits are known. */
START_TEST(test_reference_self_check)
{
	char       buf[BIG_TEXT];
	struct big max = big_max();
	struct big half = big_of(HALF_TEXT);
	struct big q;

	ck_assert_str_eq(big_text(&max, buf), MAX_TEXT);
	ck_assert_str_eq(big_text(&half, buf), HALF_TEXT);
	/* 2^255 * 2 = 2^256 = max + 1 */
	q = big_mul(&half, 2);
	ck_assert(big_cmp(&q, &max) > 0);
	q = big_sub(q, &max);
	ck_assert_str_eq(big_text(&q, buf), "1");
	/* (2^256 - 1) / (2^64 - 1) = 2^192 + 2^128 + 2^64 + 1, remainder 0 */
	ck_assert_uint_eq(big_divmod(&q, &max, UINT64_MAX), 0);
	ck_assert_str_eq(big_text(&q, buf),
					 "6277101735386680764176071790128604879584176795969512275969");
	/* (2^256 - 1) mod 7 = 1, as 2^3 = 1 mod 7 and 2^256 = 2^(3*85+1) */
	ck_assert_uint_eq(big_divmod(&q, &max, 7), 1);
	/* (2^64 - 1)^2 = 2^128 - 2^65 + 1 */
	q = big_u64(UINT64_MAX);
	q = big_mul(&q, UINT64_MAX);
	ck_assert_str_eq(big_text(&q, buf), "340282366920938463426481119284349108225");
	ck_assert(big_cmp(&max, &half) > 0 && big_cmp(&half, &max) < 0 && big_cmp(&max, &max) == 0);
	/* and so do the conversions: every digit of 2^256 - 1 */
	{
		struct amount a = amt(MAX_TEXT);

		q = big_amt(&a);
	}
	ck_assert(big_cmp(&q, &max) == 0);
}
END_TEST

/* ---- a ledger to build ---- */

struct fixture
{
	struct aggregate       agg;
	struct pools           pools;
	struct period          period;
	struct ledger_settings settings;
	struct ledger          ledger;
	char                   err[512];
};

/* The pools come as rows (pools_add_text), amounts in base units. */
static void
fixture_init(struct fixture *fx, const char *penalty, uint64_t default_pool)
{
	char err[128];

	memset(fx, 0, sizeof(*fx));
	aggregate_init(&fx->agg);
	pools_init(&fx->pools);
	pools_begin_rows(&fx->pools, POOLS_TABLE, 0);
	ck_assert(period_parse("2026-11-01", PERIOD_LENGTH_DAY, &fx->period, err, sizeof(err)));
	ck_assert_msg(payout_keep_parse(penalty, &fx->settings.keep), "penalty '%s'", penalty);
	fx->settings.default_pool = amt_u64(default_pool);
}

static void
fixture_release(struct fixture *fx)
{
	ledger_release(&fx->ledger);
	pools_release(&fx->pools);
	aggregate_release(&fx->agg);
}

static void
probe(struct fixture *fx, const char *s, size_t slen, const char *n, size_t nlen, uint64_t t,
	  uint64_t ok, uint64_t f)
{
	struct agg_counts d = { t, ok, f };

	ck_assert(aggregate_add(&fx->agg, s, slen, n, nlen, &d));
}

static void
pool_text(struct fixture *fx, const char *s, size_t slen, const char *amount)
{
	ck_assert_msg(pools_add_text(&fx->pools, "pools.csv", fx->pools.count + 2, s, slen, amount,
								 strlen(amount)),
				  "pool '%s' refused", amount);
}

static void
pool(struct fixture *fx, const char *s, size_t slen, uint64_t amount)
{
	char text[24];

	snprintf(text, sizeof(text), "%llu", (unsigned long long) amount);
	pool_text(fx, s, slen, text);
}

static enum ledger_status
build(struct fixture *fx)
{
	ck_assert(pools_finish(&fx->pools, "pools.csv"));
	return ledger_build(&fx->ledger, &fx->period, &fx->agg, &fx->pools, &fx->settings, fx->err,
						sizeof(fx->err));
}

static bool
id_is(const char *p, size_t len, const char *want, size_t want_len)
{
	return len == want_len && memcmp(p, want, len) == 0;
}

static const char *
u64_text(uint64_t v, char buf[24])
{
	snprintf(buf, 24, "%llu", (unsigned long long) v);
	return buf;
}

/* Row i is (stream, node) with these counts, ppm and amounts (as text). */
static void
assert_row_text(const struct ledger *l, size_t i, const char *s, size_t slen, const char *n,
				size_t nlen, uint64_t t, uint64_t ok, uint64_t f, uint32_t uptime,
				uint32_t contribution, const char *base, const char *payout, const char *forfeited)
{
	const struct ledger_row *r;
	struct amount            b = amt(base), p = amt(payout), fo = amt(forfeited);

	ck_assert_msg(i < l->nrows, "row %zu of %zu", i, l->nrows);
	r = &l->rows[i];
	ck_assert_msg(id_is(r->stream, r->stream_len, s, slen) && id_is(r->node, r->node_len, n, nlen),
				  "row %zu is '%.*s'/'%.*s'", i, (int) r->stream_len, r->stream, (int) r->node_len,
				  r->node);
	ck_assert_msg(r->counts.total_polls == t && r->counts.successful_polls == ok &&
					  r->counts.failed_spot_checks == f,
				  "row %zu counts %llu %llu %llu", i, (unsigned long long) r->counts.total_polls,
				  (unsigned long long) r->counts.successful_polls,
				  (unsigned long long) r->counts.failed_spot_checks);
	ck_assert_msg(r->uptime_ppm == uptime && r->contribution_ppm == contribution,
				  "row %zu: uptime %u contribution %u, want %u %u", i, r->uptime_ppm,
				  r->contribution_ppm, uptime, contribution);
	ck_assert_msg(amount_cmp(&r->base, &b) == 0 && amount_cmp(&r->payout, &p) == 0 &&
					  amount_cmp(&r->forfeited, &fo) == 0,
				  "row %zu: base %s payout %s forfeited %s, want %s %s %s", i, amt_text(&r->base),
				  amt_text(&r->payout), amt_text(&r->forfeited), base, payout, forfeited);
}

static void
assert_row(const struct ledger *l, size_t i, const char *s, size_t slen, const char *n, size_t nlen,
		   uint64_t t, uint64_t ok, uint64_t f, uint32_t uptime, uint32_t contribution,
		   uint64_t base, uint64_t payout)
{
	char b[24], p[24], fo[24];

	assert_row_text(l, i, s, slen, n, nlen, t, ok, f, uptime, contribution, u64_text(base, b),
					u64_text(payout, p), u64_text(base - payout, fo));
}

static void
assert_stream_text(const struct ledger *l, size_t i, const char *s, size_t slen,
				   const char *pool_amount, uint64_t nodes, uint64_t w, const char *paid,
				   const char *forfeited, const char *unallocated)
{
	const struct ledger_stream *st;
	struct amount want[4] = { amt(pool_amount), amt(paid), amt(forfeited), amt(unallocated) };

	ck_assert_msg(i < l->nstreams, "stream %zu of %zu", i, l->nstreams);
	st = &l->streams[i];
	ck_assert_msg(id_is(st->stream, st->stream_len, s, slen), "stream %zu is '%.*s'", i,
				  (int) st->stream_len, st->stream);
	ck_assert_msg(amount_cmp(&st->pool, &want[0]) == 0 && st->nodes == nodes &&
					  st->total_successful_polls == w,
				  "stream %zu: pool %s nodes %llu W %llu, want %s %llu %llu", i,
				  amt_text(&st->pool), (unsigned long long) st->nodes,
				  (unsigned long long) st->total_successful_polls, pool_amount,
				  (unsigned long long) nodes, (unsigned long long) w);
	ck_assert_msg(
		amount_cmp(&st->paid, &want[1]) == 0 && amount_cmp(&st->forfeited, &want[2]) == 0 &&
			amount_cmp(&st->unallocated, &want[3]) == 0,
		"stream %zu: paid %s forfeited %s unallocated %s, want %s %s %s", i, amt_text(&st->paid),
		amt_text(&st->forfeited), amt_text(&st->unallocated), paid, forfeited, unallocated);
}

static void
assert_stream(const struct ledger *l, size_t i, const char *s, size_t slen, uint64_t pool_amount,
			  uint64_t nodes, uint64_t w, uint64_t paid, uint64_t forfeited, uint64_t unallocated)
{
	char t[4][24];

	assert_stream_text(l, i, s, slen, u64_text(pool_amount, t[0]), nodes, w, u64_text(paid, t[1]),
					   u64_text(forfeited, t[2]), u64_text(unallocated, t[3]));
}

static void
assert_totals_text(const struct ledger *l, uint64_t streams, uint64_t nodes,
				   const char *pool_amount, const char *paid, const char *forfeited,
				   const char *unallocated)
{
	const struct ledger_totals *t = &l->totals;
	struct amount want[4] = { amt(pool_amount), amt(paid), amt(forfeited), amt(unallocated) };

	ck_assert_uint_eq(l->nstreams, streams);
	ck_assert_uint_eq(l->nrows, nodes);
	ck_assert_msg(
		t->streams == streams && t->nodes == nodes && amount_cmp(&t->pool, &want[0]) == 0 &&
			amount_cmp(&t->paid, &want[1]) == 0 && amount_cmp(&t->forfeited, &want[2]) == 0 &&
			amount_cmp(&t->unallocated, &want[3]) == 0,
		"totals %llu %llu %s %s %s %s, want %llu %llu %s %s %s %s", (unsigned long long) t->streams,
		(unsigned long long) t->nodes, amt_text(&t->pool), amt_text(&t->paid),
		amt_text(&t->forfeited), amt_text(&t->unallocated), (unsigned long long) streams,
		(unsigned long long) nodes, pool_amount, paid, forfeited, unallocated);
}

static void
assert_totals(const struct ledger *l, uint64_t streams, uint64_t nodes, uint64_t pool_amount,
			  uint64_t paid, uint64_t forfeited, uint64_t unallocated)
{
	char t[4][24];

	assert_totals_text(l, streams, nodes, u64_text(pool_amount, t[0]), u64_text(paid, t[1]),
					   u64_text(forfeited, t[2]), u64_text(unallocated, t[3]));
}

/* ---- hand-worked settlements ---- */

/*
 * f = 0.5, default pool 50.  Pools: alpha 1000, gamma 77 (no probes);
 * beta has probes but no pools entry.
 *   alpha: a (T 4, S 3, F 1), b (T 2, S 1), c (T 0): W = 4.
 *     a: base 1000 * 3 / 4 = 750, one failure: 375 paid, 375 forfeited;
 *        uptime 3/4 = 750000, contribution 3/4 = 750000.
 *     b: base 250, paid 250; uptime 1/2 = 500000, contribution 250000.
 *     c: nothing; uptime 0 (T = 0), contribution 0.
 *     paid 625, forfeited 375, unallocated 0.
 *   beta: the default 50; x (T 5, S 0, F 2): W = 0, all 50 unallocated;
 *     uptime 0/5 = 0, contribution 0 (W = 0).
 *   gamma: 77, no nodes: 77 unallocated.
 *   totals: 3 streams, 4 rows, pool 1127, paid 625, forfeited 375,
 *   unallocated 127 (625 + 375 + 127 = 1127).
 */
START_TEST(test_union_and_default_pool)
{
	struct fixture fx;

	fixture_init(&fx, "0.5", 50);
	probe(&fx, ID("beta"), ID("x"), 5, 0, 2);
	probe(&fx, ID("alpha"), ID("b"), 2, 1, 0);
	probe(&fx, ID("alpha"), ID("a"), 4, 3, 1);
	probe(&fx, ID("alpha"), ID("c"), 0, 0, 0);
	pool(&fx, ID("gamma"), 77);
	pool(&fx, ID("alpha"), 1000);
	ck_assert_int_eq(build(&fx), LEDGER_OK);

	assert_row(&fx.ledger, 0, ID("alpha"), ID("a"), 4, 3, 1, 750000, 750000, 750, 375);
	assert_row(&fx.ledger, 1, ID("alpha"), ID("b"), 2, 1, 0, 500000, 250000, 250, 250);
	assert_row(&fx.ledger, 2, ID("alpha"), ID("c"), 0, 0, 0, 0, 0, 0, 0);
	assert_row(&fx.ledger, 3, ID("beta"), ID("x"), 5, 0, 2, 0, 0, 0, 0);
	assert_stream(&fx.ledger, 0, ID("alpha"), 1000, 3, 4, 625, 375, 0);
	assert_stream(&fx.ledger, 1, ID("beta"), 50, 1, 0, 0, 0, 50);
	assert_stream(&fx.ledger, 2, ID("gamma"), 77, 0, 0, 0, 0, 77);
	assert_totals(&fx.ledger, 3, 4, 1127, 625, 375, 127);
	fixture_release(&fx);
}
END_TEST

/*
 * Largest remainder first.  Pool 100, S = 1, 2, 3, 5 for a, b, c, d:
 * W = 11; pool * S = 100, 200, 300, 500; floors 9, 18, 27, 45 (sum 99);
 * remainders 1, 2, 3, 5: the one unit left goes to d: 9, 18, 27, 46.
 * Contribution floor(S * 10^6 / 11): 90909, 181818, 272727, 454545.
 * Uptime with T = 2, 2, 4, 7: 500000, 1000000, 750000, floor(5e6/7) =
 * 714285.
 */
START_TEST(test_largest_remainder)
{
	struct fixture fx;

	fixture_init(&fx, "0", 0);
	probe(&fx, ID("r"), ID("d"), 7, 5, 0);
	probe(&fx, ID("r"), ID("c"), 4, 3, 0);
	probe(&fx, ID("r"), ID("b"), 2, 2, 0);
	probe(&fx, ID("r"), ID("a"), 2, 1, 0);
	pool(&fx, ID("r"), 100);
	ck_assert_int_eq(build(&fx), LEDGER_OK);
	assert_row(&fx.ledger, 0, ID("r"), ID("a"), 2, 1, 0, 500000, 90909, 9, 9);
	assert_row(&fx.ledger, 1, ID("r"), ID("b"), 2, 2, 0, 1000000, 181818, 18, 18);
	assert_row(&fx.ledger, 2, ID("r"), ID("c"), 4, 3, 0, 750000, 272727, 27, 27);
	assert_row(&fx.ledger, 3, ID("r"), ID("d"), 7, 5, 0, 714285, 454545, 46, 46);
	assert_stream(&fx.ledger, 0, ID("r"), 100, 4, 11, 100, 0, 0);
	assert_totals(&fx.ledger, 1, 4, 100, 100, 0, 0);
	fixture_release(&fx);
}
END_TEST

/*
 * Equal remainders go by node id in byte order.
 *   s: pool 10, S = 1 for b, a, c: floors 3 (sum 9), remainders all 1:
 *      a gets the unit: a 4, b 3, c 3.
 *   t: pool 2, S = 1 for "z", "\x80", "Z": floors 0, remainders all 2,
 *      two units: "Z" (0x5a) and "z" (0x7a) before "\x80" (unsigned):
 *      Z 1, z 1, \x80 0.  Rows in the same order.
 *   u: pool 1, S = 1 for "a\0" and "a": the prefix "a" sorts first and
 *      gets the unit.
 * Contribution: 333333 for each node of s and t, 500000 for u.
 */
START_TEST(test_remainder_ties_by_id)
{
	struct fixture fx;

	fixture_init(&fx, "0.5", 0);
	probe(&fx, ID("s"), ID("b"), 1, 1, 0);
	probe(&fx, ID("s"), ID("a"), 1, 1, 0);
	probe(&fx, ID("s"), ID("c"), 1, 1, 0);
	probe(&fx, ID("t"), ID("z"), 1, 1, 0);
	probe(&fx, ID("t"), ID("\x80"), 1, 1, 0);
	probe(&fx, ID("t"), ID("Z"), 1, 1, 0);
	probe(&fx, ID("u"), ID("a\0"), 1, 1, 0);
	probe(&fx, ID("u"), ID("a"), 1, 1, 0);
	pool(&fx, ID("s"), 10);
	pool(&fx, ID("t"), 2);
	pool(&fx, ID("u"), 1);
	ck_assert_int_eq(build(&fx), LEDGER_OK);
	assert_row(&fx.ledger, 0, ID("s"), ID("a"), 1, 1, 0, 1000000, 333333, 4, 4);
	assert_row(&fx.ledger, 1, ID("s"), ID("b"), 1, 1, 0, 1000000, 333333, 3, 3);
	assert_row(&fx.ledger, 2, ID("s"), ID("c"), 1, 1, 0, 1000000, 333333, 3, 3);
	assert_row(&fx.ledger, 3, ID("t"), ID("Z"), 1, 1, 0, 1000000, 333333, 1, 1);
	assert_row(&fx.ledger, 4, ID("t"), ID("z"), 1, 1, 0, 1000000, 333333, 1, 1);
	assert_row(&fx.ledger, 5, ID("t"), ID("\x80"), 1, 1, 0, 1000000, 333333, 0, 0);
	assert_row(&fx.ledger, 6, ID("u"), ID("a"), 1, 1, 0, 1000000, 500000, 1, 1);
	assert_row(&fx.ledger, 7, ID("u"), ID("a\0"), 1, 1, 0, 1000000, 500000, 0, 0);
	assert_stream(&fx.ledger, 0, ID("s"), 10, 3, 3, 10, 0, 0);
	assert_stream(&fx.ledger, 1, ID("t"), 2, 3, 3, 2, 0, 0);
	assert_stream(&fx.ledger, 2, ID("u"), 1, 2, 2, 1, 0, 0);
	assert_totals(&fx.ledger, 3, 8, 13, 13, 0, 0);
	fixture_release(&fx);
}
END_TEST

/*
 * The penalty is floored after each failure, not once: f = 0.4, keep 3/5.
 *   p: pool 9, S = 1 for a, b, c (T 1) and d (T 4, S 0): W = 3, bases 3.
 *     a, F = 2: 3 -> floor(1.8) = 1 -> floor(0.6) = 0 (one floor of
 *        3 * 0.36 = 1.08 would pay 1): paid 0, forfeited 3.
 *     b, F = 0: 3.
 *     c, F = 3: 3 -> 1 -> 0 -> 0: paid 0, forfeited 3.
 *     d: nothing (uptime 0/4 = 0, contribution 0).
 *     paid 3, forfeited 6, unallocated 0.
 *   q: the default 1000, n (S 1, F 3): 1000 -> 600 -> 360 -> 216, forfeited 784.
 *   totals: pool 1009, paid 219, forfeited 790, unallocated 0.
 */
START_TEST(test_penalty_floored_each_time)
{
	struct fixture fx;

	fixture_init(&fx, "0.4", 1000);
	probe(&fx, ID("p"), ID("a"), 1, 1, 2);
	probe(&fx, ID("p"), ID("b"), 1, 1, 0);
	probe(&fx, ID("p"), ID("c"), 1, 1, 3);
	probe(&fx, ID("p"), ID("d"), 4, 0, 0);
	probe(&fx, ID("q"), ID("n"), 1, 1, 3);
	pool(&fx, ID("p"), 9);
	ck_assert_int_eq(build(&fx), LEDGER_OK);
	assert_row(&fx.ledger, 0, ID("p"), ID("a"), 1, 1, 2, 1000000, 333333, 3, 0);
	assert_row(&fx.ledger, 1, ID("p"), ID("b"), 1, 1, 0, 1000000, 333333, 3, 3);
	assert_row(&fx.ledger, 2, ID("p"), ID("c"), 1, 1, 3, 1000000, 333333, 3, 0);
	assert_row(&fx.ledger, 3, ID("p"), ID("d"), 4, 0, 0, 0, 0, 0, 0);
	assert_row(&fx.ledger, 4, ID("q"), ID("n"), 1, 1, 3, 1000000, 1000000, 1000, 216);
	assert_stream(&fx.ledger, 0, ID("p"), 9, 4, 3, 3, 6, 0);
	assert_stream(&fx.ledger, 1, ID("q"), 1000, 1, 1, 216, 784, 0);
	assert_totals(&fx.ledger, 2, 5, 1009, 219, 790, 0);
	fixture_release(&fx);
}
END_TEST

/* One node (S = 1) with the whole pool as base, under each penalty factor. */
struct penalty_case
{
	const char *f;
	const char *base;
	uint64_t    failed;
	const char *payout;
	const char *forfeited;
};

static const struct penalty_case penalty_cases[] = {
	{ "0.5", "100", 3, "12", "88" },     /* 100 -> 50 -> 25 -> 12 */
	{ "1", "100", 1, "0", "100" },       /* one failure forfeits everything */
	{ "1", "100", 0, "100", "0" },       /* none, nothing */
	{ "0", "100", 1000, "100", "0" },    /* f = 0: failures cost nothing */
	{ "0.25", "100", 2, "56", "44" },    /* 100 -> 75 -> floor(56.25) */
	{ "0.000001", "100", 1, "99", "1" }, /* floor(99.9999) */
	{ "0.4", "3", 2, "0", "3" },         /* 3 -> 1 -> 0 */
	{ "0.5", "9223372036854775807", 62, "1", "9223372036854775806" }, /* floor((2^63 - 1) / 2^62) */
	{ "0.5", "9223372036854775807", 63, "0", "9223372036854775807" },
	/* stops at 0 (the timeout catches a loop of F steps) */
	{ "0.5", "9223372036854775807", UINT64_MAX, "0", "9223372036854775807" },
	/* 2^256 - 1: floor(P / 2^255) = 1, then 0 */
	{ "0.5", MAX_TEXT, 255, "1", MAX_1_TEXT },
	{ "0.5", MAX_TEXT, 256, "0", MAX_TEXT },
	{ "0.5", MAX_TEXT, UINT64_MAX, "0", MAX_TEXT },
	{ "0", MAX_TEXT, UINT64_MAX, MAX_TEXT, "0" },
	/* keep 3/4: floor(P * 3 / 4) = P - ceil(P / 4) = P - 2^254 */
	{ "0.25", MAX_TEXT, 1,
	  "86844066927987146567678238756515930889952488499230423029593188005934847229951",
	  "28948022309329048855892746252171976963317496166410141009864396001978282409984" },
	/* 42 tokens of 18 decimals, keep 9/10 twice: 42e18 -> 37.8e18 -> 34.02e18 */
	{ "0.1", "42000000000000000000", 2, "34020000000000000000", "7980000000000000000" },
};

START_TEST(test_penalty_table)
{
	const struct penalty_case *c = &penalty_cases[_i];
	struct fixture             fx;

	fixture_init(&fx, c->f, 0);
	probe(&fx, ID("s"), ID("n"), 1, 1, c->failed);
	pool_text(&fx, ID("s"), c->base);
	ck_assert_int_eq(build(&fx), LEDGER_OK);
	ck_assert_msg(fx.ledger.nrows == 1, "row %d: %zu rows", _i, fx.ledger.nrows);
	assert_row_text(&fx.ledger, 0, ID("s"), ID("n"), 1, 1, c->failed, 1000000, 1000000, c->base,
					c->payout, c->forfeited);
	assert_stream_text(&fx.ledger, 0, ID("s"), c->base, 1, 1, c->payout, c->forfeited, "0");
	fixture_release(&fx);
}
END_TEST

/* Nothing at all: no rows, no streams, zero totals. */
START_TEST(test_empty)
{
	struct fixture fx;

	fixture_init(&fx, "0.5", 1000);
	ck_assert_int_eq(build(&fx), LEDGER_OK);
	assert_totals(&fx.ledger, 0, 0, 0, 0, 0, 0);
	ck_assert_int_eq(fx.ledger.period.start, fx.period.start);
	fixture_release(&fx);
}
END_TEST

/* Pools and no probes: every listed stream, its pool unallocated; no default. */
START_TEST(test_pools_only)
{
	struct fixture fx;

	fixture_init(&fx, "0.5", 1000);
	pool(&fx, ID("b"), 5);
	pool(&fx, ID("a"), 0);
	ck_assert_int_eq(build(&fx), LEDGER_OK);
	assert_stream(&fx.ledger, 0, ID("a"), 0, 0, 0, 0, 0, 0);
	assert_stream(&fx.ledger, 1, ID("b"), 5, 0, 0, 0, 0, 5);
	assert_totals(&fx.ledger, 2, 0, 5, 0, 0, 5);
	fixture_release(&fx);
}
END_TEST

/*
 * The union, merged in byte order.  Probes for "a", "ab", "\x80" (one node
 * each, S = 1: the whole pool); pools for "a\0" 7, "ab" 4, "b" 9; default
 * 100.  Order "a" < "a\0" < "ab" < "b" < "\x80":
 *   a 100 (default, paid), a\0 7 (unallocated), ab 4 (paid),
 *   b 9 (unallocated), \x80 100 (default, paid).
 * Totals: pool 220, paid 204, unallocated 16.
 */
START_TEST(test_union_byte_order)
{
	struct fixture fx;

	fixture_init(&fx, "0.5", 100);
	probe(&fx, ID("\x80"), ID("n"), 1, 1, 0);
	probe(&fx, ID("ab"), ID("n"), 1, 1, 0);
	probe(&fx, ID("a"), ID("n"), 1, 1, 0);
	pool(&fx, ID("b"), 9);
	pool(&fx, ID("ab"), 4);
	pool(&fx, ID("a\0"), 7);
	ck_assert_int_eq(build(&fx), LEDGER_OK);
	assert_stream(&fx.ledger, 0, ID("a"), 100, 1, 1, 100, 0, 0);
	assert_stream(&fx.ledger, 1, ID("a\0"), 7, 0, 0, 0, 0, 7);
	assert_stream(&fx.ledger, 2, ID("ab"), 4, 1, 1, 4, 0, 0);
	assert_stream(&fx.ledger, 3, ID("b"), 9, 0, 0, 0, 0, 9);
	assert_stream(&fx.ledger, 4, ID("\x80"), 100, 1, 1, 100, 0, 0);
	assert_row(&fx.ledger, 0, ID("a"), ID("n"), 1, 1, 0, 1000000, 1000000, 100, 100);
	assert_row(&fx.ledger, 1, ID("ab"), ID("n"), 1, 1, 0, 1000000, 1000000, 4, 4);
	assert_row(&fx.ledger, 2, ID("\x80"), ID("n"), 1, 1, 0, 1000000, 1000000, 100, 100);
	assert_totals(&fx.ledger, 5, 3, 220, 204, 0, 16);
	fixture_release(&fx);
}
END_TEST

/* The period is copied; ids point at bytes equal to the aggregate's and the pools'. */
START_TEST(test_period_and_ids)
{
	struct fixture fx;
	char           err[128];

	fixture_init(&fx, "0.5", 3);
	ck_assert(period_parse("2026-11-01T05", PERIOD_LENGTH_HOUR, &fx.period, err, sizeof(err)));
	probe(&fx, ID("str\0eam"), ID("no,de"), 1, 1, 0);
	pool(&fx, ID("listed"), 2);
	ck_assert_int_eq(build(&fx), LEDGER_OK);
	ck_assert_int_eq(fx.ledger.period.start, fx.period.start);
	ck_assert_int_eq(fx.ledger.period.end, fx.period.end);
	ck_assert_int_eq(fx.ledger.period.length, PERIOD_LENGTH_HOUR);
	ck_assert_str_eq(fx.ledger.period.label, "2026-11-01T05");
	assert_row(&fx.ledger, 0, ID("str\0eam"), ID("no,de"), 1, 1, 0, 1000000, 1000000, 3, 3);
	assert_stream(&fx.ledger, 0, ID("listed"), 2, 0, 0, 0, 0, 2);
	assert_stream(&fx.ledger, 1, ID("str\0eam"), 3, 1, 1, 3, 0, 0);
	fixture_release(&fx);
}
END_TEST

/* ---- overflow and bad input ---- */

#define QUARTER_TEXT "28948022309329048855892746252171976963317496166410141009864396001978282409984"
#define QUARTER_1_TEXT                                                                             \
	"28948022309329048855892746252171976963317496166410141009864396001978282409983"

/*
 * Pools summing past 2^256 - 1 are refused; exactly 2^256 - 1 is fine.
 *   a 2^256 - 1, b 1: one past.
 *   a 2^256 - 6, b 5 (b's single node paid 5): totals pool 2^256 - 1,
 *   paid 5, unallocated 2^256 - 6.
 *   a 2^255, b 2^254, c 2^254 - 1 = 2^256 - 1 in three streams, then one
 *   more unit in c: refused, saying so.
 */
START_TEST(test_overflow_pools)
{
	struct fixture fx;

	fixture_init(&fx, "0.5", 0);
	pool_text(&fx, ID("a"), MAX_TEXT);
	pool(&fx, ID("b"), 1);
	ck_assert_int_eq(build(&fx), LEDGER_OVERFLOW);
	ck_assert_msg(strstr(fx.err, "2^256 - 1") != NULL, "reason '%s'", fx.err);
	fixture_release(&fx);

	fixture_init(&fx, "0.5", 0);
	pool_text(&fx, ID("a"),
			  "115792089237316195423570985008687907853269984665640564039457584007913129639930");
	pool(&fx, ID("b"), 5);
	probe(&fx, ID("b"), ID("n"), 1, 1, 0);
	ck_assert_int_eq(build(&fx), LEDGER_OK);
	assert_totals_text(
		&fx.ledger, 2, 1, MAX_TEXT, "5", "0",
		"115792089237316195423570985008687907853269984665640564039457584007913129639930");
	fixture_release(&fx);

	fixture_init(&fx, "0", 0);
	pool_text(&fx, ID("a"), HALF_TEXT);
	pool_text(&fx, ID("b"), QUARTER_TEXT);
	pool_text(&fx, ID("c"), QUARTER_1_TEXT);
	probe(&fx, ID("b"), ID("n"), 1, 1, 0);
	ck_assert_int_eq(build(&fx), LEDGER_OK);
	assert_stream_text(&fx.ledger, 1, ID("b"), QUARTER_TEXT, 1, 1, QUARTER_TEXT, "0", "0");
	/* unallocated 2^255 + 2^254 - 1 */
	assert_totals_text(
		&fx.ledger, 3, 1, MAX_TEXT, QUARTER_TEXT, "0",
		"86844066927987146567678238756515930889952488499230423029593188005934847229951");
	fixture_release(&fx);

	fixture_init(&fx, "0", 0);
	pool_text(&fx, ID("a"), HALF_TEXT);
	pool_text(&fx, ID("b"), QUARTER_TEXT);
	pool_text(&fx, ID("c"), QUARTER_TEXT);
	probe(&fx, ID("b"), ID("n"), 1, 1, 0);
	ck_assert_int_eq(build(&fx), LEDGER_OVERFLOW);
	ck_assert_msg(strstr(fx.err, "2^256 - 1") != NULL, "reason '%s'", fx.err);
	fixture_release(&fx);
}
END_TEST

/* The default pool counts once per stream using it. */
START_TEST(test_overflow_default_pool)
{
	struct fixture fx;

	/* 2^255 twice is 2^256: one past */
	fixture_init(&fx, "0.5", 0);
	fx.settings.default_pool = amt(HALF_TEXT);
	probe(&fx, ID("s1"), ID("n"), 1, 1, 0);
	probe(&fx, ID("s2"), ID("n"), 1, 1, 0);
	ck_assert_int_eq(build(&fx), LEDGER_OVERFLOW);
	ck_assert_msg(fx.err[0] != '\0', "no reason given");
	fixture_release(&fx);

	/* 2^254 twice and 2^255 - 1 listed for a third stream: exactly 2^256 - 1... */
	fixture_init(&fx, "0.5", 0);
	fx.settings.default_pool = amt(QUARTER_TEXT);
	probe(&fx, ID("s1"), ID("n"), 1, 1, 0);
	probe(&fx, ID("s2"), ID("n"), 1, 1, 0);
	pool_text(&fx, ID("s3"),
			  "57896044618658097711785492504343953926634992332820282019728792003956564819967");
	ck_assert_int_eq(build(&fx), LEDGER_OK);
	assert_totals_text(
		&fx.ledger, 3, 2, MAX_TEXT, HALF_TEXT, "0",
		"57896044618658097711785492504343953926634992332820282019728792003956564819967");
	fixture_release(&fx);

	/* ...and one more stream using the default is past it */
	fixture_init(&fx, "0.5", 0);
	fx.settings.default_pool = amt(QUARTER_TEXT);
	probe(&fx, ID("s1"), ID("n"), 1, 1, 0);
	probe(&fx, ID("s2"), ID("n"), 1, 1, 0);
	probe(&fx, ID("s4"), ID("n"), 1, 1, 0);
	pool_text(&fx, ID("s3"),
			  "57896044618658097711785492504343953926634992332820282019728792003956564819967");
	ck_assert_int_eq(build(&fx), LEDGER_OVERFLOW);
	ck_assert_msg(strstr(fx.err, "2^256 - 1") != NULL, "reason '%s'", fx.err);
	fixture_release(&fx);

	/* one stream: all 2^256 - 1 to its single node */
	fixture_init(&fx, "0.5", 0);
	fx.settings.default_pool = amt(MAX_TEXT);
	probe(&fx, ID("s1"), ID("n"), 1, 1, 0);
	ck_assert_int_eq(build(&fx), LEDGER_OK);
	assert_totals_text(&fx.ledger, 1, 1, MAX_TEXT, MAX_TEXT, "0", "0");
	fixture_release(&fx);

	/* unused: every stream is in the pools */
	fixture_init(&fx, "0.5", 0);
	fx.settings.default_pool = amt(MAX_TEXT);
	probe(&fx, ID("s1"), ID("n"), 1, 1, 0);
	probe(&fx, ID("s2"), ID("n"), 1, 1, 0);
	pool(&fx, ID("s1"), 1);
	pool(&fx, ID("s2"), 2);
	ck_assert_int_eq(build(&fx), LEDGER_OK);
	assert_totals(&fx.ledger, 2, 2, 3, 3, 0, 0);
	fixture_release(&fx);
}
END_TEST

/* A stream's successful polls summing past 2^64 - 1: refused, the stream named. */
START_TEST(test_overflow_successful_polls)
{
	struct fixture fx;

	fixture_init(&fx, "0.5", 10);
	probe(&fx, ID("big"), ID("a"), UINT64_MAX, UINT64_MAX, 0);
	probe(&fx, ID("big"), ID("b"), 1, 1, 0);
	ck_assert_int_eq(build(&fx), LEDGER_OVERFLOW);
	ck_assert_msg(strstr(fx.err, "'big'") != NULL, "reason '%s' does not name 'big'", fx.err);
	fixture_release(&fx);

	/* exactly 2^64 - 1 in two streams is fine: W is per stream */
	fixture_init(&fx, "0.5", 10);
	probe(&fx, ID("big"), ID("a"), UINT64_MAX, UINT64_MAX, 0);
	probe(&fx, ID("big2"), ID("b"), 1, 1, 0);
	ck_assert_int_eq(build(&fx), LEDGER_OK);
	assert_stream(&fx.ledger, 0, ID("big"), 10, 1, UINT64_MAX, 10, 0, 0);
	assert_totals(&fx.ledger, 2, 2, 20, 20, 0, 0);
	fixture_release(&fx);
}
END_TEST

/*
 * Amounts are unsigned: there is no negative pool any more (it was bad
 * input, LEDGER_OVERFLOW).  The edge of the new range instead: the
 * largest default pool, 2^256 - 1, settles a stream that uses it, and is
 * harmless when no stream does.
 */
START_TEST(test_max_pool)
{
	struct fixture fx;

	fixture_init(&fx, "0.5", 0);
	fx.settings.default_pool = amt(MAX_TEXT);
	probe(&fx, ID("s"), ID("n"), 1, 1, 1);
	ck_assert_int_eq(build(&fx), LEDGER_OK);
	/* one failure at f = 0.5: 2^255 - 1 paid, 2^255 forfeited */
	assert_row_text(&fx.ledger, 0, ID("s"), ID("n"), 1, 1, 1, 1000000, 1000000, MAX_TEXT,
					"57896044618658097711785492504343953926634992332820282019728792003956564819967",
					HALF_TEXT);
	assert_totals_text(
		&fx.ledger, 1, 1, MAX_TEXT,
		"57896044618658097711785492504343953926634992332820282019728792003956564819967", HALF_TEXT,
		"0");
	fixture_release(&fx);

	fixture_init(&fx, "0.5", 0);
	fx.settings.default_pool = amt(MAX_TEXT);
	probe(&fx, ID("s"), ID("n"), 1, 1, 0);
	pool(&fx, ID("s"), 6);
	ck_assert_int_eq(build(&fx), LEDGER_OK);
	assert_totals(&fx.ledger, 1, 1, 6, 6, 0, 0);
	fixture_release(&fx);
}
END_TEST

/* ---- totals past 2^64 ---- */

/*
 * 300 streams s000..s299, stream i with pool 2^62 + i; every third (i = 0,
 * 3, .., 297) has one node with S = 1, which is paid the whole pool.
 *   pool        300 * 2^62 + (0 + .. + 299) = 1383505805528216416050
 *   paid        100 * 2^62 + 3 * (0 + .. + 99) = 461168601842738805250
 *   unallocated 200 * 2^62 + 44850 - 14850 = 922337203685477610800
 * all past 2^64 = 18446744073709551616, from amounts that each fit 63 bits.
 */
START_TEST(test_totals_past_2_64)
{
	struct fixture fx;
	char           ids[300][5];

	fixture_init(&fx, "0.5", 0);
	for (int i = 0; i < 300; i++)
	{
		snprintf(ids[i], sizeof(ids[i]), "s%03d", i);
		pool(&fx, ids[i], 4, (UINT64_C(1) << 62) + (uint64_t) i);
		if (i % 3 == 0)
			probe(&fx, ids[i], 4, ID("n"), 1, 1, 0);
	}
	ck_assert_int_eq(build(&fx), LEDGER_OK);
	assert_totals_text(&fx.ledger, 300, 100, "1383505805528216416050", "461168601842738805250", "0",
					   "922337203685477610800");
	assert_stream(&fx.ledger, 299, ID("s299"), (UINT64_C(1) << 62) + 299, 0, 0, 0, 0,
				  (UINT64_C(1) << 62) + 299);
	assert_stream(&fx.ledger, 297, ID("s297"), (UINT64_C(1) << 62) + 297, 1, 1,
				  (UINT64_C(1) << 62) + 297, 0, 0);
	fixture_release(&fx);
}
END_TEST

/* ---- ledger_check: the books' invariant check ---- */

/*
 * A settled ledger to corrupt, f = 0.5:
 *   a: pool 1000; x (S 3, F 1) base 750 paid 375, y (S 1) base 250 paid 250
 *   b: pool 2^256 - 2^255 - 2 = 2^255 - 2; z (S 1, F 1): base 2^255 - 2, paid
 *      2^254 - 1, forfeited 2^254 - 1; w (S 0)
 *   c: pool 5, no probes: unallocated 5
 * Its rows and streams are copied into arrays the test may change.
 */
struct books
{
	struct fixture       fx;
	struct ledger_row    rows[8];
	struct ledger_stream streams[8];
	struct ledger        l; /* a view of the copies */
};

static void
books_init(struct books *b)
{
	fixture_init(&b->fx, "0.5", 0);
	probe(&b->fx, ID("a"), ID("x"), 3, 3, 1);
	probe(&b->fx, ID("a"), ID("y"), 1, 1, 0);
	probe(&b->fx, ID("b"), ID("z"), 1, 1, 1);
	probe(&b->fx, ID("b"), ID("w"), 1, 0, 0);
	pool(&b->fx, ID("a"), 1000);
	pool_text(&b->fx, ID("b"),
			  "57896044618658097711785492504343953926634992332820282019728792003956564819966");
	pool(&b->fx, ID("c"), 5);
	ck_assert_int_eq(build(&b->fx), LEDGER_OK);
	ck_assert_uint_eq(b->fx.ledger.nrows, 4);
	ck_assert_uint_eq(b->fx.ledger.nstreams, 3);
	assert_row_text(
		&b->fx.ledger, 3, ID("b"), ID("z"), 1, 1, 1, 1000000, 1000000,
		"57896044618658097711785492504343953926634992332820282019728792003956564819966",
		"28948022309329048855892746252171976963317496166410141009864396001978282409983",
		"28948022309329048855892746252171976963317496166410141009864396001978282409983");
	memcpy(b->rows, b->fx.ledger.rows, 4 * sizeof(b->rows[0]));
	memcpy(b->streams, b->fx.ledger.streams, 3 * sizeof(b->streams[0]));
	b->l = b->fx.ledger;
	b->l.rows = b->rows;
	b->l.streams = b->streams;
}

/* Makes b's totals the sums of its streams again, in the reference's arithmetic. */
static void
fix_totals(struct books *b)
{
	struct big sum[4] = { big_u64(0), big_u64(0), big_u64(0), big_u64(0) };

	b->l.totals.streams = b->l.nstreams;
	b->l.totals.nodes = 0;
	for (size_t i = 0; i < b->l.nstreams; i++)
	{
		const struct ledger_stream *st = &b->l.streams[i];
		const struct amount *a[4] = { &st->pool, &st->paid, &st->forfeited, &st->unallocated };

		for (int k = 0; k < 4; k++)
		{
			struct big x = big_amt(a[k]);

			sum[k] = big_add(sum[k], &x);
		}
		b->l.totals.nodes += st->nodes;
	}
	b->l.totals.pool = amt_big(&sum[0]);
	b->l.totals.paid = amt_big(&sum[1]);
	b->l.totals.forfeited = amt_big(&sum[2]);
	b->l.totals.unallocated = amt_big(&sum[3]);
}

/* ledger_check refuses b's ledger with a message holding each of want[]. */
static void
assert_refused(struct books *b, const char *what, const char *want1, const char *want2)
{
	char err[512] = "";

	ck_assert_msg(!ledger_check(&b->l, err, sizeof(err)), "%s: accepted", what);
	ck_assert_msg(want1 == NULL || strstr(err, want1) != NULL, "%s: message '%s' lacks %s", what,
				  err, want1);
	ck_assert_msg(want2 == NULL || strstr(err, want2) != NULL, "%s: message '%s' lacks %s", what,
				  err, want2);
}

static void
add_one(struct amount *a)
{
	ck_assert(amount_add_u64(a, 1));
}

static void
sub_one(struct amount *a)
{
	struct amount one = amt_u64(1);

	ck_assert(amount_sub(a, &one));
}

START_TEST(test_check_accepts)
{
	struct books b;
	char         err[512] = "";

	books_init(&b);
	ck_assert_msg(ledger_check(&b.fx.ledger, err, sizeof(err)), "refused: %s", err);
	ck_assert_msg(ledger_check(&b.l, err, sizeof(err)), "the copy refused: %s", err);
	fixture_release(&b.fx);

	/* nothing at all */
	memset(&b.l, 0, sizeof(b.l));
	ck_assert(ledger_check(&b.l, err, sizeof(err)));
}
END_TEST

/* Row and stream amounts changed by one unit. */
START_TEST(test_check_amounts)
{
	struct books b;

	/* one row's payout: base != payout + forfeited */
	books_init(&b);
	add_one(&b.rows[1].payout);
	assert_refused(&b, "row payout + 1", "'a'", "'y'");
	fixture_release(&b.fx);

	/* one row's payout and forfeited moved together: the row balances, its stream does not */
	books_init(&b);
	add_one(&b.rows[3].payout);
	sub_one(&b.rows[3].forfeited);
	assert_refused(&b, "row payout + 1, forfeited - 1", "'b'", NULL);
	fixture_release(&b.fx);

	/* one stream's paid */
	books_init(&b);
	add_one(&b.streams[1].paid);
	assert_refused(&b, "stream paid + 1", "'b'", NULL);
	fixture_release(&b.fx);

	/* one stream's forfeited */
	books_init(&b);
	sub_one(&b.streams[0].forfeited);
	assert_refused(&b, "stream forfeited - 1", "'a'", NULL);
	fixture_release(&b.fx);

	/* paid + forfeited + unallocated != pool */
	books_init(&b);
	add_one(&b.streams[2].unallocated);
	assert_refused(&b, "stream unallocated + 1", "'c'", NULL);
	fixture_release(&b.fx);

	books_init(&b);
	sub_one(&b.streams[1].pool);
	assert_refused(&b, "stream pool - 1", "'b'", NULL);
	fixture_release(&b.fx);

	/* a stream's node count */
	books_init(&b);
	b.streams[0].nodes++;
	assert_refused(&b, "stream nodes + 1", "'a'", NULL);
	fixture_release(&b.fx);
}
END_TEST

/* Order and uniqueness of rows and streams. */
START_TEST(test_check_order)
{
	struct books         b;
	struct ledger_row    tmp;
	struct ledger_stream st;

	/* two rows of a stream swapped */
	books_init(&b);
	tmp = b.rows[2];
	b.rows[2] = b.rows[3];
	b.rows[3] = tmp;
	assert_refused(&b, "rows swapped", "'b'", NULL);
	fixture_release(&b.fx);

	/* rows of two streams swapped */
	books_init(&b);
	tmp = b.rows[1];
	b.rows[1] = b.rows[2];
	b.rows[2] = tmp;
	assert_refused(&b, "rows swapped across streams", NULL, NULL);
	fixture_release(&b.fx);

	/* a row twice: a/y (its stream's count and sums, and the totals, adjusted to match) */
	books_init(&b);
	memmove(&b.rows[2], &b.rows[1], 3 * sizeof(b.rows[0]));
	b.l.nrows = 5;
	b.streams[0].nodes = 3;
	ck_assert(amount_add(&b.streams[0].paid, &b.rows[1].payout));
	ck_assert(amount_add(&b.streams[0].forfeited, &b.rows[1].forfeited));
	ck_assert(amount_add(&b.streams[0].pool, &b.rows[1].base));
	fix_totals(&b);
	assert_refused(&b, "row repeated", "'a'", NULL);
	fixture_release(&b.fx);

	/* two streams swapped */
	books_init(&b);
	st = b.streams[0];
	b.streams[0] = b.streams[1];
	b.streams[1] = st;
	assert_refused(&b, "streams swapped", NULL, NULL);
	fixture_release(&b.fx);

	/* a stream twice: c repeated at the end, the totals counting it twice */
	books_init(&b);
	b.streams[3] = b.streams[2];
	b.l.nstreams = 4;
	fix_totals(&b);
	assert_refused(&b, "stream repeated", "'c'", NULL);
	fixture_release(&b.fx);

	/* ... or next to itself */
	books_init(&b);
	memmove(&b.streams[1], &b.streams[0], 3 * sizeof(b.streams[0]));
	b.l.nstreams = 4;
	fix_totals(&b);
	assert_refused(&b, "stream a repeated", "'a'", NULL);
	fixture_release(&b.fx);
}
END_TEST

/*
 * Rows whose stream is not among the streams, the totals made the sums of
 * the streams left so that nothing else is wrong: b dropped (its rows
 * last), or a (its rows first).
 */
START_TEST(test_check_row_without_stream)
{
	struct books b;

	books_init(&b);
	b.streams[1] = b.streams[2];
	b.l.nstreams = 2;
	fix_totals(&b);
	assert_refused(&b, "stream b missing", NULL, NULL);
	fixture_release(&b.fx);

	books_init(&b);
	b.streams[0] = b.streams[1];
	b.streams[1] = b.streams[2];
	b.l.nstreams = 2;
	fix_totals(&b);
	assert_refused(&b, "stream a missing", NULL, NULL);
	fixture_release(&b.fx);
}
END_TEST

/*
 * The refusal of rows whose stream is missing names that stream (as every
 * other refusal names the stream at fault): b dropped, its rows last; a
 * dropped, its rows first (then b, whose books are right, must not be
 * blamed instead).
 */
START_TEST(test_check_row_without_stream_named)
{
	static const char *const missing[] = { "'b'", "'a'" };
	struct books             b;
	char                     err[512] = "";

	books_init(&b);
	if (_i == 0)
		b.streams[1] = b.streams[2];
	else
	{
		b.streams[0] = b.streams[1];
		b.streams[1] = b.streams[2];
	}
	b.l.nstreams = 2;
	fix_totals(&b);
	ck_assert(!ledger_check(&b.l, err, sizeof(err)));
	ck_assert_msg(strstr(err, missing[_i]) != NULL,
				  "stream %s missing: message '%s' does not name it", missing[_i], err);
	fixture_release(&b.fx);
}
END_TEST

/* The totals off by one, each figure in turn. */
START_TEST(test_check_totals)
{
	struct books b;

	for (int which = 0; which < 6; which++)
	{
		books_init(&b);
		switch (which)
		{
			case 0:
				add_one(&b.l.totals.pool);
				break;
			case 1:
				sub_one(&b.l.totals.paid);
				break;
			case 2:
				add_one(&b.l.totals.forfeited);
				break;
			case 3:
				sub_one(&b.l.totals.unallocated);
				break;
			case 4:
				b.l.totals.streams++;
				break;
			default:
				b.l.totals.nodes--;
				break;
		}
		assert_refused(&b, "totals", "totals", NULL);
		fixture_release(&b.fx);
	}
}
END_TEST

/* ---- ledger_sum_totals ---- */

/* The totals of a built ledger, forgotten and summed again; the sums by the reference. */
START_TEST(test_sum_totals)
{
	struct books         b;
	struct ledger_totals built;
	struct big           sum[4] = { big_u64(0), big_u64(0), big_u64(0), big_u64(0) };
	const struct amount *got[4];
	char                 err[512], text[BIG_TEXT];

	books_init(&b);
	built = b.fx.ledger.totals;
	memset(&b.l.totals, 0xa5, sizeof(b.l.totals));
	ck_assert(ledger_sum_totals(&b.l));
	got[0] = &b.l.totals.pool;
	got[1] = &b.l.totals.paid;
	got[2] = &b.l.totals.forfeited;
	got[3] = &b.l.totals.unallocated;
	for (size_t i = 0; i < b.l.nstreams; i++)
	{
		const struct ledger_stream *st = &b.streams[i];
		const struct amount *a[4] = { &st->pool, &st->paid, &st->forfeited, &st->unallocated };

		for (int k = 0; k < 4; k++)
		{
			struct big x = big_amt(a[k]);

			sum[k] = big_add(sum[k], &x);
		}
	}
	for (int k = 0; k < 4; k++)
		ck_assert_str_eq(amt_text(got[k]), big_text(&sum[k], text));
	ck_assert(amount_cmp(&b.l.totals.pool, &built.pool) == 0 &&
			  amount_cmp(&b.l.totals.paid, &built.paid) == 0 &&
			  amount_cmp(&b.l.totals.forfeited, &built.forfeited) == 0 &&
			  amount_cmp(&b.l.totals.unallocated, &built.unallocated) == 0);
	/* 1000 + 2^255 - 2 + 5; 375 + 250 + 2^254 - 1 paid; 5 unallocated */
	ck_assert_str_eq(
		amt_text(&b.l.totals.pool),
		"57896044618658097711785492504343953926634992332820282019728792003956564820971");
	ck_assert_str_eq(
		amt_text(&b.l.totals.paid),
		"28948022309329048855892746252171976963317496166410141009864396001978282410608");
	ck_assert_str_eq(amt_text(&b.l.totals.unallocated), "5");
	ck_assert_uint_eq(b.l.totals.streams, 3);
	ck_assert_uint_eq(b.l.totals.nodes, 4);
	ck_assert_msg(ledger_check(&b.l, err, sizeof(err)), "refused: %s", err);
	fixture_release(&b.fx);
}
END_TEST

/* Streams read back whose pools add up to 2^256 - 1 sum; one unit more does not. */
START_TEST(test_sum_totals_overflow)
{
	struct ledger_stream st[2];
	struct ledger        l;
	char                 err[512];

	memset(st, 0, sizeof(st));
	memset(&l, 0, sizeof(l));
	st[0].stream = "a";
	st[0].stream_len = 1;
	st[0].pool = st[0].unallocated = amt(HALF_TEXT);
	st[1].stream = "b";
	st[1].stream_len = 1;
	st[1].pool = st[1].unallocated = amt(
		"57896044618658097711785492504343953926634992332820282019728792003956564819967");
	l.streams = st;
	l.nstreams = 2;
	ck_assert(ledger_sum_totals(&l));
	ck_assert_str_eq(amt_text(&l.totals.pool), MAX_TEXT);
	ck_assert_str_eq(amt_text(&l.totals.unallocated), MAX_TEXT);
	ck_assert(amount_is_zero(&l.totals.paid) && amount_is_zero(&l.totals.forfeited));
	ck_assert_uint_eq(l.totals.streams, 2);
	ck_assert_uint_eq(l.totals.nodes, 0);
	ck_assert_msg(ledger_check(&l, err, sizeof(err)), "refused: %s", err);

	/* 2^255 + 2^255 = 2^256 */
	add_one(&st[1].pool);
	add_one(&st[1].unallocated);
	ck_assert(!ledger_sum_totals(&l));
	ck_assert(!ledger_check(&l, err, sizeof(err)));
	ck_assert_msg(strstr(err, "2^256 - 1") != NULL, "message '%s'", err);
}
END_TEST

/* ---- random aggregates against a naive settlement ---- */

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

#define MAXID 3

struct model_id
{
	char   b[MAXID];
	size_t len;
};

struct model_pair
{
	struct model_id   stream;
	struct model_id   node;
	struct agg_counts counts;
};

struct model_pool
{
	struct model_id stream;
	struct big      amount;
};

static int
model_pair_cmp(const void *x, const void *y)
{
	const struct model_pair *a = x;
	const struct model_pair *b = y;
	int                      c = ref_cmp(a->stream.b, a->stream.len, b->stream.b, b->stream.len);

	return c ? c : ref_cmp(a->node.b, a->node.len, b->node.b, b->node.len);
}

static int
model_id_cmp(const void *x, const void *y)
{
	const struct model_id *a = x;
	const struct model_id *b = y;

	return ref_cmp(a->b, a->len, b->b, b->len);
}

static void
random_id(uint64_t *rng, struct model_id *id)
{
	static const char alphabet[] = { 'a', 'b', '\0', (char) 0x80, 'A' };

	id->len = 1 + (size_t) (next_random(rng) % MAXID);
	for (size_t i = 0; i < id->len; i++)
		id->b[i] = alphabet[next_random(rng) % sizeof(alphabet)];
}

/* A random number below 2^bits. */
static struct big
random_bits(uint64_t *rng, int bits)
{
	struct big b = big_u64(0);

	for (int i = 0; i < 8; i++)
		b.w[i] = (uint32_t) next_random(rng);
	for (int i = 0; i < 8; i++)
	{
		int lo = 32 * i;

		if (bits <= lo)
			b.w[i] = 0;
		else if (bits < lo + 32)
			b.w[i] &= (UINT32_C(1) << (bits - lo)) - 1;
	}
	return b;
}

/*
 * Small amounts, or (huge) any of 2^256: the top few bits of 2^256, often
 * enough for two or three of them to pass 2^256 - 1 together, or any
 * length of bits.
 */
static struct big
random_amount(uint64_t *rng, bool huge)
{
	switch (next_random(rng) % 5)
	{
		case 0:
			return big_u64(0);
		case 1:
			return big_u64(next_random(rng) % 100);
		case 2:
			return big_u64(next_random(rng) % 1000000000);
		case 3:
			return huge ? random_bits(rng, 1 + (int) (next_random(rng) % 256))
						: big_u64(next_random(rng) % 1000);
		default:
			return huge ? random_bits(rng, 254 + (int) (next_random(rng) % 3))
						: big_u64(next_random(rng) % 1000);
	}
}

/*
 * One stream, the rules literally: floor(pool * S / W), then the leftover
 * units one at a time to the largest remaining (pool * S) mod W, smallest
 * id first; then x = floor(x * a / b) once per failure, stopping at 0.
 */
static void
ref_settle(const struct big *pool_amount, const struct payout_keep *k, const struct model_pair *p,
		   size_t n, uint64_t w, struct big *base, struct big *payout)
{
	bool       given[64] = { false };
	uint64_t   rem[64];
	struct big sum = big_u64(0), left, units;

	require(n <= 64, "too many nodes for the reference");
	for (size_t i = 0; i < n; i++)
	{
		struct big prod = big_mul(pool_amount, p[i].counts.successful_polls);

		base[i] = big_u64(0);
		rem[i] = w == 0 ? 0 : big_divmod(&base[i], &prod, w);
		sum = big_add(sum, &base[i]);
	}
	left = w == 0 ? big_u64(0) : big_sub(*pool_amount, &sum);
	units = big_u64(left.w[0]);
	require(big_cmp(&left, &units) == 0 && left.w[0] <= n, "more units left than nodes");
	for (uint32_t u = left.w[0]; u > 0; u--)
	{
		size_t best = n;

		for (size_t i = 0; i < n; i++)
		{
			if (given[i])
				continue;
			if (best == n || rem[i] > rem[best] ||
				(rem[i] == rem[best] &&
				 ref_cmp(p[i].node.b, p[i].node.len, p[best].node.b, p[best].node.len) < 0))
				best = i;
		}
		require(best < n, "more units left than nodes");
		given[best] = true;
		base[best] = big_add_u64(base[best], 1);
	}
	for (size_t i = 0; i < n; i++)
	{
		struct big x = base[i];

		for (uint64_t f = 0; f < p[i].counts.failed_spot_checks && !big_is_zero(&x); f++)
		{
			x = big_mul(&x, k->num);
			(void) big_divmod(&x, &x, k->den);
		}
		payout[i] = x;
	}
}

static uint32_t
ref_ppm(uint64_t num, uint64_t den)
{
	return den == 0 ? 0 : (uint32_t) ((u128) num * 1000000 / den);
}

START_TEST(test_random_vs_model)
{
	enum
	{
		ITERS = 3000,
		MAXPAIRS = 64,
		MAXPOOLS = 16
	};
	static const char *const penalties[] = { "0",    "1",   "0.5",      "0.1",
											 "0.25", "0.4", "0.000001", "0.999999" };
	uint64_t                 rng = 20261101;
	int                      n_ok = 0, n_overflow = 0, n_pool_only = 0, n_default = 0;
	int                      n_remainder = 0, n_penalized = 0, n_past64 = 0, n_huge_row = 0;
	const struct big         u64max = big_u64(UINT64_MAX);
	char                     text[BIG_TEXT];

	for (int iter = 0; iter < ITERS; iter++)
	{
		struct model_pair  pairs[MAXPAIRS];
		struct model_pool  pl[MAXPOOLS];
		struct model_id    uni[MAXPAIRS + MAXPOOLS];
		size_t             np = 0, npl = 0, nu = 0;
		bool               huge = next_random(&rng) % 8 == 0;
		const char        *penalty = penalties[next_random(&rng) % 8];
		struct fixture     fx;
		enum ledger_status status;
		bool               want_overflow = false;
		struct big         total_pool = big_u64(0), max = big_max();
		size_t             ri = 0;
		struct big         sum_pool = big_u64(0), sum_paid = big_u64(0);
		struct big         sum_forfeited = big_u64(0), sum_unalloc = big_u64(0);
		struct big         dflt = random_amount(&rng, huge);
		uint64_t           sum_nodes = 0;

		fixture_init(&fx, penalty, 0);
		fx.settings.default_pool = amt_big(&dflt);

		/* probes: some repeated pairs, some streams reused */
		for (int k = 0, nadd = (int) (next_random(&rng) % 40); k < nadd; k++)
		{
			struct model_pair q;
			size_t            m;

			memset(&q, 0, sizeof(q));
			if (np > 0 && next_random(&rng) % 3 == 0)
				q.stream = pairs[next_random(&rng) % np].stream;
			else
				random_id(&rng, &q.stream);
			random_id(&rng, &q.node);
			q.counts.total_polls = next_random(&rng) % 20;
			q.counts.successful_polls = q.counts.total_polls
											? next_random(&rng) % (q.counts.total_polls + 1)
											: 0;
			if (huge && next_random(&rng) % 4 == 0)
				q.counts.successful_polls = q.counts.total_polls = next_random(&rng) >> 1;
			q.counts.failed_spot_checks = next_random(&rng) % 4 == 0 ? next_random(&rng) % 6 : 0;
			for (m = 0; m < np; m++)
				if (model_pair_cmp(&pairs[m], &q) == 0)
					break;
			if (m == np)
			{
				if (np == MAXPAIRS)
					continue;
				pairs[np] = q;
				memset(&pairs[np].counts, 0, sizeof(pairs[np].counts));
				np++;
			}
			/* the aggregate refuses a counter overflow: skip such an add in both */
			if (pairs[m].counts.total_polls + q.counts.total_polls < pairs[m].counts.total_polls ||
				pairs[m].counts.successful_polls + q.counts.successful_polls <
					pairs[m].counts.successful_polls)
				continue;
			pairs[m].counts.total_polls += q.counts.total_polls;
			pairs[m].counts.successful_polls += q.counts.successful_polls;
			pairs[m].counts.failed_spot_checks += q.counts.failed_spot_checks;
			probe(&fx, q.stream.b, q.stream.len, q.node.b, q.node.len, q.counts.total_polls,
				  q.counts.successful_polls, q.counts.failed_spot_checks);
		}
		qsort(pairs, np, sizeof(pairs[0]), model_pair_cmp);

		/* pools: some streams with probes, some without; distinct */
		for (int k = 0, nk = (int) (next_random(&rng) % MAXPOOLS); k < nk; k++)
		{
			struct model_pool e;
			bool              dup = false;

			if (np > 0 && next_random(&rng) % 2)
				e.stream = pairs[next_random(&rng) % np].stream;
			else
				random_id(&rng, &e.stream);
			e.amount = random_amount(&rng, huge);
			for (size_t m = 0; m < npl; m++)
				dup |= model_id_cmp(&pl[m].stream, &e.stream) == 0;
			if (dup)
				continue;
			pl[npl++] = e;
			pool_text(&fx, e.stream.b, e.stream.len, big_text(&e.amount, text));
		}

		/* the union of streams, sorted */
		for (size_t m = 0; m < np; m++)
			if (nu == 0 || model_id_cmp(&uni[nu - 1], &pairs[m].stream) != 0)
				uni[nu++] = pairs[m].stream;
		for (size_t m = 0; m < npl; m++)
		{
			bool seen = false;

			for (size_t u = 0; u < nu; u++)
				seen |= model_id_cmp(&uni[u], &pl[m].stream) == 0;
			if (!seen)
			{
				uni[nu++] = pl[m].stream;
				n_pool_only++;
			}
		}
		qsort(uni, nu, sizeof(uni[0]), model_id_cmp);

		/* overflow: a stream's W past 2^64 - 1, or the pools past 2^256 - 1 */
		for (size_t u = 0; u < nu; u++)
		{
			u128       w = 0;
			struct big amount = dflt;

			for (size_t m = 0; m < np; m++)
				if (model_id_cmp(&pairs[m].stream, &uni[u]) == 0)
					w += pairs[m].counts.successful_polls;
			for (size_t m = 0; m < npl; m++)
				if (model_id_cmp(&pl[m].stream, &uni[u]) == 0)
					amount = pl[m].amount;
			want_overflow |= w > UINT64_MAX;
			total_pool = big_add(total_pool, &amount);
		}
		want_overflow |= big_cmp(&total_pool, &max) > 0;
		n_past64 += !want_overflow && big_cmp(&total_pool, &u64max) > 0;

		status = build(&fx);
		if (want_overflow)
		{
			require(status == LEDGER_OVERFLOW && fx.err[0] != '\0',
					"iteration %d: status %d, want overflow", iter, status);
			n_overflow++;
			fixture_release(&fx);
			continue;
		}
		require(status == LEDGER_OK, "iteration %d: status %d: %s", iter, status, fx.err);
		n_ok++;

		/* streams = the union, in order */
		require(fx.ledger.nstreams == nu && fx.ledger.nrows == np,
				"iteration %d: %zu streams %zu rows, want %zu %zu", iter, fx.ledger.nstreams,
				fx.ledger.nrows, nu, np);
		for (size_t u = 0; u < nu; u++)
		{
			const struct ledger_stream *st = &fx.ledger.streams[u];
			const struct model_pair    *sp = &pairs[ri];
			size_t                      n = 0;
			struct big                  amount = dflt;
			bool                        listed = false;
			u128                        w = 0;
			struct big                  base[MAXPAIRS], payout[MAXPAIRS];
			struct big                  paid = big_u64(0), forfeited = big_u64(0);
			struct big                  base_sum = big_u64(0), whole;
			struct amount               want_pool;

			require(id_is(st->stream, st->stream_len, uni[u].b, uni[u].len),
					"iteration %d: stream %zu is not the union's", iter, u);
			if (u > 0)
				require(ref_cmp(fx.ledger.streams[u - 1].stream,
								fx.ledger.streams[u - 1].stream_len, st->stream,
								st->stream_len) < 0,
						"iteration %d: streams %zu and %zu out of order", iter, u - 1, u);
			for (size_t m = 0; m < npl; m++)
				if (model_id_cmp(&pl[m].stream, &uni[u]) == 0)
				{
					amount = pl[m].amount;
					listed = true;
				}
			n_default += !listed;
			while (ri + n < np && model_id_cmp(&pairs[ri + n].stream, &uni[u]) == 0)
				w += pairs[ri + n++].counts.successful_polls;
			ref_settle(&amount, &fx.settings.keep, sp, n, (uint64_t) w, base, payout);

			for (size_t i = 0; i < n; i++)
			{
				const struct ledger_row *r = &fx.ledger.rows[ri + i];

				require(id_is(r->stream, r->stream_len, sp[i].stream.b, sp[i].stream.len) &&
							id_is(r->node, r->node_len, sp[i].node.b, sp[i].node.len),
						"iteration %d: row %zu is not the model's", iter, ri + i);
				if (ri + i > 0)
				{
					const struct ledger_row *prev = r - 1;
					int c = ref_cmp(prev->stream, prev->stream_len, r->stream, r->stream_len);

					require(c < 0 || (c == 0 && ref_cmp(prev->node, prev->node_len, r->node,
														r->node_len) < 0),
							"iteration %d: rows %zu and %zu out of order", iter, ri + i - 1,
							ri + i);
				}
				require(memcmp(&r->counts, &sp[i].counts, sizeof(r->counts)) == 0,
						"iteration %d: row %zu counts", iter, ri + i);
				require(r->uptime_ppm ==
								ref_ppm(sp[i].counts.successful_polls, sp[i].counts.total_polls) &&
							r->contribution_ppm ==
								ref_ppm(sp[i].counts.successful_polls, (uint64_t) w),
						"iteration %d: row %zu ppm %u %u", iter, ri + i, r->uptime_ppm,
						r->contribution_ppm);
				{
					struct big    forf = big_sub(base[i], &payout[i]);
					struct amount wb = amt_big(&base[i]), wp = amt_big(&payout[i]);
					struct amount wf = amt_big(&forf);

					require(amount_cmp(&r->base, &wb) == 0 && amount_cmp(&r->payout, &wp) == 0 &&
								amount_cmp(&r->forfeited, &wf) == 0,
							"iteration %d: row %zu base %s payout %s forfeited %s, "
							"want %s %s %s",
							iter, ri + i, amt_text(&r->base), amt_text(&r->payout),
							amt_text(&r->forfeited), amt_text(&wb), amt_text(&wp), amt_text(&wf));
				}
				if (w > 0)
				{
					struct big prod = big_mul(&amount, sp[i].counts.successful_polls), q;

					if (big_divmod(&q, &prod, (uint64_t) w) != 0 && big_cmp(&q, &base[i]) < 0)
						n_remainder++;
				}
				n_penalized += big_cmp(&payout[i], &base[i]) < 0;
				n_huge_row += big_cmp(&base[i], &u64max) > 0;
				paid = big_add(paid, &payout[i]);
				whole = big_sub(base[i], &payout[i]);
				forfeited = big_add(forfeited, &whole);
				base_sum = big_add(base_sum, &base[i]);
			}
			want_pool = amt_big(&amount);
			require(amount_cmp(&st->pool, &want_pool) == 0 && st->nodes == n &&
						st->total_successful_polls == w,
					"iteration %d: stream %zu pool %s nodes %llu W %llu", iter, u,
					amt_text(&st->pool), (unsigned long long) st->nodes,
					(unsigned long long) st->total_successful_polls);
			{
				struct amount wpaid = amt_big(&paid), wforf = amt_big(&forfeited);
				struct big    un = w == 0 ? amount : big_u64(0);
				struct amount wun = amt_big(&un);

				/* the stream's own figures; base_sum + unallocated = pool */
				require(
					amount_cmp(&st->paid, &wpaid) == 0 && amount_cmp(&st->forfeited, &wforf) == 0 &&
						amount_cmp(&st->unallocated, &wun) == 0,
					"iteration %d: stream %zu paid %s forfeited %s unallocated %s, "
					"want %s %s %s",
					iter, u, amt_text(&st->paid), amt_text(&st->forfeited),
					amt_text(&st->unallocated), amt_text(&wpaid), amt_text(&wforf), amt_text(&wun));
				/* every stream balances; with W > 0 every unit is handed out */
				whole = big_add(base_sum, &un);
				require(big_cmp(&whole, &amount) == 0, "iteration %d: stream %zu does not balance",
						iter, u);
				whole = big_add(big_add(paid, &forfeited), &un);
				require(big_cmp(&whole, &amount) == 0, "iteration %d: stream %zu does not balance",
						iter, u);
				sum_unalloc = big_add(sum_unalloc, &un);
			}
			sum_pool = big_add(sum_pool, &amount);
			sum_paid = big_add(sum_paid, &paid);
			sum_forfeited = big_add(sum_forfeited, &forfeited);
			sum_nodes += st->nodes;
			ri += n;
		}
		/* the totals are the sums of the streams, and balance */
		{
			const struct ledger_totals *t = &fx.ledger.totals;
			struct amount               want[4] = { amt_big(&sum_pool), amt_big(&sum_paid),
													amt_big(&sum_forfeited), amt_big(&sum_unalloc) };
			struct big whole = big_add(big_add(sum_paid, &sum_forfeited), &sum_unalloc);

			require(
				t->streams == nu && t->nodes == sum_nodes && sum_nodes == np &&
					amount_cmp(&t->pool, &want[0]) == 0 && amount_cmp(&t->paid, &want[1]) == 0 &&
					amount_cmp(&t->forfeited, &want[2]) == 0 &&
					amount_cmp(&t->unallocated, &want[3]) == 0 && big_cmp(&whole, &sum_pool) == 0,
				"iteration %d: totals %s %s %s %s, want %s %s %s %s", iter, amt_text(&t->pool),
				amt_text(&t->paid), amt_text(&t->forfeited), amt_text(&t->unallocated),
				amt_text(&want[0]), amt_text(&want[1]), amt_text(&want[2]), amt_text(&want[3]));
		}
		/* what ledger_build published passes the books' check */
		require(ledger_check(&fx.ledger, fx.err, sizeof(fx.err)), "iteration %d: %s", iter, fx.err);
		fixture_release(&fx);
	}
	/* the generator reached the interesting cases */
	ck_assert_int_gt(n_ok, 2000);
	ck_assert_int_gt(n_overflow, 20);
	ck_assert_int_gt(n_pool_only, 1000);
	ck_assert_int_gt(n_default, 1000);
	ck_assert_int_gt(n_remainder, 1000);
	ck_assert_int_gt(n_penalized, 1000);
	ck_assert_int_gt(n_past64, 100);
	ck_assert_int_gt(n_huge_row, 100);
}
END_TEST

static Suite *
ledger_suite(void)
{
	Suite *s = suite_create("ledger");
	TCase *tc;

	tc = tcase_create("reference");
	tcase_add_test(tc, test_reference_self_check);
	suite_add_tcase(s, tc);

	tc = tcase_create("settle");
	tcase_add_test(tc, test_union_and_default_pool);
	tcase_add_test(tc, test_largest_remainder);
	tcase_add_test(tc, test_remainder_ties_by_id);
	tcase_add_test(tc, test_penalty_floored_each_time);
	tcase_add_loop_test(tc, test_penalty_table, 0,
						(int) (sizeof(penalty_cases) / sizeof(penalty_cases[0])));
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_pools_only);
	tcase_add_test(tc, test_union_byte_order);
	tcase_add_test(tc, test_period_and_ids);
	suite_add_tcase(s, tc);

	tc = tcase_create("overflow");
	tcase_add_test(tc, test_overflow_pools);
	tcase_add_test(tc, test_overflow_default_pool);
	tcase_add_test(tc, test_overflow_successful_polls);
	tcase_add_test(tc, test_max_pool);
	suite_add_tcase(s, tc);

	tc = tcase_create("uint256");
	tcase_add_test(tc, test_totals_past_2_64);
	tcase_add_test(tc, test_sum_totals);
	tcase_add_test(tc, test_sum_totals_overflow);
	suite_add_tcase(s, tc);

	tc = tcase_create("check");
	tcase_add_test(tc, test_check_accepts);
	tcase_add_test(tc, test_check_amounts);
	tcase_add_test(tc, test_check_order);
	tcase_add_test(tc, test_check_row_without_stream);
	tcase_add_loop_test(tc, test_check_row_without_stream_named, 0, 2);
	tcase_add_test(tc, test_check_totals);
	suite_add_tcase(s, tc);

	tc = tcase_create("random");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_random_vs_model);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(ledger_suite());
	int      failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
