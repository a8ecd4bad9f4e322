/*
 * verify.h: checking a published version, DIR/LABEL/vN/, after the fact
 * ('payrun verify'): that its files are what its manifest says they are,
 * that its books balance, and optionally that the database records the
 * same version.
 *
 *   files       every output the manifest lists is present, with its size
 *               and SHA-256; a file the manifest does not list is reported;
 *   invariants  recomputed from ledger.csv and streams.csv with exact
 *               amounts (amount.h): base = payout + forfeited per row; per
 *               stream, its rows' payouts, forfeits, count and successful
 *               polls are its paid, forfeited, nodes and
 *               total_successful_polls, and paid + forfeited + unallocated
 *               = pool; uptime and contribution ppm recomputed; rows and
 *               streams sorted and unique, of the period; the manifest's
 *               totals are the sums of the streams;
 *   database    (optional) payout_runs, payout_ledger and
 *               payout_stream_totals of that version, read as 'payrun
 *               export' reads them (export.h), hold the same rows, totals
 *               and input digest.
 *
 * Each difference is one line "FILE:LINE: what" (or "FILE: what") on the
 * output, FILE being a file of the version or a table.
 */
#ifndef PAYRUN_VERIFY_H
#define PAYRUN_VERIFY_H

#include <stdbool.h>
#include <stdio.h>

#include "payrun/exitcode.h"
#include "payrun/period.h"

#define VERIFY_MAX_LISTED 1000 /* differences printed; the rest are counted */

struct verify_request
{
	const char   *out_dir; /* borrowed */
	struct period period;
	int           version;  /* 0: the latest in out_dir */
	bool          use_db;   /* compare with the database record */
	const char   *conninfo; /* borrowed; NULL: libpq's environment */
	bool          quiet;    /* no "verified: ..." line */
};

/*
 * Verifies the version, printing each difference to out, then "verified:
 * N files, M streams, K rows" when there is none.  Returns PAYRUN_EXIT_OK,
 * _DATA (differences: logged with their number), _USAGE (no such directory
 * or version), _DB or _INTERNAL.
 */
enum payrun_exit verify_run(const struct verify_request *req, FILE *out);

#endif
