/*
 * source_pg.h: the PostgreSQL source.  One parameterised, set-based query
 * (sql/settle_read.sql) groups the period's probes by (stream, node) in a
 * REPEATABLE READ READ ONLY transaction with JIT off, streamed row by row
 * into the aggregate.  Pools come from payout_pools when no file is given.
 */
#ifndef PAYRUN_SOURCE_PG_H
#define PAYRUN_SOURCE_PG_H

#include <stdbool.h>

#include "payrun/aggregate.h"
#include "payrun/db.h"
#include "payrun/exitcode.h"
#include "payrun/period.h"
#include "payrun/pools.h"
#include "payrun/rejects.h"
#include "payrun/report.h"
#include "payrun/sha256.h"
#include "payrun/source_csv.h"

/* The table the rows come from, as named in rejects.csv. */
#define SOURCE_PG_TABLE "probe_results"

/*
 * Reads the period into agg.  With pools_from_db, also fills pools from
 * payout_pools in the same snapshot.  Rows the CSV path would reject are
 * counted and kept in rejects (one line per group).  Times the query and
 * fetch phases.  Returns PAYRUN_EXIT_OK, _DB or _DATA.
 */
enum payrun_exit source_pg_read(struct db *db, const struct period *period, bool pools_from_db,
								unsigned decimals, struct pools *pools, struct aggregate *agg,
								struct rejects *rejects, struct source_counts *counts,
								struct report *rep);

#endif
