/*
 * probes.c: the probe table (see probes.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payrun/log.h"
#include "payrun/mem.h"
#include "payrun/probes.h"
#include "payrun/sql.h"
#include "payrun/timestamp.h"
#include "payrun/banned.h"

/* The rows of probe_table_resolve.sql: the chosen table first. */
struct resolved
{
	int                nrows;
	struct probe_table first;
	bool               first_chosen;
	bool               first_has_ts;
	char               other[600]; /* a second table of the name */
};

static void
copy_field(char *dst, size_t size, const char *v)
{
	snprintf(dst, size, "%s", v ? v : "");
}

static bool
on_table(void *arg, int ncols, const char *const *v, const int *len)
{
	struct resolved *r = arg;

	(void) len;
	if (ncols != 8)
		return false;
	if (r->nrows++ == 0)
	{
		copy_field(r->first.qualified, sizeof(r->first.qualified), v[0]);
		snprintf(r->first.shown, sizeof(r->first.shown), "%s.%s", v[1] ? v[1] : "",
				 v[2] ? v[2] : "");
		copy_field(r->first.relname, sizeof(r->first.relname), v[2]);
		r->first_chosen = v[3] && v[3][0] == 't';
		r->first_has_ts = v[4] != NULL;
		r->first.local_time = v[4] && strcmp(v[4], "timestamp without time zone") == 0;
		copy_field(r->first.id_type, sizeof(r->first.id_type), v[5]);
		r->first.stream_id_max = v[6] ? (int) strtol(v[6], NULL, 10) : 0;
		r->first.node_id_max = v[7] ? (int) strtol(v[7], NULL, 10) : 0;
		if (v[4] && !r->first.local_time && strcmp(v[4], "timestamp with time zone") != 0)
			r->first_has_ts = false;
	}
	else if (r->nrows == 2)
		snprintf(r->other, sizeof(r->other), "%s.%s", v[1] ? v[1] : "", v[2] ? v[2] : "");
	return true;
}

/* Is zone a time zone PostgreSQL knows?  It is then quoted into pt->tz. */
static enum payrun_exit
check_zone(struct db *db, struct probe_table *pt)
{
	const char     *params[1] = { pt->zone };
	struct db_value known = { .type = DB_VALUE_BOOL };
	char           *quoted;

	if (!db_query_value(db, "resolve probe table", "zone_known", sql_zone_known, 1, params, &known))
		return PAYRUN_EXIT_DB;
	if (!known.b)
	{
		log_error("probe_timestamp_zone '%s' is not a time zone PostgreSQL knows (see "
				  "pg_timezone_names)",
				  pt->zone);
		return PAYRUN_EXIT_USAGE;
	}
	quoted = db_quote_literal(db, pt->zone);
	if (quoted == NULL)
		return PAYRUN_EXIT_DB;
	snprintf(pt->tz, sizeof(pt->tz), " AT TIME ZONE %s", quoted);
	free(quoted);
	return PAYRUN_EXIT_OK;
}

enum payrun_exit
probes_resolve(struct db *db, const char *name, const char *zone, bool missing_ok,
			   struct probe_table *pt)
{
	struct resolved r;
	const char     *params[1];

	memset(&r, 0, sizeof(r));
	name = name ? name : PROBES_DEFAULT_TABLE;
	params[0] = name;
	if (!db_query(db, "resolve probe table", "probe_table_resolve", sql_probe_table_resolve, 1,
				  params, on_table, &r, NULL))
		return PAYRUN_EXIT_DB;
	memset(pt, 0, sizeof(*pt));
	if ((r.nrows == 0 || !r.first_chosen) && missing_ok)
	{
		log_warning("no table '%s' on the search path yet", name);
		return PAYRUN_EXIT_OK;
	}
	if (r.nrows == 0 || !r.first_chosen)
	{
		log_error("no table '%s' on the search path of this connection (probe_table names the "
				  "coordinator's probe table; qualify it: schema.table)",
				  name);
		return PAYRUN_EXIT_USAGE;
	}
	if (r.nrows > 1)
	{
		log_error("two tables named '%s' are visible: %s (the search path's choice) and %s; "
				  "set probe_table to the coordinator's, schema-qualified",
				  name, r.first.shown, r.other);
		return PAYRUN_EXIT_USAGE;
	}
	if (!r.first_has_ts)
	{
		log_error("%s has no probe_timestamp column of a timestamp type", r.first.shown);
		return PAYRUN_EXIT_USAGE;
	}
	*pt = r.first;
	snprintf(pt->zone, sizeof(pt->zone), "%s", zone ? zone : PROBES_DEFAULT_ZONE);
	pt->tz[0] = '\0';
	if (pt->local_time)
	{
		enum payrun_exit rc = check_zone(db, pt);

		if (rc != PAYRUN_EXIT_OK)
			return rc;
	}
	log_info("probe table %s (probe_timestamp %s%s%s)", pt->shown,
			 pt->local_time ? "without time zone, holding " : "with time zone",
			 pt->local_time ? pt->zone : "", pt->local_time ? " times" : "");
	return PAYRUN_EXIT_OK;
}

char *
probes_sql_with(const struct probe_table *pt, const char *template, size_t nextra,
				const char *const *extra_names, const char *const *extra_values)
{
	char        prefix[2 * sizeof(pt->relname)];
	const char *names[3 + PROBES_SQL_EXTRA_MAX] = { "{probe_table}", "{tz}", "{index_prefix}" };
	const char *values[3 + PROBES_SQL_EXTRA_MAX] = { pt->qualified, pt->tz, prefix };
	size_t      nnames = 3 + (nextra < PROBES_SQL_EXTRA_MAX ? nextra : PROBES_SQL_EXTRA_MAX);
	size_t      np = 0;
	size_t      widest;
	size_t      cap = strlen(template) + 1;
	char       *out;
	size_t      n = 0;

	/* the name inside a quoted identifier: quotes doubled */
	for (const char *r = pt->relname; *r && np + 2 < sizeof(prefix); r++)
	{
		if (*r == '"')
			prefix[np++] = '"';
		prefix[np++] = *r;
	}
	prefix[np] = '\0';
	for (size_t i = 3; i < nnames; i++)
	{
		names[i] = extra_names[i - 3];
		values[i] = extra_values[i - 3];
	}
	/* every placeholder may appear several times: size for the worst case */
	widest = 0;
	for (size_t i = 0; i < nnames; i++)
		if (strlen(values[i]) > widest)
			widest = strlen(values[i]);
	for (const char *p = template; *p; p++)
		if (*p == '{')
			cap += widest;
	out = mem_alloc(cap);
	for (const char *p = template; *p;)
	{
		int k = -1;

		for (size_t i = 0; i < nnames && k < 0; i++)
			if (strncmp(p, names[i], strlen(names[i])) == 0)
				k = (int) i;
		if (k < 0)
		{
			out[n++] = *p++;
			continue;
		}
		memcpy(out + n, values[k], strlen(values[k]));
		n += strlen(values[k]);
		p += strlen(names[k]);
	}
	out[n] = '\0';
	return out;
}

char *
probes_sql(const struct probe_table *pt, const char *template)
{
	return probes_sql_with(pt, template, 0, NULL, NULL);
}

int
probes_data_after(struct db *db, const struct probe_table *pt, int64_t t)
{
	char            at[TIMESTAMP_FORMAT_LEN];
	const char     *params[1] = { at };
	struct db_value exists = { .type = DB_VALUE_BOOL };
	char           *sql = probes_sql(pt, sql_data_after);
	bool            ok;

	timestamp_format(t, at);
	ok = db_query_value(db, "check completeness", "data_after", sql, 1, params, &exists);
	free(sql);
	return ok ? exists.b : -1;
}
