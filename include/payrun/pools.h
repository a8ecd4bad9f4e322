/*
 * pools.h: the per-stream token pools of a period, from a CSV file with
 * header "stream_id,pool" (columns by name, any order, others ignored;
 * the probe exports' dialect), from payout_pools, or from the coordinator's
 * own table through a query (source_pg.h).  Amounts are in tokens with the
 * token's decimals (0: base units), parsed exactly (amount.h).
 *
 * Whatever the origin, the pools keep a copy of themselves as a CSV file
 * (the file's own bytes, or the rows as the database returned them), which
 * each version publishes as pools.csv: a rerun without new pools reads that
 * copy, never the file's name again.
 */
#ifndef PAYRUN_POOLS_H
#define PAYRUN_POOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "payrun/amount.h"
#include "payrun/sha256.h"

enum pools_origin
{
	POOLS_NONE = 0, /* every stream gets the default pool */
	POOLS_FILE,     /* --pools FILE */
	POOLS_TABLE,    /* payout_pools */
	POOLS_QUERY,    /* the pools_query setting */
	POOLS_VERSION   /* a previous version's pools.csv (reruns) */
};

struct pool_entry
{
	char         *stream; /* owned, not NUL-terminated (ids may hold NUL) */
	size_t        stream_len;
	struct amount pool; /* base units */
	uint64_t      line; /* where it was defined (file line or row) */
};

struct pools
{
	struct pool_entry *entries; /* owned, sorted by stream id */
	size_t             count;
	size_t             cap;
	enum pools_origin  origin;
	char              *path;     /* owned: the file read, or NULL */
	unsigned           decimals; /* the token decimals of the amounts as given */
	char              *copy;     /* owned: the pools as a CSV file */
	size_t             copy_len;
	size_t             copy_cap;
	char               sha256[SHA256_HEX_LEN]; /* of copy, after pools_finish */
};

void pools_init(struct pools *pools);
void pools_release(struct pools *pools);

/*
 * Loads and validates a pools file (origin POOLS_FILE or POOLS_VERSION);
 * logs "file:line: reason" and returns false on error.
 */
bool pools_load(struct pools *pools, const char *path, unsigned decimals, enum pools_origin origin);

/*
 * Starts pools read from the database: origin POOLS_TABLE or POOLS_QUERY.
 * Each row then goes through pools_add_text; pools_finish ends them.
 */
void pools_begin_rows(struct pools *pools, enum pools_origin origin, unsigned decimals);

/*
 * Adds one stream's pool as text (tokens with the pools' decimals); logs
 * naming what (the origin's name), the row, the stream and the value, and
 * returns false when the stream id or the amount is not valid.
 */
bool pools_add_text(struct pools *pools, const char *what, uint64_t row, const char *stream,
					size_t stream_len, const char *amount, size_t amount_len);

/* Sorts and checks for duplicates; what names the origin in messages. */
bool pools_finish(struct pools *pools, const char *what);

/* The pool of a stream, or NULL if the pools do not list it. */
const struct pool_entry *pools_find(const struct pools *pools, const char *stream,
									size_t stream_len);

/* True when every pool listed is zero (or none is listed). */
bool pools_all_zero(const struct pools *pools);

/* "file", "payout_pools", "query", "previous version" or "none". */
const char *pools_origin_name(enum pools_origin origin);

#endif
