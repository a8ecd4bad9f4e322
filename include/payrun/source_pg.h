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

/* What to read. */
struct source_pg_plan
{
	const struct period *period;
	enum pools_origin    pools;       /* POOLS_TABLE or POOLS_QUERY: read them too; else not */
	const char          *pools_query; /* POOLS_QUERY: (stream_id, amount) */
	unsigned             decimals;    /* of the pools' amounts */
};

/*
 * Reads the period into agg, and the pools the plan asks for into pools,
 * in one snapshot.  Rows the CSV path would reject are counted and kept in
 * rejects (one line per group).  Times the query and fetch phases.
 * Returns PAYRUN_EXIT_OK, _DB or _DATA.
 */
enum payrun_exit source_pg_read(struct db *db, const struct source_pg_plan *plan,
								struct pools *pools, struct aggregate *agg, struct rejects *rejects,
								struct source_counts *counts, struct report *rep);

#endif
