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
 * the union of those with probes and those in the pools.
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
typedef __int128          i128;

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

static void
fixture_init(struct fixture *fx, const char *penalty, int64_t default_pool)
{
	char err[128];

	memset(fx, 0, sizeof(*fx));
	aggregate_init(&fx->agg);
	pools_init(&fx->pools);
	ck_assert(period_parse("2026-11-01", PERIOD_LENGTH_DAY, &fx->period, err, sizeof(err)));
	ck_assert_msg(payout_keep_parse(penalty, &fx->settings.keep), "penalty '%s'", penalty);
	fx->settings.default_pool = default_pool;
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
pool(struct fixture *fx, const char *s, size_t slen, int64_t amount)
{
	pools_add(&fx->pools, s, slen, amount, fx->pools.count + 2);
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

/* Row i is (stream, node) with these counts, ppm and amounts. */
static void
assert_row(const struct ledger *l, size_t i, const char *s, size_t slen, const char *n, size_t nlen,
		   uint64_t t, uint64_t ok, uint64_t f, uint32_t uptime, uint32_t contribution,
		   int64_t base, int64_t payout)
{
	const struct ledger_row *r;

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
	ck_assert_msg(r->base == base && r->payout == payout && r->forfeited == base - payout,
				  "row %zu: base %lld payout %lld forfeited %lld, want %lld %lld %lld", i,
				  (long long) r->base, (long long) r->payout, (long long) r->forfeited,
				  (long long) base, (long long) payout, (long long) (base - payout));
}

static void
assert_stream(const struct ledger *l, size_t i, const char *s, size_t slen, int64_t pool_amount,
			  uint64_t nodes, uint64_t w, int64_t paid, int64_t forfeited, int64_t unallocated)
{
	const struct ledger_stream *st;

	ck_assert_msg(i < l->nstreams, "stream %zu of %zu", i, l->nstreams);
	st = &l->streams[i];
	ck_assert_msg(id_is(st->stream, st->stream_len, s, slen), "stream %zu is '%.*s'", i,
				  (int) st->stream_len, st->stream);
	ck_assert_msg(st->pool == pool_amount && st->nodes == nodes && st->total_successful_polls == w,
				  "stream %zu: pool %lld nodes %llu W %llu, want %lld %llu %llu", i,
				  (long long) st->pool, (unsigned long long) st->nodes,
				  (unsigned long long) st->total_successful_polls, (long long) pool_amount,
				  (unsigned long long) nodes, (unsigned long long) w);
	ck_assert_msg(st->paid == paid && st->forfeited == forfeited && st->unallocated == unallocated,
				  "stream %zu: paid %lld forfeited %lld unallocated %lld, want %lld %lld %lld", i,
				  (long long) st->paid, (long long) st->forfeited, (long long) st->unallocated,
				  (long long) paid, (long long) forfeited, (long long) unallocated);
}

static void
assert_totals(const struct ledger *l, uint64_t streams, uint64_t nodes, int64_t pool_amount,
			  int64_t paid, int64_t forfeited, int64_t unallocated)
{
	const struct ledger_totals *t = &l->totals;

	ck_assert_uint_eq(l->nstreams, streams);
	ck_assert_uint_eq(l->nrows, nodes);
	ck_assert_msg(t->streams == streams && t->nodes == nodes && t->pool == pool_amount &&
					  t->paid == paid && t->forfeited == forfeited && t->unallocated == unallocated,
				  "totals %llu %llu %lld %lld %lld %lld, want %llu %llu %lld %lld %lld %lld",
				  (unsigned long long) t->streams, (unsigned long long) t->nodes,
				  (long long) t->pool, (long long) t->paid, (long long) t->forfeited,
				  (long long) t->unallocated, (unsigned long long) streams,
				  (unsigned long long) nodes, (long long) pool_amount, (long long) paid,
				  (long long) forfeited, (long long) unallocated);
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
	int64_t     base;
	uint64_t    failed;
	int64_t     payout;
};

static const struct penalty_case penalty_cases[] = {
	{ "0.5", 100, 3, 12 },       /* 100 -> 50 -> 25 -> 12 */
	{ "1", 100, 1, 0 },          /* one failure forfeits everything */
	{ "1", 100, 0, 100 },        /* none, nothing */
	{ "0", 100, 1000, 100 },     /* f = 0: failures cost nothing */
	{ "0.25", 100, 2, 56 },      /* 100 -> 75 -> floor(56.25) */
	{ "0.000001", 100, 1, 99 },  /* floor(99.9999) */
	{ "0.4", 3, 2, 0 },          /* 3 -> 1 -> 0 */
	{ "0.5", INT64_MAX, 62, 1 }, /* floor((2^63 - 1) / 2^62) */
	{ "0.5", INT64_MAX, 63, 0 },
	{ "0.5", INT64_MAX, UINT64_MAX, 0 }, /* stops at 0 (the timeout catches a loop of F steps) */
};

START_TEST(test_penalty_table)
{
	const struct penalty_case *c = &penalty_cases[_i];
	struct fixture             fx;

	fixture_init(&fx, c->f, 0);
	probe(&fx, ID("s"), ID("n"), 1, 1, c->failed);
	pool(&fx, ID("s"), c->base);
	ck_assert_int_eq(build(&fx), LEDGER_OK);
	ck_assert_msg(fx.ledger.nrows == 1 && fx.ledger.rows[0].base == c->base &&
					  fx.ledger.rows[0].payout == c->payout &&
					  fx.ledger.rows[0].forfeited == c->base - c->payout,
				  "row %d: f %s base %lld F %llu: paid %lld, want %lld", _i, c->f,
				  (long long) c->base, (unsigned long long) c->failed,
				  (long long) fx.ledger.rows[0].payout, (long long) c->payout);
	assert_stream(&fx.ledger, 0, ID("s"), c->base, 1, 1, c->payout, c->base - c->payout, 0);
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

/* Pools summing past 2^63 - 1 are refused; exactly 2^63 - 1 is fine. */
START_TEST(test_overflow_pools)
{
	struct fixture fx;

	fixture_init(&fx, "0.5", 0);
	pool(&fx, ID("a"), INT64_MAX);
	pool(&fx, ID("b"), 1);
	ck_assert_int_eq(build(&fx), LEDGER_OVERFLOW);
	ck_assert_msg(fx.err[0] != '\0', "no reason given");
	fixture_release(&fx);

	fixture_init(&fx, "0.5", 0);
	pool(&fx, ID("a"), INT64_MAX - 5);
	pool(&fx, ID("b"), 5);
	probe(&fx, ID("b"), ID("n"), 1, 1, 0);
	ck_assert_int_eq(build(&fx), LEDGER_OK);
	assert_totals(&fx.ledger, 2, 1, INT64_MAX, 5, 0, INT64_MAX - 5);
	fixture_release(&fx);
}
END_TEST

/* The default pool counts once per stream using it. */
START_TEST(test_overflow_default_pool)
{
	struct fixture fx;

	fixture_init(&fx, "0.5", INT64_MAX);
	probe(&fx, ID("s1"), ID("n"), 1, 1, 0);
	probe(&fx, ID("s2"), ID("n"), 1, 1, 0);
	ck_assert_int_eq(build(&fx), LEDGER_OVERFLOW);
	ck_assert_msg(fx.err[0] != '\0', "no reason given");
	fixture_release(&fx);

	/* one stream: all 2^63 - 1 to its single node */
	fixture_init(&fx, "0.5", INT64_MAX);
	probe(&fx, ID("s1"), ID("n"), 1, 1, 0);
	ck_assert_int_eq(build(&fx), LEDGER_OK);
	assert_totals(&fx.ledger, 1, 1, INT64_MAX, INT64_MAX, 0, 0);
	fixture_release(&fx);

	/* unused: every stream is in the pools */
	fixture_init(&fx, "0.5", INT64_MAX);
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
 * A negative pool is bad input (LEDGER_OVERFLOW, "does not fit"), not a
 * broken invariant; a negative default nobody uses is harmless.
 */
START_TEST(test_negative_pool)
{
	struct fixture fx;

	fixture_init(&fx, "0.5", -1);
	probe(&fx, ID("s"), ID("n"), 1, 1, 0);
	ck_assert_int_eq(build(&fx), LEDGER_OVERFLOW);
	ck_assert_msg(strstr(fx.err, "'s'") != NULL, "reason '%s' does not name 's'", fx.err);
	fixture_release(&fx);

	fixture_init(&fx, "0.5", -1);
	probe(&fx, ID("s"), ID("n"), 1, 1, 0);
	pool(&fx, ID("s"), 6);
	ck_assert_int_eq(build(&fx), LEDGER_OK);
	assert_totals(&fx.ledger, 1, 1, 6, 6, 0, 0);
	fixture_release(&fx);
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
	int64_t         amount;
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

static int64_t
random_amount(uint64_t *rng, bool huge)
{
	switch (next_random(rng) % 5)
	{
		case 0:
			return 0;
		case 1:
			return (int64_t) (next_random(rng) % 100);
		case 2:
			return (int64_t) (next_random(rng) % 1000000000);
		default:
			return huge ? (int64_t) (next_random(rng) >> 2) : (int64_t) (next_random(rng) % 1000);
	}
}

/*
 * One stream, the rules literally: floor(pool * S / W), then the leftover
 * units one at a time to the largest remaining (pool * S) mod W, smallest
 * id first; then x = floor(x * a / b) once per failure, stopping at 0.
 */
static void
ref_settle(int64_t pool_amount, const struct payout_keep *k, const struct model_pair *p, size_t n,
		   uint64_t w, int64_t *base, int64_t *payout)
{
	bool    given[64] = { false };
	int64_t sum = 0;

	require(n <= 64, "too many nodes for the reference");
	for (size_t i = 0; i < n; i++)
	{
		base[i] = w == 0 ? 0 : (int64_t) ((u128) pool_amount * p[i].counts.successful_polls / w);
		sum += base[i];
	}
	for (int64_t left = w == 0 ? 0 : pool_amount - sum; left > 0; left--)
	{
		size_t   best = n;
		uint64_t best_rem = 0;

		for (size_t i = 0; i < n; i++)
		{
			uint64_t rem = (uint64_t) ((u128) pool_amount * p[i].counts.successful_polls % w);

			if (given[i])
				continue;
			if (best == n || rem > best_rem ||
				(rem == best_rem &&
				 ref_cmp(p[i].node.b, p[i].node.len, p[best].node.b, p[best].node.len) < 0))
			{
				best = i;
				best_rem = rem;
			}
		}
		require(best < n, "more units left than nodes");
		given[best] = true;
		base[best]++;
	}
	for (size_t i = 0; i < n; i++)
	{
		u128 x = (u128) base[i];

		for (uint64_t f = 0; f < p[i].counts.failed_spot_checks && x > 0; f++)
			x = x * k->num / k->den;
		payout[i] = (int64_t) x;
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
	int                      n_remainder = 0, n_penalized = 0;

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
		i128               total_pool = 0;
		size_t             ri = 0;
		int64_t            sum_pool = 0, sum_paid = 0, sum_forfeited = 0, sum_unalloc = 0;
		uint64_t           sum_nodes = 0;

		fixture_init(&fx, penalty, random_amount(&rng, huge));

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
			pool(&fx, e.stream.b, e.stream.len, e.amount);
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

		/* overflow: a stream's W past 2^64 - 1, or the pools past 2^63 - 1 */
		for (size_t u = 0; u < nu; u++)
		{
			u128    w = 0;
			int64_t amount = fx.settings.default_pool;

			for (size_t m = 0; m < np; m++)
				if (model_id_cmp(&pairs[m].stream, &uni[u]) == 0)
					w += pairs[m].counts.successful_polls;
			for (size_t m = 0; m < npl; m++)
				if (model_id_cmp(&pl[m].stream, &uni[u]) == 0)
					amount = pl[m].amount;
			want_overflow |= w > UINT64_MAX;
			total_pool += amount;
		}
		want_overflow |= total_pool > INT64_MAX;

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
			int64_t                     amount = fx.settings.default_pool;
			bool                        listed = false;
			u128                        w = 0;
			int64_t                     base[MAXPAIRS], payout[MAXPAIRS];
			int64_t                     paid = 0, forfeited = 0, base_sum = 0;

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
			ref_settle(amount, &fx.settings.keep, sp, n, (uint64_t) w, base, payout);

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
				require(r->base == base[i] && r->payout == payout[i] &&
							r->forfeited == base[i] - payout[i] && r->payout >= 0 &&
							r->payout <= r->base,
						"iteration %d: row %zu base %lld payout %lld forfeited %lld, "
						"want %lld %lld",
						iter, ri + i, (long long) r->base, (long long) r->payout,
						(long long) r->forfeited, (long long) base[i], (long long) payout[i]);
				if (w > 0 && (u128) r->base * w != (u128) amount * sp[i].counts.successful_polls &&
					(u128) r->base > (u128) amount * sp[i].counts.successful_polls / w)
					n_remainder++;
				n_penalized += r->payout < r->base;
				paid += r->payout;
				forfeited += r->forfeited;
				base_sum += r->base;
			}
			require(st->pool == amount && st->nodes == n && st->total_successful_polls == w &&
						st->paid == paid && st->forfeited == forfeited,
					"iteration %d: stream %zu pool %lld nodes %llu W %llu paid %lld", iter, u,
					(long long) st->pool, (unsigned long long) st->nodes,
					(unsigned long long) st->total_successful_polls, (long long) st->paid);
			/* every stream balances; with W > 0 every unit is handed out */
			require((i128) st->paid + st->forfeited + st->unallocated == st->pool &&
						base_sum + st->unallocated == st->pool &&
						st->unallocated == (w == 0 ? amount : 0),
					"iteration %d: stream %zu does not balance", iter, u);
			sum_pool += st->pool;
			sum_paid += st->paid;
			sum_forfeited += st->forfeited;
			sum_unalloc += st->unallocated;
			sum_nodes += st->nodes;
			ri += n;
		}
		/* the totals are the sums of the streams, and balance */
		require(fx.ledger.totals.streams == nu && fx.ledger.totals.nodes == sum_nodes &&
					sum_nodes == np && fx.ledger.totals.pool == sum_pool &&
					fx.ledger.totals.paid == sum_paid &&
					fx.ledger.totals.forfeited == sum_forfeited &&
					fx.ledger.totals.unallocated == sum_unalloc &&
					(i128) sum_paid + sum_forfeited + sum_unalloc == sum_pool,
				"iteration %d: totals", iter);
		fixture_release(&fx);
	}
	/* the generator reached the interesting cases */
	ck_assert_int_gt(n_ok, 2000);
	ck_assert_int_gt(n_overflow, 20);
	ck_assert_int_gt(n_pool_only, 1000);
	ck_assert_int_gt(n_default, 1000);
	ck_assert_int_gt(n_remainder, 1000);
	ck_assert_int_gt(n_penalized, 1000);
}
END_TEST

static Suite *
ledger_suite(void)
{
	Suite *s = suite_create("ledger");
	TCase *tc;

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
	tcase_add_test(tc, test_negative_pool);
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
