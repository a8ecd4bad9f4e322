/*
 * pools.h: per-stream token pools from a CSV file with header
 * "stream_id,pool" (columns by name, any order, others ignored); pools are
 * integer base units 0..2^63-1.  Same dialect as the probe exports.
 */
#ifndef PAYRUN_POOLS_H
#define PAYRUN_POOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pool_entry
{
	char    *stream; /* owned, not NUL-terminated (ids may hold NUL) */
	size_t   stream_len;
	int64_t  pool;
	uint64_t line; /* where it was defined */
};

struct pools
{
	struct pool_entry *entries; /* owned, sorted by stream id */
	size_t             count;
	size_t             cap;
	char              *path; /* owned: the file or table, NULL if none */
};

void pools_init(struct pools *pools);
void pools_release(struct pools *pools);

/* Loads and validates path; logs "file:line: reason" and returns false on error. */
bool pools_load(struct pools *pools, const char *path);

/* Adds one pool (from another source: payout_pools); call pools_finish after. */
void pools_add(struct pools *pools, const char *stream, size_t stream_len, int64_t pool,
			   uint64_t line);
/* Sorts and checks for duplicates; origin names the source in messages. */
bool pools_finish(struct pools *pools, const char *origin);

/* The pool of a stream, or NULL if the file does not list it. */
const struct pool_entry *pools_find(const struct pools *pools, const char *stream,
									size_t stream_len);

/* Parses a pool amount: decimal digits only, 0..INT64_MAX.  Pure. */
bool pools_parse_amount(const char *s, size_t len, int64_t *out);

#endif
