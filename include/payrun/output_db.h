/*
 * output_db.h: the database record of a settled period (source pg):
 * payout_runs, payout_ledger and payout_stream_totals.
 *
 *   check   before any input is read: the database must agree with the
 *           version the files decided (none settled for v1; vN-1 the
 *           latest for a rerun to vN), else PAYRUN_EXIT_CONFLICT;
 *   write   opens a transaction, takes the period's advisory lock (exit 5
 *           if another run holds it), checks again, inserts the run and
 *           COPYs the ledger and stream totals;
 *   commit  commits;
 *   close   rolls back whatever was not committed: no run, no rows.
 */
#ifndef PAYRUN_OUTPUT_DB_H
#define PAYRUN_OUTPUT_DB_H

#include <stdbool.h>

#include "payrun/db.h"
#include "payrun/exitcode.h"
#include "payrun/ledger.h"
#include "payrun/manifest.h"
#include "payrun/pools.h"

struct output_db
{
	struct db *db; /* borrowed */
	bool       in_tx;
	char       run_id[24];     /* of the inserted run */
	char       supersedes[24]; /* reruns: id of the run replaced, "" otherwise */
};

/* The record borrows db, which must outlive it. */
void output_db_init(struct output_db *od, struct db *db);

/* out_dir names the file output in messages. */
enum payrun_exit output_db_check(struct output_db *od, const struct period *period, int version,
								 bool rerun, const char *out_dir);

/* pools: the copy the run keeps (payout_runs.pools_csv), or NULL. */
enum payrun_exit output_db_write(struct output_db *od, const struct run_record *run,
								 const struct ledger *ledger, const struct pools *pools, bool rerun,
								 const char *reason, const char *out_dir);

enum payrun_exit output_db_commit(struct output_db *od, const struct period *period, int version);

void output_db_close(struct output_db *od);

#endif
