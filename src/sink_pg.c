/*
 * sink_pg.c: the PostgreSQL sink (see sink_pg.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payrun/clock.h"
#include "payrun/csvout.h"
#include "payrun/fault.h"
#include "payrun/log.h"
#include "payrun/manifest.h"
#include "payrun/mem.h"
#include "payrun/sink_pg.h"
#include "payrun/sql.h"
#include "payrun/banned.h"

struct sink_pg
{
	struct sink base; /* first: a struct sink * is a struct sink_pg * */
	struct db  *db;   /* borrowed */
	bool        in_tx;
	char        run_id[24];     /* of the inserted run */
	char        supersedes[24]; /* reruns: id of the run replaced, "" otherwise */
};

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

static bool
on_bool(void *arg, int ncols, const char *const *values, const int *lengths)
{
	(void) lengths;
	*(bool *) arg = ncols == 1 && values[0] && values[0][0] == 't';
	return true;
}

static bool
on_run_id(void *arg, int ncols, const char *const *values, const int *lengths)
{
	(void) lengths;
	if (ncols == 1 && values[0])
		snprintf(arg, 24, "%s", values[0]);
	return true;
}

/*
 * Checks the database against the version the files decided on: a first
 * settlement needs no settled run; a rerun to version N needs the latest
 * settled run to be version N - 1, whose id it supersedes.  Anything else
 * is PAYRUN_EXIT_CONFLICT.
 */
static enum payrun_exit
check_versions(struct sink_pg *sp, const struct sink_run *run, const char *step)
{
	const struct period *p = &run->settings->period;
	char                 start[TIMESTAMP_FORMAT_LEN];
	char                 end[TIMESTAMP_FORMAT_LEN];
	const char          *params[2] = { start, end };
	struct settled_run   sr = { 0 };
	char                 want[16];

	timestamp_format(p->start, start);
	timestamp_format(p->end, end);
	if (!db_query(sp->db, step, "run_settled", sql_run_settled, 2, params, on_settled, &sr, NULL))
		return PAYRUN_EXIT_DB;
	if (!run->settings->rerun)
	{
		if (sr.found)
		{
			log_error(
				"period %s is already settled in the database (payout_runs id %s, version %s)",
				p->label, sr.id, sr.version);
			/* the files sink found no version: they were lost after a commit, or go elsewhere */
			log_error("'%s' has no version of it; if its files were lost after the commit, "
					  "rebuild them with 'payrun export --period %s --out %s'",
					  run->settings->out_dir, p->label, run->settings->out_dir);
			return PAYRUN_EXIT_CONFLICT;
		}
		return PAYRUN_EXIT_OK;
	}
	snprintf(want, sizeof(want), "%d", run->version - 1);
	if (!sr.found || strcmp(sr.version, want) != 0)
	{
		log_error("period %s: the files' latest version is v%s but the database's is %s%s; "
				  "the two must agree before a rerun (see 'payrun export')",
				  p->label, want, sr.found ? "v" : "none", sr.found ? sr.version : "");
		return PAYRUN_EXIT_CONFLICT;
	}
	snprintf(sp->supersedes, sizeof(sp->supersedes), "%s", sr.id);
	return PAYRUN_EXIT_OK;
}

static enum payrun_exit
pg_prepare(struct sink *sink, const struct sink_run *run)
{
	return check_versions((struct sink_pg *) sink, run, "check period");
}

static char *
json_text(json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6)) : NULL;

	json_decref(j);
	if (s == NULL)
	{
		log_error("out of memory building JSON");
		exit(PAYRUN_EXIT_INTERNAL);
	}
	return s;
}

static bool
insert_run(struct sink_pg *sp, const struct sink_run *run)
{
	const struct period *p = &run->settings->period;
	char                 start[TIMESTAMP_FORMAT_LEN];
	char                 end[TIMESTAMP_FORMAT_LEN];
	char                 finished[TIMESTAMP_FORMAT_LEN];
	char                 version[16];
	char                *settings = json_text(manifest_settings_json(run->settings));
	char                *counts = json_text(manifest_counts_json(run));
	char                *totals = json_text(manifest_totals_json(&run->ledger->totals));
	char                *timing = json_text(report_to_json(run->report));
	const char          *params[15];
	bool                 ok;

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
	params[12] = sp->supersedes[0] ? sp->supersedes : NULL;
	params[13] = run->settings->reason;
	params[14] = PAYRUN_VERSION;
	sp->run_id[0] = '\0';
	ok = db_query(sp->db, "write run", "run_insert", sql_run_insert, 15, params, on_run_id,
				  sp->run_id, NULL) &&
		 sp->run_id[0] != '\0';
	free(settings);
	free(counts);
	free(totals);
	free(timing);
	return ok;
}

static bool
copy_ledger(struct sink_pg *sp, const struct ledger *ledger)
{
	struct db_copy cp;
	struct csvout  w;
	size_t         idlen = strlen(sp->run_id);
	bool           ok;

	db_copy_init(&cp, sp->db, "write ledger");
	w = db_copy_csvout(&cp);
	ok = db_copy_begin(sp->db, "write ledger", "ledger_copy", sql_ledger_copy);
	for (size_t i = 0; ok && i < ledger->nrows && !cp.failed; i++)
	{
		csvout_bytes(&w, sp->run_id, idlen);
		csvout_char(&w, ',');
		csvout_ledger_row(&w, &ledger->rows[i]);
		csvout_char(&w, '\n');
	}
	ok = ok && db_copy_flush(&cp) && db_copy_end(sp->db, "write ledger", "ledger_copy");

	cp.step = "write stream totals";
	ok = ok && db_copy_begin(sp->db, "write stream totals", "totals_copy", sql_totals_copy);
	for (size_t i = 0; ok && i < ledger->nstreams && !cp.failed; i++)
	{
		csvout_bytes(&w, sp->run_id, idlen);
		csvout_char(&w, ',');
		csvout_stream_row(&w, &ledger->streams[i]);
		csvout_char(&w, '\n');
	}
	ok = ok && db_copy_flush(&cp) && db_copy_end(sp->db, "write stream totals", "totals_copy");
	db_copy_release(&cp);
	return ok;
}

static enum payrun_exit
pg_write(struct sink *sink, const struct sink_run *run)
{
	struct sink_pg  *sp = (struct sink_pg *) sink;
	const char      *label = run->settings->period.label;
	bool             locked = false;
	enum payrun_exit rc;

	if (!db_exec(sp->db, "write run", "BEGIN", "BEGIN"))
		return PAYRUN_EXIT_DB;
	sp->in_tx = true;
	if (!db_query(sp->db, "lock period", "run_lock", sql_run_lock, 1, &label, on_bool, &locked,
				  NULL))
		return PAYRUN_EXIT_DB;
	if (!locked)
	{
		log_error("another payrun run is settling period %s in the database", label);
		return PAYRUN_EXIT_CONFLICT;
	}
	rc = check_versions(sp, run, "lock period");
	if (rc != PAYRUN_EXIT_OK)
		return rc;
	if (!insert_run(sp, run) || !copy_ledger(sp, run->ledger))
		return PAYRUN_EXIT_DB;
	fault_point("db_after_copy");
	return PAYRUN_EXIT_OK;
}

static enum payrun_exit
pg_publish(struct sink *sink, const struct sink_run *run)
{
	struct sink_pg *sp = (struct sink_pg *) sink;

	sp->in_tx = false;
	if (!db_exec(sp->db, "commit", "COMMIT", "COMMIT"))
		return PAYRUN_EXIT_DB;
	log_info("recorded period %s v%d in the database as payout_runs id %s",
			 run->settings->period.label, run->version, sp->run_id);
	return PAYRUN_EXIT_OK;
}

static void
pg_destroy(struct sink *sink)
{
	struct sink_pg *sp = (struct sink_pg *) sink;

	/* a lost connection has rolled back already, on the server */
	if (sp->in_tx && db_connected(sp->db))
		(void) db_exec(sp->db, "rollback", "ROLLBACK", "ROLLBACK");
	free(sp);
}

static const struct sink_ops pg_ops = {
	.name = "postgresql",
	.prepare = pg_prepare,
	.write = pg_write,
	.publish = pg_publish,
	.destroy = pg_destroy,
};

struct sink *
sink_pg_create(struct db *db)
{
	struct sink_pg *sp = mem_calloc(1, sizeof(*sp));

	sp->base.ops = &pg_ops;
	sp->db = db;
	return &sp->base;
}
