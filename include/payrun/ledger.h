/*
 * ledger.h: the settled period, row per (stream, node) and per stream.
 * Built from an aggregate, the pools and the settings by the payout math;
 * pure (no I/O).  Rows borrow id bytes from the aggregate and the pools,
 * which must outlive the ledger.
 */
#ifndef PAYRUN_LEDGER_H
#define PAYRUN_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "payrun/aggregate.h"
#include "payrun/payout.h"
#include "payrun/period.h"
#include "payrun/pools.h"

struct ledger_row
{
	const char       *stream; /* in the ledger's keys, or borrowed (export) */
	size_t            stream_len;
	const char       *node; /* likewise */
	size_t            node_len;
	struct agg_counts counts;
	uint32_t          uptime_ppm;
	uint32_t          contribution_ppm;
	struct amount     base;
	struct amount     forfeited;
	struct amount     payout;
};

struct ledger_stream
{
	const char   *stream; /* borrowed */
	size_t        stream_len;
	struct amount pool;
	uint64_t      nodes;
	uint64_t      total_successful_polls;
	struct amount paid;
	struct amount forfeited;
	struct amount unallocated;
};

struct ledger_totals
{
	uint64_t      streams;
	uint64_t      nodes; /* ledger rows: (stream, node) pairs */
	struct amount pool;
	struct amount paid;
	struct amount forfeited;
	struct amount unallocated;
};

struct ledger
{
	struct period         period;
	struct ledger_row    *rows; /* owned, sorted by stream then node */
	char                 *keys; /* owned by ledger_build: its rows' ids (else NULL) */
	size_t                nrows;
	struct ledger_stream *streams; /* owned, sorted by stream */
	size_t                nstreams;
	struct ledger_totals  totals;
};

struct ledger_settings
{
	struct amount      default_pool; /* for streams the pools do not list */
	struct payout_keep keep;         /* 1 - penalty factor */
};

enum ledger_status
{
	LEDGER_OK = 0,
	LEDGER_OVERFLOW, /* a total passes 2^256 - 1 base units, or W 64 bits: bad input */
	LEDGER_INVARIANT /* the books did not balance: a bug */
};

/*
 * Settles: every stream seen in the aggregate plus every stream in pools.
 * On failure writes a reason into err.
 */
enum ledger_status ledger_build(struct ledger *ledger, const struct period *period,
								const struct aggregate *agg, const struct pools *pools,
								const struct ledger_settings *settings, char *err, size_t errlen);

/*
 * Checks a ledger's books, as settle and export must publish them: each row
 * base = payout + forfeited; each stream's rows sum to its paid and
 * forfeited, paid + forfeited + unallocated = pool, and its node count;
 * the totals are the sums of the streams; rows and streams sorted and
 * unique.  On failure writes what does not balance into err.  Pure.
 */
bool ledger_check(const struct ledger *ledger, char *err, size_t errlen);

/* Sets the totals from the streams (a ledger read back); false past 2^256 - 1. */
bool ledger_sum_totals(struct ledger *ledger);

void ledger_release(struct ledger *ledger);

#endif
