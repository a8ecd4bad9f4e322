/*
 * check_payout.c: unit tests of payout.h, the integer payout math.
 *
 * Every expected number is worked out by hand in the comment above its
 * assertion.  The random test compares payout_compute() with a separate,
 * deliberately naive re-computation written here (repeated max-selection
 * instead of a sort, a byte loop instead of memcmp).
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payrun/payout.h"

typedef unsigned __int128 u128;

/*
 * ck_assert_msg() reports every passing check to the Check runner (a pipe
 * write per call in fork mode); loops that check millions of values use
 * this instead, which reports failures only.
 */
#define require(cond, ...)                                                                         \
	do                                                                                             \
	{                                                                                              \
		if (!(cond))                                                                               \
			ck_abort_msg(__VA_ARGS__);                                                             \
	} while (0)

static struct payout_keep
keep_of(const char *f)
{
	struct payout_keep k;

	ck_assert_msg(payout_keep_parse(f, &k), "penalty factor '%s' rejected", f);
	return k;
}

static void
node_set(struct payout_node *n, const char *id, size_t id_len, uint64_t s, uint64_t f)
{
	memset(n, 0, sizeof(*n));
	n->node = id;
	n->node_len = id_len;
	n->successful_polls = s;
	n->failed_spot_checks = f;
	n->base = n->forfeited = n->payout = -7; /* garbage the code must overwrite */
}

#define NODE(n, id, s, f) node_set((n), (id), sizeof(id) - 1, (s), (f))

static void
assert_node(const struct payout_node *n, int64_t base, int64_t payout)
{
	ck_assert_msg(n->base == base && n->payout == payout && n->forfeited == base - payout,
				  "node of %zu bytes: base %lld payout %lld forfeited %lld, want %lld %lld %lld",
				  n->node_len, (long long) n->base, (long long) n->payout, (long long) n->forfeited,
				  (long long) base, (long long) payout, (long long) (base - payout));
}

static void
assert_stream(const struct payout_stream *s, int64_t pool, uint64_t w, int64_t paid,
			  int64_t forfeited, int64_t unallocated)
{
	ck_assert_int_eq(s->pool, pool);
	ck_assert_uint_eq(s->total_successful_polls, w);
	ck_assert_int_eq(s->paid, paid);
	ck_assert_int_eq(s->forfeited, forfeited);
	ck_assert_int_eq(s->unallocated, unallocated);
}

/* ---- payout_keep_parse / payout_keep_format ---- */

static uint64_t
gcd(uint64_t a, uint64_t b)
{
	return b == 0 ? a : gcd(b, a % b);
}

struct keep_case
{
	const char *f;
	uint64_t    num;
	uint64_t    den;
	uint32_t    ppm;
	const char *canonical;
};

/* 1 - f = (10^6 - ppm) / 10^6, reduced by the gcd. */
static const struct keep_case keep_cases[] = {
	{ "0.5", 1, 2, 500000, "0.5" }, /* 500000/10^6 */
	{ "0", 1, 1, 0, "0" },          /* 10^6/10^6 */
	{ "1", 0, 1, 1000000, "1" },    /* 0/10^6: gcd(0, 10^6) = 10^6 */
	{ "1.0", 0, 1, 1000000, "1" },
	{ "1.000000", 0, 1, 1000000, "1" },
	{ "0.0", 1, 1, 0, "0" },
	{ "0.000001", 999999, 1000000, 1, "0.000001" }, /* 999999 = 3^3*7*11*13*37, coprime
													 * to 2^6*5^6 */
	{ "0.25", 3, 4, 250000, "0.25" },               /* 750000/10^6, gcd 250000 */
	{ "0.75", 1, 4, 750000, "0.75" },               /* 250000/10^6, gcd 250000 */
	{ "0.1", 9, 10, 100000, "0.1" },                /* 900000/10^6, gcd 100000 */
	{ "0.2", 4, 5, 200000, "0.2" },                 /* 800000/10^6, gcd 200000 */
	{ "0.125", 7, 8, 125000, "0.125" },             /* 875000/10^6, gcd 125000 */
	{ "0.999999", 1, 1000000, 999999, "0.999999" },
	{ "0.120000", 22, 25, 120000, "0.12" }, /* 880000/10^6, gcd 40000 */
};

START_TEST(test_keep_parse_good)
{
	const struct keep_case *c = &keep_cases[_i];
	struct payout_keep      k;
	char                    buf[32];

	memset(&k, 0xee, sizeof(k));
	ck_assert_msg(payout_keep_parse(c->f, &k), "'%s' rejected", c->f);
	ck_assert_msg(k.num == c->num && k.den == c->den && k.penalty_ppm == c->ppm,
				  "'%s': %llu/%llu ppm %u, want %llu/%llu ppm %u", c->f, (unsigned long long) k.num,
				  (unsigned long long) k.den, k.penalty_ppm, (unsigned long long) c->num,
				  (unsigned long long) c->den, c->ppm);
	payout_keep_format(&k, buf, sizeof(buf));
	ck_assert_str_eq(buf, c->canonical);
}
END_TEST

static const char *const keep_rejects[] = {
	"1.5", "1.0000001", "1.000001",  "1.1",       "2",   "10",   "",      ".5",
	"0.",  "-0.1",      "-0",        "+0.5",      "abc", "0.5 ", " 0.5",  "0.5x",
	"0,5", "1e-3",      "0.1234567", "0.0000001", "1.",  "0..5", "0.5.1",
};

START_TEST(test_keep_parse_bad)
{
	struct payout_keep k;

	ck_assert_msg(!payout_keep_parse(keep_rejects[_i], &k), "'%s' accepted", keep_rejects[_i]);
}
END_TEST

/* Every ppm formats to a decimal that parses back to the same ppm. */
START_TEST(test_keep_format_roundtrip)
{
	for (uint32_t ppm = 0; ppm <= PAYOUT_PPM; ppm++)
	{
		struct payout_keep k = { 0, 0, ppm };
		struct payout_keep back;
		char               buf[32];

		payout_keep_format(&k, buf, sizeof(buf));
		require(payout_keep_parse(buf, &back) && back.penalty_ppm == ppm,
				"ppm %u formatted as '%s'", ppm, buf);
		/* minimal: no trailing zero after a decimal point */
		require(strchr(buf, '.') == NULL || buf[strlen(buf) - 1] != '0', "ppm %u formatted as '%s'",
				ppm, buf);
		/* num/den = 1 - ppm/10^6, in lowest terms */
		require((u128) back.num * PAYOUT_PPM + (u128) ppm * back.den ==
						(u128) back.den * PAYOUT_PPM &&
					gcd(back.num, back.den) == 1,
				"ppm %u: keep %llu/%llu", ppm, (unsigned long long) back.num,
				(unsigned long long) back.den);
	}
}
END_TEST

/* ---- base amounts and the remainder ---- */

/*
 * pool 100, S = 1, 1, 1: W = 3, each base floor(100/3) = 33, sum 99, one
 * unit left.  Every remainder is 100 mod 3 = 1: a tie, so the smallest id
 * "a" gets it: 34, 33, 33.  Nodes are given out of order on purpose.
 */
START_TEST(test_equal_shares_tie)
{
	struct payout_keep   k = keep_of("0.5");
	struct payout_node   n[3];
	struct payout_stream s;

	NODE(&n[0], "c", 1, 0);
	NODE(&n[1], "b", 1, 0);
	NODE(&n[2], "a", 1, 0);
	ck_assert_int_eq(payout_compute(100, &k, n, 3, &s), PAYOUT_OK);
	assert_node(&n[2], 34, 34);
	assert_node(&n[1], 33, 33);
	assert_node(&n[0], 33, 33);
	assert_stream(&s, 100, 3, 100, 0, 0);
}
END_TEST

/*
 * pool 2, S = 1, 1, 1 for ids "b", "ab", "a": W = 3, bases floor(2/3) = 0,
 * two units left, all remainders 2.  Byte order "a" < "ab" < "b" (a prefix
 * sorts first): "a" and "ab" get one each.
 */
START_TEST(test_tie_prefix_id)
{
	struct payout_keep   k = keep_of("0");
	struct payout_node   n[3];
	struct payout_stream s;

	NODE(&n[0], "b", 1, 0);
	NODE(&n[1], "ab", 1, 0);
	NODE(&n[2], "a", 1, 0);
	ck_assert_int_eq(payout_compute(2, &k, n, 3, &s), PAYOUT_OK);
	assert_node(&n[2], 1, 1);
	assert_node(&n[1], 1, 1);
	assert_node(&n[0], 0, 0);
	assert_stream(&s, 2, 3, 2, 0, 0);
}
END_TEST

/*
 * Byte order is unsigned and NUL is an ordinary byte.  pool 3, S = 1 each
 * for "\x80", "z", "a\0b", "a": W = 4, bases floor(3/4) = 0, three units
 * left, all remainders 3.  Order: "a" < "a\0b" < "z" (0x7a) < "\x80": the
 * first three get one each, "\x80" none.
 */
START_TEST(test_tie_unsigned_bytes)
{
	struct payout_keep   k = keep_of("0");
	struct payout_node   n[4];
	struct payout_stream s;

	NODE(&n[0], "\x80", 1, 0);
	NODE(&n[1], "z", 1, 0);
	NODE(&n[2], "a\0b", 1, 0);
	NODE(&n[3], "a", 1, 0);
	ck_assert_uint_eq(n[2].node_len, 3);
	ck_assert_int_eq(payout_compute(3, &k, n, 4, &s), PAYOUT_OK);
	assert_node(&n[3], 1, 1);
	assert_node(&n[2], 1, 1);
	assert_node(&n[1], 1, 1);
	assert_node(&n[0], 0, 0);
	assert_stream(&s, 3, 4, 3, 0, 0);
}
END_TEST

/*
 * Largest remainder first, before ids.  pool 10, S = 1, 2, 4 for a, b, c:
 * W = 7; pool*S = 10, 20, 40; bases 1, 2, 5 (sum 8, two left); remainders
 * 10 mod 7 = 3, 20 mod 7 = 6, 40 mod 7 = 5.  b (6) and c (5) get a unit,
 * a (3) does not although its id is smallest: 1, 3, 6.
 */
START_TEST(test_largest_remainder_first)
{
	struct payout_keep   k = keep_of("0.5");
	struct payout_node   n[3];
	struct payout_stream s;

	NODE(&n[0], "a", 1, 0);
	NODE(&n[1], "b", 2, 0);
	NODE(&n[2], "c", 4, 0);
	ck_assert_int_eq(payout_compute(10, &k, n, 3, &s), PAYOUT_OK);
	assert_node(&n[0], 1, 1);
	assert_node(&n[1], 3, 3);
	assert_node(&n[2], 6, 6);
	assert_stream(&s, 10, 7, 10, 0, 0);
}
END_TEST

/*
 * Remainder ranks mixing ties and a zero share.  pool 7, S = 2, 1, 1, 0 for
 * c, b, a, d: W = 4; pool*S = 14, 7, 7, 0; bases 3, 1, 1, 0 (sum 5, two
 * left); remainders 2, 3, 3, 0.  a and b (3, tie) get one each: c 3,
 * b 2, a 2, d 0.
 */
START_TEST(test_remainder_mixed)
{
	struct payout_keep   k = keep_of("0");
	struct payout_node   n[4];
	struct payout_stream s;

	NODE(&n[0], "c", 2, 0);
	NODE(&n[1], "b", 1, 0);
	NODE(&n[2], "a", 1, 0);
	NODE(&n[3], "d", 0, 0);
	ck_assert_int_eq(payout_compute(7, &k, n, 4, &s), PAYOUT_OK);
	assert_node(&n[0], 3, 3);
	assert_node(&n[1], 2, 2);
	assert_node(&n[2], 2, 2);
	assert_node(&n[3], 0, 0);
	assert_stream(&s, 7, 4, 7, 0, 0);
}
END_TEST

/* W = 0: every base is 0 and the whole pool is unallocated. */
START_TEST(test_w_zero)
{
	struct payout_keep   k = keep_of("0.5");
	struct payout_node   n[2];
	struct payout_stream s;

	NODE(&n[0], "a", 0, 3);
	NODE(&n[1], "b", 0, 0);
	ck_assert_int_eq(payout_compute(500, &k, n, 2, &s), PAYOUT_OK);
	assert_node(&n[0], 0, 0);
	assert_node(&n[1], 0, 0);
	assert_stream(&s, 500, 0, 0, 0, 500);

	/* a listed stream with no probes at all: no nodes */
	ck_assert_int_eq(payout_compute(INT64_MAX, &k, NULL, 0, &s), PAYOUT_OK);
	assert_stream(&s, INT64_MAX, 0, 0, 0, INT64_MAX);
}
END_TEST

/* pool 0: everything 0, whatever S and F. */
START_TEST(test_pool_zero)
{
	struct payout_keep   k = keep_of("0.5");
	struct payout_node   n[2];
	struct payout_stream s;

	NODE(&n[0], "a", 5, 2);
	NODE(&n[1], "b", 3, 0);
	ck_assert_int_eq(payout_compute(0, &k, n, 2, &s), PAYOUT_OK);
	assert_node(&n[0], 0, 0);
	assert_node(&n[1], 0, 0);
	assert_stream(&s, 0, 8, 0, 0, 0);
}
END_TEST

/*
 * pool 2^63 - 1 = 9223372036854775807, S = 3, 1 (W = 4).
 *   pool*3 = 27670116110564327421 (> 2^64: needs 128 bits)
 *   base_a = floor(27670116110564327421 / 4) = 6917529027641081855, rem 1
 *   base_b = floor(9223372036854775807 / 4) = 2305843009213693951, rem 3
 *   sum = 9223372036854775806: one unit left, to b (remainder 3 > 1)
 *   a = 6917529027641081855, b = 2305843009213693952
 */
START_TEST(test_huge_pool)
{
	struct payout_keep   k = keep_of("0");
	struct payout_node   n[2];
	struct payout_stream s;

	NODE(&n[0], "a", 3, 0);
	NODE(&n[1], "b", 1, 0);
	ck_assert_int_eq(payout_compute(INT64_MAX, &k, n, 2, &s), PAYOUT_OK);
	assert_node(&n[0], INT64_C(6917529027641081855), INT64_C(6917529027641081855));
	assert_node(&n[1], INT64_C(2305843009213693952), INT64_C(2305843009213693952));
	assert_stream(&s, INT64_MAX, 4, INT64_MAX, 0, 0);
}
END_TEST

/*
 * Huge pool and huge S.  P = 2^63 - 1, S_a = 2^62, S_b = 2^62 + 1,
 * W = 2^63 + 1 = P + 2.
 *   P * 2^62 = (2^62 - 1) * W + 1, as (2^62 - 1)(2^63 + 1)
 *     = 2^125 + 2^62 - 2^63 - 1 = P * 2^62 - 1:
 *     base_a = 2^62 - 1, remainder 1
 *   P * (2^62 + 1) = (2^62 - 1) * W + 1 + P = 2^62 * W - 1:
 *     base_b = 2^62 - 1, remainder W - 1 = 2^63
 *   sum = 2^63 - 2 = P - 1: one unit left, to b (2^63 > 1)
 *   a = 4611686018427387903, b = 4611686018427387904
 */
START_TEST(test_huge_pool_huge_w)
{
	struct payout_keep   k = keep_of("0");
	struct payout_node   n[2];
	struct payout_stream s;
	const uint64_t       two62 = UINT64_C(1) << 62;

	NODE(&n[0], "a", two62, 0);
	NODE(&n[1], "b", two62 + 1, 0);
	ck_assert_int_eq(payout_compute(INT64_MAX, &k, n, 2, &s), PAYOUT_OK);
	assert_node(&n[0], INT64_C(4611686018427387903), INT64_C(4611686018427387903));
	assert_node(&n[1], INT64_C(4611686018427387904), INT64_C(4611686018427387904));
	assert_stream(&s, INT64_MAX, (UINT64_C(1) << 63) + 1, INT64_MAX, 0, 0);
}
END_TEST

/* W must fit 64 bits: 2^64 - 1 + 1 overflows. */
START_TEST(test_w_overflow)
{
	struct payout_keep   k = keep_of("0.5");
	struct payout_node   n[2];
	struct payout_stream s;

	NODE(&n[0], "a", UINT64_MAX, 0);
	NODE(&n[1], "b", 1, 0);
	ck_assert_int_eq(payout_compute(100, &k, n, 2, &s), PAYOUT_OVERFLOW);
	/* exactly 2^64 - 1 is fine: all to a */
	NODE(&n[1], "b", 0, 0);
	ck_assert_int_eq(payout_compute(100, &k, n, 2, &s), PAYOUT_OK);
	assert_node(&n[0], 100, 100);
	assert_node(&n[1], 0, 0);
}
END_TEST

START_TEST(test_negative_pool)
{
	struct payout_keep   k = keep_of("0.5");
	struct payout_node   n[1];
	struct payout_stream s;

	NODE(&n[0], "a", 1, 0);
	ck_assert_int_eq(payout_compute(-1, &k, n, 1, &s), PAYOUT_BAD_POOL);
	ck_assert_int_eq(payout_compute(INT64_MIN, &k, n, 1, &s), PAYOUT_BAD_POOL);
	ck_assert_int_eq(payout_compute(-1, &k, NULL, 0, &s), PAYOUT_BAD_POOL);
}
END_TEST

/* ---- the graduated penalty ---- */

/* One node with S = 1 gets the whole pool as base; returns its payout. */
static int64_t
penalized(int64_t base, const char *f, uint64_t failed)
{
	struct payout_keep   k = keep_of(f);
	struct payout_node   n;
	struct payout_stream s;

	NODE(&n, "node", 1, failed);
	ck_assert_int_eq(payout_compute(base, &k, &n, 1, &s), PAYOUT_OK);
	ck_assert_int_eq(n.base, base);
	ck_assert_int_eq(n.forfeited, base - n.payout);
	ck_assert_int_eq(s.paid, n.payout);
	ck_assert_int_eq(s.forfeited, n.forfeited);
	ck_assert_int_eq(s.unallocated, 0);
	return n.payout;
}

START_TEST(test_penalty_sequences)
{
	/* f = 0.5, F = 3: 100 -> 50 -> 25 -> floor(12.5) = 12; forfeited 88 */
	ck_assert_int_eq(penalized(100, "0.5", 3), 12);
	/* no failures, no penalty */
	ck_assert_int_eq(penalized(100, "0.5", 0), 100);
	/* f = 0.5, F = 1: floor(7 / 2) = 3 */
	ck_assert_int_eq(penalized(7, "0.5", 1), 3);
	/* f = 1: one failure forfeits everything */
	ck_assert_int_eq(penalized(100, "1", 1), 0);
	ck_assert_int_eq(penalized(100, "1", 0), 100);
	/* f = 0: failures cost nothing */
	ck_assert_int_eq(penalized(100, "0", 1000), 100);
	ck_assert_int_eq(penalized(100, "0", UINT64_MAX), 100);
	/* f = 0.25 (keep 3/4), F = 2: 100 -> 75 -> floor(56.25) = 56 */
	ck_assert_int_eq(penalized(100, "0.25", 2), 56);
	/* f = 0.000001, F = 1: floor(100 * 999999 / 10^6) = floor(99.9999) = 99 */
	ck_assert_int_eq(penalized(100, "0.000001", 1), 99);
	/* F = 2: 99 -> floor(98.999901) = 98 */
	ck_assert_int_eq(penalized(100, "0.000001", 2), 98);
	/* f = 0.1 (keep 9/10), F = 3: 1000 -> 900 -> 810 -> 729 */
	ck_assert_int_eq(penalized(1000, "0.1", 3), 729);
	/* 1 unit at f = 0.1: floor(0.9) = 0 */
	ck_assert_int_eq(penalized(1, "0.1", 1), 0);
	/* base 0 stays 0 */
	ck_assert_int_eq(penalized(0, "0.5", 5), 0);
}
END_TEST

/*
 * Penalties on bases near 2^63 need the 128-bit product: with keep 3/4,
 * floor((2^63 - 1) * 3 / 4) = 6917529027641081855 (see test_huge_pool).
 */
START_TEST(test_penalty_huge_base)
{
	ck_assert_int_eq(penalized(INT64_MAX, "0.25", 1), INT64_C(6917529027641081855));
	/* keep 999999/10^6: floor((2^63-1) * 999999 / 10^6) = P - ceil(P / 10^6)
	 * = 9223372036854775807 - 9223372036855 = 9223362813482738952 */
	ck_assert_int_eq(penalized(INT64_MAX, "0.000001", 1), INT64_C(9223362813482738952));
}
END_TEST

/*
 * A huge failure count stops as soon as the payout reaches 0: base 2^62
 * halves to 1 after 62 steps and to 0 at the 63rd, long before F = 2^64-1
 * (the tcase timeout would catch a loop running F times).
 */
START_TEST(test_penalty_huge_f)
{
	ck_assert_int_eq(penalized(INT64_C(1) << 62, "0.5", UINT64_MAX), 0);
	ck_assert_int_eq(penalized(INT64_MAX, "0.5", 62), 1); /* floor(P / 2^62) = 1 */
	ck_assert_int_eq(penalized(INT64_MAX, "0.5", 63), 0);
	ck_assert_int_eq(penalized(INT64_MAX, "0.999999", UINT64_MAX), 0);
	ck_assert_int_eq(penalized(INT64_MAX, "1", UINT64_MAX), 0);
}
END_TEST

/*
 * A stream with penalties: pool 1000, f = 0.5; S = 3, 1, 0 and F = 1, 0, 5
 * for a, b, c.  W = 4: bases 750, 250, 0 (exact, no remainder).  a pays
 * 375 and forfeits 375; b pays 250; c nothing.  paid 625, forfeited 375,
 * unallocated 0: 625 + 375 + 0 = 1000.
 */
START_TEST(test_stream_totals)
{
	struct payout_keep   k = keep_of("0.5");
	struct payout_node   n[3];
	struct payout_stream s;

	NODE(&n[0], "a", 3, 1);
	NODE(&n[1], "b", 1, 0);
	NODE(&n[2], "c", 0, 5);
	ck_assert_int_eq(payout_compute(1000, &k, n, 3, &s), PAYOUT_OK);
	assert_node(&n[0], 750, 375);
	assert_node(&n[1], 250, 250);
	assert_node(&n[2], 0, 0);
	assert_stream(&s, 1000, 4, 625, 375, 0);
	/* inputs untouched */
	ck_assert_uint_eq(n[0].successful_polls, 3);
	ck_assert_uint_eq(n[2].failed_spot_checks, 5);
	ck_assert_str_eq(n[1].node, "b");
}
END_TEST

/* ---- payout_ppm ---- */

START_TEST(test_ppm)
{
	ck_assert_uint_eq(payout_ppm(1, 3), 333333); /* floor(10^6 / 3) */
	ck_assert_uint_eq(payout_ppm(2, 3), 666666); /* floor(2 * 10^6 / 3) */
	ck_assert_uint_eq(payout_ppm(7, 7), 1000000);
	ck_assert_uint_eq(payout_ppm(0, 5), 0);
	ck_assert_uint_eq(payout_ppm(5, 0), 0); /* 0 when the denominator is 0 */
	ck_assert_uint_eq(payout_ppm(0, 0), 0);
	ck_assert_uint_eq(payout_ppm(1, 1000001), 0); /* floor(10^6 / 1000001) */
	ck_assert_uint_eq(payout_ppm(1, 1000000), 1);
	/* needs 128 bits: (2^64 - 1) * 10^6 overflows 64 */
	ck_assert_uint_eq(payout_ppm(UINT64_MAX, UINT64_MAX), 1000000);
	/* floor(10^6 * (1 - 1/(2^64-1))) = 999999 */
	ck_assert_uint_eq(payout_ppm(UINT64_MAX - 1, UINT64_MAX), 999999);
	/* floor(10^6 / 2) */
	ck_assert_uint_eq(payout_ppm(UINT64_C(1) << 62, UINT64_C(1) << 63), 500000);
}
END_TEST

START_TEST(test_status_messages)
{
	const enum payout_status all[] = { PAYOUT_OK, PAYOUT_BAD_POOL, PAYOUT_OVERFLOW,
									   PAYOUT_INVARIANT };

	for (size_t i = 0; i < 4; i++)
	{
		ck_assert_ptr_nonnull(payout_status_message(all[i]));
		ck_assert_uint_gt(strlen(payout_status_message(all[i])), 0);
		for (size_t j = 0; j < i; j++)
			ck_assert_str_ne(payout_status_message(all[i]), payout_status_message(all[j]));
	}
}
END_TEST

/* ---- the invariant, against an independent re-computation ---- */

static uint64_t
next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Byte order, a prefix first; written out byte by byte on purpose. */
static int
ref_id_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	for (size_t i = 0; i < alen && i < blen; i++)
	{
		unsigned char x = (unsigned char) a[i];
		unsigned char y = (unsigned char) b[i];

		if (x != y)
			return x < y ? -1 : 1;
	}
	return alen == blen ? 0 : (alen < blen ? -1 : 1);
}

struct ref_out
{
	int64_t base[32];
	int64_t payout[32];
	int64_t paid;
	int64_t forfeited;
	int64_t unallocated;
};

/*
 * The rules, literally: floor shares, then the leftover units one
 * at a time to the largest remaining (pool * S) mod W, smallest id on a
 * tie; then x = floor(x * a / b) F times, stopping at 0.
 */
static enum payout_status
ref_compute(int64_t pool, uint64_t a, uint64_t b, const struct payout_node *n, size_t nn,
			struct ref_out *out)
{
	u128    w = 0;
	int64_t sum = 0;
	bool    given[32] = { false };

	if (pool < 0)
		return PAYOUT_BAD_POOL;
	for (size_t i = 0; i < nn; i++)
		w += n[i].successful_polls;
	if (w > UINT64_MAX)
		return PAYOUT_OVERFLOW;
	for (size_t i = 0; i < nn; i++)
	{
		out->base[i] = w == 0 ? 0 : (int64_t) ((u128) pool * n[i].successful_polls / w);
		sum += out->base[i];
	}
	for (int64_t left = w == 0 ? 0 : pool - sum; left > 0; left--)
	{
		size_t   best = nn;
		uint64_t best_rem = 0;

		for (size_t i = 0; i < nn; i++)
		{
			uint64_t rem = (uint64_t) ((u128) pool * n[i].successful_polls % w);

			if (given[i])
				continue;
			if (best == nn || rem > best_rem ||
				(rem == best_rem &&
				 ref_id_cmp(n[i].node, n[i].node_len, n[best].node, n[best].node_len) < 0))
			{
				best = i;
				best_rem = rem;
			}
		}
		require(best < nn, "more units left than nodes");
		given[best] = true;
		out->base[best]++;
		sum++;
	}
	out->paid = out->forfeited = 0;
	for (size_t i = 0; i < nn; i++)
	{
		u128 x = (u128) out->base[i];

		for (uint64_t f = 0; f < n[i].failed_spot_checks && x > 0 && a != b; f++)
			x = x * a / b;
		out->payout[i] = (int64_t) x;
		out->paid += out->payout[i];
		out->forfeited += out->base[i] - out->payout[i];
	}
	out->unallocated = pool - sum;
	return PAYOUT_OK;
}

static int64_t
random_pool(uint64_t *rng)
{
	switch (next_random(rng) % 6)
	{
		case 0:
			return 0;
		case 1:
			return (int64_t) (next_random(rng) % 1000);
		case 2:
			return (int64_t) (next_random(rng) % (UINT64_C(1) << 32));
		case 3:
			return INT64_MAX - (int64_t) (next_random(rng) % 1000);
		default:
			return (int64_t) (next_random(rng) >> 1);
	}
}

static uint64_t
random_s(uint64_t *rng, bool huge)
{
	switch (next_random(rng) % 5)
	{
		case 0:
			return 0;
		case 1:
			return next_random(rng) % 10;
		case 2:
			return next_random(rng) % 1000000;
		case 3:
			return huge ? next_random(rng) >> 2 : next_random(rng) % (UINT64_C(1) << 40);
		default:
			return 1 + next_random(rng) % 3;
	}
}

START_TEST(test_invariant_random)
{
	static const uint32_t ppms[] = { 0, 1000000, 500000, 1, 250000, 999999, 100000 };
	static const char     alphabet[] = { 'a', 'b', '\0', (char) 0x80, (char) 0xff };
	uint64_t              rng = 20260101;
	int                   n_ok = 0, n_overflow = 0, n_remainder = 0;

	for (int iter = 0; iter < 20000; iter++)
	{
		struct payout_node   n[32];
		char                 ids[32][3];
		size_t               nn = (size_t) (next_random(&rng) % 21);
		bool                 huge = next_random(&rng) % 20 == 0;
		int64_t              pool = random_pool(&rng);
		uint32_t             ppm = next_random(&rng) % 2 ? ppms[next_random(&rng) % 7]
														 : (uint32_t) (next_random(&rng) % (PAYOUT_PPM + 1));
		struct payout_keep   keep = { 0, 0, ppm };
		struct payout_keep   k;
		char                 fbuf[32];
		struct payout_stream s;
		struct ref_out       want;
		enum payout_status   got, expect;
		int64_t              check_base = 0;

		payout_keep_format(&keep, fbuf, sizeof(fbuf));
		k = keep_of(fbuf);

		for (size_t i = 0; i < nn; i++)
		{
			bool   dup;
			size_t len;

			do
			{
				len = 1 + (size_t) (next_random(&rng) % 3);
				for (size_t j = 0; j < len; j++)
					ids[i][j] = alphabet[next_random(&rng) % sizeof(alphabet)];
				dup = false;
				for (size_t j = 0; j < i; j++)
					dup |= n[j].node_len == len && memcmp(ids[j], ids[i], len) == 0;
			} while (dup);
			node_set(&n[i], ids[i], len, random_s(&rng, huge), 0);
			/* huge failure counts only where the penalty converges fast */
			if (next_random(&rng) % 10 == 0 && (k.num == k.den || k.num * 1000 <= k.den * 999))
				n[i].failed_spot_checks = next_random(&rng);
			else
				n[i].failed_spot_checks = next_random(&rng) % 8;
		}

		expect = ref_compute(pool, k.num, k.den, n, nn, &want);
		got = payout_compute(pool, &k, n, nn, &s);
		require(got == expect, "iteration %d: status %d, want %d", iter, got, expect);
		if (got == PAYOUT_OVERFLOW)
		{
			n_overflow++;
			continue;
		}
		n_ok++;
		for (size_t i = 0; i < nn; i++)
		{
			require(n[i].base == want.base[i] && n[i].payout == want.payout[i] &&
						n[i].forfeited == n[i].base - n[i].payout && n[i].payout >= 0,
					"iteration %d node %zu: base %lld payout %lld forfeited %lld, "
					"want %lld %lld",
					iter, i, (long long) n[i].base, (long long) n[i].payout,
					(long long) n[i].forfeited, (long long) want.base[i],
					(long long) want.payout[i]);
			check_base += n[i].base;
			if (n[i].base != (int64_t) ((u128) pool * n[i].successful_polls /
										(s.total_successful_polls ? s.total_successful_polls : 1)))
				n_remainder++;
		}
		require(s.pool == pool && s.paid == want.paid && s.forfeited == want.forfeited &&
					s.unallocated == want.unallocated,
				"iteration %d: stream %lld/%lld/%lld, want %lld/%lld/%lld", iter,
				(long long) s.paid, (long long) s.forfeited, (long long) s.unallocated,
				(long long) want.paid, (long long) want.forfeited, (long long) want.unallocated);
		/* paid + forfeited + unallocated == pool, summed in 128 bits to be sure */
		require((__int128) s.paid + s.forfeited + s.unallocated == pool &&
					check_base + s.unallocated == pool && s.unallocated >= 0,
				"iteration %d: the books do not balance", iter);
		/* with W > 0 every unit is handed out */
		require(s.total_successful_polls == 0 ? s.unallocated == pool : s.unallocated == 0,
				"iteration %d: unallocated %lld with W = %llu", iter, (long long) s.unallocated,
				(unsigned long long) s.total_successful_polls);
	}
	/* the generator reached the interesting cases */
	ck_assert_int_gt(n_ok, 15000);
	ck_assert_int_gt(n_overflow, 10);
	ck_assert_int_gt(n_remainder, 1000);
}
END_TEST

static Suite *
payout_suite(void)
{
	Suite *s = suite_create("payout");
	TCase *tc;

	tc = tcase_create("keep");
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_keep_parse_good, 0,
						(int) (sizeof(keep_cases) / sizeof(keep_cases[0])));
	tcase_add_loop_test(tc, test_keep_parse_bad, 0,
						(int) (sizeof(keep_rejects) / sizeof(keep_rejects[0])));
	tcase_add_test(tc, test_keep_format_roundtrip);
	suite_add_tcase(s, tc);

	tc = tcase_create("base");
	tcase_add_test(tc, test_equal_shares_tie);
	tcase_add_test(tc, test_tie_prefix_id);
	tcase_add_test(tc, test_tie_unsigned_bytes);
	tcase_add_test(tc, test_largest_remainder_first);
	tcase_add_test(tc, test_remainder_mixed);
	tcase_add_test(tc, test_w_zero);
	tcase_add_test(tc, test_pool_zero);
	tcase_add_test(tc, test_huge_pool);
	tcase_add_test(tc, test_huge_pool_huge_w);
	tcase_add_test(tc, test_w_overflow);
	tcase_add_test(tc, test_negative_pool);
	suite_add_tcase(s, tc);

	tc = tcase_create("penalty");
	tcase_add_test(tc, test_penalty_sequences);
	tcase_add_test(tc, test_penalty_huge_base);
	tcase_add_test(tc, test_penalty_huge_f);
	tcase_add_test(tc, test_stream_totals);
	suite_add_tcase(s, tc);

	tc = tcase_create("misc");
	tcase_add_test(tc, test_ppm);
	tcase_add_test(tc, test_status_messages);
	suite_add_tcase(s, tc);

	tc = tcase_create("invariant");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_invariant_random);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(payout_suite());
	int      failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
