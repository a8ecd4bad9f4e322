/*
 * idset.c: probe ids seen, as bitmaps over id ranges (see idset.h).
 */
#include <stdlib.h>
#include <string.h>

#include "payrun/idset.h"
#include "payrun/mem.h"
#include "payrun/banned.h"

#define RANGE_WORDS ((1u << IDSET_RANGE_BITS) / 64)

void
idset_init(struct idset *s)
{
	memset(s, 0, sizeof(*s));
}

void
idset_release(struct idset *s)
{
	for (size_t i = 0; i < s->nslots; i++)
		free(s->slots[i].bits);
	free(s->slots);
	memset(s, 0, sizeof(*s));
}

static size_t
slot_of(uint64_t key, size_t mask)
{
	/* a multiplicative hash: serial ids give consecutive keys */
	return (size_t) ((key * 0x9E3779B97F4A7C15ULL) >> 20) & mask;
}

/* The slot holding key, or the empty one where it would go. */
static struct idset_range *
find(const struct idset *s, uint64_t key)
{
	size_t mask = s->nslots - 1;

	for (size_t i = slot_of(key, mask);; i = (i + 1) & mask)
	{
		if (s->slots[i].base == key || s->slots[i].base == 0)
			return &s->slots[i];
	}
}

static void
grow(struct idset *s)
{
	struct idset_range *old = s->slots;
	size_t              n = s->nslots;

	s->last = NULL; /* the ranges move */
	s->nslots = n ? n * 2 : 64;
	s->slots = mem_calloc(s->nslots, sizeof(*s->slots));
	for (size_t i = 0; i < n; i++)
	{
		if (old[i].base != 0)
			*find(s, old[i].base) = old[i];
	}
	free(old);
}

/* The range of key, created when absent; NULL past IDSET_MAX_RANGES. */
static struct idset_range *
range_of(struct idset *s, uint64_t key)
{
	struct idset_range *r;

	if (s->nslots == 0 || (s->nranges + 1) * 2 > s->nslots)
		grow(s);
	r = find(s, key);
	if (r->base == 0)
	{
		if (s->nranges == IDSET_MAX_RANGES)
			return NULL;
		r->base = key;
		r->bits = mem_calloc(RANGE_WORDS, sizeof(uint64_t));
		s->nranges++;
	}
	return r;
}

enum idset_result
idset_add(struct idset *s, uint64_t id)
{
	uint64_t            key = (id >> IDSET_RANGE_BITS) + 1;
	struct idset_range *r = s->last && s->last->base == key ? s->last : range_of(s, key);
	uint64_t            bit = id & ((1u << IDSET_RANGE_BITS) - 1);
	uint64_t            mask = 1ULL << (bit % 64);

	if (r == NULL)
		return IDSET_FULL;
	s->last = r;
	if (r->bits[bit / 64] & mask)
		return IDSET_SEEN;
	r->bits[bit / 64] |= mask;
	return IDSET_NEW;
}

bool
idset_intersects(const struct idset *a, const struct idset *b)
{
	if (a->nranges == 0 || b->nranges == 0)
		return false;
	for (size_t i = 0; i < a->nslots; i++)
	{
		const struct idset_range *ra = &a->slots[i];
		const struct idset_range *rb;

		if (ra->base == 0)
			continue;
		rb = find(b, ra->base);
		if (rb->base == 0)
			continue;
		for (size_t w = 0; w < RANGE_WORDS; w++)
		{
			if (ra->bits[w] & rb->bits[w])
				return true;
		}
	}
	return false;
}

bool
idset_merge(struct idset *dst, const struct idset *src)
{
	size_t fresh = 0;

	/* all or nothing: count the ranges dst lacks first */
	for (size_t i = 0; i < src->nslots; i++)
		if (src->slots[i].base != 0 &&
			(dst->nranges == 0 || find(dst, src->slots[i].base)->base == 0))
			fresh++;
	if (dst->nranges + fresh > IDSET_MAX_RANGES)
		return false;
	for (size_t i = 0; i < src->nslots; i++)
	{
		const struct idset_range *rs = &src->slots[i];
		struct idset_range       *rd;

		if (rs->base == 0)
			continue;
		rd = range_of(dst, rs->base);
		if (rd == NULL)
			return false;
		for (size_t w = 0; w < RANGE_WORDS; w++)
			rd->bits[w] |= rs->bits[w];
	}
	return true;
}

size_t
idset_bytes(const struct idset *s)
{
	return s->nslots * sizeof(*s->slots) + s->nranges * RANGE_WORDS * sizeof(uint64_t);
}
