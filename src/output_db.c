/*
 * output_db.c: the database record (see output_db.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payrun/clock.h"
#include "payrun/csvout.h"
#include "payrun/fault.h"
#include "payrun/log.h"
#include "payrun/mem.h"
#include "payrun/output_db.h"
#include "payrun/sql.h"
#include "payrun/utf8.h"
#include "payrun/banned.h"

struct settled_run
{
	bool found;
	char id[24];
	char version[16];
};

static bool
on_settled(void *arg, int ncols, const char *const *values, const int *lengths)
{
	struct settled_run *sr = arg;

	(void) lengths;
	if (ncols == 2 && values[0] && values[1])
	{
		sr->found = true;
		snprintf(sr->id, sizeof(sr->id), "%s", values[0]);
		snprintf(sr->version, sizeof(sr->version), "%s", values[1]);
	}
	return true;
}

void
output_db_init(struct output_db *od, struct db *db)
{
	memset(od, 0, sizeof(*od));
	od->db = db;
}

struct overlap
{
	bool found;
	char id[24];
	char label[PERIOD_LABEL_MAX + 8];
	char version[16];
};

static bool
on_overlap(void *arg, int ncols, const char *const *v, const int *len)
{
	struct overlap *o = arg;

	(void) len;
	if (ncols == 3 && v[0] && v[1] && v[2])
	{
		o->found = true;
		snprintf(o->id, sizeof(o->id), "%s", v[0]);
		snprintf(o->label, sizeof(o->label), "%s", v[1]);
		snprintf(o->version, sizeof(o->version), "%s", v[2]);
	}
	return true;
}

/* A probe is paid once: no settled run of another label may overlap the period. */
static enum payrun_exit
check_overlap(struct output_db *od, const struct period *p, const char *step)
{
	char           start[TIMESTAMP_FORMAT_LEN];
	char           end[TIMESTAMP_FORMAT_LEN];
	const char    *params[3] = { start, end, p->label };
	struct overlap o = { 0 };

	timestamp_format(p->start, start);
	timestamp_format(p->end, end);
	if (!db_query(od->db, step, "run_overlap", sql_run_overlap, 3, params, on_overlap, &o, NULL))
		return PAYRUN_EXIT_DB;
	if (!o.found)
		return PAYRUN_EXIT_OK;
	log_error("period %s overlaps period %s, settled in the database (payout_runs id %s, "
			  "version %s): a probe is paid once; rerun %s to change its payouts",
			  p->label, o.label, o.id, o.version, o.label);
	return PAYRUN_EXIT_CONFLICT;
}

/*
 * Checks the database against the version the files decided on: a first
 * settlement needs no settled run; a rerun to version N needs the latest
 * settled run to be version N - 1, whose id it supersedes.  Anything else
 * is PAYRUN_EXIT_CONFLICT.
 */
static enum payrun_exit
check_versions(struct output_db *od, const struct period *p, int version, bool rerun,
			   const char *out_dir, const char *step)
{
	char               start[TIMESTAMP_FORMAT_LEN];
	char               end[TIMESTAMP_FORMAT_LEN];
	const char        *params[2] = { start, end };
	struct settled_run sr = { 0 };
	char               want[16];
	char               conninfo[1024];
	enum payrun_exit   rc;

	timestamp_format(p->start, start);
	timestamp_format(p->end, end);
	if (!db_query(od->db, step, "run_settled", sql_run_settled, 2, params, on_settled, &sr, NULL))
		return PAYRUN_EXIT_DB;
	rc = check_overlap(od, p, step);
	if (rc != PAYRUN_EXIT_OK)
		return rc;
	if (!rerun)
	{
		if (!sr.found)
			return PAYRUN_EXIT_OK;
		log_error("period %s is already settled in the database (payout_runs id %s, version %s)",
				  p->label, sr.id, sr.version);
		/* the files found no version: they were lost after a commit, or go elsewhere */
		db_conninfo_shown(od->db, conninfo, sizeof(conninfo));
		log_error("'%s' has no version of it; if its files were lost after the commit, "
				  "rebuild them with: payrun export --period %s --out '%s' --db \"%s\"",
				  out_dir, p->label, out_dir, conninfo);
		return PAYRUN_EXIT_CONFLICT;
	}
	snprintf(want, sizeof(want), "%d", version - 1);
	if (!sr.found || strcmp(sr.version, want) != 0)
	{
		log_error("period %s: the files' latest version is v%s but the database's is %s%s; "
				  "the two must agree before a rerun (see 'payrun export')",
				  p->label, want, sr.found ? "v" : "none", sr.found ? sr.version : "");
		return PAYRUN_EXIT_CONFLICT;
	}
	snprintf(od->supersedes, sizeof(od->supersedes), "%s", sr.id);
	return PAYRUN_EXIT_OK;
}

enum payrun_exit
output_db_check(struct output_db *od, const struct period *period, int version, bool rerun,
				const char *out_dir)
{
	return check_versions(od, period, version, rerun, out_dir, "check period");
}

static char *
json_text(json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6)) : NULL;

	if (s == NULL)
	{
		log_error("out of memory building JSON");
		exit(PAYRUN_EXIT_INTERNAL);
	}
	return s;
}

/* bytea's hex input form, "\\x0a1b..." (caller frees). */
static char *
bytea_hex(const char *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char             *hex = mem_alloc(2 * len + 3);

	hex[0] = '\\';
	hex[1] = 'x';
	for (size_t i = 0; i < len; i++)
	{
		hex[2 + 2 * i] = digits[(unsigned char) data[i] >> 4];
		hex[3 + 2 * i] = digits[(unsigned char) data[i] & 15];
	}
	hex[2 + 2 * len] = '\0';
	return hex;
}

static bool
insert_run(struct output_db *od, const struct run_record *run, const struct pools *pools,
		   const char *reason)
{
	const struct period *p = &run->period;
	char                 start[TIMESTAMP_FORMAT_LEN];
	char                 end[TIMESTAMP_FORMAT_LEN];
	char                 finished[TIMESTAMP_FORMAT_LEN];
	char                 version[16];
	json_t              *timing_json = manifest_timing_json(run);
	char                *pools_text = pools && pools->origin != POOLS_NONE
										  ? bytea_hex(pools->copy ? pools->copy : "", pools->copy_len)
										  : NULL;
	char                *settings = json_text(run->settings);
	char                *counts = json_text(run->counts);
	char                *totals = json_text(run->totals);
	char                *timing = json_text(timing_json);
	char                *reason_text = reason ? utf8_escape(reason) : NULL; /* text is UTF-8 */
	const char          *params[16];
	struct db_value      id = { .type = DB_VALUE_U64 };
	bool                 ok;

	json_decref(timing_json);
	timestamp_format(p->start, start);
	timestamp_format(p->end, end);
	clock_utc_text(finished);
	snprintf(version, sizeof(version), "%d", run->version);
	params[0] = p->label;
	params[1] = start;
	params[2] = end;
	params[3] = version;
	params[4] = run->source_kind;
	params[5] = settings;
	params[6] = run->input_digest;
	params[7] = counts;
	params[8] = totals;
	params[9] = timing;
	params[10] = run->started_at;
	params[11] = finished;
	params[12] = od->supersedes[0] ? od->supersedes : NULL;
	params[13] = reason_text;
	params[14] = PAYRUN_VERSION;
	params[15] = pools_text;
	ok = db_query_value(od->db, "write run", "run_insert", sql_run_insert, 16, params, &id) &&
		 id.found && !id.isnull;
	if (ok)
		snprintf(od->run_id, sizeof(od->run_id), "%llu", (unsigned long long) id.u64);
	free(settings);
	free(counts);
	free(totals);
	free(timing);
	free(reason_text);
	free(pools_text);
	return ok;
}

/* COPYs rows of one table: "run_id,<row>\n" for each. */
static bool
copy_rows(struct output_db *od, const char *step, const char *name, const char *sql, size_t nrows,
		  void (*write_row)(const struct csvout *, const struct ledger *, size_t),
		  const struct ledger *ledger)
{
	struct db_copy cp;
	struct csvout  w;
	size_t         idlen = strlen(od->run_id);
	bool           ok;

	db_copy_init(&cp, od->db, step);
	w = db_copy_csvout(&cp);
	ok = db_copy_begin(od->db, step, name, sql);
	for (size_t i = 0; ok && i < nrows && !cp.failed; i++)
	{
		csvout_bytes(&w, od->run_id, idlen);
		csvout_char(&w, ',');
		write_row(&w, ledger, i);
		csvout_char(&w, '\n');
	}
	ok = ok && db_copy_flush(&cp) && db_copy_end(od->db, step, name);
	db_copy_release(&cp);
	return ok;
}

static void
ledger_row(const struct csvout *w, const struct ledger *ledger, size_t i)
{
	csvout_ledger_row(w, &ledger->rows[i]);
}

static void
stream_row(const struct csvout *w, const struct ledger *ledger, size_t i)
{
	csvout_stream_row(w, &ledger->streams[i]);
}

enum payrun_exit
output_db_write(struct output_db *od, const struct run_record *run, const struct ledger *ledger,
				const struct pools *pools, bool rerun, const char *reason, const char *out_dir)
{
	const char      *label = run->period.label;
	char             day[11];
	const char      *key = day;
	struct db_value  locked = { .type = DB_VALUE_BOOL };
	enum payrun_exit rc;

	/* the day, so that a day and its hours take the same lock */
	snprintf(day, sizeof(day), "%.10s", label);
	if (!db_begin(od->db, "write run", NULL))
		return PAYRUN_EXIT_DB;
	od->in_tx = true;
	if (!db_query_value(od->db, "lock period", "run_lock", sql_run_lock, 1, &key, &locked))
		return PAYRUN_EXIT_DB;
	if (!locked.b)
	{
		log_error("another payrun run is settling period %s, or a period overlapping it, in the "
				  "database",
				  label);
		return PAYRUN_EXIT_CONFLICT;
	}
	rc = check_versions(od, &run->period, run->version, rerun, out_dir, "lock period");
	if (rc != PAYRUN_EXIT_OK)
		return rc;
	if (!insert_run(od, run, pools, reason))
		/* the exclusion constraint: an overlapping run committed meanwhile */
		return strcmp(db_last_sqlstate(od->db), "23P01") == 0 ? PAYRUN_EXIT_CONFLICT
															  : PAYRUN_EXIT_DB;
	if (!copy_rows(od, "write ledger", "ledger_copy", sql_ledger_copy, ledger->nrows, ledger_row,
				   ledger) ||
		!copy_rows(od, "write stream totals", "totals_copy", sql_totals_copy, ledger->nstreams,
				   stream_row, ledger))
		return PAYRUN_EXIT_DB;
	fault_point("db_after_copy");
	return PAYRUN_EXIT_OK;
}

enum payrun_exit
output_db_commit(struct output_db *od, const struct period *period, int version)
{
	od->in_tx = false;
	if (!db_commit(od->db, "commit"))
		return PAYRUN_EXIT_DB;
	log_info("recorded period %s v%d in the database as payout_runs id %s", period->label, version,
			 od->run_id);
	return PAYRUN_EXIT_OK;
}

void
output_db_close(struct output_db *od)
{
	if (od->in_tx)
		db_rollback(od->db, "rollback");
	od->in_tx = false;
}
