/*
 * coverage.c: when a period's probes were taken (see coverage.h).
 */
#include <stdlib.h>
#include <string.h>

#include "payrun/coverage.h"
#include "payrun/mem.h"
#include "payrun/banned.h"

void
coverage_init(struct coverage *c, int64_t start, int64_t span, uint32_t slices)
{
	memset(c, 0, sizeof(*c));
	c->start = start;
	c->span = span > 0 ? span : 1;
	c->slices = slices > 0 ? slices : 1;
}

void
coverage_alloc(struct coverage *c)
{
	if (c->map == NULL)
		c->map = mem_calloc((c->slices + 63) / 64, sizeof(uint64_t));
}

void
coverage_release(struct coverage *c)
{
	free(c->map);
	c->map = NULL;
	c->any = false;
}

void
coverage_add_ends(struct coverage *c, int64_t first, int64_t last)
{
	if (!c->any || first < c->first)
		c->first = first;
	if (!c->any || last > c->last)
		c->last = last;
	c->any = true;
}

void
coverage_add_bits(struct coverage *c, uint32_t slice0, uint64_t bits)
{
	coverage_alloc(c);
	for (uint32_t k = 0; k < 64 && slice0 + k < c->slices; k++)
	{
		uint32_t s = slice0 + k;

		if (bits & (1ULL << k))
			c->map[s / 64] |= 1ULL << (s % 64);
	}
}

void
coverage_merge(struct coverage *dst, const struct coverage *src)
{
	if (!src->any)
		return;
	coverage_add_ends(dst, src->first, src->last);
	if (src->map == NULL)
		return;
	coverage_alloc(dst);
	for (uint32_t w = 0; w < (dst->slices + 63) / 64; w++)
		dst->map[w] |= src->map[w];
}

int64_t
coverage_resolution_s(const struct coverage *c)
{
	return (c->span + c->slices - 1) / c->slices;
}

static bool
slice_set(const struct coverage *c, uint64_t s)
{
	return (c->map[s / 64] >> (s % 64)) & 1;
}

int64_t
coverage_longest_gap_s(const struct coverage *c)
{
	uint64_t from, to, run = 0, longest = 0;

	if (!c->any || c->map == NULL)
		return 0;
	from = (uint64_t) (c->first - c->start) * c->slices / (uint64_t) c->span;
	to = (uint64_t) (c->last - c->start) * c->slices / (uint64_t) c->span;
	for (uint64_t s = from; s <= to && s < c->slices; s++)
	{
		run = slice_set(c, s) ? 0 : run + 1;
		if (run > longest)
			longest = run;
	}
	/* a run of k empty slices between two probes is a gap of at least k slices */
	return (int64_t) (longest * (uint64_t) c->span / c->slices);
}
