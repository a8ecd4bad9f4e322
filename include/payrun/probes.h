/*
 * probes.h: the coordinator's probe table, as payrun finds and reads it.
 *
 * Its name is the probe_table setting (default probe_results, schema-
 * qualified or not), resolved once per run as the search path does and
 * logged with its schema; when the search path shows two tables of that
 * name, payrun stops and names both rather than read the wrong one.  A
 * probe_timestamp of type timestamp without time zone is taken to hold
 * local times of the probe_timestamp_zone setting (UTC by default, as the
 * coordinator writes datetime.utcnow()); every statement compares it with
 * the period's bounds converted into that meaning, so the session's time
 * zone never changes what is read.
 */
#ifndef PAYRUN_PROBES_H
#define PAYRUN_PROBES_H

#include <stdbool.h>
#include <stdint.h>

#include "payrun/db.h"
#include "payrun/exitcode.h"

#define PROBES_DEFAULT_TABLE "probe_results"
#define PROBES_DEFAULT_ZONE  "UTC"

struct probe_table
{
	char qualified[600]; /* "schema"."name", quoted for SQL */
	char shown[600];     /* schema.name, for messages and the manifest */
	char relname[256];   /* the name alone, unquoted */
	bool local_time;     /* probe_timestamp is timestamp without time zone */
	char zone[128];      /* what such a column's times are local to */
	char tz[200];        /* "" or " AT TIME ZONE 'zone'": see probes_sql */
	char id_type[64];    /* format_type of its id column, "" if none */
	int  stream_id_max;  /* varchar(n) limits of the id columns, 0 if none */
	int  node_id_max;
};

/*
 * Resolves the table (name NULL: the default) and its columns' meaning
 * (zone NULL: UTC), checks that the zone is one PostgreSQL knows, and logs
 * what was found.  Returns PAYRUN_EXIT_OK, _USAGE (no such table, two of
 * that name, no probe_timestamp, a zone PostgreSQL does not know: logged
 * with what to change) or _DB.  With missing_ok, no such table is a
 * warning and PAYRUN_EXIT_OK with pt->qualified "".
 */
enum payrun_exit probes_resolve(struct db *db, const char *name, const char *zone, bool missing_ok,
								struct probe_table *pt);

/*
 * A statement of sql/ for this table (caller frees): {probe_table} is its
 * qualified name; {tz} follows a timestamptz parameter or a probe_timestamp
 * value to turn one into the other's meaning (AT TIME ZONE works both
 * ways), and is empty when the column holds timestamptz; {index_prefix}
 * is the table's name for use inside a quoted identifier.
 */
char *probes_sql(const struct probe_table *pt, const char *template);

/*
 * probes_sql with up to PROBES_SQL_EXTRA_MAX placeholders more, each name
 * (with its braces) replaced by its value.  Values are copied as they are:
 * a placeholder inside one is not replaced.
 */
#define PROBES_SQL_EXTRA_MAX 4
char *probes_sql_with(const struct probe_table *pt, const char *template, size_t nextra,
					  const char *const *extra_names, const char *const *extra_values);

/*
 * Is there a probe at or after t (epoch seconds)?  Some probe at or after
 * a period's end says its data is complete (sql/data_after.sql; the
 * require_complete check of a nightly job, job.h).  1 yes, 0 no, -1 on a
 * database error (logged).
 */
int probes_data_after(struct db *db, const struct probe_table *pt, int64_t t);

#endif
