/*
 * check_payout.c: unit tests of payout.h, the integer payout math.
 *
 * Every expected number is worked out by hand in the comment above its
 * assertion (the 78-digit ones with exact integers, Python's, and checked
 * again here by the reference).  The random test compares payout_compute()
 * with a separate, deliberately naive re-computation written here
 * (repeated max-selection instead of a sort, a byte loop instead of
 * memcmp), whose arithmetic is its own: numbers of 32-bit words, products
 * in 64 bits, independent of amount.c's 64-bit limbs.  Amounts go in and
 * out of the code under test only through its API (amount_parse,
 * amount_format, amount_cmp).
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

/* A pool for payout_compute: static storage, a ring of 4. */
static const struct amount *
pool_u64(uint64_t v)
{
	static struct amount ring[4];
	static int           k;
	struct amount       *a = &ring[k++ % 4];

	*a = amt_u64(v);
	return a;
}

static const struct amount *
pool_text(const char *dec)
{
	static struct amount ring[4];
	static int           k;
	struct amount       *a = &ring[k++ % 4];

	*a = amt(dec);
	return a;
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
	q = big_amt(pool_text(MAX_TEXT));
	ck_assert(big_cmp(&q, &max) == 0);
}
END_TEST

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
	/* garbage the code must overwrite */
	memset(&n->base, 0xa5, sizeof(n->base));
	memset(&n->forfeited, 0x5a, sizeof(n->forfeited));
	memset(&n->payout, 0xee, sizeof(n->payout));
}

#define NODE(n, id, s, f) node_set((n), (id), sizeof(id) - 1, (s), (f))

/* A node's base, payout and forfeited, as decimal strings. */
static void
assert_node_text(const struct payout_node *n, const char *base, const char *payout,
				 const char *forfeited)
{
	struct amount b = amt(base), p = amt(payout), f = amt(forfeited);

	ck_assert_msg(amount_cmp(&n->base, &b) == 0 && amount_cmp(&n->payout, &p) == 0 &&
					  amount_cmp(&n->forfeited, &f) == 0,
				  "node of %zu bytes: base %s payout %s forfeited %s, want %s %s %s", n->node_len,
				  amt_text(&n->base), amt_text(&n->payout), amt_text(&n->forfeited), base, payout,
				  forfeited);
}

static void
assert_node(const struct payout_node *n, uint64_t base, uint64_t payout)
{
	char b[24], p[24], f[24];

	snprintf(b, sizeof(b), "%llu", (unsigned long long) base);
	snprintf(p, sizeof(p), "%llu", (unsigned long long) payout);
	snprintf(f, sizeof(f), "%llu", (unsigned long long) (base - payout));
	assert_node_text(n, b, p, f);
}

static void
assert_stream_text(const struct payout_stream *s, const char *pool, uint64_t w, const char *paid,
				   const char *forfeited, const char *unallocated)
{
	struct amount            want[4] = { amt(pool), amt(paid), amt(forfeited), amt(unallocated) };
	const struct amount     *got[4] = { &s->pool, &s->paid, &s->forfeited, &s->unallocated };
	static const char *const names[4] = { "pool", "paid", "forfeited", "unallocated" };

	ck_assert_uint_eq(s->total_successful_polls, w);
	for (int i = 0; i < 4; i++)
		ck_assert_msg(amount_cmp(got[i], &want[i]) == 0, "stream %s %s, want %s", names[i],
					  amt_text(got[i]), amt_text(&want[i]));
}

static void
assert_stream(const struct payout_stream *s, uint64_t pool, uint64_t w, uint64_t paid,
			  uint64_t forfeited, uint64_t unallocated)
{
	char t[4][24];

	snprintf(t[0], sizeof(t[0]), "%llu", (unsigned long long) pool);
	snprintf(t[1], sizeof(t[1]), "%llu", (unsigned long long) paid);
	snprintf(t[2], sizeof(t[2]), "%llu", (unsigned long long) forfeited);
	snprintf(t[3], sizeof(t[3]), "%llu", (unsigned long long) unallocated);
	assert_stream_text(s, t[0], w, t[1], t[2], t[3]);
}

/*
 * Every invariant of a settled stream, in the reference's arithmetic:
 * W = sum of S; each base = payout + forfeited with payout <= base; each
 * base is floor(pool * S / W) or one more, and at most one unit each
 * goes out (all bases 0 when W = 0); paid and forfeited are the sums of
 * the nodes'; sum of bases + unallocated = paid + forfeited + unallocated
 * = pool; with W > 0 nothing is unallocated.
 */
static void
check_books(const char *what, const struct amount *pool, const struct payout_node *n, size_t nn,
			const struct payout_stream *s)
{
	struct big p = big_amt(pool);
	struct big sum_base = big_u64(0), paid = big_u64(0), forfeited = big_u64(0), whole;
	struct big unallocated = big_amt(&s->unallocated);
	u128       w = 0;

	for (size_t i = 0; i < nn; i++)
		w += n[i].successful_polls;
	require(w <= UINT64_MAX && s->total_successful_polls == (uint64_t) w, "%s: W %llu", what,
			(unsigned long long) s->total_successful_polls);
	require(amount_cmp(&s->pool, pool) == 0, "%s: stream pool %s, want %s", what,
			amt_text(&s->pool), amt_text(pool));
	for (size_t i = 0; i < nn; i++)
	{
		struct big base = big_amt(&n[i].base);
		struct big payout = big_amt(&n[i].payout);
		struct big forf = big_amt(&n[i].forfeited);
		struct big sum = big_add(payout, &forf);
		struct big floor_share = big_u64(0), one;

		require(big_cmp(&sum, &base) == 0 && big_cmp(&payout, &base) <= 0,
				"%s node %zu: base %s != payout %s + forfeited %s", what, i, amt_text(&n[i].base),
				amt_text(&n[i].payout), amt_text(&n[i].forfeited));
		if (w > 0)
		{
			struct big prod = big_mul(&p, n[i].successful_polls);

			(void) big_divmod(&floor_share, &prod, (uint64_t) w);
		}
		sum = big_sub(base, &floor_share); /* fails if base < floor */
		one = big_u64(w > 0);
		require(big_cmp(&sum, &one) <= 0, "%s node %zu: base %s is not its floor share or one more",
				what, i, amt_text(&n[i].base));
		sum_base = big_add(sum_base, &base);
		paid = big_add(paid, &payout);
		forfeited = big_add(forfeited, &forf);
	}
	whole = big_amt(&s->paid);
	require(big_cmp(&whole, &paid) == 0, "%s: stream paid %s is not the nodes' sum", what,
			amt_text(&s->paid));
	whole = big_amt(&s->forfeited);
	require(big_cmp(&whole, &forfeited) == 0, "%s: stream forfeited %s is not the nodes' sum", what,
			amt_text(&s->forfeited));
	sum_base = big_add(sum_base, &unallocated);
	whole = big_add(big_add(paid, &forfeited), &unallocated);
	require(big_cmp(&sum_base, &p) == 0 && big_cmp(&whole, &p) == 0,
			"%s: the books do not balance (unallocated %s)", what, amt_text(&s->unallocated));
	require(w == 0 ? big_cmp(&unallocated, &p) == 0 : big_is_zero(&unallocated),
			"%s: unallocated %s with W = %llu", what, amt_text(&s->unallocated),
			(unsigned long long) w);
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
	ck_assert_int_eq(payout_compute(pool_u64(100), &k, n, 3, &s), PAYOUT_OK);
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
	ck_assert_int_eq(payout_compute(pool_u64(2), &k, n, 3, &s), PAYOUT_OK);
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
	ck_assert_int_eq(payout_compute(pool_u64(3), &k, n, 4, &s), PAYOUT_OK);
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
	ck_assert_int_eq(payout_compute(pool_u64(10), &k, n, 3, &s), PAYOUT_OK);
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
	ck_assert_int_eq(payout_compute(pool_u64(7), &k, n, 4, &s), PAYOUT_OK);
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
	ck_assert_int_eq(payout_compute(pool_u64(500), &k, n, 2, &s), PAYOUT_OK);
	assert_node(&n[0], 0, 0);
	assert_node(&n[1], 0, 0);
	assert_stream(&s, 500, 0, 0, 0, 500);

	/* a listed stream with no probes at all: no nodes */
	ck_assert_int_eq(payout_compute(pool_u64(INT64_MAX), &k, NULL, 0, &s), PAYOUT_OK);
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
	ck_assert_int_eq(payout_compute(pool_u64(0), &k, n, 2, &s), PAYOUT_OK);
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
	ck_assert_int_eq(payout_compute(pool_u64(INT64_MAX), &k, n, 2, &s), PAYOUT_OK);
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
	ck_assert_int_eq(payout_compute(pool_u64(INT64_MAX), &k, n, 2, &s), PAYOUT_OK);
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
	ck_assert_int_eq(payout_compute(pool_u64(100), &k, n, 2, &s), PAYOUT_OVERFLOW);
	/* exactly 2^64 - 1 is fine: all to a */
	NODE(&n[1], "b", 0, 0);
	ck_assert_int_eq(payout_compute(pool_u64(100), &k, n, 2, &s), PAYOUT_OK);
	assert_node(&n[0], 100, 100);
	assert_node(&n[1], 0, 0);
}
END_TEST

/*
 * Amounts are unsigned, so no pool is negative (PAYOUT_BAD_POOL is gone);
 * the edge that means something now is the other end: the largest pool,
 * 2^256 - 1, settles.
 *   one node, S = 1, F = 0: base and payout the whole pool;
 *   f = 0.5, F = 1: payout floor((2^256 - 1) / 2) = 2^255 - 1, forfeited
 *     2^255 (= 57896044618658097711785492504343953926634992332820282019728792003956564819968);
 *   S = 0 only, or no nodes at all: all of it unallocated.
 */
START_TEST(test_max_pool)
{
	struct payout_keep   k = keep_of("0.5");
	struct payout_node   n[2];
	struct payout_stream s;

	NODE(&n[0], "a", 1, 0);
	ck_assert_int_eq(payout_compute(pool_text(MAX_TEXT), &k, n, 1, &s), PAYOUT_OK);
	assert_node_text(&n[0], MAX_TEXT, MAX_TEXT, "0");
	assert_stream_text(&s, MAX_TEXT, 1, MAX_TEXT, "0", "0");
	check_books("max, F = 0", pool_text(MAX_TEXT), n, 1, &s);

	NODE(&n[0], "a", 1, 1);
	ck_assert_int_eq(payout_compute(pool_text(MAX_TEXT), &k, n, 1, &s), PAYOUT_OK);
	assert_node_text(
		&n[0], MAX_TEXT,
		"57896044618658097711785492504343953926634992332820282019728792003956564819967", HALF_TEXT);
	assert_stream_text(
		&s, MAX_TEXT, 1,
		"57896044618658097711785492504343953926634992332820282019728792003956564819967", HALF_TEXT,
		"0");
	check_books("max, F = 1", pool_text(MAX_TEXT), n, 1, &s);

	NODE(&n[0], "a", 0, 3);
	NODE(&n[1], "b", 0, 0);
	ck_assert_int_eq(payout_compute(pool_text(MAX_TEXT), &k, n, 2, &s), PAYOUT_OK);
	assert_node(&n[0], 0, 0);
	assert_node(&n[1], 0, 0);
	assert_stream_text(&s, MAX_TEXT, 0, "0", "0", MAX_TEXT);

	ck_assert_int_eq(payout_compute(pool_text(MAX_TEXT), &k, NULL, 0, &s), PAYOUT_OK);
	assert_stream_text(&s, MAX_TEXT, 0, "0", "0", MAX_TEXT);
}
END_TEST

/*
 * Pools near 2^256 with several nodes, each worked out with exact
 * integers (Python) and checked again by check_books.
 *
 * P = 2^256 - 1, seven nodes g..a with S = 1 (W = 7): P = 7q + 1 (2^3 = 1
 * mod 7, so 2^256 = 2 and P = 1 mod 7), q =
 * 16541727033902313631938712144098272550467140666520080577065369143987589948562;
 * every remainder is 1, a tie: the one unit left goes to the smallest id
 * "a" (given last): a q + 1, the others q.
 */
#define SEVENTH "16541727033902313631938712144098272550467140666520080577065369143987589948562"

START_TEST(test_max_pool_tie)
{
	struct payout_keep   k = keep_of("0.5");
	struct payout_node   n[7];
	struct payout_stream s;
	static const char    ids[] = "gfedcba";

	for (size_t i = 0; i < 7; i++)
		node_set(&n[i], &ids[i], 1, 1, 0);
	ck_assert_int_eq(payout_compute(pool_text(MAX_TEXT), &k, n, 7, &s), PAYOUT_OK);
	for (size_t i = 0; i < 6; i++)
		assert_node_text(&n[i], SEVENTH, SEVENTH, "0");
	assert_node_text(
		&n[6], "16541727033902313631938712144098272550467140666520080577065369143987589948563",
		"16541727033902313631938712144098272550467140666520080577065369143987589948563", "0");
	assert_stream_text(&s, MAX_TEXT, 7, MAX_TEXT, "0", "0");
	check_books("seven", pool_text(MAX_TEXT), n, 7, &s);
}
END_TEST

/*
 * S near 2^63, W up to 2^64 - 1, which must not overflow.
 *
 * P = 2^256 - 1, S = 2^63 - 1 for b and a: W = 2^64 - 2, pool * S / W =
 * P / 2; P is odd, so both floors are (P - 1) / 2 = 2^255 - 1 with the same
 * remainder (2^63 - 1) * 1 = 9223372036854775807: a tie at that size, the
 * unit to "a": a 2^255, b 2^255 - 1.
 *
 * P = 2^256 - 2, S = 2^63, 2^63 - 1, 0 for a, b, c: W = 2^64 - 1.  As
 * 2^64 = 1 mod W, P = -1 = 2^64 - 2 mod W, so the remainders are
 * 2^63 * (2^64 - 2) mod W = 2^63 - 1 for a and (2^63 - 1)(2^64 - 2) mod W
 * = 2^63 for b: the unit left goes to b, the larger remainder, though a
 * has the smaller id.
 *   a = 57896044618658097714924043372037294308723028227884584459520880401941320957951
 *   b = 57896044618658097708646941636650613544546956437755979579936703605971808681983
 */
START_TEST(test_max_pool_huge_s)
{
	struct payout_keep   k = keep_of("0");
	struct payout_node   n[3];
	struct payout_stream s;

	NODE(&n[0], "b", INT64_MAX, 0);
	NODE(&n[1], "a", INT64_MAX, 0);
	ck_assert_int_eq(payout_compute(pool_text(MAX_TEXT), &k, n, 2, &s), PAYOUT_OK);
	assert_node_text(&n[1], HALF_TEXT, HALF_TEXT, "0");
	assert_node_text(
		&n[0], "57896044618658097711785492504343953926634992332820282019728792003956564819967",
		"57896044618658097711785492504343953926634992332820282019728792003956564819967", "0");
	assert_stream_text(&s, MAX_TEXT, UINT64_MAX - 1, MAX_TEXT, "0", "0");
	check_books("tie at 2^63 - 1", pool_text(MAX_TEXT), n, 2, &s);

	NODE(&n[0], "a", UINT64_C(1) << 63, 0);
	NODE(&n[1], "b", (UINT64_C(1) << 63) - 1, 0);
	NODE(&n[2], "c", 0, 0);
	ck_assert_int_eq(payout_compute(pool_text(MAX_1_TEXT), &k, n, 3, &s), PAYOUT_OK);
	assert_node_text(
		&n[0], "57896044618658097714924043372037294308723028227884584459520880401941320957951",
		"57896044618658097714924043372037294308723028227884584459520880401941320957951", "0");
	assert_node_text(
		&n[1], "57896044618658097708646941636650613544546956437755979579936703605971808681983",
		"57896044618658097708646941636650613544546956437755979579936703605971808681983", "0");
	assert_node(&n[2], 0, 0);
	assert_stream_text(&s, MAX_1_TEXT, UINT64_MAX, MAX_1_TEXT, "0", "0");
	check_books("remainder first", pool_text(MAX_1_TEXT), n, 3, &s);

	/* one more poll and W passes 2^64 - 1 */
	NODE(&n[2], "c", 1, 0);
	ck_assert_int_eq(payout_compute(pool_text(MAX_1_TEXT), &k, n, 3, &s), PAYOUT_OVERFLOW);
}
END_TEST

/*
 * P = 2^255 + 1 with penalties, f = 0.5 (keep 1/2).  S = 2^64 - 3, 1, 1
 * for c, a, b: W = 2^64 - 1.  As 2^64 = 1 mod W, 2^255 = 2^63 * 2^192 = 2^63,
 * so P = 2^63 + 1 mod W: the remainders are 9223372036854775809 for a and
 * b (a tie) and (2^63 + 1)(-2) mod W = 18446744073709551612 for c.  Two
 * units are left (P - the floors): c first, then a (a tie with b broken
 * by id).
 *   a: base 3138550867693340382088035895064302439792088397984756137985, F = 2:
 *      floor(floor(base / 2) / 2) = 784637716923335095522008973766075609948022099496189034496
 *   b: base 3138550867693340382088035895064302439792088397984756137984, F = 255:
 *      the base is below 2^192, so 255 halvings reach 0: all forfeited
 *   c: base 57896044618658097705508390768957273162458920542691677140144615207987052544000,
 *      F = 1: half of it, 28948022309329048852754195384478636581229460271345838570072307603993526272000
 *   paid 28948022309329048853538833101401971676751469245111914180020329703489715306496,
 *   forfeited 28948022309329048858246659402941982249883523087708367839708462300466849513473,
 *   which add up to P.
 */
START_TEST(test_huge_pool_penalties)
{
	const char *pool =
		"57896044618658097711785492504343953926634992332820282019728792003956564819969";
	struct payout_keep   k = keep_of("0.5");
	struct payout_node   n[3];
	struct payout_stream s;

	NODE(&n[0], "c", UINT64_MAX - 2, 1);
	NODE(&n[1], "a", 1, 2);
	NODE(&n[2], "b", 1, 255);
	ck_assert_int_eq(payout_compute(pool_text(pool), &k, n, 3, &s), PAYOUT_OK);
	assert_node_text(&n[1], "3138550867693340382088035895064302439792088397984756137985",
					 "784637716923335095522008973766075609948022099496189034496",
					 "2353913150770005286566026921298226829844066298488567103489");
	assert_node_text(&n[2], "3138550867693340382088035895064302439792088397984756137984", "0",
					 "3138550867693340382088035895064302439792088397984756137984");
	assert_node_text(
		&n[0], "57896044618658097705508390768957273162458920542691677140144615207987052544000",
		"28948022309329048852754195384478636581229460271345838570072307603993526272000",
		"28948022309329048852754195384478636581229460271345838570072307603993526272000");
	assert_stream_text(
		&s, pool, UINT64_MAX,
		"28948022309329048853538833101401971676751469245111914180020329703489715306496",
		"28948022309329048858246659402941982249883523087708367839708462300466849513473", "0");
	check_books("2^255 + 1", pool_text(pool), n, 3, &s);
}
END_TEST

/*
 * A pool of 42 tokens of 18 decimals: 42 * 10^18 = 42000000000000000000
 * base units, past 2^64 (18446744073709551616).  f = 0.1 (keep 9/10);
 * S = 5, 3, 3 for z, y, x: W = 11.
 *   z: 42e18 * 5 / 11 = 19090909090909090909, remainder 1
 *   x, y: 42e18 * 3 / 11 = 11454545454545454545, remainder 5 each
 *   one unit left: x and y tie at 5, x has the smaller id: 11454545454545454546
 *   z, F = 1: floor(19090909090909090909 * 9 / 10) = 17181818181818181818,
 *      forfeited 1909090909090909091
 *   paid 40090909090909090909, forfeited 1909090909090909091.
 */
START_TEST(test_token_pool)
{
	struct payout_keep   k = keep_of("0.1");
	struct payout_node   n[3];
	struct payout_stream s;
	struct amount        pool;

	ck_assert_int_eq(amount_parse("42", 2, 18, &pool), AMOUNT_OK);
	ck_assert_str_eq(amt_text(&pool), "42000000000000000000");
	NODE(&n[0], "z", 5, 1);
	NODE(&n[1], "y", 3, 0);
	NODE(&n[2], "x", 3, 0);
	ck_assert_int_eq(payout_compute(&pool, &k, n, 3, &s), PAYOUT_OK);
	assert_node_text(&n[0], "19090909090909090909", "17181818181818181818", "1909090909090909091");
	assert_node_text(&n[1], "11454545454545454545", "11454545454545454545", "0");
	assert_node_text(&n[2], "11454545454545454546", "11454545454545454546", "0");
	assert_stream_text(&s, "42000000000000000000", 11, "40090909090909090909",
					   "1909090909090909091", "0");
	check_books("42 tokens", &pool, n, 3, &s);
}
END_TEST

/* ---- the graduated penalty ---- */

/* One node with S = 1 gets the whole pool as base; returns its payout as text. */
static const char *
penalized_text(const char *base, const char *f, uint64_t failed)
{
	struct payout_keep   k = keep_of(f);
	struct payout_node   n;
	struct payout_stream s;

	NODE(&n, "node", 1, failed);
	ck_assert_int_eq(payout_compute(pool_text(base), &k, &n, 1, &s), PAYOUT_OK);
	ck_assert_msg(amount_cmp(&n.base, pool_text(base)) == 0, "base %s, want %s", amt_text(&n.base),
				  base);
	ck_assert(amount_cmp(&s.paid, &n.payout) == 0);
	ck_assert(amount_cmp(&s.forfeited, &n.forfeited) == 0);
	ck_assert(amount_is_zero(&s.unallocated));
	/* forfeited = base - payout, and the rest */
	check_books(base, pool_text(base), &n, 1, &s);
	return amt_text(&n.payout);
}

/* The same for a base of 64 bits; the payout then fits 64 bits too. */
static uint64_t
penalized(uint64_t base, const char *f, uint64_t failed)
{
	char          text[24];
	struct amount payout;
	uint64_t      v = 0;

	snprintf(text, sizeof(text), "%llu", (unsigned long long) base);
	payout = amt(penalized_text(text, f, failed));
	ck_assert(amount_to_u64(&payout, &v));
	return v;
}

START_TEST(test_penalty_sequences)
{
	/* f = 0.5, F = 3: 100 -> 50 -> 25 -> floor(12.5) = 12; forfeited 88 */
	ck_assert_uint_eq(penalized(100, "0.5", 3), 12);
	/* no failures, no penalty */
	ck_assert_uint_eq(penalized(100, "0.5", 0), 100);
	/* f = 0.5, F = 1: floor(7 / 2) = 3 */
	ck_assert_uint_eq(penalized(7, "0.5", 1), 3);
	/* f = 1: one failure forfeits everything */
	ck_assert_uint_eq(penalized(100, "1", 1), 0);
	ck_assert_uint_eq(penalized(100, "1", 0), 100);
	/* f = 0: failures cost nothing */
	ck_assert_uint_eq(penalized(100, "0", 1000), 100);
	ck_assert_uint_eq(penalized(100, "0", UINT64_MAX), 100);
	/* f = 0.25 (keep 3/4), F = 2: 100 -> 75 -> floor(56.25) = 56 */
	ck_assert_uint_eq(penalized(100, "0.25", 2), 56);
	/* f = 0.000001, F = 1: floor(100 * 999999 / 10^6) = floor(99.9999) = 99 */
	ck_assert_uint_eq(penalized(100, "0.000001", 1), 99);
	/* F = 2: 99 -> floor(98.999901) = 98 */
	ck_assert_uint_eq(penalized(100, "0.000001", 2), 98);
	/* f = 0.1 (keep 9/10), F = 3: 1000 -> 900 -> 810 -> 729 */
	ck_assert_uint_eq(penalized(1000, "0.1", 3), 729);
	/* 1 unit at f = 0.1: floor(0.9) = 0 */
	ck_assert_uint_eq(penalized(1, "0.1", 1), 0);
	/* base 0 stays 0 */
	ck_assert_uint_eq(penalized(0, "0.5", 5), 0);
}
END_TEST

/*
 * Penalties on bases near 2^63 need the 128-bit product: with keep 3/4,
 * floor((2^63 - 1) * 3 / 4) = 6917529027641081855 (see test_huge_pool).
 */
START_TEST(test_penalty_huge_base)
{
	ck_assert_uint_eq(penalized(INT64_MAX, "0.25", 1), UINT64_C(6917529027641081855));
	/* keep 999999/10^6: floor((2^63-1) * 999999 / 10^6) = P - ceil(P / 10^6)
	 * = 9223372036854775807 - 9223372036855 = 9223362813482738952 */
	ck_assert_uint_eq(penalized(INT64_MAX, "0.000001", 1), UINT64_C(9223362813482738952));
}
END_TEST

/*
 * A huge failure count stops as soon as the payout reaches 0: base 2^62
 * halves to 1 after 62 steps and to 0 at the 63rd, long before F = 2^64-1
 * (the tcase timeout would catch a loop running F times).
 */
START_TEST(test_penalty_huge_f)
{
	ck_assert_uint_eq(penalized(UINT64_C(1) << 62, "0.5", UINT64_MAX), 0);
	ck_assert_uint_eq(penalized(INT64_MAX, "0.5", 62), 1); /* floor(P / 2^62) = 1 */
	ck_assert_uint_eq(penalized(INT64_MAX, "0.5", 63), 0);
	ck_assert_uint_eq(penalized(INT64_MAX, "0.999999", UINT64_MAX), 0);
	ck_assert_uint_eq(penalized(INT64_MAX, "1", UINT64_MAX), 0);
}
END_TEST

/*
 * Penalties on bases near 2^256 (P = 2^256 - 1): the product base * keep
 * needs 320 bits before its division, and the loop still stops at 0.
 *   keep 3/4: floor(P * 3 / 4) = P - 2^254 =
 *     86844066927987146567678238756515930889952488499230423029593188005934847229951
 *   keep 999999/10^6: floor(P * 999999 / 10^6) = P - ceil(P / 10^6), with
 *     ceil(P / 10^6) = 115792089237316195423570985008687907853269984665640564039457584007913130
 *   keep 1/2: floor(P / 2^255) = 1 after 255 halvings, 0 after 256
 *   2^256 - 2 at keep 1/2, F = 1: 2^255 - 1
 */
START_TEST(test_penalty_max_base)
{
	ck_assert_str_eq(
		penalized_text(MAX_TEXT, "0.25", 1),
		"86844066927987146567678238756515930889952488499230423029593188005934847229951");
	ck_assert_str_eq(
		penalized_text(MAX_TEXT, "0.000001", 1),
		"115791973445226958107375561437702899165362131395655898398893544550329121726805");
	ck_assert_str_eq(penalized_text(MAX_TEXT, "0.5", 255), "1");
	ck_assert_str_eq(penalized_text(MAX_TEXT, "0.5", 256), "0");
	ck_assert_str_eq(penalized_text(MAX_TEXT, "0.5", UINT64_MAX), "0");
	ck_assert_str_eq(penalized_text(MAX_TEXT, "0.999999", UINT64_MAX), "0");
	ck_assert_str_eq(penalized_text(MAX_TEXT, "1", 1), "0");
	ck_assert_str_eq(penalized_text(MAX_TEXT, "0", UINT64_MAX), MAX_TEXT);
	ck_assert_str_eq(
		penalized_text(MAX_1_TEXT, "0.5", 1),
		"57896044618658097711785492504343953926634992332820282019728792003956564819967");
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
	ck_assert_int_eq(payout_compute(pool_u64(1000), &k, n, 3, &s), PAYOUT_OK);
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
	const enum payout_status all[] = { PAYOUT_OK, PAYOUT_OVERFLOW, PAYOUT_INVARIANT };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
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
	struct big base[32];
	struct big payout[32];
	struct big paid;
	struct big forfeited;
	struct big unallocated;
};

/*
 * The rules, literally, in the reference's numbers: floor shares,
 * then the leftover units one at a time to the largest remaining
 * (pool * S) mod W, smallest id on a tie; then x = floor(x * a / b) F
 * times, stopping at 0.
 */
static enum payout_status
ref_compute(const struct big *pool, uint64_t a, uint64_t b, const struct payout_node *n, size_t nn,
			struct ref_out *out)
{
	u128       w = 0;
	uint64_t   rem[32];
	bool       given[32] = { false };
	struct big sum = big_u64(0), left, units;

	for (size_t i = 0; i < nn; i++)
		w += n[i].successful_polls;
	if (w > UINT64_MAX)
		return PAYOUT_OVERFLOW;
	for (size_t i = 0; i < nn; i++)
	{
		struct big prod = big_mul(pool, n[i].successful_polls);

		out->base[i] = big_u64(0);
		rem[i] = w == 0 ? 0 : big_divmod(&out->base[i], &prod, (uint64_t) w);
		sum = big_add(sum, &out->base[i]);
	}
	left = w == 0 ? big_u64(0) : big_sub(*pool, &sum);
	units = big_u64(left.w[0]);
	require(big_cmp(&left, &units) == 0 && left.w[0] <= nn, "more units left than nodes");
	for (uint32_t u = left.w[0]; u > 0; u--)
	{
		size_t best = nn;

		for (size_t i = 0; i < nn; i++)
		{
			if (given[i])
				continue;
			if (best == nn || rem[i] > rem[best] ||
				(rem[i] == rem[best] &&
				 ref_id_cmp(n[i].node, n[i].node_len, n[best].node, n[best].node_len) < 0))
				best = i;
		}
		require(best < nn, "more units left than nodes");
		given[best] = true;
		out->base[best] = big_add_u64(out->base[best], 1);
		sum = big_add_u64(sum, 1);
	}
	out->paid = out->forfeited = big_u64(0);
	for (size_t i = 0; i < nn; i++)
	{
		struct big x = out->base[i], forf;

		for (uint64_t f = 0; f < n[i].failed_spot_checks && !big_is_zero(&x) && a != b; f++)
		{
			x = big_mul(&x, a);
			(void) big_divmod(&x, &x, b);
		}
		out->payout[i] = x;
		forf = big_sub(out->base[i], &x);
		out->paid = big_add(out->paid, &x);
		out->forfeited = big_add(out->forfeited, &forf);
	}
	out->unallocated = big_sub(*pool, &sum);
	return PAYOUT_OK;
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

/* Pools at every magnitude, the ends of each range most of all. */
static struct big
random_pool(uint64_t *rng)
{
	struct big max = big_max(), small;

	switch (next_random(rng) % 9)
	{
		case 0:
			return big_u64(0);
		case 1:
			return big_u64(next_random(rng) % 1000);
		case 2:
			return big_u64(next_random(rng) % (UINT64_C(1) << 32));
		case 3:
			small = big_u64(next_random(rng) % 1000);
			return big_sub(max, &small); /* 2^256 - 1 - small */
		case 4:
			/* around 2^64: 2^64 - 500 .. 2^64 + 499 */
			small = big_u64(UINT64_MAX - 499);
			return big_add_u64(small, next_random(rng) % 1000);
		case 5:
			return random_bits(rng, 256);
		case 6:
			return random_bits(rng, 1 + (int) (next_random(rng) % 256));
		case 7:
			return big_u64(next_random(rng) >> 1);
		default:
			return random_bits(rng, 64 + (int) (next_random(rng) % 64));
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
	int                   n_ok = 0, n_overflow = 0, n_remainder = 0, n_past64 = 0, n_near_max = 0;
	const struct big      u64max = big_u64(UINT64_MAX), thousand = big_u64(1000);
	const struct big      near_max = big_sub(big_max(), &thousand);

	for (int iter = 0; iter < 20000; iter++)
	{
		struct payout_node   n[32];
		char                 ids[32][3];
		size_t               nn = (size_t) (next_random(&rng) % 21);
		bool                 huge = next_random(&rng) % 20 == 0;
		struct big           pool = random_pool(&rng);
		struct amount        pool_amount = amt_big(&pool);
		uint32_t             ppm = next_random(&rng) % 2 ? ppms[next_random(&rng) % 7]
														 : (uint32_t) (next_random(&rng) % (PAYOUT_PPM + 1));
		struct payout_keep   keep = { 0, 0, ppm };
		struct payout_keep   k;
		char                 fbuf[32], what[64];
		struct payout_stream s;
		struct ref_out       want;
		enum payout_status   got, expect;

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

		expect = ref_compute(&pool, k.num, k.den, n, nn, &want);
		got = payout_compute(&pool_amount, &k, n, nn, &s);
		require(got == expect, "iteration %d: status %d, want %d", iter, got, expect);
		if (got == PAYOUT_OVERFLOW)
		{
			n_overflow++;
			continue;
		}
		n_ok++;
		n_past64 += big_cmp(&pool, &u64max) > 0;
		n_near_max += big_cmp(&pool, &near_max) >= 0;
		for (size_t i = 0; i < nn; i++)
		{
			struct amount wb = amt_big(&want.base[i]), wp = amt_big(&want.payout[i]);

			require(amount_cmp(&n[i].base, &wb) == 0 && amount_cmp(&n[i].payout, &wp) == 0,
					"iteration %d node %zu: base %s payout %s, want %s %s", iter, i,
					amt_text(&n[i].base), amt_text(&n[i].payout), amt_text(&wb), amt_text(&wp));
			if (s.total_successful_polls > 0)
			{
				struct big prod = big_mul(&pool, n[i].successful_polls), q;

				if (big_divmod(&q, &prod, s.total_successful_polls) != 0 &&
					big_cmp(&q, &want.base[i]) != 0)
					n_remainder++;
			}
		}
		{
			struct amount wpaid = amt_big(&want.paid), wforf = amt_big(&want.forfeited);
			struct amount wun = amt_big(&want.unallocated);

			require(amount_cmp(&s.paid, &wpaid) == 0 && amount_cmp(&s.forfeited, &wforf) == 0 &&
						amount_cmp(&s.unallocated, &wun) == 0,
					"iteration %d: stream %s/%s/%s, want %s/%s/%s", iter, amt_text(&s.paid),
					amt_text(&s.forfeited), amt_text(&s.unallocated), amt_text(&wpaid),
					amt_text(&wforf), amt_text(&wun));
		}
		snprintf(what, sizeof(what), "iteration %d", iter);
		check_books(what, &pool_amount, n, nn, &s);
	}
	/* the generator reached the interesting cases */
	ck_assert_int_gt(n_ok, 15000);
	ck_assert_int_gt(n_overflow, 10);
	ck_assert_int_gt(n_remainder, 1000);
	ck_assert_int_gt(n_past64, 5000);
	ck_assert_int_gt(n_near_max, 1000);
}
END_TEST

static Suite *
payout_suite(void)
{
	Suite *s = suite_create("payout");
	TCase *tc;

	tc = tcase_create("reference");
	tcase_add_test(tc, test_reference_self_check);
	suite_add_tcase(s, tc);

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
	tcase_add_test(tc, test_max_pool);
	suite_add_tcase(s, tc);

	tc = tcase_create("uint256");
	tcase_add_test(tc, test_max_pool_tie);
	tcase_add_test(tc, test_max_pool_huge_s);
	tcase_add_test(tc, test_huge_pool_penalties);
	tcase_add_test(tc, test_token_pool);
	suite_add_tcase(s, tc);

	tc = tcase_create("penalty");
	tcase_add_test(tc, test_penalty_sequences);
	tcase_add_test(tc, test_penalty_huge_base);
	tcase_add_test(tc, test_penalty_huge_f);
	tcase_add_test(tc, test_penalty_max_base);
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
