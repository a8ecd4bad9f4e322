/*
 * source_pg.h: the PostgreSQL source.  One parameterised, set-based query
 * (sql/settle_read.sql, on the probe table of probes.h) groups the period's
 * probes by (stream, node) in a REPEATABLE READ READ ONLY transaction with
 * JIT off and the session in UTC, streamed row by row into the aggregate.
 * The pools come from payout_pools or the pools query, in the same
 * snapshot, when the plan says so.  With rollups (source_rollups.h), the
 * hours they hold come from them, in the same snapshot and statement.
 */
#ifndef PAYRUN_SOURCE_PG_H
#define PAYRUN_SOURCE_PG_H

#include <stdbool.h>

#include "payrun/aggregate.h"
#include "payrun/coverage.h"
#include "payrun/db.h"
#include "payrun/exitcode.h"
#include "payrun/period.h"
#include "payrun/pools.h"
#include "payrun/probes.h"
#include "payrun/rejects.h"
#include "payrun/report.h"
#include "payrun/source.h"
#include "payrun/source_rollups.h"

/* Slices of the period the grouped read reports probes in (coverage.h). */
#define SOURCE_PG_SLICES 256

/* What to read. */
struct source_pg_plan
{
	const struct period      *period;
	const struct probe_table *table;       /* resolved */
	enum pools_origin         pools;       /* POOLS_TABLE or POOLS_QUERY: read them too */
	const char               *pools_query; /* POOLS_QUERY: (stream_id, amount) */
	unsigned                  decimals;    /* of the pools' amounts */
	enum rollups_mode         rollups_mode;
	struct rollups_use       *rollups; /* filled: how the rollups were used */
};

/*
 * The coverage slices' starts of [start, start + span) as an SQL array
 * constant of the probe column's type, for sql/settle_read.sql's
 * {slice_starts} (caller frees); NULL on a database error (logged).
 */
char *source_pg_slice_starts(struct db *db, const struct probe_table *pt, int64_t start,
							 int64_t span);

/*
 * Reads the period into agg and cover (initialised by the caller with
 * SOURCE_PG_SLICES slices), and the pools the plan asks for into pools, in
 * one snapshot.  Rows the CSV path would reject are counted and kept in
 * rejects (one line per group and reason).  Times the query and fetch
 * phases.  Returns PAYRUN_EXIT_OK, _DB or _DATA.
 */
enum payrun_exit source_pg_read(struct db *db, const struct source_pg_plan *plan,
								struct pools *pools, struct aggregate *agg, struct coverage *cover,
								struct rejects *rejects, struct source_counts *counts,
								struct report *rep);

#endif
