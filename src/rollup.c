/*
 * rollup.c: 'payrun db rollup' (see rollup.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payrun/clock.h"
#include "payrun/interrupt.h"
#include "payrun/log.h"
#include "payrun/mem.h"
#include "payrun/numparse.h"
#include "payrun/rollup.h"
#include "payrun/source_pg.h"
#include "payrun/source_rollups.h"
#include "payrun/sql.h"
#include "payrun/timestamp.h"
#include "payrun/banned.h"

#define HOUR_S       3600
#define UNTIMED_HOUR INT64_MIN /* the bucket of the rows without a timestamp */

/* The row of payrun_rollup_state (sql/rollup_state.sql). */
struct rollup_state
{
	bool     found;
	char     table[600];
	char     zone[128];
	bool     has_origin, has_watermark;
	int64_t  origin, watermark;
	uint64_t generation;
	uint64_t triggers;
	bool     bad;
};

/* A bigint as PostgreSQL prints it. */
static bool
parse_i64(const char *v, int64_t *out)
{
	return numparse_i64(v, strlen(v), out);
}

static bool
on_state(void *arg, int ncols, const char *const *values, const int *lengths)
{
	struct rollup_state *st = arg;

	(void) lengths;
	st->found = true;
	if (ncols != 6 || !values[0] || !values[1] || !values[4] || !values[5] ||
		(values[2] && !parse_i64(values[2], &st->origin)) ||
		(values[3] && !parse_i64(values[3], &st->watermark)) ||
		!numparse_u64(values[4], strlen(values[4]), 0, UINT64_MAX, &st->generation) ||
		!numparse_u64(values[5], strlen(values[5]), 0, UINT64_MAX, &st->triggers))
	{
		log_error("internal error: rollup_state returned a row payrun cannot read");
		st->bad = true;
		return false;
	}
	snprintf(st->table, sizeof(st->table), "%s", values[0]);
	snprintf(st->zone, sizeof(st->zone), "%s", values[1]);
	st->has_origin = values[2] != NULL;
	st->has_watermark = values[3] != NULL;
	return true;
}

/* The schema version 7 tables are there, and the state row as *st. */
static enum payrun_exit
read_state(struct db *db, const char *step, struct rollup_state *st)
{
	struct db_value installed = { .type = DB_VALUE_BOOL };

	memset(st, 0, sizeof(*st));
	if (!db_query_value(db, step, "rollup_installed", sql_rollup_installed, 0, NULL, &installed))
		return PAYRUN_EXIT_DB;
	if (!installed.b)
	{
		log_error("the rollup tables are not there: run 'payrun db migrate' first (schema "
				  "version 7)");
		return PAYRUN_EXIT_USAGE;
	}
	if (!db_query(db, step, "rollup_state", sql_rollup_state, 0, NULL, on_state, st, NULL))
		return st->bad ? PAYRUN_EXIT_INTERNAL : PAYRUN_EXIT_DB;
	return PAYRUN_EXIT_OK;
}

/* Refuses rollups of another table or zone than this run's. */
static bool
same_table(const struct rollup_state *st, const struct probe_table *pt, const char *doing)
{
	if (strcmp(st->table, pt->qualified) == 0 && strcmp(st->zone, source_rollups_zone(pt)) == 0)
		return true;
	log_error("cannot %s: the rollups are of %s%s%s, not of %s%s%s; run 'payrun db rollup "
			  "--disable' first to roll up another table",
			  doing, st->table, st->zone[0] ? " in zone " : "", st->zone, pt->qualified,
			  source_rollups_zone(pt)[0] ? " in zone " : "", source_rollups_zone(pt));
	return false;
}

/* The schema of payrun's tables, quoted, for the trigger functions. */
static bool
payrun_schema(struct db *db, char *out, size_t len)
{
	struct db_value v = { .type = DB_VALUE_TEXT };

	if (!db_query_value(db, "rollups", "payrun schema",
						"SELECT quote_ident(n.nspname) FROM pg_class c JOIN pg_namespace n ON "
						"n.oid = c.relnamespace WHERE c.oid = 'payrun_rollup_state'::regclass",
						0, NULL, &v))
		return false;
	snprintf(out, len, "%s", v.text);
	return true;
}

/*
 * The triggers on every partition that lacks them (sql/rollup_leaf_triggers.sql),
 * in the caller's transaction: writes to a partition by name fire its own.
 */
static bool
leaf_triggers(struct db *db, const char *step, const struct probe_table *pt, const char *schema)
{
	const char     *name = "{payrun_schema}";
	const char     *value = schema;
	const char     *params[1] = { pt->qualified };
	struct db_value ignored = { .type = DB_VALUE_TEXT };
	char           *sql;
	bool            ok;

	sql = probes_sql_with(pt, sql_rollup_leaf_triggers, 1, &name, &value);
	ok = db_query_value(db, step, "probe_setting", sql_probe_setting, 1, params, &ignored) &&
		 db_exec(db, step, "rollup_leaf_triggers", sql);
	free(sql);
	return ok;
}

static enum payrun_exit
enable_in(struct db *db, const struct probe_table *pt)
{
	struct rollup_state st;
	char                schema[256];
	const char         *name = "{payrun_schema}";
	const char         *value = schema;
	const char         *params[2] = { pt->qualified, source_rollups_zone(pt) };
	struct db_value     ignored = { .type = DB_VALUE_TEXT };
	struct db_value     ranged = { .type = DB_VALUE_BOOL };
	struct db_value     foreign = { .type = DB_VALUE_BOOL };
	char               *sql;
	bool                ok;
	enum payrun_exit    rc = read_state(db, "enable rollups", &st);

	if (rc != PAYRUN_EXIT_OK)
		return rc;
	if (st.found && !same_table(&st, pt, "enable rollups"))
		return PAYRUN_EXIT_USAGE;
	if (!db_query_value(db, "enable rollups", "rollup_foreign_check", sql_rollup_foreign_check, 1,
						params, &foreign))
		return PAYRUN_EXIT_DB;
	if (foreign.b)
	{
		log_error("cannot enable rollups of %s: it is, or has partitions that are, foreign tables "
				  "(shards), whose writes cannot feed the triggers' transition tables; settle "
				  "such a table with --rollups off (docs/scale-out.md)",
				  pt->shown);
		return PAYRUN_EXIT_USAGE;
	}
	if (!payrun_schema(db, schema, sizeof(schema)))
		return PAYRUN_EXIT_DB;
	sql = probes_sql_with(pt, sql_rollup_enable, 1, &name, &value);
	ok = db_exec(db, "enable rollups", "rollup_enable", sql) &&
		 leaf_triggers(db, "enable rollups", pt, schema) &&
		 db_query_value(db, "enable rollups", "rollup_state_set", sql_rollup_state_set, 2, params,
						&ignored);
	free(sql);
	if (!ok)
		return PAYRUN_EXIT_DB;
	if (!db_query_value(db, "enable rollups", "rollup_index_check", sql_rollup_index_check, 1,
						params, &ranged))
		return PAYRUN_EXIT_DB;
	if (!ranged.b)
		log_warning("%s has no index on probe_timestamp nor partitions by it: every hour's refresh "
					"reads the whole table; run 'payrun db indexes' (or partition it by day, "
					"docs/partitioning.md)",
					pt->shown);
	if (st.found)
		log_notice("rollups of %s were enabled already; the triggers are in place again",
				   pt->shown);
	else
		log_notice("rollups of %s enabled: run 'payrun db rollup' every few minutes (cron or a "
				   "timer) to fill them",
				   pt->shown);
	return PAYRUN_EXIT_OK;
}

enum payrun_exit
rollup_enable(struct db *db, const struct probe_table *pt)
{
	enum payrun_exit rc;

	if (!db_begin(db, "enable rollups", NULL))
		return PAYRUN_EXIT_DB;
	rc = enable_in(db, pt);
	if (rc != PAYRUN_EXIT_OK)
	{
		db_rollback(db, "enable rollups");
		return rc;
	}
	return db_commit(db, "enable rollups") ? PAYRUN_EXIT_OK : PAYRUN_EXIT_DB;
}

static enum payrun_exit
disable_in(struct db *db)
{
	struct rollup_state st;
	enum payrun_exit    rc = read_state(db, "disable rollups", &st);

	if (rc != PAYRUN_EXIT_OK)
		return rc;
	if (!db_exec(db, "disable rollups", "rollup_disable", sql_rollup_disable))
		return PAYRUN_EXIT_DB;
	if (st.found)
		log_notice("rollups of %s disabled: triggers dropped, rollups and log emptied", st.table);
	else
		log_notice("rollups were not enabled; nothing to disable");
	return PAYRUN_EXIT_OK;
}

enum payrun_exit
rollup_disable(struct db *db)
{
	enum payrun_exit rc;

	if (!db_begin(db, "disable rollups", NULL))
		return PAYRUN_EXIT_DB;
	rc = disable_in(db);
	if (rc != PAYRUN_EXIT_OK)
	{
		db_rollback(db, "disable rollups");
		return rc;
	}
	return db_commit(db, "disable rollups") ? PAYRUN_EXIT_OK : PAYRUN_EXIT_DB;
}

/* What a refresh did, for its closing line. */
struct refresh_tally
{
	uint64_t hours;    /* rolled up */
	uint64_t days;     /* summed into daily rollups */
	double   total_ms; /* over the hours */
	double   max_ms;   /* the slowest hour */
	int64_t  max_hour; /* which */
	int64_t *todo;     /* owned: the hours to roll up */
	size_t   ntodo, cap;
	bool     bad;
};

static bool
on_todo(void *arg, int ncols, const char *const *values, const int *lengths)
{
	struct refresh_tally *t = arg;
	int64_t               h = UNTIMED_HOUR;

	(void) lengths;
	if (ncols != 1 || (values[0] && !parse_i64(values[0], &h)))
	{
		log_error("internal error: a rollup list returned a row payrun cannot read");
		t->bad = true;
		return false;
	}
	if (t->ntodo == t->cap)
	{
		t->cap = t->cap ? 2 * t->cap : 64;
		t->todo = mem_realloc(t->todo, t->cap * sizeof(*t->todo));
	}
	t->todo[t->ntodo++] = h;
	return true;
}

/* The statements of one hour's roll-up (sql/rollup_hour_*.sql) for this table. */
struct hour_sql
{
	char *insert;
	char *lock;
};

static bool
hour_sql_init(struct hour_sql *hs, struct db *db, const struct probe_table *pt, int64_t hour,
			  bool untimed)
{
	/* the settle read over the hour's rows, which the statement reads once */
	struct probe_table rows = *pt;
	const char        *inner_names[2] = { "{probe_where}", "{slice_starts}" };
	const char        *inner_values[2] = { "true", NULL };
	char              *starts = source_pg_slice_starts(db, pt, untimed ? 0 : hour, HOUR_S);
	const char        *names[2] = { "{hour_where}", "{settle_read}" };
	const char        *values[2];
	char               where[512];
	char              *inner;

	snprintf(rows.qualified, sizeof(rows.qualified), "hour_probes");
	if (untimed)
		snprintf(where, sizeof(where), "probe_timestamp IS NULL");
	else
		source_rollups_range_where(pt, where, sizeof(where));
	if (starts == NULL)
		return false;
	inner_values[1] = starts;
	inner = probes_sql_with(&rows, sql_settle_read, 2, inner_names, inner_values);
	free(starts);
	values[0] = where;
	values[1] = inner;
	hs->insert = probes_sql_with(pt, sql_rollup_hour_insert, 2, names, values);
	free(inner);
	hs->lock = probes_sql(pt, "LOCK TABLE {probe_table} IN ACCESS SHARE MODE");
	return true;
}

static void
hour_sql_release(struct hour_sql *hs)
{
	free(hs->insert);
	free(hs->lock);
}

/* One hour, in its own transaction: cleared, rolled up, its seconds. */
static enum payrun_exit
roll_hour(struct db *db, const struct probe_table *pt, uint64_t generation, int64_t hour,
		  struct refresh_tally *t)
{
	char            from[TIMESTAMP_FORMAT_LEN], to[TIMESTAMP_FORMAT_LEN], ms_text[32];
	char            bucket[TIMESTAMP_FORMAT_LEN + 16];
	const char     *params[3] = { from, to, bucket };
	struct db_value gen = { .type = DB_VALUE_U64 };
	struct hour_sql hs;
	double          t0 = clock_monotonic_s(), ms;
	bool            ok;

	/* the untimed bucket is read over any hour's bounds: its rows have no time */
	timestamp_format(hour == UNTIMED_HOUR ? 0 : hour, from);
	timestamp_format(hour == UNTIMED_HOUR ? HOUR_S : hour + HOUR_S, to);
	snprintf(bucket, sizeof(bucket), "%s", hour == UNTIMED_HOUR ? "-infinity" : from);
	if (!hour_sql_init(&hs, db, pt, hour, hour == UNTIMED_HOUR))
		return PAYRUN_EXIT_DB;
	/* the table's lock comes before the snapshot: a TRUNCATE waits for this hour */
	ok = db_begin(db, "roll up an hour", "ISOLATION LEVEL REPEATABLE READ") &&
		 db_exec(db, "roll up an hour", "SET TimeZone", "SET LOCAL TimeZone = 'UTC'") &&
		 db_exec(db, "roll up an hour", "SET jit", "SET LOCAL jit = off") &&
		 db_exec(db, "roll up an hour", "lock probe table", hs.lock) &&
		 db_query_value(db, "roll up an hour", "rollup_hour_clear", sql_rollup_hour_clear, 1,
						(const char *[]){ bucket }, &gen);
	if (ok && (!gen.found || gen.u64 != generation))
	{
		log_error("the probe table was truncated while rolling up (the rollups started over); "
				  "run 'payrun db rollup' again");
		db_rollback(db, "roll up an hour");
		hour_sql_release(&hs);
		return PAYRUN_EXIT_CONFLICT;
	}
	ok = ok && db_query(db, "roll up an hour", "rollup_hour_insert", hs.insert, 3, params, NULL,
						NULL, NULL);
	ms = (clock_monotonic_s() - t0) * 1000.0;
	snprintf(ms_text, sizeof(ms_text), "%.3f", ms);
	ok = ok &&
		 db_query(db, "roll up an hour", "rollup_hour_time", sql_rollup_hour_time, 2,
				  (const char *[]){ bucket, ms_text }, NULL, NULL, NULL) &&
		 db_commit(db, "roll up an hour");
	hour_sql_release(&hs);
	if (!ok)
	{
		db_rollback(db, "roll up an hour");
		return PAYRUN_EXIT_DB;
	}
	ms = (clock_monotonic_s() - t0) * 1000.0;
	log_info("rolled up %s in %.0f ms",
			 hour == UNTIMED_HOUR ? "the rows without a timestamp" : from, ms);
	t->hours++;
	t->total_ms += ms;
	if (ms > t->max_ms)
	{
		t->max_ms = ms;
		t->max_hour = hour;
	}
	return PAYRUN_EXIT_OK;
}

/* The days whose 24 hours are rolled up: each summed in its own transaction. */
static enum payrun_exit
roll_days(struct db *db, struct refresh_tally *t)
{
	struct refresh_tally days = { 0 };
	enum payrun_exit     rc = PAYRUN_EXIT_OK;

	if (!db_query(db, "roll up days", "rollup_days_todo", sql_rollup_days_todo, 0, NULL, on_todo,
				  &days, NULL))
		rc = days.bad ? PAYRUN_EXIT_INTERNAL : PAYRUN_EXIT_DB;
	for (size_t i = 0; rc == PAYRUN_EXIT_OK && i < days.ntodo; i++)
	{
		char            day[TIMESTAMP_FORMAT_LEN];
		const char     *params[1] = { day };
		struct db_value groups = { .type = DB_VALUE_U64 };

		if (interrupt_pending())
		{
			rc = interrupt_exit();
			break;
		}
		timestamp_format(days.todo[i], day);
		if (!db_begin(db, "roll up a day", NULL) ||
			!db_query_value(db, "roll up a day", "rollup_day", sql_rollup_day, 1, params,
							&groups) ||
			!db_commit(db, "roll up a day"))
		{
			db_rollback(db, "roll up a day");
			rc = PAYRUN_EXIT_DB;
			break;
		}
		log_info("summed the 24 hours of %.10s into %llu daily group(s)", day,
				 (unsigned long long) groups.u64);
		t->days++;
	}
	free(days.todo);
	return rc;
}

/* Moves the watermark to until (and the origin to the first probe's hour if none). */
static enum payrun_exit
move_watermark(struct db *db, const struct probe_table *pt, const struct rollup_state *st,
			   int64_t until, int64_t *watermark)
{
	char            w[24], o[24];
	const char     *params[2] = { w, o };
	struct db_value origin = { .type = DB_VALUE_TEXT };
	struct db_value moved = { .type = DB_VALUE_TEXT };
	char           *sql = probes_sql(pt, sql_rollup_origin);
	int64_t         first = until;
	bool            ok;

	ok = st->has_origin ||
		 db_query_value(db, "move the watermark", "rollup_origin", sql, 0, NULL, &origin);
	free(sql);
	if (!ok)
		return PAYRUN_EXIT_DB;
	if (!st->has_origin && !origin.isnull && !parse_i64(origin.text, &first))
		return PAYRUN_EXIT_INTERNAL;
	if (first > until)
		first = until;
	snprintf(w, sizeof(w), "%lld", (long long) until);
	snprintf(o, sizeof(o), "%lld", (long long) first);
	/* a long writer holds the lock shared: wait a while, not for ever */
	ok = db_begin(db, "move the watermark", NULL) &&
		 db_exec(db, "move the watermark", "SET lock_timeout", "SET LOCAL lock_timeout = '30s'") &&
		 db_query_value(db, "move the watermark", "rollup_threshold", sql_rollup_threshold, 2,
						params, &moved) &&
		 db_commit(db, "move the watermark");
	if (!ok)
	{
		db_rollback(db, "move the watermark");
		return PAYRUN_EXIT_DB;
	}
	if (!moved.found || !parse_i64(moved.text, watermark))
		return PAYRUN_EXIT_INTERNAL;
	return PAYRUN_EXIT_OK;
}

static void
log_tally(const struct refresh_tally *t, int64_t watermark)
{
	char w[TIMESTAMP_FORMAT_LEN], slow[TIMESTAMP_FORMAT_LEN];

	timestamp_format(watermark, w);
	if (t->hours == 0 && t->days == 0)
	{
		log_notice("rollups are current up to %s; nothing to roll up", w);
		return;
	}
	timestamp_format(t->max_hour == UNTIMED_HOUR ? 0 : t->max_hour, slow);
	log_notice("rolled up %llu hour(s) (%.0f ms an hour on average, the slowest %s: %.0f ms) "
			   "and %llu day(s); rollups are current up to %s",
			   (unsigned long long) t->hours, t->total_ms / (double) t->hours,
			   t->max_hour == UNTIMED_HOUR ? "the rows without a timestamp" : slow, t->max_ms,
			   (unsigned long long) t->days, w);
}

/* The work of a refresh, under its lock. */
static enum payrun_exit
refresh_locked(struct db *db, const struct probe_table *pt, int64_t until)
{
	struct rollup_state  st;
	struct refresh_tally t = { 0 };
	char                 schema[256];
	int64_t              watermark = 0;
	enum payrun_exit     rc = read_state(db, "roll up", &st);

	if (rc != PAYRUN_EXIT_OK)
		return rc;
	if (!st.found)
	{
		log_error("rollups are not enabled: run 'payrun db rollup --enable' first");
		return PAYRUN_EXIT_USAGE;
	}
	if (!same_table(&st, pt, "roll up"))
		return PAYRUN_EXIT_USAGE;
	if (st.triggers != 4)
	{
		log_error("the rollup triggers on %s are missing (%llu of 4): run 'payrun db rollup "
				  "--enable' again",
				  st.table, (unsigned long long) st.triggers);
		return PAYRUN_EXIT_USAGE;
	}
	if (!db_begin(db, "roll up", NULL) || !payrun_schema(db, schema, sizeof(schema)) ||
		!leaf_triggers(db, "roll up", pt, schema) || !db_commit(db, "roll up"))
	{
		db_rollback(db, "roll up");
		return PAYRUN_EXIT_DB;
	}
	rc = move_watermark(db, pt, &st, until, &watermark);
	if (rc == PAYRUN_EXIT_OK &&
		!db_query(db, "roll up", "rollup_todo", sql_rollup_todo, 0, NULL, on_todo, &t, NULL))
		rc = t.bad ? PAYRUN_EXIT_INTERNAL : PAYRUN_EXIT_DB;
	for (size_t i = 0; rc == PAYRUN_EXIT_OK && i < t.ntodo; i++)
	{
		if (interrupt_pending())
			rc = interrupt_exit(); /* between hours: those before are committed */
		else
			rc = roll_hour(db, pt, st.generation, t.todo[i], &t);
	}
	if (rc == PAYRUN_EXIT_OK)
		rc = roll_days(db, &t);
	if (rc == PAYRUN_EXIT_OK)
		log_tally(&t, watermark);
	free(t.todo);
	return rc;
}

enum payrun_exit
rollup_refresh(struct db *db, const struct probe_table *pt, int64_t until)
{
	struct db_value  locked = { .type = DB_VALUE_BOOL };
	struct db_value  ignored = { .type = DB_VALUE_TEXT };
	int64_t          now_hour = clock_epoch_s() / HOUR_S * HOUR_S;
	enum payrun_exit rc;

	until = until / HOUR_S * HOUR_S;
	if (until > now_hour)
		until = now_hour; /* the current hour is not closed */
	if (!db_exec(db, "roll up", "SET TimeZone", "SET TimeZone = 'UTC'") ||
		!db_query_value(db, "roll up", "refresh lock",
						"SELECT pg_try_advisory_lock(hashtext('payrun.rollup'), 1)", 0, NULL,
						&locked))
		return PAYRUN_EXIT_DB;
	if (!locked.b)
	{
		log_error("another 'payrun db rollup' is running; nothing done");
		return PAYRUN_EXIT_CONFLICT;
	}
	rc = refresh_locked(db, pt, until);
	if (db_connected(db))
		(void) db_query_value(db, "roll up", "refresh unlock",
							  "SELECT pg_advisory_unlock(hashtext('payrun.rollup'), 1)", 0, NULL,
							  &ignored);
	return rc;
}
