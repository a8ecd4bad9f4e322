/*
 * idset.h: the probe ids seen so far, to count a probe once however many
 * exports hold it.  A bitmap over id ranges: ids are the coordinator's
 * serial integers, so a day of 14.4M probes takes 440 ranges of 32,768 ids
 * (1.8 MB), not a set of 14.4M keys.  Ranges are found through a small
 * open-addressing table.  A pathological spread of ids (more ranges than
 * IDSET_MAX_RANGES, 64 MiB of bitmaps) is refused, not grown without bound.
 */
#ifndef PAYRUN_IDSET_H
#define PAYRUN_IDSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IDSET_RANGE_BITS 15 /* ids per range: 2^15 */
#define IDSET_MAX_RANGES 16384

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

/* Is any id of a also in b? */
bool idset_intersects(const struct idset *a, const struct idset *b);

/* dst |= src; false (dst unchanged) if dst would pass IDSET_MAX_RANGES. */
bool idset_merge(struct idset *dst, const struct idset *src);

/* Bytes held. */
size_t idset_bytes(const struct idset *s);

#endif
