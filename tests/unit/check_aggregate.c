/*
 * check_aggregate.c: unit tests of aggregate.h, the (stream, node) counters.
 *
 * Only the public API is used: the table's layout (inline or arena keys,
 * slot tags) may change, its behaviour may not.  Ids are chosen on both
 * sides of short-key storage (a few bytes up to 255 + 255), with NUL and
 * high bytes, and a random test compares with a naive list-based model.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payrun/aggregate.h"

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

static void
add3(struct aggregate *agg, const char *s, size_t slen, const char *n, size_t nlen, uint64_t t,
	 uint64_t ok, uint64_t f)
{
	struct agg_counts d = { t, ok, f };

	ck_assert(aggregate_add(agg, s, slen, n, nlen, &d));
}

static bool
counts_eq(const struct agg_counts *c, uint64_t t, uint64_t ok, uint64_t f)
{
	return c->total_polls == t && c->successful_polls == ok && c->failed_spot_checks == f;
}

static bool
pair_is(const struct agg_pair *p, const char *s, size_t slen, const char *n, size_t nlen)
{
	return p->stream_len == slen && memcmp(p->stream, s, slen) == 0 && p->node_len == nlen &&
		   memcmp(p->node, n, nlen) == 0;
}

START_TEST(test_empty)
{
	struct aggregate agg;
	struct agg_pair *pairs;
	size_t           n = 99;

	aggregate_init(&agg);
	ck_assert_uint_eq(aggregate_count(&agg), 0);
	pairs = aggregate_sorted(&agg, &n);
	ck_assert_ptr_nonnull(pairs);
	ck_assert_uint_eq(n, 0);
	free(pairs);
	aggregate_release(&agg);
}
END_TEST

START_TEST(test_lookup)
{
	struct aggregate   agg;
	struct agg_counts *c;

	aggregate_init(&agg);
	c = aggregate_lookup(&agg, ID("s1"), ID("n1"));
	ck_assert_ptr_nonnull(c);
	ck_assert(counts_eq(c, 0, 0, 0)); /* created zeroed */
	ck_assert_uint_eq(aggregate_count(&agg), 1);
	c->total_polls = 5;
	c->successful_polls = 4;
	c->failed_spot_checks = 3;

	/* the same pair again: found, not created; ids are compared, not pointers */
	{
		char s[] = "s1";
		char n[] = "n1";

		c = aggregate_lookup(&agg, s, 2, n, 2);
	}
	ck_assert(counts_eq(c, 5, 4, 3));
	ck_assert_uint_eq(aggregate_count(&agg), 1);

	/* a different node of the same stream, and the same node elsewhere */
	c = aggregate_lookup(&agg, ID("s1"), ID("n2"));
	ck_assert(counts_eq(c, 0, 0, 0));
	c = aggregate_lookup(&agg, ID("s2"), ID("n1"));
	ck_assert(counts_eq(c, 0, 0, 0));
	ck_assert_uint_eq(aggregate_count(&agg), 3);
	aggregate_release(&agg);
}
END_TEST

/*
 * Pairs whose concatenated bytes are equal stay distinct: the boundary
 * between stream and node is part of the key.
 */
START_TEST(test_distinct_keys)
{
	struct aggregate agg;

	aggregate_init(&agg);
	add3(&agg, ID("ab"), ID("c"), 1, 0, 0);
	add3(&agg, ID("a"), ID("bc"), 2, 0, 0);
	add3(&agg, ID("a"), ID("b"), 3, 0, 0);
	add3(&agg, ID("b"), ID("a"), 4, 0, 0);
	add3(&agg, ID("a\0"), ID("b"), 5, 0, 0);
	add3(&agg, ID("a"), ID("\0b"), 6, 0, 0);
	add3(&agg, ID("a"), ID("b\0"), 7, 0, 0);
	ck_assert_uint_eq(aggregate_count(&agg), 7);
	ck_assert(counts_eq(aggregate_lookup(&agg, ID("ab"), ID("c")), 1, 0, 0));
	ck_assert(counts_eq(aggregate_lookup(&agg, ID("a"), ID("bc")), 2, 0, 0));
	ck_assert(counts_eq(aggregate_lookup(&agg, ID("a"), ID("b")), 3, 0, 0));
	ck_assert(counts_eq(aggregate_lookup(&agg, ID("b"), ID("a")), 4, 0, 0));
	ck_assert(counts_eq(aggregate_lookup(&agg, ID("a\0"), ID("b")), 5, 0, 0));
	ck_assert(counts_eq(aggregate_lookup(&agg, ID("a"), ID("\0b")), 6, 0, 0));
	ck_assert(counts_eq(aggregate_lookup(&agg, ID("a"), ID("b\0")), 7, 0, 0));
	ck_assert_uint_eq(aggregate_count(&agg), 7);
	aggregate_release(&agg);
}
END_TEST

START_TEST(test_add_accumulates)
{
	struct aggregate agg;

	aggregate_init(&agg);
	add3(&agg, ID("s"), ID("n"), 1, 1, 0);
	add3(&agg, ID("s"), ID("n"), 2, 0, 5);
	add3(&agg, ID("s"), ID("n"), 0, 0, 0);
	/* 1 + 2 + 0, 1 + 0 + 0, 0 + 5 + 0 */
	ck_assert(counts_eq(aggregate_lookup(&agg, ID("s"), ID("n")), 3, 1, 5));
	ck_assert_uint_eq(aggregate_count(&agg), 1);
	aggregate_release(&agg);
}
END_TEST

/*
 * Each of the three counters detects overflow (2^64 - 1 itself is fine),
 * and a failed add changes none of the pair's counters.
 */
START_TEST(test_add_overflow)
{
	struct aggregate  agg;
	struct agg_counts d;

	aggregate_init(&agg);
	add3(&agg, ID("s"), ID("t"), UINT64_MAX - 1, 0, 0);
	add3(&agg, ID("s"), ID("t"), 1, 0, 0);
	d = (struct agg_counts){ 1, 1, 1 };
	ck_assert(!aggregate_add(&agg, ID("s"), ID("t"), &d));
	ck_assert(counts_eq(aggregate_lookup(&agg, ID("s"), ID("t")), UINT64_MAX, 0, 0));

	add3(&agg, ID("s"), ID("ok"), 5, UINT64_MAX, 0);
	d = (struct agg_counts){ 1, 1, 1 };
	ck_assert(!aggregate_add(&agg, ID("s"), ID("ok"), &d));
	ck_assert(counts_eq(aggregate_lookup(&agg, ID("s"), ID("ok")), 5, UINT64_MAX, 0));

	add3(&agg, ID("s"), ID("f"), 5, 6, UINT64_MAX);
	d = (struct agg_counts){ 1, 1, 1 };
	ck_assert(!aggregate_add(&agg, ID("s"), ID("f"), &d));
	ck_assert(counts_eq(aggregate_lookup(&agg, ID("s"), ID("f")), 5, 6, UINT64_MAX));

	/* adding UINT64_MAX to a zero counter is not an overflow */
	d = (struct agg_counts){ UINT64_MAX, UINT64_MAX, UINT64_MAX };
	ck_assert(aggregate_add(&agg, ID("s"), ID("fresh"), &d));
	ck_assert(counts_eq(aggregate_lookup(&agg, ID("s"), ID("fresh")), UINT64_MAX, UINT64_MAX,
						UINT64_MAX));
	d = (struct agg_counts){ 0, 0, 0 };
	ck_assert(aggregate_add(&agg, ID("s"), ID("fresh"), &d));
	aggregate_release(&agg);
}
END_TEST

START_TEST(test_id_cmp)
{
	ck_assert_int_lt(aggregate_id_cmp(ID("a"), ID("b")), 0);
	ck_assert_int_gt(aggregate_id_cmp(ID("b"), ID("a")), 0);
	ck_assert_int_eq(aggregate_id_cmp(ID("abc"), ID("abc")), 0);
	/* a prefix sorts first */
	ck_assert_int_lt(aggregate_id_cmp(ID("a"), ID("ab")), 0);
	ck_assert_int_gt(aggregate_id_cmp(ID("ab"), ID("a")), 0);
	ck_assert_int_lt(aggregate_id_cmp(ID(""), ID("a")), 0);
	/* uppercase (0x41..) before lowercase (0x61..) */
	ck_assert_int_lt(aggregate_id_cmp(ID("Z"), ID("a")), 0);
	/* unsigned: 0x80 and above after ASCII */
	ck_assert_int_gt(aggregate_id_cmp(ID("\x80"), ID("z")), 0);
	ck_assert_int_gt(aggregate_id_cmp(ID("\xff"), ID("\x80")), 0);
	ck_assert_int_gt(aggregate_id_cmp(ID("a\xc3\xa9"), ID("az")), 0);
	/* NUL is an ordinary byte, and the smallest */
	ck_assert_int_lt(aggregate_id_cmp(ID("a\0b"), ID("a\0c")), 0);
	ck_assert_int_lt(aggregate_id_cmp(ID("a\0"), ID("a\x01")), 0);
	ck_assert_int_lt(aggregate_id_cmp(ID("a"), ID("a\0")), 0);
	ck_assert_int_eq(aggregate_id_cmp(ID("a\0b"), ID("a\0b")), 0);
}
END_TEST

/*
 * Sorted by stream, then node, in byte order.  Inserted scrambled, each
 * with total_polls = insertion number, so the counts must follow their
 * pair.  Expected order, worked out byte by byte:
 *   streams "A" (0x41) < "a" < "a\0" (a prefix first) < "ab" < "b" < "\x80"
 *   nodes of "a": "Z" (0x5a) < "a" < "aa" < "z" < "\xc3\xa9" (UTF-8 e-acute)
 */
START_TEST(test_sorted_order)
{
	struct aggregate agg;
	struct agg_pair *p;
	size_t           n;

	aggregate_init(&agg);
	add3(&agg, ID("b"), ID("n1"), 1, 0, 0);
	add3(&agg, ID("a"), ID("z"), 2, 0, 0);
	add3(&agg, ID("a"), ID("\xc3\xa9"), 3, 0, 0);
	add3(&agg, ID("a"), ID("Z"), 4, 0, 0);
	add3(&agg, ID("ab"), ID("a"), 5, 0, 0);
	add3(&agg, ID("a"), ID("aa"), 6, 0, 0);
	add3(&agg, ID("a"), ID("a"), 7, 0, 0);
	add3(&agg, ID("\x80"), ID("a"), 8, 0, 0);
	add3(&agg, ID("a\0"), ID("a"), 9, 0, 0);
	add3(&agg, ID("A"), ID("a"), 10, 0, 0);

	p = aggregate_sorted(&agg, &n);
	ck_assert_uint_eq(n, 10);
	ck_assert(pair_is(&p[0], ID("A"), ID("a")) && p[0].counts.total_polls == 10);
	ck_assert(pair_is(&p[1], ID("a"), ID("Z")) && p[1].counts.total_polls == 4);
	ck_assert(pair_is(&p[2], ID("a"), ID("a")) && p[2].counts.total_polls == 7);
	ck_assert(pair_is(&p[3], ID("a"), ID("aa")) && p[3].counts.total_polls == 6);
	ck_assert(pair_is(&p[4], ID("a"), ID("z")) && p[4].counts.total_polls == 2);
	ck_assert(pair_is(&p[5], ID("a"), ID("\xc3\xa9")) && p[5].counts.total_polls == 3);
	ck_assert(pair_is(&p[6], ID("a\0"), ID("a")) && p[6].counts.total_polls == 9);
	ck_assert(pair_is(&p[7], ID("ab"), ID("a")) && p[7].counts.total_polls == 5);
	ck_assert(pair_is(&p[8], ID("b"), ID("n1")) && p[8].counts.total_polls == 1);
	ck_assert(pair_is(&p[9], ID("\x80"), ID("a")) && p[9].counts.total_polls == 8);
	free(p);
	aggregate_release(&agg);
}
END_TEST

/*
 * Long ids, around and far past any short-key storage: total key lengths
 * from 2 to 510 bytes, including 255-byte ids of every byte value, and a
 * 255-byte id next to its own 254-byte prefix.
 */
START_TEST(test_long_ids)
{
	struct aggregate agg;
	char             all[255];
	char             xs[255];
	struct agg_pair *p;
	size_t           n;

	for (int i = 0; i < 255; i++)
		all[i] = (char) (i + 1); /* bytes 0x01..0xff */
	all[100] = '\0';             /* and a NUL inside */
	memset(xs, 'x', sizeof(xs));

	aggregate_init(&agg);
	/* stream of length sl and node of length nl, for all 1..255 in steps */
	for (size_t sl = 1; sl <= 255; sl += 1 + sl / 8)
		for (size_t nl = 1; nl <= 255; nl += 1 + nl / 8)
			add3(&agg, xs, sl, all, nl, sl, nl, sl * 1000 + nl);
	add3(&agg, all, 255, all, 255, 7, 7, 7);
	add3(&agg, all, 254, all, 255, 8, 8, 8);
	add3(&agg, all, 255, all, 254, 9, 9, 9);

	/* every pair found again with its own counts */
	for (size_t sl = 1; sl <= 255; sl += 1 + sl / 8)
		for (size_t nl = 1; nl <= 255; nl += 1 + nl / 8)
		{
			struct agg_counts *c = aggregate_lookup(&agg, xs, sl, all, nl);

			require(counts_eq(c, sl, nl, sl * 1000 + nl), "stream %zu node %zu bytes", sl, nl);
		}
	ck_assert(counts_eq(aggregate_lookup(&agg, all, 255, all, 255), 7, 7, 7));
	ck_assert(counts_eq(aggregate_lookup(&agg, all, 254, all, 255), 8, 8, 8));
	ck_assert(counts_eq(aggregate_lookup(&agg, all, 255, all, 254), 9, 9, 9));

	/*
	 * Sorted: streams of 'x' (0x78) come after all's first byte 0x01, so
	 * the three "all" pairs lead: (254, 255) < (255, 254) < (255, 255).
	 * Then the 'x' streams by length, each with its nodes by length.
	 */
	p = aggregate_sorted(&agg, &n);
	ck_assert_uint_eq(n, aggregate_count(&agg));
	ck_assert(pair_is(&p[0], all, 254, all, 255) && p[0].counts.total_polls == 8);
	ck_assert(pair_is(&p[1], all, 255, all, 254) && p[1].counts.total_polls == 9);
	ck_assert(pair_is(&p[2], all, 255, all, 255) && p[2].counts.total_polls == 7);
	for (size_t i = 3; i < n; i++)
	{
		require(p[i].stream_len > p[i - 1].stream_len ||
					(p[i].stream_len == p[i - 1].stream_len && p[i].node_len > p[i - 1].node_len) ||
					i == 3,
				"pair %zu out of order", i);
		require(pair_is(&p[i], xs, p[i].stream_len, all, p[i].node_len) &&
					counts_eq(&p[i].counts, p[i].stream_len, p[i].node_len,
							  p[i].stream_len * 1000 + p[i].node_len),
				"pair %zu: ids or counts wrong", i);
	}
	free(p);
	aggregate_release(&agg);
}
END_TEST

/* Ids of the growth test: fixed-width numbers, so byte order = number order. */
static size_t
growth_ids(int k, int j, char *s, size_t slen, char *n, size_t nlen, size_t *nl)
{
	/* odd streams are padded past 30 bytes: long keys as well as short */
	int sl = snprintf(s, slen, "s%03d%s", k, k % 2 ? "-padded-to-be-a-long-stream-id" : "");

	*nl = (size_t) snprintf(n, nlen, "n%05d", j);
	return (size_t) sl;
}

/*
 * 200,000 pairs (100 streams x 2000 nodes), forcing many rounds of table
 * growth, added twice over; all counts checked by lookup and in order.
 */
START_TEST(test_growth_200k)
{
	enum
	{
		NSTREAMS = 100,
		NNODES = 2000
	};
	struct aggregate agg;
	struct agg_pair *p;
	size_t           n;

	aggregate_init(&agg);
	for (int pass = 0; pass < 2; pass++)
		for (int k = 0; k < NSTREAMS; k++)
			for (int j = 0; j < NNODES; j++)
			{
				char              s[64], nd[16];
				size_t            nl;
				size_t            sl = growth_ids(k, j, s, sizeof(s), nd, sizeof(nd), &nl);
				uint64_t          i = (uint64_t) k * NNODES + (uint64_t) j;
				struct agg_counts d = { 1 + i % 1000, (1 + i % 1000) / 2, (uint64_t) j % 5 };

				require(aggregate_add(&agg, s, sl, nd, nl, &d), "add %d %d", k, j);
			}
	ck_assert_uint_eq(aggregate_count(&agg), NSTREAMS * NNODES);

	for (int k = 0; k < NSTREAMS; k++)
		for (int j = 0; j < NNODES; j++)
		{
			char               s[64], nd[16];
			size_t             nl;
			size_t             sl = growth_ids(k, j, s, sizeof(s), nd, sizeof(nd), &nl);
			uint64_t           i = (uint64_t) k * NNODES + (uint64_t) j;
			struct agg_counts *c = aggregate_lookup(&agg, s, sl, nd, nl);

			/* both passes added the same delta */
			require(
				counts_eq(c, 2 * (1 + i % 1000), 2 * ((1 + i % 1000) / 2), 2 * ((uint64_t) j % 5)),
				"pair %d/%d: %llu %llu %llu", k, j, (unsigned long long) c->total_polls,
				(unsigned long long) c->successful_polls,
				(unsigned long long) c->failed_spot_checks);
		}
	ck_assert_uint_eq(aggregate_count(&agg), NSTREAMS * NNODES); /* lookups created nothing */

	p = aggregate_sorted(&agg, &n);
	ck_assert_uint_eq(n, NSTREAMS * NNODES);
	for (size_t i = 0; i < n; i++)
	{
		int    k = (int) (i / NNODES);
		int    j = (int) (i % NNODES);
		char   s[64], nd[16];
		size_t nl;
		size_t sl = growth_ids(k, j, s, sizeof(s), nd, sizeof(nd), &nl);

		require(pair_is(&p[i], s, sl, nd, nl), "position %zu is not %s/%s", i, s, nd);
		require(p[i].counts.total_polls == 2 * (1 + i % 1000), "position %zu counts", i);
	}
	free(p);
	aggregate_release(&agg);
}
END_TEST

/*
 * Merging: A = {s/a: 1 1 0, s/b: 2 0 1}, B = {s/b: 10 5 0, t/a: 3 3 3}.
 * A + B = {s/a: 1 1 0, s/b: 12 5 1, t/a: 3 3 3}; B is unchanged.
 */
START_TEST(test_merge)
{
	struct aggregate a, b, empty;
	struct agg_pair *p;
	size_t           n;

	aggregate_init(&a);
	aggregate_init(&b);
	aggregate_init(&empty);
	add3(&a, ID("s"), ID("a"), 1, 1, 0);
	add3(&a, ID("s"), ID("b"), 2, 0, 1);
	add3(&b, ID("s"), ID("b"), 10, 5, 0);
	add3(&b, ID("t"), ID("a"), 3, 3, 3);

	ck_assert(aggregate_merge(&a, &b));
	ck_assert(aggregate_merge(&a, &empty));
	p = aggregate_sorted(&a, &n);
	ck_assert_uint_eq(n, 3);
	ck_assert(pair_is(&p[0], ID("s"), ID("a")) && counts_eq(&p[0].counts, 1, 1, 0));
	ck_assert(pair_is(&p[1], ID("s"), ID("b")) && counts_eq(&p[1].counts, 12, 5, 1));
	ck_assert(pair_is(&p[2], ID("t"), ID("a")) && counts_eq(&p[2].counts, 3, 3, 3));
	free(p);

	p = aggregate_sorted(&b, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert(pair_is(&p[0], ID("s"), ID("b")) && counts_eq(&p[0].counts, 10, 5, 0));
	ck_assert(pair_is(&p[1], ID("t"), ID("a")) && counts_eq(&p[1].counts, 3, 3, 3));
	free(p);

	/* merging into an empty aggregate copies */
	ck_assert(aggregate_merge(&empty, &a));
	ck_assert_uint_eq(aggregate_count(&empty), 3);
	ck_assert(counts_eq(aggregate_lookup(&empty, ID("s"), ID("b")), 12, 5, 1));

	/* an overflowing merge is reported */
	add3(&b, ID("s"), ID("b"), 0, 0, UINT64_MAX); /* 0 + 2^64-1: fine */
	ck_assert(!aggregate_merge(&a, &b));          /* 1 + 2^64-1: overflow */

	aggregate_release(&a);
	aggregate_release(&b);
	aggregate_release(&empty);
}
END_TEST

/* ---- random operations against a naive model ---- */

static uint64_t
next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

struct model_pair
{
	char              stream[AGGREGATE_ID_MAX];
	size_t            stream_len;
	char              node[AGGREGATE_ID_MAX];
	size_t            node_len;
	struct agg_counts counts;
};

/* Byte order, a prefix first; a byte loop independent of memcmp. */
static int
ref_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	for (size_t i = 0; i < alen && i < blen; i++)
		if (a[i] != b[i])
			return (unsigned char) a[i] < (unsigned char) b[i] ? -1 : 1;
	return alen == blen ? 0 : (alen < blen ? -1 : 1);
}

static int
model_cmp(const void *x, const void *y)
{
	const struct model_pair *a = x;
	const struct model_pair *b = y;
	int                      c = ref_cmp(a->stream, a->stream_len, b->stream, b->stream_len);

	return c != 0 ? c : ref_cmp(a->node, a->node_len, b->node, b->node_len);
}

static size_t
random_id(uint64_t *rng, char *out)
{
	static const char alphabet[] = { 'a', 'b', '\0', (char) 0x80, (char) 0xff, 'A' };
	/* mostly short (many collisions), sometimes long (past inline keys) */
	size_t len = next_random(rng) % 4 == 0 ? 1 + next_random(rng) % AGGREGATE_ID_MAX
										   : 1 + next_random(rng) % 3;

	for (size_t i = 0; i < len; i++)
		out[i] = alphabet[next_random(rng) % sizeof(alphabet)];
	return len;
}

/*
 * 20,000 random adds split between two aggregates, which are then merged;
 * the result must equal a model kept as a plain list.
 */
START_TEST(test_random_vs_model)
{
	enum
	{
		NOPS = 20000,
		MAXPAIRS = 20000
	};
	struct model_pair *model = calloc(MAXPAIRS, sizeof(*model));
	size_t             nmodel = 0;
	struct aggregate   part[2];
	struct agg_pair   *p;
	size_t             n;
	uint64_t           rng = 1234;

	ck_assert_ptr_nonnull(model);
	aggregate_init(&part[0]);
	aggregate_init(&part[1]);
	for (int op = 0; op < NOPS; op++)
	{
		struct model_pair k;
		struct agg_counts d;
		size_t            m;

		memset(&k, 0, sizeof(k));
		/* reuse a known pair half the time */
		if (nmodel > 0 && next_random(&rng) % 2)
			k = model[next_random(&rng) % nmodel];
		else
		{
			k.stream_len = random_id(&rng, k.stream);
			k.node_len = random_id(&rng, k.node);
		}
		d.total_polls = next_random(&rng) % 100;
		d.successful_polls = next_random(&rng) % 100;
		d.failed_spot_checks = next_random(&rng) % 100;

		for (m = 0; m < nmodel; m++)
			if (model_cmp(&model[m], &k) == 0)
				break;
		if (m == nmodel)
		{
			require(nmodel < MAXPAIRS, "model full");
			model[nmodel] = k;
			memset(&model[nmodel].counts, 0, sizeof(model[nmodel].counts));
			nmodel++;
		}
		model[m].counts.total_polls += d.total_polls;
		model[m].counts.successful_polls += d.successful_polls;
		model[m].counts.failed_spot_checks += d.failed_spot_checks;
		require(aggregate_add(&part[next_random(&rng) % 2], k.stream, k.stream_len, k.node,
							  k.node_len, &d),
				"add %d", op);
	}
	ck_assert(aggregate_merge(&part[0], &part[1]));

	qsort(model, nmodel, sizeof(*model), model_cmp);
	p = aggregate_sorted(&part[0], &n);
	ck_assert_uint_eq(n, nmodel);
	ck_assert_uint_gt(nmodel, 1000);
	for (size_t i = 0; i < n; i++)
		require(pair_is(&p[i], model[i].stream, model[i].stream_len, model[i].node,
						model[i].node_len) &&
					counts_eq(&p[i].counts, model[i].counts.total_polls,
							  model[i].counts.successful_polls, model[i].counts.failed_spot_checks),
				"position %zu differs from the model", i);
	free(p);
	free(model);
	aggregate_release(&part[0]);
	aggregate_release(&part[1]);
}
END_TEST

/*
 * The batched route (hash a batch of rows, prefetch slots, prefetch
 * entries, then look up with the hashes) finds the same pairs as
 * aggregate_add; batches hold repeats and new pairs, so a lookup in the
 * batch may grow the table under hashes computed before it.
 */
START_TEST(test_batched_lookup)
{
	enum
	{
		BATCH = 32,
		NBATCHES = 4000
	};
	struct aggregate   batched, plain;
	struct agg_pair   *a, *b;
	size_t             na, nb;
	uint64_t           rng = 99;
	struct model_pair *keys = calloc(BATCH, sizeof(*keys));

	ck_assert_ptr_nonnull(keys);
	aggregate_init(&batched);
	aggregate_init(&plain);
	for (int bi = 0; bi < NBATCHES; bi++)
	{
		uint64_t hash[BATCH];

		for (int i = 0; i < BATCH; i++)
		{
			if (i > 0 && next_random(&rng) % 4 == 0)
				keys[i] = keys[next_random(&rng) % (uint64_t) i]; /* a repeat */
			else
			{
				keys[i].stream_len = random_id(&rng, keys[i].stream);
				keys[i].node_len = random_id(&rng, keys[i].node);
			}
			keys[i].counts.total_polls = 1 + next_random(&rng) % 5;
			keys[i].counts.successful_polls = next_random(&rng) % 5;
			keys[i].counts.failed_spot_checks = next_random(&rng) % 5;
			hash[i] = aggregate_hash(keys[i].stream, keys[i].stream_len, keys[i].node,
									 keys[i].node_len);
			aggregate_prefetch_slot(&batched, hash[i]);
		}
		for (int i = 0; i < BATCH; i++)
			aggregate_prefetch_entry(&batched, hash[i]);
		for (int i = 0; i < BATCH; i++)
		{
			struct agg_counts *c = aggregate_lookup_hashed(&batched, hash[i], keys[i].stream,
														   keys[i].stream_len, keys[i].node,
														   keys[i].node_len);

			c->total_polls += keys[i].counts.total_polls;
			c->successful_polls += keys[i].counts.successful_polls;
			c->failed_spot_checks += keys[i].counts.failed_spot_checks;
			require(aggregate_add(&plain, keys[i].stream, keys[i].stream_len, keys[i].node,
								  keys[i].node_len, &keys[i].counts),
					"add in batch %d", bi);
		}
	}
	a = aggregate_sorted(&batched, &na);
	b = aggregate_sorted(&plain, &nb);
	ck_assert_uint_eq(na, nb);
	ck_assert_uint_gt(na, 10000); /* the table grew many times */
	for (size_t i = 0; i < na; i++)
		require(pair_is(&a[i], b[i].stream, b[i].stream_len, b[i].node, b[i].node_len) &&
					counts_eq(&a[i].counts, b[i].counts.total_polls, b[i].counts.successful_polls,
							  b[i].counts.failed_spot_checks),
				"position %zu differs", i);
	free(a);
	free(b);
	free(keys);
	aggregate_release(&batched);
	aggregate_release(&plain);
}
END_TEST

static Suite *
aggregate_suite(void)
{
	Suite *s = suite_create("aggregate");
	TCase *tc;

	tc = tcase_create("basics");
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_lookup);
	tcase_add_test(tc, test_distinct_keys);
	tcase_add_test(tc, test_add_accumulates);
	tcase_add_test(tc, test_add_overflow);
	tcase_add_test(tc, test_id_cmp);
	tcase_add_test(tc, test_sorted_order);
	tcase_add_test(tc, test_long_ids);
	tcase_add_test(tc, test_merge);
	suite_add_tcase(s, tc);

	tc = tcase_create("scale");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_growth_200k);
	tcase_add_test(tc, test_random_vs_model);
	tcase_add_test(tc, test_batched_lookup);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(aggregate_suite());
	int      failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
