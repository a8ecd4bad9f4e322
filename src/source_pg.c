/*
 * source_pg.c: probes from PostgreSQL (see source_pg.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payrun/clock.h"
#include "payrun/log.h"
#include "payrun/mem.h"
#include "payrun/numparse.h"
#include "payrun/source_pg.h"
#include "payrun/source_rollups.h"
#include "payrun/sql.h"
#include "payrun/timestamp.h"
#include "payrun/progress.h"
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
	COL_NULL_TIMESTAMP,
	COL_ROWS,
	COL_FIRST,
	COL_LAST,
	COL_SLICES, /* four 64-slice masks */
	NCOLS = COL_SLICES + 4
};

struct pg_reader
{
	struct aggregate     *agg;
	struct coverage      *cover;
	struct rejects       *rejects;
	struct source_counts *counts;
	const char           *table; /* as named in rejects.csv */
	bool                  failed;
	uint64_t              bytes; /* of the values received */
	uint64_t              groups;
	struct progress       progress;
};

static bool
parse_count(const char *v, uint64_t *out)
{
	return v != NULL && numparse_u64(v, strlen(v), 0, UINT64_MAX, out);
}

/* A bigint bit mask as printed (it may be negative); NULL for none. */
static bool
parse_mask(const char *v, uint64_t *out)
{
	int64_t m = 0;

	if (v && !numparse_i64(v, strlen(v), &m))
		return false;
	*out = (uint64_t) m;
	return true;
}

/* Epoch seconds as printed (a bigint). */
static bool
parse_epoch(const char *v, int64_t *out)
{
	return numparse_i64(v, strlen(v), out);
}

/* Rejects rows of a group for one reason, with "stream,node" as the record. */
static void
reject_group(struct pg_reader *r, const char *const *values, const int *lengths,
			 enum reject_reason reason, uint64_t rows)
{
	char record[2 * AGGREGATE_ID_MAX + 64];
	int  slen = values[COL_STREAM] ? lengths[COL_STREAM] : 0;
	int  nlen = values[COL_NODE] ? lengths[COL_NODE] : 0;

	if (rows == 0)
		return;
	snprintf(record, sizeof(record), "stream_id=%.*s node_id=%.*s rows=%llu",
			 slen > AGGREGATE_ID_MAX ? AGGREGATE_ID_MAX : slen,
			 values[COL_STREAM] ? values[COL_STREAM] : "",
			 nlen > AGGREGATE_ID_MAX ? AGGREGATE_ID_MAX : nlen,
			 values[COL_NODE] ? values[COL_NODE] : "", (unsigned long long) rows);
	rejects_add_rows(r->rejects, r->table, 0, reason, record, strlen(record), rows);
	r->counts->rejected += rows;
}

/* The group's probe times into the coverage. */
static bool
add_coverage(struct pg_reader *r, const char *const *values)
{
	int64_t  first, last;
	uint64_t mask;

	if (values[COL_FIRST] == NULL || values[COL_LAST] == NULL)
		return true;
	if (!parse_epoch(values[COL_FIRST], &first) || !parse_epoch(values[COL_LAST], &last))
		return false;
	coverage_add_ends(r->cover, first, last);
	for (int k = 0; k < 4; k++)
	{
		if (!parse_mask(values[COL_SLICES + k], &mask))
			return false;
		if (mask)
			coverage_add_bits(r->cover, (uint32_t) (64 * k), mask);
	}
	return true;
}

/* The group's rows: rejected whole for a bad id, else per reason; the rest counted in. */
static bool
add_group(struct pg_reader *r, const char *const *values, const int *lengths, const uint64_t *n)
{
	size_t   slen = values[COL_STREAM] ? (size_t) lengths[COL_STREAM] : 0;
	size_t   nlen = values[COL_NODE] ? (size_t) lengths[COL_NODE] : 0;
	uint64_t valid;

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
	reject_group(r, values, lengths, REJECT_BAD_PROBE_TYPE, n[COL_BAD_TYPE]);
	reject_group(r, values, lengths, REJECT_BAD_SUCCESS, n[COL_NULL_SUCCESS]);
	reject_group(r, values, lengths, REJECT_BAD_TIMESTAMP, n[COL_NULL_TIMESTAMP]);
	valid = n[COL_ROWS] - n[COL_BAD_TYPE] - n[COL_NULL_SUCCESS] - n[COL_NULL_TIMESTAMP];
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
			return false;
		}
	}
	return true;
}

static bool
on_group(void *arg, int ncols, const char *const *values, const int *lengths)
{
	struct pg_reader *r = arg;
	uint64_t          n[COL_FIRST];

	if (ncols != NCOLS)
	{
		log_error("internal error: settle_read returned %d columns, expected %d", ncols, NCOLS);
		r->failed = true;
		return false;
	}
	for (int c = COL_POLLS; c < COL_FIRST; c++)
	{
		if (!parse_count(values[c], &n[c]))
		{
			log_error("internal error: settle_read returned a non-count in column %d", c);
			r->failed = true;
			return false;
		}
	}
	r->counts->rows_read += n[COL_ROWS];
	for (int c = 0; c < ncols; c++)
		r->bytes += values[c] ? (uint64_t) lengths[c] : 0;
	r->groups++;
	progress_update(&r->progress, r->bytes, r->groups);
	if (!add_group(r, values, lengths, n))
	{
		r->failed = true;
		return false;
	}
	if (n[COL_ROWS] > n[COL_BAD_TYPE] + n[COL_NULL_SUCCESS] + n[COL_NULL_TIMESTAMP] &&
		!add_coverage(r, values))
	{
		log_error("internal error: settle_read returned bad probe times");
		r->failed = true;
		return false;
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

struct slice_text
{
	char *text; /* owned */
};

static bool
on_slice_starts(void *arg, int ncols, const char *const *values, const int *lengths)
{
	struct slice_text *st = arg;

	(void) lengths;
	if (ncols == 1 && values[0] && st->text == NULL)
		st->text = mem_strdup(values[0]);
	return true;
}

char *
source_pg_slice_starts(struct db *db, const struct probe_table *pt, int64_t start, int64_t span)
{
	char              a[24], b[24], c[16];
	const char       *params[3] = { a, b, c };
	struct slice_text st = { NULL };
	char             *sql = probes_sql(pt, sql_slice_starts);
	char             *quoted, *out;
	size_t            len;
	bool              ok;

	snprintf(a, sizeof(a), "%lld", (long long) start);
	snprintf(b, sizeof(b), "%lld", (long long) span);
	snprintf(c, sizeof(c), "%d", SOURCE_PG_SLICES);
	ok = db_query(db, "read probes", "slice_starts", sql, 3, params, on_slice_starts, &st, NULL);
	free(sql);
	if (!ok || st.text == NULL)
	{
		if (ok)
			log_error("internal error: slice_starts returned nothing");
		free(st.text);
		return NULL;
	}
	quoted = db_quote_literal(db, st.text);
	free(st.text);
	if (quoted == NULL)
		return NULL;
	len = strlen(quoted) + 32;
	out = mem_alloc(len);
	snprintf(out, len, "%s::%s[]", quoted, pt->local_time ? "timestamp" : "timestamptz");
	free(quoted);
	return out;
}

/*
 * The grouped read itself, timed: the server's work shows as time to the
 * first row.  sql is the statement (its parameters the period's bounds),
 * or NULL for sql/settle_read.sql over the whole period.
 */
static enum payrun_exit
read_groups(struct db *db, const struct source_pg_plan *plan, const char *const *params,
			const char *sql, struct pg_reader *r, struct report *rep)
{
	const char *names[2] = { "{probe_where}", "{slice_starts}" };
	char        where[512];
	const char *values[2] = { where, NULL };
	char       *whole = NULL;
	double      t0 = clock_monotonic_s(), c0 = clock_cpu_s(), first_row_s = 0;
	char        what[sizeof(((struct progress *) 0)->what)];
	bool        ok;

	if (sql == NULL)
	{
		char *starts = source_pg_slice_starts(db, plan->table, plan->period->start,
											  plan->period->end - plan->period->start);

		if (starts == NULL)
			return PAYRUN_EXIT_DB;
		source_rollups_period_where(plan->table, where, sizeof(where));
		values[1] = starts;
		whole = probes_sql_with(plan->table, sql_settle_read, 2, names, values);
		free(starts);
	}
	/* the number of groups is not known before they come: no percent, only the count */
	snprintf(what, sizeof(what), "fetching from %.48s", plan->table->shown);
	progress_init(&r->progress, what);
	snprintf(r->progress.unit, sizeof(r->progress.unit), "groups");
	/* the rollups' statement has its bounds written in: no parameter */
	ok = db_query(db, "read probes", whole ? "settle_read" : "settle_read_rollups",
				  whole ? whole : sql, whole ? 2 : 0, params, on_group, r, &first_row_s);
	progress_done(&r->progress);
	free(whole);
	if (!ok)
		return r->failed ? PAYRUN_EXIT_INTERNAL : PAYRUN_EXIT_DB;
	report_record(rep, REPORT_PHASE_QUERY, first_row_s, 0, 0, 0);
	report_record(rep, REPORT_PHASE_FETCH, clock_monotonic_s() - t0 - first_row_s,
				  clock_cpu_s() - c0, aggregate_count(r->agg), r->bytes);
	return PAYRUN_EXIT_OK;
}

/* The probes, with the rollups' hours from them when the plan says so. */
static enum payrun_exit
read_probes(struct db *db, const struct source_pg_plan *plan, const char *const *params,
			struct pg_reader *r, struct report *rep)
{
	char            *sql = NULL;
	enum payrun_exit rc = PAYRUN_EXIT_OK;

	source_rollups_use_init(plan->rollups, plan->rollups_mode, plan->period);
	if (plan->rollups_mode == ROLLUPS_AUTO)
		rc = source_rollups_plan(db, plan->table, plan->period, r->cover, plan->rollups, &sql);
	if (rc == PAYRUN_EXIT_OK)
		rc = read_groups(db, plan, params, sql, r, rep);
	free(sql);
	return rc;
}

enum payrun_exit
source_pg_read(struct db *db, const struct source_pg_plan *plan, struct pools *pools,
			   struct aggregate *agg, struct coverage *cover, struct rejects *rejects,
			   struct source_counts *counts, struct report *rep)
{
	const struct period *period = plan->period;
	char                 start[TIMESTAMP_FORMAT_LEN];
	char                 end[TIMESTAMP_FORMAT_LEN];
	const char          *params[2] = { start, end };
	struct pg_reader     r = { .agg = agg,
							   .cover = cover,
							   .rejects = rejects,
							   .counts = counts,
							   .table = plan->table->shown };
	enum payrun_exit     rc = PAYRUN_EXIT_OK;

	timestamp_format(period->start, start);
	timestamp_format(period->end, end);
	/*
	 * One snapshot for pools and probes; JIT costs more than it saves here.
	 * A probe table partitioned by node_id or stream_id (on postgres_fdw
	 * shards, say) is grouped per partition, by the partition's server,
	 * and the partitions are read concurrently when async_capable
	 * (docs/scale-out.md).
	 */
	if (!db_begin(db, "read probes", "ISOLATION LEVEL REPEATABLE READ READ ONLY") ||
		!db_exec(db, "read probes", "SET TimeZone", "SET LOCAL TimeZone = 'UTC'") ||
		!db_exec(db, "read probes", "SET jit", "SET LOCAL jit = off") ||
		!db_exec(db, "read probes", "SET enable_partitionwise_aggregate",
				 "SET LOCAL enable_partitionwise_aggregate = on"))
		return PAYRUN_EXIT_DB;
	if (plan->pools == POOLS_TABLE || plan->pools == POOLS_QUERY)
		rc = read_pools(db, plan, params, pools, rep);
	if (rc == PAYRUN_EXIT_OK)
		rc = read_probes(db, plan, params, &r, rep);
	if (rc != PAYRUN_EXIT_OK)
	{
		db_rollback(db, "read probes");
		return rc;
	}
	if (!db_commit(db, "read probes"))
		return PAYRUN_EXIT_DB;
	log_info("read %llu probe rows of %s in %zu (stream, node) groups from %s",
			 (unsigned long long) counts->rows_read, period->label, aggregate_count(agg),
			 plan->table->shown);
	if (plan->rollups->why_none == NULL && plan->rollups_mode == ROLLUPS_AUTO)
		log_info("rollups: %u of %u hour(s) from daily rollups, %u from hourly ones, %u from "
				 "the probes",
				 plan->rollups->hours_daily, plan->rollups->hours, plan->rollups->hours_hourly,
				 plan->rollups->hours_probes);
	else if (plan->rollups_mode == ROLLUPS_AUTO)
		log_info("rollups: none used (%s)", plan->rollups->why_none);
	return PAYRUN_EXIT_OK;
}
