/*
 * aggregate.c: interned (stream, node) counters (see aggregate.h).
 *
 * Open addressing with linear probing over a power-of-two slot array kept
 * at most half full.  The hash is a simple multiply-xorshift over 8-byte
 * words of both ids; it only has to spread keys, not resist attackers
 * (ids come from our own coordinator's exports, and a bad spread costs
 * time, never correctness).
 */
#include <stdlib.h>
#include <string.h>

#include "payrun/aggregate.h"
#include "payrun/mem.h"

#define INITIAL_SLOTS 1024

static inline uint64_t
mix(uint64_t h)
{
	h ^= h >> 32;
	h *= 0xd6e8feb86659fd93ULL;
	h ^= h >> 32;
	return h;
}

static inline uint64_t
hash_bytes(uint64_t h, const char *p, size_t n)
{
	while (n >= 8)
	{
		uint64_t	w;

		memcpy(&w, p, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
		p += 8;
		n -= 8;
	}
	if (n > 0)
	{
		uint64_t	w = 0;

		memcpy(&w, p, n);
		h = (h ^ w ^ ((uint64_t) n << 56)) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
	}
	return h;
}

static inline uint64_t
pair_hash(const char *s, size_t slen, const char *n, size_t nlen)
{
	uint64_t	h = 0x243f6a8885a308d3ULL ^ (slen << 8) ^ nlen;

	h = hash_bytes(h, s, slen);
	h = hash_bytes(h ^ 0xa5a5a5a5a5a5a5a5ULL, n, nlen);
	return mix(h);
}

void
aggregate_init(struct aggregate *agg)
{
	memset(agg, 0, sizeof(*agg));
	agg->slots = mem_calloc(INITIAL_SLOTS, sizeof(uint32_t));
	agg->slot_mask = INITIAL_SLOTS - 1;
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
	size_t		nslots = (agg->slot_mask + 1) * 2;
	uint32_t   *slots = mem_calloc(nslots, sizeof(uint32_t));

	for (size_t i = 0; i < agg->nentries; i++)
	{
		size_t		pos = agg->entries[i].hash & (nslots - 1);

		while (slots[pos] != 0)
			pos = (pos + 1) & (nslots - 1);
		slots[pos] = (uint32_t) (i + 1);
	}
	free(agg->slots);
	agg->slots = slots;
	agg->slot_mask = nslots - 1;
}

static uint64_t
arena_put(struct aggregate *agg, const char *p, size_t n)
{
	uint64_t	off;

	if (agg->arena_len + n > agg->arena_cap)
	{
		size_t		cap = agg->arena_cap ? agg->arena_cap * 2 : 64 * 1024;

		while (cap < agg->arena_len + n)
			cap *= 2;
		agg->arena = mem_realloc(agg->arena, cap);
		agg->arena_cap = cap;
	}
	off = agg->arena_len;
	memcpy(agg->arena + off, p, n);
	agg->arena_len += n;
	return off;
}

struct agg_counts *
aggregate_lookup(struct aggregate *agg, const char *stream, size_t stream_len,
				 const char *node, size_t node_len)
{
	uint64_t	h = pair_hash(stream, stream_len, node, node_len);
	size_t		pos = h & agg->slot_mask;
	struct agg_entry *e;

	for (;;)
	{
		uint32_t	slot = agg->slots[pos];

		if (slot == 0)
			break;
		e = &agg->entries[slot - 1];
		if (e->hash == h && e->stream_len == stream_len && e->node_len == node_len &&
			memcmp(agg->arena + e->stream_off, stream, stream_len) == 0 &&
			memcmp(agg->arena + e->node_off, node, node_len) == 0)
			return &e->counts;
		pos = (pos + 1) & agg->slot_mask;
	}

	/* new pair */
	if (agg->nentries == agg->entries_cap)
	{
		agg->entries_cap = agg->entries_cap ? agg->entries_cap * 2 : 1024;
		agg->entries = mem_realloc_array(agg->entries, agg->entries_cap,
										 sizeof(struct agg_entry));
	}
	e = &agg->entries[agg->nentries];
	memset(e, 0, sizeof(*e));
	e->hash = h;
	e->stream_len = (uint8_t) stream_len;
	e->node_len = (uint8_t) node_len;
	e->stream_off = arena_put(agg, stream, stream_len);
	e->node_off = arena_put(agg, node, node_len);
	agg->slots[pos] = (uint32_t) (++agg->nentries);
	if (agg->nentries * 2 > agg->slot_mask + 1)
		grow_slots(agg);
	return &e->counts;
}

static bool
add_checked(uint64_t *a, uint64_t b)
{
	return !__builtin_add_overflow(*a, b, a);
}

bool
aggregate_add(struct aggregate *agg, const char *stream, size_t stream_len,
			  const char *node, size_t node_len, const struct agg_counts *delta)
{
	struct agg_counts *c = aggregate_lookup(agg, stream, stream_len, node, node_len);

	return add_checked(&c->total_polls, delta->total_polls) &&
		add_checked(&c->successful_polls, delta->successful_polls) &&
		add_checked(&c->failed_spot_checks, delta->failed_spot_checks);
}

bool
aggregate_merge(struct aggregate *dst, const struct aggregate *src)
{
	for (size_t i = 0; i < src->nentries; i++)
	{
		const struct agg_entry *e = &src->entries[i];

		if (!aggregate_add(dst, src->arena + e->stream_off, e->stream_len,
						   src->arena + e->node_off, e->node_len, &e->counts))
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
	int			c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return (alen > blen) - (alen < blen);
}

static int
pair_cmp(const void *x, const void *y)
{
	const struct agg_pair *a = x;
	const struct agg_pair *b = y;
	int			c = aggregate_id_cmp(a->stream, a->stream_len, b->stream, b->stream_len);

	if (c != 0)
		return c;
	return aggregate_id_cmp(a->node, a->node_len, b->node, b->node_len);
}

struct agg_pair *
aggregate_sorted(const struct aggregate *agg, size_t *npairs)
{
	struct agg_pair *pairs = mem_calloc(agg->nentries ? agg->nentries : 1,
										sizeof(struct agg_pair));

	for (size_t i = 0; i < agg->nentries; i++)
	{
		const struct agg_entry *e = &agg->entries[i];

		pairs[i].stream = agg->arena + e->stream_off;
		pairs[i].stream_len = e->stream_len;
		pairs[i].node = agg->arena + e->node_off;
		pairs[i].node_len = e->node_len;
		pairs[i].counts = e->counts;
	}
	qsort(pairs, agg->nentries, sizeof(struct agg_pair), pair_cmp);
	*npairs = agg->nentries;
	return pairs;
}
