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
	free(s->runs);
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

/* Sets the bits of ids [lo, hi]; false past IDSET_MAX_RANGES. */
static bool
add_span(struct idset *s, uint64_t lo, uint64_t hi)
{
	while (lo <= hi)
	{
		uint64_t key = (lo >> IDSET_RANGE_BITS) + 1;
		uint64_t end = ((lo >> IDSET_RANGE_BITS) << IDSET_RANGE_BITS) +
					   ((1u << IDSET_RANGE_BITS) - 1); /* the range's last id */
		uint64_t            to = hi < end ? hi : end;
		struct idset_range *r = range_of(s, key);
		uint32_t            a = (uint32_t) (lo & ((1u << IDSET_RANGE_BITS) - 1));
		uint32_t            b = (uint32_t) (to & ((1u << IDSET_RANGE_BITS) - 1));

		if (r == NULL)
			return false;
		for (uint32_t w = a / 64; w <= b / 64; w++)
		{
			uint64_t m = ~0ULL;

			if (w == a / 64)
				m &= ~0ULL << (a % 64);
			if (w == b / 64 && b % 64 != 63)
				m &= (1ULL << (b % 64 + 1)) - 1;
			r->bits[w] |= m;
		}
		if (to == UINT64_MAX)
			break;
		lo = to + 1;
	}
	return true;
}

/* The runs become bitmaps (see idset.h); false (s unchanged) past IDSET_MAX_RANGES. */
static bool
to_bitmaps(struct idset *s)
{
	struct idset t;

	if (s->bitmaps)
		return true;
	idset_init(&t);
	t.bitmaps = true;
	for (size_t i = 0; i < s->nruns; i++)
	{
		if (!add_span(&t, s->runs[2 * i], s->runs[2 * i + 1]))
		{
			idset_release(&t);
			return false;
		}
	}
	free(s->runs);
	*s = t;
	return true;
}

/*
 * Both still runs, every id of src past dst's last: src's runs go after
 * dst's (the next part of a file in id order).  False if not so, or past
 * IDSET_MAX_RUNS: the caller goes on with bitmaps.
 */
static bool
runs_append(struct idset *dst, const struct idset *src)
{
	size_t need;

	if (dst->bitmaps || src->bitmaps)
		return false;
	if (src->nruns == 0)
		return true;
	if (dst->nruns > 0 && src->runs[0] <= dst->runs[2 * dst->nruns - 1])
		return false;
	need = dst->nruns + src->nruns;
	if (need > IDSET_MAX_RUNS)
		return false;
	if (need > dst->runs_cap)
	{
		dst->runs_cap = need;
		dst->runs = mem_realloc_array(dst->runs, dst->runs_cap, 2 * sizeof(uint64_t));
	}
	for (size_t i = 0; i < src->nruns; i++)
	{
		uint64_t lo = src->runs[2 * i], hi = src->runs[2 * i + 1];

		if (dst->nruns > 0 && dst->runs[2 * dst->nruns - 1] + 1 == lo)
			dst->runs[2 * dst->nruns - 1] = hi; /* joins the run before */
		else
		{
			dst->runs[2 * dst->nruns] = lo;
			dst->runs[2 * dst->nruns + 1] = hi;
			dst->nruns++;
		}
	}
	return true;
}

/* While ids come in increasing order: true (the id was new) if the runs took it. */
static bool
run_add(struct idset *s, uint64_t id)
{
	uint64_t *last = s->nruns ? &s->runs[2 * s->nruns - 1] : NULL;

	if (last && *last != UINT64_MAX && id == *last + 1)
	{
		*last = id;
		return true;
	}
	if (last && id <= *last)
		return false; /* out of order */
	if (s->nruns == IDSET_MAX_RUNS)
		return false;
	if (s->nruns == s->runs_cap)
	{
		s->runs_cap = s->runs_cap ? s->runs_cap * 2 : 16;
		s->runs = mem_realloc_array(s->runs, s->runs_cap, 2 * sizeof(uint64_t));
	}
	s->runs[2 * s->nruns] = s->runs[2 * s->nruns + 1] = id;
	s->nruns++;
	return true;
}

enum idset_result
idset_add(struct idset *s, uint64_t id)
{
	uint64_t            key = (id >> IDSET_RANGE_BITS) + 1;
	uint64_t            bit = id & ((1u << IDSET_RANGE_BITS) - 1);
	uint64_t            mask = 1ULL << (bit % 64);
	struct idset_range *r;

	if (!s->bitmaps)
	{
		if (run_add(s, id))
			return IDSET_NEW;
		if (!to_bitmaps(s))
			return IDSET_FULL;
	}
	r = s->last && s->last->base == key ? s->last : range_of(s, key);
	if (r == NULL)
		return IDSET_FULL;
	s->last = r;
	if (r->bits[bit / 64] & mask)
		return IDSET_SEEN;
	r->bits[bit / 64] |= mask;
	return IDSET_NEW;
}

bool
idset_intersects(struct idset *a, struct idset *b)
{
	/* runs on both sides, one wholly past the other: nothing in common */
	if (!a->bitmaps && !b->bitmaps &&
		(a->nruns == 0 || b->nruns == 0 || a->runs[0] > b->runs[2 * b->nruns - 1] ||
		 b->runs[0] > a->runs[2 * a->nruns - 1]))
		return false;
	if (!to_bitmaps(a) || !to_bitmaps(b))
		return true;
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
idset_merge(struct idset *dst, struct idset *src)
{
	size_t fresh = 0;

	if (runs_append(dst, src))
		return true;
	if (!to_bitmaps(dst) || !to_bitmaps(src))
		return false;
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
	return s->nslots * sizeof(*s->slots) + s->nranges * RANGE_WORDS * sizeof(uint64_t) +
		   s->runs_cap * 2 * sizeof(uint64_t);
}
