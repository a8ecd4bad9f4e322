/*
 * source_pg.c: probes from PostgreSQL (see source_pg.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "payrun/clock.h"
#include "payrun/log.h"
#include "payrun/numparse.h"
#include "payrun/source_pg.h"
#include "payrun/sql.h"
#include "payrun/timestamp.h"
#include "payrun/banned.h"

/* settle_read.sql's columns */
enum
{
	COL_STREAM,
	COL_NODE,
	COL_POLLS,
	COL_OK_POLLS,
	COL_FAILED_SPOTS,
	COL_BAD_TYPE,
	COL_NULL_SUCCESS,
	COL_ROWS,
	NCOLS
};

struct pg_reader
{
	struct aggregate     *agg;
	struct rejects       *rejects;
	struct source_counts *counts;
	bool                  failed;
};

static bool
parse_count(const char *v, uint64_t *out)
{
	return v != NULL && numparse_u64(v, strlen(v), 0, UINT64_MAX, out);
}

/* Rejects a whole group, with "stream,node" as the record. */
static void
reject_group(struct pg_reader *r, const char *const *values, const int *lengths,
			 enum reject_reason reason, uint64_t rows)
{
	char record[2 * AGGREGATE_ID_MAX + 64];
	int  slen = values[COL_STREAM] ? lengths[COL_STREAM] : 0;
	int  nlen = values[COL_NODE] ? lengths[COL_NODE] : 0;

	snprintf(record, sizeof(record), "stream_id=%.*s node_id=%.*s rows=%llu",
			 slen > AGGREGATE_ID_MAX ? AGGREGATE_ID_MAX : slen,
			 values[COL_STREAM] ? values[COL_STREAM] : "",
			 nlen > AGGREGATE_ID_MAX ? AGGREGATE_ID_MAX : nlen,
			 values[COL_NODE] ? values[COL_NODE] : "", (unsigned long long) rows);
	rejects_add_rows(r->rejects, SOURCE_PG_TABLE, 0, reason, record, strlen(record), rows);
	r->counts->rejected += rows;
}

static bool
on_group(void *arg, int ncols, const char *const *values, const int *lengths)
{
	struct pg_reader *r = arg;
	uint64_t          n[NCOLS];
	uint64_t          valid;
	size_t            slen, nlen;

	if (ncols != NCOLS)
	{
		log_error("internal error: settle_read returned %d columns, expected %d", ncols, NCOLS);
		r->failed = true;
		return false;
	}
	for (int c = COL_POLLS; c < NCOLS; c++)
	{
		if (!parse_count(values[c], &n[c]))
		{
			log_error("internal error: settle_read returned a non-count in column %d", c);
			r->failed = true;
			return false;
		}
	}
	r->counts->rows_read += n[COL_ROWS];
	slen = values[COL_STREAM] ? (size_t) lengths[COL_STREAM] : 0;
	nlen = values[COL_NODE] ? (size_t) lengths[COL_NODE] : 0;
	if (slen == 0 || slen > AGGREGATE_ID_MAX)
	{
		reject_group(r, values, lengths,
					 slen == 0 ? REJECT_EMPTY_STREAM_ID : REJECT_STREAM_ID_TOO_LONG, n[COL_ROWS]);
		return true;
	}
	if (nlen == 0 || nlen > AGGREGATE_ID_MAX)
	{
		reject_group(r, values, lengths, nlen == 0 ? REJECT_EMPTY_NODE_ID : REJECT_NODE_ID_TOO_LONG,
					 n[COL_ROWS]);
		return true;
	}
	if (n[COL_BAD_TYPE] > 0)
		reject_group(r, values, lengths, REJECT_BAD_PROBE_TYPE, n[COL_BAD_TYPE]);
	if (n[COL_NULL_SUCCESS] > 0)
		reject_group(r, values, lengths, REJECT_BAD_SUCCESS, n[COL_NULL_SUCCESS]);
	valid = n[COL_ROWS] - n[COL_BAD_TYPE] - n[COL_NULL_SUCCESS];
	r->counts->in_period += valid;
	if (valid > 0)
	{
		struct agg_counts delta = {
			.total_polls = n[COL_POLLS],
			.successful_polls = n[COL_OK_POLLS],
			.failed_spot_checks = n[COL_FAILED_SPOTS],
		};

		if (!aggregate_add(r->agg, values[COL_STREAM], slen, values[COL_NODE], nlen, &delta))
		{
			log_error("probe counts overflow 64 bits");
			r->failed = true;
			return false;
		}
	}
	return true;
}

struct pools_reader
{
	struct pools *pools;
	const char   *what; /* the pools' origin, in messages */
	uint64_t      row;
	bool          failed;
};

static bool
on_pool(void *arg, int ncols, const char *const *values, const int *lengths)
{
	struct pools_reader *pr = arg;

	pr->row++;
	if (ncols != 2 || values[0] == NULL || values[1] == NULL)
	{
		log_error("%s row %llu for this period is invalid: want stream_id and pool, not NULL",
				  pr->what, (unsigned long long) pr->row);
		pr->failed = true;
		return false;
	}
	if (!pools_add_text(pr->pools, pr->what, pr->row, values[0], (size_t) lengths[0], values[1],
						(size_t) lengths[1]))
	{
		pr->failed = true;
		return false;
	}
	return true;
}

/* The pools of the plan, in the read's snapshot: payout_pools or the query. */
static enum payrun_exit
read_pools(struct db *db, const struct source_pg_plan *plan, const char *const *params,
		   struct pools *pools, struct report *rep)
{
	bool                query = plan->pools == POOLS_QUERY;
	struct pools_reader pr = { .pools = pools, .what = query ? "pools_query" : "payout_pools" };
	bool                ok;

	pools_begin_rows(pools, plan->pools, plan->decimals);
	report_begin(rep, REPORT_PHASE_POOLS);
	if (query)
		ok = db_query(db, "read pools", "pools_query", plan->pools_query, 0, NULL, on_pool, &pr,
					  NULL);
	else
		ok = db_query(db, "read pools", "pools_read", sql_pools_read, 2, params, on_pool, &pr,
					  NULL);
	if (!ok)
		return pr.failed ? PAYRUN_EXIT_DATA : PAYRUN_EXIT_DB;
	if (!pools_finish(pools, pr.what))
		return PAYRUN_EXIT_DATA;
	report_end(rep, REPORT_PHASE_POOLS, pools->count, 0);
	return PAYRUN_EXIT_OK;
}

enum payrun_exit
source_pg_read(struct db *db, const struct source_pg_plan *plan, struct pools *pools,
			   struct aggregate *agg, struct rejects *rejects, struct source_counts *counts,
			   struct report *rep)
{
	const struct period *period = plan->period;
	char                 start[TIMESTAMP_FORMAT_LEN];
	char                 end[TIMESTAMP_FORMAT_LEN];
	const char          *params[2] = { start, end };
	struct pg_reader     r = { .agg = agg, .rejects = rejects, .counts = counts };
	double               t0, c0, first_row_s = 0;
	enum payrun_exit     rc;

	timestamp_format(period->start, start);
	timestamp_format(period->end, end);

	/* one snapshot for pools and probes; JIT costs more than it saves here */
	if (!db_begin(db, "read probes", "ISOLATION LEVEL REPEATABLE READ READ ONLY") ||
		!db_exec(db, "read probes", "SET jit", "SET LOCAL jit = off"))
		return PAYRUN_EXIT_DB;
	if (plan->pools == POOLS_TABLE || plan->pools == POOLS_QUERY)
	{
		rc = read_pools(db, plan, params, pools, rep);
		if (rc != PAYRUN_EXIT_OK)
		{
			db_rollback(db, "read pools");
			return rc;
		}
	}

	t0 = clock_monotonic_s();
	c0 = clock_cpu_s();
	if (!db_query(db, "read probes", "settle_read", sql_settle_read, 2, params, on_group, &r,
				  &first_row_s))
	{
		db_rollback(db, "read probes");
		return r.failed ? PAYRUN_EXIT_INTERNAL : PAYRUN_EXIT_DB;
	}
	{
		double wall = clock_monotonic_s() - t0;
		double cpu = clock_cpu_s() - c0;

		/* the server's work shows as time to the first row; our CPU is fetching */
		report_record(rep, REPORT_PHASE_QUERY, first_row_s, 0, 0, 0);
		report_record(rep, REPORT_PHASE_FETCH, wall - first_row_s, cpu, aggregate_count(agg), 0);
	}
	if (!db_commit(db, "read probes"))
		return PAYRUN_EXIT_DB;
	log_info("read %llu probe rows of %s in %zu (stream, node) groups from PostgreSQL",
			 (unsigned long long) counts->rows_read, period->label, aggregate_count(agg));
	return PAYRUN_EXIT_OK;
}
