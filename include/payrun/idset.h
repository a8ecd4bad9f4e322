/*
 * idset.h: the probe ids seen so far, to count a probe once however many
 * exports hold it.  A bitmap over id ranges: ids are the coordinator's
 * serial integers, so a day of 14.4M probes takes 440 ranges of 32,768 ids
 * (1.8 MB), not a set of 14.4M keys.  Ranges are found through a small
 * open-addressing table.  A pathological spread of ids (more ranges than
 * IDSET_MAX_RANGES, 64 MiB of bitmaps) is refused, not grown without bound.
 *
 * Before the bitmaps, while every id added is larger than the one before
 * (an export in id order, as the coordinator's are), the set is kept as
 * runs of consecutive ids: a day of 146M probes in id order is one run of
 * 16 bytes, not 18 MB of bitmaps, so memory does not grow with the rows.
 * The first id out of order, or the run after IDSET_MAX_RUNS, turns the
 * runs into bitmaps, and from there on it is as above.  Sets in runs whose
 * ids do not overlap intersect and merge as runs (the parts of one file).
 */
#ifndef PAYRUN_IDSET_H
#define PAYRUN_IDSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IDSET_RANGE_BITS 15 /* ids per range: 2^15 */
#define IDSET_MAX_RANGES 16384
#define IDSET_MAX_RUNS   4096 /* runs kept before the bitmaps take over */

struct idset_range
{
	uint64_t  base; /* id >> IDSET_RANGE_BITS, + 1 (0: an empty slot) */
	uint64_t *bits; /* owned, 2^IDSET_RANGE_BITS bits */
};

struct idset
{
	struct idset_range *slots; /* owned, nslots (a power of two) */
	size_t              nslots;
	size_t              nranges;
	struct idset_range *last; /* the range of the last id added: serial ids stay in it */
	uint64_t           *runs; /* owned: nruns (first, last) pairs, increasing; see above */
	size_t              nruns;
	size_t              runs_cap;
	bool                bitmaps; /* the runs were given up for the bitmaps */
};

void idset_init(struct idset *s);
void idset_release(struct idset *s);

enum idset_result
{
	IDSET_NEW = 0, /* not seen before; now it is */
	IDSET_SEEN,    /* seen before */
	IDSET_FULL     /* a new range would pass IDSET_MAX_RANGES */
};

enum idset_result idset_add(struct idset *s, uint64_t id);

/*
 * Is any id of a also in b?  Both are turned into bitmaps first (the same
 * ids); if they cannot be, true: the caller reads in turn.
 */
bool idset_intersects(struct idset *a, struct idset *b);

/* dst |= src, both as bitmaps; false (dst's ids unchanged) if dst would pass IDSET_MAX_RANGES. */
bool idset_merge(struct idset *dst, struct idset *src);

/* Bytes held. */
size_t idset_bytes(const struct idset *s);

#endif
