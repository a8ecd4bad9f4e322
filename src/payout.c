/*
 * payout.c: integer payout math (see payout.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payrun/aggregate.h"
#include "payrun/mem.h"
#include "payrun/numparse.h"
#include "payrun/payout.h"
#include "payrun/banned.h"

typedef unsigned __int128 u128;

static uint64_t
gcd_u64(uint64_t a, uint64_t b)
{
	while (b != 0)
	{
		uint64_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

bool
payout_keep_parse(const char *f, struct payout_keep *keep)
{
	uint64_t num, den, ppm, g;

	if (!numparse_fraction(f, strlen(f), 6, &num, &den))
		return false;
	ppm = num * (PAYOUT_PPM / den);
	keep->penalty_ppm = (uint32_t) ppm;
	keep->num = PAYOUT_PPM - ppm;
	keep->den = PAYOUT_PPM;
	g = gcd_u64(keep->num, keep->den); /* gcd(0, d) = d gives 0/1 */
	keep->num /= g;
	keep->den /= g;
	return true;
}

void
payout_keep_format(const struct payout_keep *keep, char *buf, size_t len)
{
	uint32_t frac = keep->penalty_ppm % PAYOUT_PPM;
	int      digits = 6;

	if (frac == 0)
	{
		snprintf(buf, len, "%u", keep->penalty_ppm / PAYOUT_PPM);
		return;
	}
	while (frac % 10 == 0)
	{
		frac /= 10;
		digits--;
	}
	snprintf(buf, len, "%u.%0*u", keep->penalty_ppm / PAYOUT_PPM, digits, frac);
}

uint32_t
payout_ppm(uint64_t num, uint64_t den)
{
	if (den == 0)
		return 0;
	return (uint32_t) ((u128) num * PAYOUT_PPM / den);
}

struct remainder_rank
{
	uint64_t    rem;  /* (pool * S) mod W */
	const char *node; /* tie-break id, borrowed from the node */
	size_t      node_len;
	size_t      index; /* into nodes */
};

/* Largest remainder first, then node id in byte order. */
static int
rank_cmp(const void *x, const void *y)
{
	const struct remainder_rank *a = x;
	const struct remainder_rank *b = y;

	if (a->rem != b->rem)
		return a->rem > b->rem ? -1 : 1;
	return aggregate_id_cmp(a->node, a->node_len, b->node, b->node_len);
}

/* base_n = floor(pool * S_n / W), the remainder one unit each to the largest remainders. */
static void
shares(const struct amount *pool, uint64_t w, struct payout_node *nodes, size_t nnodes,
	   struct amount *sum_base)
{
	struct remainder_rank *rank = mem_alloc((nnodes ? nnodes : 1) * sizeof(*rank));
	struct amount          left = *pool;
	uint64_t               units;

	memset(sum_base, 0, sizeof(*sum_base));
	for (size_t i = 0; i < nnodes; i++)
	{
		memset(&nodes[i].base, 0, sizeof(nodes[i].base));
		rank[i].rem = 0;
		if (w > 0)
			(void) amount_mul_div(pool, nodes[i].successful_polls, w, &nodes[i].base, &rank[i].rem);
		(void) amount_add(sum_base, &nodes[i].base); /* <= pool: sum of floors of shares */
		rank[i].node = nodes[i].node;
		rank[i].node_len = nodes[i].node_len;
		rank[i].index = i;
	}
	(void) amount_sub(&left, sum_base);
	/* fewer than nnodes units remain when W > 0 */
	if (w > 0 && !amount_is_zero(&left) && amount_to_u64(&left, &units))
	{
		qsort(rank, nnodes, sizeof(*rank), rank_cmp);
		for (size_t i = 0; i < nnodes && units > 0; i++, units--)
		{
			(void) amount_add_u64(&nodes[rank[i].index].base, 1);
			(void) amount_add_u64(sum_base, 1);
		}
	}
	free(rank);
}

/* payout_n = base_n after x = floor(x * a / b) applied F_n times. */
static void
penalise(const struct payout_keep *keep, struct payout_node *n)
{
	struct amount x = n->base;
	uint64_t      rem;

	if (keep->num != keep->den)
	{
		for (uint64_t k = 0; k < n->failed_spot_checks && !amount_is_zero(&x); k++)
			(void) amount_mul_div(&x, keep->num, keep->den, &x, &rem);
	}
	n->payout = x;
	n->forfeited = n->base;
	(void) amount_sub(&n->forfeited, &n->payout);
}

/* The books must balance to the unit: each node, and the stream. */
static bool
balanced(const struct amount *pool, const struct payout_node *nodes, size_t nnodes,
		 const struct payout_stream *out)
{
	struct amount sum_base = { { 0 } };
	struct amount whole = out->paid;

	for (size_t i = 0; i < nnodes; i++)
	{
		struct amount b = nodes[i].payout;

		if (!amount_add(&b, &nodes[i].forfeited) || amount_cmp(&b, &nodes[i].base) != 0 ||
			!amount_add(&sum_base, &nodes[i].base))
			return false;
	}
	if (!amount_add(&sum_base, &out->unallocated) || amount_cmp(&sum_base, pool) != 0)
		return false;
	return amount_add(&whole, &out->forfeited) && amount_add(&whole, &out->unallocated) &&
		   amount_cmp(&whole, pool) == 0;
}

enum payout_status
payout_compute(const struct amount *pool, const struct payout_keep *keep, struct payout_node *nodes,
			   size_t nnodes, struct payout_stream *out)
{
	uint64_t      w = 0;
	struct amount sum_base;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < nnodes; i++)
	{
		if (__builtin_add_overflow(w, nodes[i].successful_polls, &w))
			return PAYOUT_OVERFLOW;
	}
	shares(pool, w, nodes, nnodes, &sum_base);
	for (size_t i = 0; i < nnodes; i++)
	{
		penalise(keep, &nodes[i]);
		/* each is at most its base, so the sums stay within the pool */
		(void) amount_add(&out->paid, &nodes[i].payout);
		(void) amount_add(&out->forfeited, &nodes[i].forfeited);
	}
	out->pool = *pool;
	out->total_successful_polls = w;
	out->unallocated = *pool;
	/* with any successful poll, every unit is shared out */
	if (!amount_sub(&out->unallocated, &sum_base) || !balanced(pool, nodes, nnodes, out) ||
		(w > 0 && !amount_is_zero(&out->unallocated)))
		return PAYOUT_INVARIANT;
	return PAYOUT_OK;
}

const char *
payout_status_message(enum payout_status status)
{
	switch (status)
	{
		case PAYOUT_OK:
			return "ok";
		case PAYOUT_OVERFLOW:
			return "successful poll count overflows 64 bits";
		case PAYOUT_INVARIANT:
			return "invariant broken: paid + forfeited + unallocated != pool";
	}
	return "unknown";
}
