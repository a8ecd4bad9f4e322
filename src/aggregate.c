/*
 * aggregate.c: interned (stream, node) counters (see aggregate.h).
 *
 * Open addressing with linear probing over a power-of-two slot array kept
 * at most half full.  A slot holds the high half of the hash as a tag, so
 * a probe reads an entry only when the tags agree; an entry is one cache
 * line with the key inside it when short.  A row thus costs about two
 * cache misses: this lookup is on the per-row hot path.  The hash is a simple multiply-xorshift over 8-byte
 * words of both ids; it only has to spread keys, not resist attackers
 * (ids come from our own coordinator's exports, and a bad spread costs
 * time, never correctness).
 */
#include <stdlib.h>
#include <string.h>

#include "payrun/aggregate.h"
#include "payrun/mem.h"
#include "payrun/banned.h"

#define INITIAL_SLOTS 1024
#define TAG_MASK      AGG_TAG_MASK

_Static_assert(sizeof(struct agg_entry) == 64, "an entry is one cache line");

static inline uint64_t
mix(uint64_t h)
{
	h ^= h >> 32;
	h *= 0xd6e8feb86659fd93ULL;
	h ^= h >> 32;
	return h;
}

/*
 * The last 1 to 7 bytes of a key as one word, in at most two loads that
 * may overlap (a byte-by-byte copy cost more than the rest of the hash):
 * for a given n a different word means different bytes.
 */
static inline uint64_t
tail_word(const char *p, size_t n)
{
	if (n >= 4)
	{
		uint32_t a, b;

		memcpy(&a, p, 4);
		memcpy(&b, p + n - 4, 4);
		return a | (uint64_t) b << 32;
	}
	if (n >= 2)
	{
		uint16_t a, b;

		memcpy(&a, p, 2);
		memcpy(&b, p + n - 2, 2);
		return a | (uint64_t) b << 16;
	}
	return (unsigned char) p[0];
}

static inline uint64_t
hash_bytes(uint64_t h, const char *p, size_t n)
{
	while (n >= 8)
	{
		uint64_t w;

		memcpy(&w, p, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
		p += 8;
		n -= 8;
	}
	if (n > 0)
	{
		uint64_t w = tail_word(p, n);

		h = (h ^ w ^ ((uint64_t) n << 56)) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
	}
	return h;
}

static inline uint64_t
pair_hash(const char *s, size_t slen, const char *n, size_t nlen)
{
	uint64_t h = 0x243f6a8885a308d3ULL ^ (slen << 8) ^ nlen;

	h = hash_bytes(h, s, slen);
	h = hash_bytes(h ^ 0xa5a5a5a5a5a5a5a5ULL, n, nlen);
	return mix(h);
}

void
aggregate_init(struct aggregate *agg)
{
	memset(agg, 0, sizeof(*agg));
	agg->slots = mem_calloc(INITIAL_SLOTS, sizeof(uint64_t));
	agg->slot_mask = INITIAL_SLOTS - 1;
}

void
aggregate_clear(struct aggregate *agg)
{
	if (agg->slots == NULL)
		return;
	memset(agg->slots, 0, (agg->slot_mask + 1) * sizeof(uint64_t));
	agg->nentries = 0;
	agg->arena_len = 0;
}

void
aggregate_release(struct aggregate *agg)
{
	free(agg->entries);
	free(agg->slots);
	free(agg->arena);
	memset(agg, 0, sizeof(*agg));
}

static void
grow_slots(struct aggregate *agg)
{
	size_t    nslots = (agg->slot_mask + 1) * 2;
	uint64_t *slots = mem_calloc(nslots, sizeof(uint64_t));

	for (size_t i = 0; i < agg->nentries; i++)
	{
		uint64_t h = agg->entries[i].hash;
		size_t   pos = h & (nslots - 1);

		while (slots[pos] != 0)
			pos = (pos + 1) & (nslots - 1);
		slots[pos] = (h & TAG_MASK) | (i + 1);
	}
	free(agg->slots);
	agg->slots = slots;
	agg->slot_mask = nslots - 1;
}

/* Room for n bytes at the end of the arena; returns their offset. */
static uint64_t
arena_reserve(struct aggregate *agg, size_t n)
{
	uint64_t off;

	if (agg->arena_len + n > agg->arena_cap)
	{
		size_t cap = agg->arena_cap ? agg->arena_cap * 2 : 64 * 1024;

		while (cap < agg->arena_len + n)
			cap *= 2;
		agg->arena = mem_realloc(agg->arena, cap);
		agg->arena_cap = cap;
	}
	off = agg->arena_len;
	agg->arena_len += n;
	return off;
}

static inline const char *
entry_key(const struct aggregate *agg, const struct agg_entry *e)
{
	uint64_t off;

	if (e->stream_len + e->node_len <= AGG_INLINE_KEY)
		return e->key;
	memcpy(&off, e->key, sizeof(off));
	return agg->arena + off;
}

uint64_t
aggregate_hash(const char *stream, size_t stream_len, const char *node, size_t node_len)
{
	return pair_hash(stream, stream_len, node, node_len);
}

struct agg_counts *
aggregate_lookup(struct aggregate *agg, const char *stream, size_t stream_len, const char *node,
				 size_t node_len)
{
	return aggregate_lookup_hashed(agg, pair_hash(stream, stream_len, node, node_len), stream,
								   stream_len, node, node_len);
}

struct agg_counts *
aggregate_lookup_hashed(struct aggregate *agg, uint64_t h, const char *stream, size_t stream_len,
						const char *node, size_t node_len)
{
	uint64_t          tag = h & TAG_MASK;
	size_t            pos = h & agg->slot_mask;
	struct agg_entry *e;
	char             *key;

	for (;;)
	{
		uint64_t slot = agg->slots[pos];

		if (slot == 0)
			break;
		if ((slot & TAG_MASK) == tag)
		{
			e = &agg->entries[(slot & ~TAG_MASK) - 1];
			if (e->hash == h && e->stream_len == stream_len && e->node_len == node_len)
			{
				const char *k = entry_key(agg, e);

				if (memcmp(k, stream, stream_len) == 0 &&
					memcmp(k + stream_len, node, node_len) == 0)
					return &e->counts;
			}
		}
		pos = (pos + 1) & agg->slot_mask;
	}

	/* new pair */
	if (agg->nentries == agg->entries_cap)
	{
		agg->entries_cap = agg->entries_cap ? agg->entries_cap * 2 : 1024;
		agg->entries = mem_realloc_array(agg->entries, agg->entries_cap, sizeof(struct agg_entry));
	}
	e = &agg->entries[agg->nentries];
	memset(e, 0, sizeof(*e));
	e->hash = h;
	e->stream_len = (uint8_t) stream_len;
	e->node_len = (uint8_t) node_len;
	if (stream_len + node_len <= AGG_INLINE_KEY)
		key = e->key;
	else
	{
		uint64_t off = arena_reserve(agg, stream_len + node_len);

		memcpy(e->key, &off, sizeof(off));
		key = agg->arena + off;
	}
	memcpy(key, stream, stream_len);
	memcpy(key + stream_len, node, node_len);
	agg->slots[pos] = tag | (uint64_t) (++agg->nentries);
	if (agg->nentries * 2 > agg->slot_mask + 1)
		grow_slots(agg);
	return &e->counts;
}

bool
aggregate_add(struct aggregate *agg, const char *stream, size_t stream_len, const char *node,
			  size_t node_len, const struct agg_counts *delta)
{
	struct agg_counts *c = aggregate_lookup(agg, stream, stream_len, node, node_len);
	struct agg_counts  sum;

	/* all three or none: a failed add leaves the pair as it was, not wrapped */
	if (__builtin_add_overflow(c->total_polls, delta->total_polls, &sum.total_polls) ||
		__builtin_add_overflow(c->successful_polls, delta->successful_polls,
							   &sum.successful_polls) ||
		__builtin_add_overflow(c->failed_spot_checks, delta->failed_spot_checks,
							   &sum.failed_spot_checks))
		return false;
	*c = sum;
	return true;
}

bool
aggregate_merge(struct aggregate *dst, const struct aggregate *src)
{
	for (size_t i = 0; i < src->nentries; i++)
	{
		const struct agg_entry *e = &src->entries[i];

		const char *k = entry_key(src, e);

		if (!aggregate_add(dst, k, e->stream_len, k + e->stream_len, e->node_len, &e->counts))
			return false;
	}
	return true;
}

size_t
aggregate_count(const struct aggregate *agg)
{
	return agg->nentries;
}

int
aggregate_id_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return (alen > blen) - (alen < blen);
}

static int
pair_cmp(const void *x, const void *y)
{
	const struct agg_pair *a = x;
	const struct agg_pair *b = y;
	int                    c = aggregate_id_cmp(a->stream, a->stream_len, b->stream, b->stream_len);

	if (c != 0)
		return c;
	return aggregate_id_cmp(a->node, a->node_len, b->node, b->node_len);
}

void
aggregate_pair_at(const struct aggregate *agg, size_t i, struct agg_pair *out)
{
	const struct agg_entry *e = &agg->entries[i];
	const char             *k = entry_key(agg, e);

	out->stream = k;
	out->stream_len = e->stream_len;
	out->node = k + e->stream_len;
	out->node_len = e->node_len;
	out->counts = e->counts;
}

static int
index_cmp(const void *x, const void *y, void *arg)
{
	struct agg_pair a, b;

	aggregate_pair_at(arg, *(const uint32_t *) x, &a);
	aggregate_pair_at(arg, *(const uint32_t *) y, &b);
	return pair_cmp(&a, &b);
}

uint32_t *
aggregate_sorted_index(const struct aggregate *agg, size_t *npairs)
{
	uint32_t *order = mem_calloc(agg->nentries ? agg->nentries : 1, sizeof(uint32_t));

	for (size_t i = 0; i < agg->nentries; i++)
		order[i] = (uint32_t) i;
	qsort_r(order, agg->nentries, sizeof(uint32_t), index_cmp, (void *) agg);
	*npairs = agg->nentries;
	return order;
}

struct agg_pair *
aggregate_sorted(const struct aggregate *agg, size_t *npairs)
{
	struct agg_pair *pairs = mem_calloc(agg->nentries ? agg->nentries : 1, sizeof(struct agg_pair));
	uint32_t        *order = aggregate_sorted_index(agg, npairs);

	for (size_t i = 0; i < agg->nentries; i++)
		aggregate_pair_at(agg, order[i], &pairs[i]);
	free(order);
	return pairs;
}
