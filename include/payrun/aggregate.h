/*
 * aggregate.h: probe counts per (stream, node), the one structure every
 * source fills (the CSV reducer row by row, PostgreSQL from its GROUP BY).
 *
 * Ids are interned once per pair in an arena; memory grows with the number
 * of pairs, never with the number of rows.
 */
#ifndef PAYRUN_AGGREGATE_H
#define PAYRUN_AGGREGATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AGGREGATE_ID_MAX 255 /* longest stream or node id, in bytes */

struct agg_counts
{
	uint64_t total_polls;        /* stats_poll rows: T */
	uint64_t successful_polls;   /* successful stats_poll rows: S */
	uint64_t failed_spot_checks; /* failed spot_check rows: F */
};

#define AGG_INLINE_KEY 30 /* stream + node bytes kept inside the entry */

/*
 * One cache line per pair.  The key is the stream id followed by the node
 * id: inline when short (the common case), else in the arena.
 */
struct agg_entry
{
	struct agg_counts counts;
	uint64_t          hash;
	/* the key if stream_len + node_len <= AGG_INLINE_KEY, else its arena offset */
	char    key[AGG_INLINE_KEY];
	uint8_t stream_len; /* 1..255 */
	uint8_t node_len;   /* 1..255 */
};

struct aggregate
{
	struct agg_entry *entries; /* owned, nentries used */
	size_t            nentries;
	size_t            entries_cap;
	uint64_t         *slots;     /* owned: hash tag (high 32 bits) | entry index + 1; 0 = empty */
	size_t            slot_mask; /* slots - 1, a power of two minus one */
	char             *arena;     /* owned, id bytes */
	size_t            arena_len;
	size_t            arena_cap;
};

/* A pair as handed out in sorted order; pointers into the aggregate. */
struct agg_pair
{
	const char       *stream;
	size_t            stream_len;
	const char       *node;
	size_t            node_len;
	struct agg_counts counts;
};

void aggregate_init(struct aggregate *agg);
void aggregate_release(struct aggregate *agg);
/* Empties an initialised aggregate, keeping its memory for the next use. */
void aggregate_clear(struct aggregate *agg);

/*
 * The counters of (stream, node), created zeroed on first sight.  Ids must
 * be 1..AGGREGATE_ID_MAX bytes (the caller validates).  The pointer is good
 * until the next lookup.
 */
struct agg_counts *aggregate_lookup(struct aggregate *agg, const char *stream, size_t stream_len,
									const char *node, size_t node_len);

/*
 * The same lookup in steps, for callers that batch rows to hide cache
 * misses: hash every row first, prefetch the slots, then the entries, then
 * look up with the precomputed hash.
 */
uint64_t aggregate_hash(const char *stream, size_t stream_len, const char *node, size_t node_len);
#define AGG_TAG_MASK 0xffffffff00000000ULL /* a slot's high half: the hash's */

/* Inline: called for every row, twice. */
static inline void
aggregate_prefetch_slot(const struct aggregate *agg, uint64_t hash)
{
	__builtin_prefetch(&agg->slots[hash & agg->slot_mask]);
}

static inline void
aggregate_prefetch_entry(const struct aggregate *agg, uint64_t hash)
{
	uint64_t slot = agg->slots[hash & agg->slot_mask];

	/* the first probe only: later ones are rare at half load */
	if (slot != 0 && (slot & AGG_TAG_MASK) == (hash & AGG_TAG_MASK))
		__builtin_prefetch(&agg->entries[(slot & ~AGG_TAG_MASK) - 1]);
}
struct agg_counts *aggregate_lookup_hashed(struct aggregate *agg, uint64_t hash, const char *stream,
										   size_t stream_len, const char *node, size_t node_len);

/* Adds counts to a pair; false if a counter would overflow. */
bool aggregate_add(struct aggregate *agg, const char *stream, size_t stream_len, const char *node,
				   size_t node_len, const struct agg_counts *delta);

/* Adds every pair of src into dst (merging partial aggregates). */
bool aggregate_merge(struct aggregate *dst, const struct aggregate *src);

size_t aggregate_count(const struct aggregate *agg);

/*
 * All pairs sorted by stream id, then node id (byte order, shorter first
 * on a common prefix).  The array is owned by the caller (free()).
 */
struct agg_pair *aggregate_sorted(const struct aggregate *agg, size_t *npairs);

/*
 * The same order as entry indexes, 4 bytes a pair instead of a pair's 56
 * (owned by the caller); aggregate_pair_at gives entry i.  The keys stay
 * the aggregate's.
 */
uint32_t *aggregate_sorted_index(const struct aggregate *agg, size_t *npairs);
void      aggregate_pair_at(const struct aggregate *agg, size_t i, struct agg_pair *out);

/* Byte-order comparison of two ids, as used for every sort in payrun. */
int aggregate_id_cmp(const char *a, size_t alen, const char *b, size_t blen);

#endif
