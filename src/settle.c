/*
 * settle.c: one settlement run (see settle.h).
 *
 * Sinks are prepared before any input is read, so a settled period or a
 * held lock is refused at once: the files first, as they fix the version
 * under the output directory's lock, then the database, which must agree.
 * They are published in the other order: the database commits first, then
 * the files are renamed into place; if the file step is lost after the
 * commit, 'payrun export' rebuilds the files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payrun/clock.h"
#include "payrun/adjust.h"
#include "payrun/aggregate.h"
#include "payrun/csvout.h"
#include "payrun/db.h"
#include "payrun/fault.h"
#include "payrun/ledger.h"
#include "payrun/log.h"
#include "payrun/manifest.h"
#include "payrun/mem.h"
#include "payrun/pools.h"
#include "payrun/report.h"
#include "payrun/runlog.h"
#include "payrun/settle.h"
#include "payrun/sink_files.h"
#include "payrun/sink_pg.h"
#include "payrun/source_csv.h"
#include "payrun/source_pg.h"
#include "payrun/banned.h"

#define MAX_SINKS 2

/* Fails the run if too many rows were rejected; keeps the rejects. */
static enum payrun_exit
check_reject_ratio(const struct settings *s, const struct source_counts *counts, struct sink *files)
{
	char kept[4096];

	if (!settings_ratio_exceeded(&s->max_reject_ratio, counts->rejected, counts->rows_read))
		return PAYRUN_EXIT_OK;
	if (sink_files_keep_rejects(files, kept, sizeof(kept)))
		log_error("%llu of %llu rows rejected, more than the maximum reject ratio %s; "
				  "nothing published; rejects kept in '%s'",
				  (unsigned long long) counts->rejected, (unsigned long long) counts->rows_read,
				  s->max_reject_ratio.text, kept);
	else
		log_error("%llu of %llu rows rejected, more than the maximum reject ratio %s; "
				  "nothing published; the rejects could not be kept",
				  (unsigned long long) counts->rejected, (unsigned long long) counts->rows_read,
				  s->max_reject_ratio.text);
	return PAYRUN_EXIT_DATA;
}

static void
stdout_write(void *arg, const void *data, size_t len)
{
	fwrite(data, 1, len, arg);
}

static void
digest_write(void *arg, const void *data, size_t len)
{
	sha256_update(arg, data, len);
}

/*
 * The digest of what was settled: every (stream, node) with its counts, in
 * ledger order.  It depends on the data, not on the source, so the same
 * probes give the same digest from CSV and from PostgreSQL.
 */
static void
aggregate_digest(const struct ledger *ledger, char hex[SHA256_HEX_LEN])
{
	struct sha256 d;
	struct csvout w = { .write = digest_write, .arg = &d };

	sha256_init(&d);
	for (size_t i = 0; i < ledger->nrows; i++)
	{
		const struct ledger_row *r = &ledger->rows[i];

		csvout_field(&w, r->stream, r->stream_len);
		csvout_char(&w, ',');
		csvout_field(&w, r->node, r->node_len);
		csvout_char(&w, ',');
		csvout_u64(&w, r->counts.total_polls);
		csvout_char(&w, ',');
		csvout_u64(&w, r->counts.successful_polls);
		csvout_char(&w, ',');
		csvout_u64(&w, r->counts.failed_spot_checks);
		csvout_char(&w, '\n');
	}
	sha256_final_hex(&d, hex);
	sha256_release(&d);
}

/* Prints what a rerun changes (the adjustments.csv it would write). */
static void
print_adjustments(const struct settings *s, const struct adjustments *adj, int version)
{
	struct csvout w = { .write = stdout_write, .arg = stdout };

	if (adj->nnodes == 0)
	{
		printf("period %s: no change against v%d (%s)\n", s->period.label, adj->previous_version,
			   s->dry_run ? "dry run, nothing published" : "published as an empty adjustments.csv");
		return;
	}
	printf("period %s: v%d -> v%d: %zu node(s) adjusted, previously paid %lld, now due %lld, delta "
		   "%+lld%s\n",
		   s->period.label, adj->previous_version, version, adj->nnodes,
		   (long long) adj->previously_paid, (long long) adj->now_due, (long long) adj->delta,
		   s->dry_run ? " (dry run, nothing published)" : "");
	if (!s->dry_run)
		return;
	fputs(CSVOUT_ADJUSTMENTS_HEADER, stdout);
	for (size_t i = 0; i < adj->nrows; i++)
	{
		csvout_adjustment_row(&w, &adj->rows[i]);
		csvout_char(&w, '\n');
	}
}

/* One line in DIR/runs.log, whatever the outcome. */
static void
log_run(const struct settings *s, const struct sink_run *run, enum payrun_exit rc,
		const struct report *rep)
{
	const char *status;
	json_t     *e;

	switch (rc)
	{
		case PAYRUN_EXIT_OK:
			status = s->dry_run ? "dry-run" : "settled";
			break;
		case PAYRUN_EXIT_CONFLICT:
			status = "conflict";
			break;
		default:
			status = "failed";
			break;
	}
	e = json_pack("{s:s, s:s, s:i, s:s, s:i, s:s, s:f}", "command", s->rerun ? "rerun" : "settle",
				  "period", s->period.label, "version",
				  rc == PAYRUN_EXIT_OK && !s->dry_run ? run->version : 0, "status", status, "exit",
				  (int) rc, "source", run->source_kind, "wall_s", report_total_wall(rep));
	if (run->ledger)
	{
		json_object_set_new(e, "pool", json_integer(run->ledger->totals.pool));
		json_object_set_new(e, "paid", json_integer(run->ledger->totals.paid));
		json_object_set_new(e, "forfeited", json_integer(run->ledger->totals.forfeited));
		json_object_set_new(e, "unallocated", json_integer(run->ledger->totals.unallocated));
		json_object_set_new(e, "streams", json_integer((json_int_t) run->ledger->totals.streams));
		json_object_set_new(e, "nodes", json_integer((json_int_t) run->ledger->totals.nodes));
	}
	if (run->counts->rows_read > 0)
	{
		json_object_set_new(e, "rows_read", json_integer((json_int_t) run->counts->rows_read));
		json_object_set_new(e, "rejected", json_integer((json_int_t) run->counts->rejected));
	}
	if (run->adjustments)
	{
		json_object_set_new(e, "delta", json_integer(run->adjustments->delta));
		json_object_set_new(e, "adjusted_nodes",
							json_integer((json_int_t) run->adjustments->nnodes));
	}
	if (s->reason)
		json_object_set_new(e, "note", json_string(s->reason));
	(void) runlog_append(s->out_dir, e);
	json_decref(e);
}

static enum payrun_exit settle_common(const struct settings *s, bool print_report,
									  struct aggregate           *filled,
									  const struct source_counts *filled_counts,
									  const struct source_file *filled_files, size_t nfilled,
									  const char *note);

enum payrun_exit
settle_run(const struct settings *s, bool print_report)
{
	return settle_common(s, print_report, NULL, NULL, NULL, 0, NULL);
}

enum payrun_exit
settle_aggregate(const struct settings *s, struct aggregate *agg,
				 const struct source_counts *counts, const struct source_file *files, size_t nfiles,
				 const char *note)
{
	return settle_common(s, log_enabled(LOG_LEVEL_INFO), agg, counts, files, nfiles, note);
}

/* With filled set, the aggregate is read already: no source step. */
static enum payrun_exit
settle_common(const struct settings *s, bool print_report, struct aggregate *filled,
			  const struct source_counts *filled_counts, const struct source_file *filled_files,
			  size_t nfilled, const char *note)
{
	struct report        rep;
	struct sink_run      run;
	struct sink         *sinks[MAX_SINKS]; /* in publish order: database, then files */
	int                  nsinks = 0;
	struct sink         *files;
	struct adjustments   adj = { 0 };
	struct db            db = { 0 };
	char                 db_description[512];
	struct pools         pools;
	struct aggregate     agg;
	struct ledger        ledger;
	struct source_counts counts;
	struct source_file  *inputs = mem_calloc(s->ninputs ? s->ninputs : 1,
											sizeof(struct source_file));
	enum payrun_exit rc = PAYRUN_EXIT_OK;
	char             err[512];

	report_init(&rep);
	pools_init(&pools);
	aggregate_init(&agg);
	memset(&ledger, 0, sizeof(ledger));
	memset(&counts, 0, sizeof(counts));
	memset(&run, 0, sizeof(run));
	run.settings = s;
	run.source_kind = s->source == SOURCE_PG ? "pg" : "csv";
	run.files = filled ? filled_files : inputs;
	run.nfiles = filled ? nfilled : s->ninputs;
	run.counts = &counts;
	run.note = note;
	if (filled_counts)
		counts = *filled_counts;
	run.report = &rep;
	clock_utc_text(run.started_at);

	if (s->source == SOURCE_PG)
	{
		report_begin(&rep, REPORT_PHASE_CONNECT);
		if (!db_connect(&db, s->db_conninfo, "payrun settle"))
		{
			rc = PAYRUN_EXIT_DB;
			goto out;
		}
		report_end(&rep, REPORT_PHASE_CONNECT, 0, 0);
		db_describe(&db, db_description, sizeof(db_description));
		run.db_description = db_description;
		sinks[nsinks++] = sink_pg_create(&db);
	}
	files = sink_files_create();
	sinks[nsinks++] = files;

	/* refuse a settled period or a locked directory before reading anything */
	rc = files->ops->prepare(files, &run);
	if (rc != PAYRUN_EXIT_OK)
		goto out;
	run.version = sink_files_version(files);
	for (int i = 0; i < nsinks - 1 && rc == PAYRUN_EXIT_OK; i++)
		rc = sinks[i]->ops->prepare(sinks[i], &run);
	if (rc != PAYRUN_EXIT_OK)
		goto out;
	run.rejects = sink_files_rejects(files);
	if (s->rerun)
	{
		char prev[4200];

		if (!adjust_load_previous(&adj, sink_files_previous_dir(files, prev, sizeof(prev)),
								  run.version - 1))
		{
			rc = PAYRUN_EXIT_DATA;
			goto out;
		}
	}

	if (s->pools_path)
	{
		report_begin(&rep, REPORT_PHASE_POOLS);
		if (!pools_load(&pools, s->pools_path))
		{
			rc = PAYRUN_EXIT_DATA;
			goto out;
		}
		report_end(&rep, REPORT_PHASE_POOLS, pools.count, 0);
	}

	if (filled)
		rc = PAYRUN_EXIT_OK; /* read by the caller */
	else if (s->source == SOURCE_PG)
		rc = source_pg_read(&db, &s->period, s->pools_path == NULL, &pools, &agg,
							sink_files_rejects(files), &counts, &rep);
	else
	{
		struct source_window win;
		uint64_t             in_period = 0;

		source_window_single(&win, &s->period, &agg, &in_period);
		report_begin(&rep, REPORT_PHASE_READ);
		rc = source_csv_read((const char *const *) s->inputs, s->ninputs, &win, &s->limits, s->jobs,
							 sink_files_rejects(files), &counts, inputs);
		report_end(&rep, REPORT_PHASE_READ, counts.rows_read, counts.decoded_bytes);
	}
	if (rc != PAYRUN_EXIT_OK)
	{
		log_error("nothing published for period %s", s->period.label);
		goto out;
	}
	fault_point("after_read");
	rc = check_reject_ratio(s, &counts, files);
	if (rc != PAYRUN_EXIT_OK)
		goto out;

	report_begin(&rep, REPORT_PHASE_COMPUTE);
	switch (
		ledger_build(&ledger, &s->period, filled ? filled : &agg, &pools,
					 &(struct ledger_settings){ .default_pool = s->default_pool, .keep = s->keep },
					 err, sizeof(err)))
	{
		case LEDGER_OK:
			break;
		case LEDGER_OVERFLOW:
			log_error("could not settle period %s: %s", s->period.label, err);
			rc = PAYRUN_EXIT_DATA;
			goto out;
		case LEDGER_INVARIANT:
			log_error("internal error settling period %s: %s", s->period.label, err);
			rc = PAYRUN_EXIT_INTERNAL;
			goto out;
	}
	aggregate_digest(&ledger, run.input_digest);
	run.ledger = &ledger;
	if (s->rerun)
	{
		if (!adjust_compute(&adj, &ledger))
		{
			rc = PAYRUN_EXIT_DATA;
			goto out;
		}
		run.adjustments = &adj;
	}
	report_end(&rep, REPORT_PHASE_COMPUTE, ledger.nrows, 0);
	if (s->dry_run)
	{
		print_adjustments(s, &adj, run.version);
		goto out;
	}

	report_begin(&rep, REPORT_PHASE_WRITE);
	rc = files->ops->write(files, &run);
	report_end(&rep, REPORT_PHASE_WRITE, ledger.nrows, 0);
	if (rc != PAYRUN_EXIT_OK)
		goto out;
	if (nsinks > 1)
	{
		report_begin(&rep, REPORT_PHASE_DB_WRITE);
		rc = sinks[0]->ops->write(sinks[0], &run);
		report_end(&rep, REPORT_PHASE_DB_WRITE, ledger.nrows, 0);
		if (rc != PAYRUN_EXIT_OK)
		{
			log_error("nothing published for period %s", s->period.label);
			goto out;
		}
	}

	fault_point("after_files");
	report_begin(&rep, REPORT_PHASE_PUBLISH);
	for (int i = 0; i < nsinks && rc == PAYRUN_EXIT_OK; i++)
	{
		if (i > 0)
			fault_point("after_commit");
		rc = sinks[i]->ops->publish(sinks[i], &run);
		if (rc != PAYRUN_EXIT_OK && i > 0)
			log_error("period %s is recorded in the database but its files were not "
					  "published; rebuild them with 'payrun export --period %s --out %s'",
					  s->period.label, s->period.label, s->out_dir);
	}
	report_end(&rep, REPORT_PHASE_PUBLISH, 0, 0);
	if (rc != PAYRUN_EXIT_OK)
		goto out;

	log_notice("settled period %s v%d: %llu streams, %llu nodes, paid %lld of pool %lld "
			   "(forfeited %lld, unallocated %lld) into '%s'",
			   s->period.label, run.version, (unsigned long long) ledger.totals.streams,
			   (unsigned long long) ledger.totals.nodes, (long long) ledger.totals.paid,
			   (long long) ledger.totals.pool, (long long) ledger.totals.forfeited,
			   (long long) ledger.totals.unallocated, sink_files_path(files));
	if (counts.rejected > 0)
		log_warning("%llu of %llu rows rejected (within the maximum ratio %s); "
					"see '%s/rejects.csv'",
					(unsigned long long) counts.rejected, (unsigned long long) counts.rows_read,
					s->max_reject_ratio.text, sink_files_path(files));
	if (s->rerun && log_enabled(LOG_LEVEL_NOTICE))
		print_adjustments(s, &adj, run.version);
	if (print_report)
		report_print(&rep, stdout);

out:
	if (rc != PAYRUN_EXIT_USAGE)
		log_run(s, &run, rc, &rep);
	for (int i = nsinks - 1; i >= 0; i--)
		sinks[i]->ops->destroy(sinks[i]);
	db_close(&db);
	adjust_release(&adj);
	ledger_release(&ledger);
	aggregate_release(&agg);
	pools_release(&pools);
	free(inputs);
	return rc;
}
