/*
 * sink_pg.h: the PostgreSQL sink.  prepare refuses a period that already
 * has a settled run; write opens a transaction, takes the period's
 * advisory lock (exit 5 if another run holds it), checks again, inserts the
 * run into payout_runs and COPYs the ledger and stream totals; publish
 * commits.  Anything short of the commit rolls back: no run, no rows.
 */
#ifndef PAYRUN_SINK_PG_H
#define PAYRUN_SINK_PG_H

#include "payrun/db.h"
#include "payrun/sink.h"

/* The sink borrows db, which must outlive it. */
struct sink *sink_pg_create(struct db *db);

#endif
