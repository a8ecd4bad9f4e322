/*
 * payout.h: the payout math of one stream.  Pure and integer-only: no I/O,
 * no floating point, no global state, so it is tested on its own.
 *
 *   base_n   = floor(pool * S_n / W), the remainder pool - sum(base) going
 *              one unit each to the largest (pool * S_n) mod W, ties by
 *              node id in byte order; every base is 0 when W = 0.
 *   payout_n = base_n after x = floor(x * a / b) applied F_n times, where
 *              a/b = 1 - f reduced (the graduated penalty (1 - f)^F).
 *   paid + forfeited + unallocated = pool, always; checked.
 */
#ifndef PAYRUN_PAYOUT_H
#define PAYRUN_PAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "payrun/amount.h"

#define PAYOUT_PPM 1000000

/* The kept share 1 - f as a reduced fraction num/den. */
struct payout_keep
{
	uint64_t num;
	uint64_t den;
	uint32_t penalty_ppm; /* f in millionths, for reports */
};

struct payout_node
{
	/* input */
	const char *node; /* id bytes, for the remainder tie-break */
	size_t      node_len;
	uint64_t    successful_polls;   /* S */
	uint64_t    failed_spot_checks; /* F */
	/* output */
	struct amount base;
	struct amount forfeited;
	struct amount payout;
};

struct payout_stream
{
	struct amount pool;
	uint64_t      total_successful_polls; /* W */
	struct amount paid;
	struct amount forfeited;
	struct amount unallocated;
};

enum payout_status
{
	PAYOUT_OK = 0,
	PAYOUT_OVERFLOW, /* W overflowed 64 bits */
	PAYOUT_INVARIANT /* the books did not balance: a bug, never data */
};

/*
 * Parses the penalty factor f, a decimal in [0, 1] with at most 6
 * fractional digits ("0.5", "1", "0.000001").  Pure; false if malformed.
 */
bool payout_keep_parse(const char *f, struct payout_keep *keep);

/* Formats f from penalty_ppm back as a minimal decimal ("0.5"). */
void payout_keep_format(const struct payout_keep *keep, char *buf, size_t len);

/*
 * Computes base, forfeited and payout for each node, and the stream's
 * totals.  Nodes may come in any order.
 */
enum payout_status payout_compute(const struct amount *pool, const struct payout_keep *keep,
								  struct payout_node *nodes, size_t nnodes,
								  struct payout_stream *out);

const char *payout_status_message(enum payout_status status);

/* floor(num * 10^6 / den), 0 when den = 0. */
uint32_t payout_ppm(uint64_t num, uint64_t den);

#endif
