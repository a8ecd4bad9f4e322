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

enum payout_status
payout_compute(int64_t pool, const struct payout_keep *keep, struct payout_node *nodes,
			   size_t nnodes, struct payout_stream *out)
{
	uint64_t w = 0;
	int64_t  sum_base = 0;
	int64_t  paid = 0;
	int64_t  forfeited = 0;

	memset(out, 0, sizeof(*out));
	if (pool < 0)
		return PAYOUT_BAD_POOL;
	for (size_t i = 0; i < nnodes; i++)
	{
		if (__builtin_add_overflow(w, nodes[i].successful_polls, &w))
			return PAYOUT_OVERFLOW;
	}

	for (size_t i = 0; i < nnodes; i++)
	{
		nodes[i].base = 0;
		if (w > 0)
			nodes[i].base = (int64_t) ((u128) pool * nodes[i].successful_polls / w);
		sum_base += nodes[i].base; /* <= pool: sum of floors of shares */
	}

	if (w > 0 && sum_base < pool)
	{
		/* fewer than nnodes units remain: one each to the largest remainders */
		uint64_t               left = (uint64_t) (pool - sum_base);
		struct remainder_rank *rank = mem_alloc(nnodes * sizeof(*rank));

		for (size_t i = 0; i < nnodes; i++)
		{
			rank[i].rem = (uint64_t) ((u128) pool * nodes[i].successful_polls % w);
			rank[i].node = nodes[i].node;
			rank[i].node_len = nodes[i].node_len;
			rank[i].index = i;
		}
		qsort(rank, nnodes, sizeof(*rank), rank_cmp);
		for (size_t i = 0; i < nnodes && left > 0; i++, left--)
			nodes[rank[i].index].base++;
		free(rank);
		sum_base = pool - (int64_t) left;
	}

	for (size_t i = 0; i < nnodes; i++)
	{
		uint64_t x = (uint64_t) nodes[i].base;

		if (keep->num != keep->den)
		{
			for (uint64_t k = 0; k < nodes[i].failed_spot_checks && x > 0; k++)
				x = (uint64_t) ((u128) x * keep->num / keep->den);
		}
		nodes[i].payout = (int64_t) x;
		nodes[i].forfeited = nodes[i].base - nodes[i].payout;
		paid += nodes[i].payout;
		forfeited += nodes[i].forfeited;
	}

	out->pool = pool;
	out->total_successful_polls = w;
	out->paid = paid;
	out->forfeited = forfeited;
	out->unallocated = pool - sum_base;

	/* the books must balance to the unit, with nothing negative */
	{
		int64_t check_base = 0;

		for (size_t i = 0; i < nnodes; i++)
		{
			if (nodes[i].base < 0 || nodes[i].payout < 0 || nodes[i].forfeited < 0 ||
				nodes[i].payout + nodes[i].forfeited != nodes[i].base)
				return PAYOUT_INVARIANT;
			check_base += nodes[i].base;
		}
		if (out->unallocated < 0 || check_base + out->unallocated != pool ||
			out->paid + out->forfeited + out->unallocated != pool)
			return PAYOUT_INVARIANT;
	}
	return PAYOUT_OK;
}

const char *
payout_status_message(enum payout_status status)
{
	switch (status)
	{
		case PAYOUT_OK:
			return "ok";
		case PAYOUT_BAD_POOL:
			return "pool is negative";
		case PAYOUT_OVERFLOW:
			return "successful poll count overflows 64 bits";
		case PAYOUT_INVARIANT:
			return "invariant broken: paid + forfeited + unallocated != pool";
	}
	return "unknown";
}
