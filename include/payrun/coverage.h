/*
 * coverage.h: when a period's probes were taken: the first and the last
 * valid in-period probe, exactly, and which slices of the period had any,
 * as a bitmap of equal slices (one second each from CSV exports; 256
 * slices of the period from PostgreSQL's grouped read), from which the
 * longest gap inside the period follows.  The refusal checks (a wrong or
 * partial day) look at the edges; the manifest records all three.
 */
#ifndef PAYRUN_COVERAGE_H
#define PAYRUN_COVERAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct coverage
{
	int64_t   start;  /* the period's start, epoch seconds */
	int64_t   span;   /* its length, seconds */
	uint32_t  slices; /* bits in map */
	uint64_t *map;    /* owned, slices bits; NULL until the first probe */
	bool      any;    /* some probe seen */
	int64_t   first;  /* epoch seconds of the first probe, when any */
	int64_t   last;   /* of the last */
};

/* A period of span seconds from start, in slices (span % slices == 0 not needed). */
void coverage_init(struct coverage *c, int64_t start, int64_t span, uint32_t slices);
void coverage_release(struct coverage *c);

/* Allocates the map (coverage_add does, on the first probe). */
void coverage_alloc(struct coverage *c);

/* A probe at t (start <= t < start + span). */
static inline void
coverage_add(struct coverage *c, int64_t t)
{
	uint64_t slice;

	if (c->map == NULL)
		coverage_alloc(c);
	/* one slice a second (the CSV reader's) needs no division */
	slice = c->slices == (uint64_t) c->span
				? (uint64_t) (t - c->start)
				: (uint64_t) (t - c->start) * c->slices / (uint64_t) c->span;
	c->map[slice / 64] |= 1ULL << (slice % 64);
	if (!c->any || t < c->first)
		c->first = t;
	if (!c->any || t > c->last)
		c->last = t;
	c->any = true;
}

/* Adds a probe range known only by its slices' bits (64 slices from slice0) and its ends. */
void coverage_add_bits(struct coverage *c, uint32_t slice0, uint64_t bits);
void coverage_add_ends(struct coverage *c, int64_t first, int64_t last);

/* dst |= src: the same period and slicing. */
void coverage_merge(struct coverage *dst, const struct coverage *src);

/* Seconds per slice (rounded up). */
int64_t coverage_resolution_s(const struct coverage *c);

/*
 * The longest stretch inside [first, last] with no probe, in seconds, to
 * the slices' resolution (whole empty slices between probes); 0 without
 * probes or gaps.
 */
int64_t coverage_longest_gap_s(const struct coverage *c);

#endif
