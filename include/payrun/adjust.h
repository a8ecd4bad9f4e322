/*
 * adjust.h: what a rerun changes.  The previous version's ledger.csv is
 * read back (and checked against the SHA-256 its manifest.json recorded),
 * and compared with the new ledger by (stream, node): every node whose
 * payout changed, appeared or disappeared becomes an adjustment
 * previously_paid -> now_due, delta = now_due - previously_paid.
 *
 * Totals follow as rows with empty ids (ids are never empty): after each
 * stream's adjusted nodes, the stream's totals over all its nodes (node_id
 * empty); last, the period's (both empty).  Nothing changed, no rows.
 */
#ifndef PAYRUN_ADJUST_H
#define PAYRUN_ADJUST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "payrun/amount.h"
#include "payrun/ledger.h"

struct adjust_prev_row
{
	char         *stream; /* owned */
	size_t        stream_len;
	char         *node; /* owned */
	size_t        node_len;
	struct amount payout;
};

struct adjustment
{
	const char         *stream; /* borrowed from the previous or new ledger */
	size_t              stream_len;
	const char         *node;
	size_t              node_len;
	struct amount       previously_paid;
	struct amount       now_due;
	struct amount_delta delta;
};

struct adjustments
{
	int                     previous_version;
	struct adjust_prev_row *prev; /* owned, sorted */
	size_t                  nprev;
	struct adjustment      *rows; /* owned: node rows and totals rows, in file order */
	size_t                  nrows;
	size_t                  nnodes;          /* node rows among them */
	struct amount           previously_paid; /* totals over all nodes of the period */
	struct amount           now_due;
	struct amount_delta     delta;
};

/*
 * Reads DIR/LABEL/vN/ledger.csv of the previous version (version_dir) and
 * checks it against that version's manifest.json.  Logs and returns false
 * when either is missing, unreadable, malformed or does not match; call
 * adjust_release() after either outcome.
 */
bool adjust_load_previous(struct adjustments *adj, const char *version_dir, int previous_version);

/* Compares with the new ledger; false if a total overflows (logged). */
bool adjust_compute(struct adjustments *adj, const struct ledger *ledger);

void adjust_release(struct adjustments *adj);

#endif
