/*
 * settle.c: one settlement run, step by step (see settle.h).
 *
 * The outputs are opened before any input is read, so a settled period or
 * a held lock is refused at once: the files first, as they fix the version
 * under the output directory's lock, then the database, which must agree.
 * They are published in the other order: the database commits first, then
 * the files are renamed into place.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "payrun/adjust.h"
#include "payrun/aggregate.h"
#include "payrun/checks.h"
#include "payrun/clock.h"
#include "payrun/csvout.h"
#include "payrun/db.h"
#include "payrun/fault.h"
#include "payrun/interrupt.h"
#include "payrun/ledger.h"
#include "payrun/log.h"
#include "payrun/manifest.h"
#include "payrun/mem.h"
#include "payrun/output_db.h"
#include "payrun/output_files.h"
#include "payrun/paths.h"
#include "payrun/pools.h"
#include "payrun/probes.h"
#include "payrun/report.h"
#include "payrun/runlog.h"
#include "payrun/settle.h"
#include "payrun/source_csv.h"
#include "payrun/source_pg.h"
#include "payrun/outdir.h"
#include "payrun/banned.h"

struct settlement
{
	struct settings              policy; /* the caller's, with a rerun's inherited values */
	const struct settings       *s;      /* &policy */
	const struct settle_request *req;    /* borrowed: what to settle */
	struct report                rep;
	struct db                    db;     /* source pg */
	struct probe_table           table;  /* source pg: resolved */
	struct coverage              cover;  /* when the period's probes were taken */
	const struct coverage       *probes; /* &cover, or the filled aggregate's */
	struct idset                 seen;   /* the probe ids read (exports with an id column) */
	struct checks                checks; /* the refusal checks' outcomes */
	bool                         use_db; /* the database record is written too */
	char                         db_description[512];
	struct output_files          files;
	bool                         files_open;
	struct output_db             record;
	struct pools                 pools;
	struct aggregate             agg;
	struct source_counts         counts;
	struct paths                 paths;  /* the request's inputs, globs expanded */
	struct source_file          *inputs; /* owned, one per path */
	struct ledger                ledger;
	bool                         computed; /* the ledger is built */
	struct adjustments           adj;
	bool                         adjusted;             /* reruns: the adjustments are computed */
	char                         prev_dir[4200];       /* reruns: DIR/LABEL/vN-1 */
	char                         prev_pools[4300];     /* reruns: its pools.csv, or "" */
	char                        *inherited_pools_path; /* owned: an old version's pools file */
	struct rollups_use           rollups;              /* source pg: how the read used them */
	struct run_record            run;
};

static void
settlement_init(struct settlement *st, const struct settings *s, const struct settle_request *req)
{
	memset(st, 0, sizeof(*st));
	st->policy = *s; /* a shallow copy: the strings stay the caller's */
	st->s = &st->policy;
	st->req = req;
	st->use_db = s->source == SOURCE_PG && req->filled == NULL;
	report_init(&st->rep);
	pools_init(&st->pools);
	aggregate_init(&st->agg);
	if (req->filled)
		st->counts = req->filled->counts;
	coverage_init(&st->cover, req->period.start, req->period.end - req->period.start,
				  st->use_db ? SOURCE_PG_SLICES : (uint32_t) (req->period.end - req->period.start));
	st->probes = req->filled && req->filled->cover ? req->filled->cover : &st->cover;
	st->run.coverage = st->probes;
	idset_init(&st->seen);
	checks_init(&st->checks);
	st->run.period = req->period;
	st->run.source_kind = s->source == SOURCE_PG ? "pg" : "csv";
	st->run.inputs_known = true;
	st->run.inputs = req->filled ? req->filled->files : st->inputs;
	st->run.ninputs = req->filled ? req->filled->nfiles : 0;
	st->run.note = req->filled ? req->filled->note : NULL;
	st->run.report = &st->rep;
	snprintf(st->run.payrun_version, sizeof(st->run.payrun_version), "%s", PAYRUN_VERSION);
	clock_utc_text(st->run.started_at);
}

/* Does a manifest list an output of this name? */
static bool
lists_output(json_t *manifest, const char *name)
{
	size_t  i;
	json_t *o;

	json_array_foreach(json_object_get(manifest, "outputs"), i, o)
	{
		const char *n = json_string_value(json_object_get(o, "name"));

		if (n && strcmp(n, name) == 0)
			return true;
	}
	return false;
}

/*
 * A rerun's settings, read under the lock from the version it replaces:
 * what its own command line does not give is that version's; so are the
 * pools, from that version's copy of them (pools.csv).
 */
static enum payrun_exit
inherit_previous(struct settlement *st)
{
	json_t *m = manifest_load(st->prev_dir);
	json_t *prev_pools;
	bool    ok;

	if (m == NULL || !json_is_object(json_object_get(m, "settings")))
	{
		log_error("could not read the settings of the previous version from '%s/manifest.json'%s",
				  st->prev_dir, m ? ": no settings object" : "");
		json_decref(m);
		return PAYRUN_EXIT_DATA;
	}
	ok = settings_inherit(&st->policy, json_object_get(m, "settings"));
	prev_pools = json_object_get(json_object_get(m, "settings"), "pools");
	if (lists_output(m, "pools.csv"))
		snprintf(st->prev_pools, sizeof(st->prev_pools), "%s/pools.csv", st->prev_dir);
	if (ok && (st->policy.given & SETTING_POOLS) == 0)
	{
		/* a config file's pools are not this rerun's: the period had its own */
		st->policy.pools_path = NULL;
		st->policy.pools_query = NULL;
		if (st->prev_pools[0] == '\0' && json_is_string(prev_pools))
		{
			/* a version written before versions kept their pools */
			st->inherited_pools_path = mem_strdup(json_string_value(prev_pools));
			st->policy.pools_path = st->inherited_pools_path;
			log_warning("rerun: v%d kept no copy of its pools; reading '%s' as it is now",
						st->run.version - 1, st->inherited_pools_path);
		}
	}
	json_decref(m);
	return ok ? PAYRUN_EXIT_OK : PAYRUN_EXIT_DATA;
}

/* Step 1: connect, lock and version the outputs, read a rerun's previous ledger. */
static enum payrun_exit
settle_open(struct settlement *st)
{
	const struct period *p = &st->req->period;
	enum payrun_exit     rc;
	char                 other[PERIOD_LABEL_MAX];

	if (st->s->source == SOURCE_CSV && st->req->filled == NULL)
	{
		/* the inputs' globs, as backfill expands them: no match is refused before any lock */
		if (!paths_expand_inputs(&st->paths, st->req->inputs, st->req->ninputs))
			return PAYRUN_EXIT_DATA;
		st->inputs = mem_calloc(st->paths.count ? st->paths.count : 1, sizeof(*st->inputs));
		st->run.inputs = st->inputs;
		st->run.ninputs = st->paths.count;
	}
	if (st->use_db)
	{
		report_begin(&st->rep, REPORT_PHASE_CONNECT);
		if (!db_connect(&st->db, st->s->db_conninfo, "payrun settle"))
			return PAYRUN_EXIT_DB;
		report_end(&st->rep, REPORT_PHASE_CONNECT, 0, 0);
		db_describe(&st->db, st->db_description, sizeof(st->db_description));
		st->run.db_description = st->db_description;
		rc = probes_resolve(&st->db, st->s->probe_table, st->s->probe_timestamp_zone, false,
							&st->table);
		if (rc != PAYRUN_EXIT_OK)
			return rc;
		st->run.table = &st->table;
		output_db_init(&st->record, &st->db);
	}
	/* refuse a settled period or a locked directory before reading anything */
	st->files_open = true;
	rc = output_files_open(&st->files, st->s->out_dir, p->label,
						   st->req->rerun ? PUBLISH_NEXT : PUBLISH_FIRST, 0);
	if (rc != PAYRUN_EXIT_OK)
		return rc;
	st->run.version = output_files_version(&st->files);
	if (output_files_overlap(&st->files, p, other, sizeof(other)))
	{
		log_error("period %s overlaps period %s, settled in '%s': a probe is paid once; rerun %s "
				  "to change its payouts",
				  p->label, other, st->s->out_dir, other);
		return PAYRUN_EXIT_CONFLICT;
	}
	if (st->use_db)
	{
		rc = output_db_check(&st->record, p, st->run.version, st->req->rerun, st->s->out_dir);
		if (rc != PAYRUN_EXIT_OK)
			return rc;
	}
	if (!st->req->rerun)
		return PAYRUN_EXIT_OK;
	if (output_files_previous_dir(&st->files, st->prev_dir, sizeof(st->prev_dir)) == NULL ||
		!adjust_load_previous(&st->adj, st->prev_dir, st->run.version - 1))
		return PAYRUN_EXIT_DATA;
	return inherit_previous(st);
}

/* Says a failed step published nothing (a stop on a signal says so itself). */
static void
nothing_published(const struct settlement *st)
{
	if (!interrupt_pending())
		log_error("nothing published for period %s", st->req->period.label);
}

/* A refused settlement keeps its rejects in DIR/LABEL/failed/; says where. */
static enum payrun_exit
refused(struct settlement *st, bool ratio)
{
	char        kept[4096];
	const char *where = output_files_keep_rejects(&st->files, kept, sizeof(kept)) ? kept : NULL;

	if (ratio)
		(void) source_reject_ratio_ok(&st->s->max_reject_ratio, &st->counts, NULL, where);
	else if (where)
		log_error("the rejects of period %s are kept in '%s'", st->req->period.label, where);
	nothing_published(st);
	return PAYRUN_EXIT_DATA;
}

/* The reject ratio, then the probes' checks (checks.h): refuses wrong input. */
static enum payrun_exit
check_input(struct settlement *st)
{
	if (settings_ratio_exceeded(&st->s->max_reject_ratio, st->counts.rejected,
								st->counts.rows_read))
		return refused(st, true);
	if (!checks_probes(&st->checks, st->s, &st->req->period, &st->counts, st->probes))
		return refused(st, false);
	return PAYRUN_EXIT_OK;
}

/* The period's probes from the export files, into the aggregate. */
static enum payrun_exit
read_csv(struct settlement *st)
{
	const char *const   *paths = (const char *const *) st->paths.items;
	size_t               npaths = st->paths.count;
	struct source_window win;
	uint64_t             in_period = 0;
	enum payrun_exit     rc;

	if (!source_distinct_paths(paths, npaths))
		return PAYRUN_EXIT_DATA;
	source_window_single(&win, &st->req->period, &st->agg, &in_period, &st->cover, &st->seen);
	report_begin(&st->rep, REPORT_PHASE_READ);
	rc = source_csv_read(paths, npaths, &win, &st->s->input, st->s->jobs,
						 output_files_rejects(&st->files), &st->counts, st->inputs);
	report_end(&st->rep, REPORT_PHASE_READ, st->counts.rows_read, st->counts.decoded_bytes);
	if (rc == PAYRUN_EXIT_OK && !source_distinct_files(st->inputs, npaths))
		rc = PAYRUN_EXIT_DATA;
	return rc;
}

/*
 * Where the pools come from: --pools (or an old version's pools file), a
 * rerun's previous version's copy, the database (the query or
 * payout_pools, read with the probes), or nowhere (the default pool).
 */
static enum pools_origin
pools_origin_of(const struct settlement *st)
{
	if (st->s->pools_path)
		return POOLS_FILE;
	if (st->req->rerun && (st->s->given & SETTING_POOLS) == 0 && st->prev_pools[0])
		return POOLS_VERSION;
	if (st->use_db)
		return st->s->pools_query ? POOLS_QUERY : POOLS_TABLE;
	return POOLS_NONE;
}

/* A rerun given new pools says what they change against the version's copy. */
static void
log_pools_changes(const struct settlement *st)
{
	struct pools old;
	size_t       i = 0, j = 0, changed = 0;

	pools_init(&old);
	if (!pools_load(&old, st->prev_pools, st->s->token_decimals, POOLS_VERSION))
	{
		log_warning("rerun: could not read v%d's pools.csv to compare the new pools with",
					st->run.version - 1);
		pools_release(&old);
		return;
	}
	while (i < old.count || j < st->pools.count)
	{
		const struct pool_entry *a = i < old.count ? &old.entries[i] : NULL;
		const struct pool_entry *b = j < st->pools.count ? &st->pools.entries[j] : NULL;
		int                      c = !a   ? 1
									 : !b ? -1
										  : aggregate_id_cmp(a->stream, a->stream_len, b->stream, b->stream_len);
		char                     x[AMOUNT_TEXT_LEN] = "none", y[AMOUNT_TEXT_LEN] = "none";

		if (c <= 0)
			amount_format(&a->pool, x);
		if (c >= 0)
			amount_format(&b->pool, y);
		i += c <= 0;
		j += c >= 0;
		if (strcmp(x, y) == 0)
			continue;
		if (++changed <= 10)
			log_notice("rerun: stream '%.*s': pool %s -> %s base units",
					   (int) (c <= 0 ? a : b)->stream_len, (c <= 0 ? a : b)->stream, x, y);
	}
	log_notice("rerun: the new pools (%s) change %zu stream(s) against v%d's pools.csv",
			   pools_origin_name(st->pools.origin), changed, st->run.version - 1);
	pools_release(&old);
}

/* Step 2: the pools, then the probes from the request's source; the reject ratio. */
static enum payrun_exit
settle_read(struct settlement *st)
{
	const struct settings       *s = st->s;
	const struct settle_request *req = st->req;
	enum pools_origin            origin = pools_origin_of(st);
	enum payrun_exit             rc = PAYRUN_EXIT_OK;

	if (origin == POOLS_FILE || origin == POOLS_VERSION)
	{
		report_begin(&st->rep, REPORT_PHASE_POOLS);
		if (!pools_load(&st->pools, origin == POOLS_FILE ? s->pools_path : st->prev_pools,
						s->token_decimals, origin))
			return PAYRUN_EXIT_DATA;
		report_end(&st->rep, REPORT_PHASE_POOLS, st->pools.count, 0);
		if (origin == POOLS_VERSION)
			log_notice("rerun: pools from v%d's pools.csv (sha256 %.16s...), as in the previous "
					   "version (give --pools to change them)",
					   st->run.version - 1, st->pools.sha256);
	}
	/* a filled aggregate was read by the caller */
	if (req->filled == NULL && st->use_db)
	{
		struct source_pg_plan plan = { .period = &req->period,
									   .table = &st->table,
									   .pools = origin,
									   .pools_query = s->pools_query,
									   .decimals = s->token_decimals,
									   .rollups_mode = s->rollups,
									   .rollups = &st->rollups };

		rc = source_pg_read(&st->db, &plan, &st->pools, &st->agg, &st->cover,
							output_files_rejects(&st->files), &st->counts, &st->rep);
		st->run.rollups = &st->rollups;
	}
	else if (req->filled == NULL)
		rc = read_csv(st);
	if (rc != PAYRUN_EXIT_OK)
	{
		nothing_published(st);
		return rc;
	}
	if (req->rerun && (s->given & SETTING_POOLS) && st->prev_pools[0])
		log_pools_changes(st);
	fault_point("after_read");
	return check_input(st);
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

/* Step 3: the ledger, its digest, a rerun's adjustments. */
static enum payrun_exit
settle_compute(struct settlement *st)
{
	const struct settle_request *req = st->req;
	struct aggregate            *agg = req->filled ? req->filled->agg : &st->agg;
	struct ledger_settings       ls = { .default_pool = st->s->default_pool, .keep = st->s->keep };
	char                         err[512];

	report_begin(&st->rep, REPORT_PHASE_COMPUTE);
	switch (ledger_build(&st->ledger, &req->period, agg, &st->pools, &ls, err, sizeof(err)))
	{
		case LEDGER_OK:
			break;
		case LEDGER_OVERFLOW:
			log_error("could not settle period %s: %s", req->period.label, err);
			return PAYRUN_EXIT_DATA;
		case LEDGER_INVARIANT:
			log_error("internal error settling period %s: %s", req->period.label, err);
			return PAYRUN_EXIT_INTERNAL;
	}
	st->computed = true;
	/* the ledger has its own copy of the ids: the aggregate goes (17 MiB at 200k pairs) */
	if (agg == &st->agg)
		aggregate_release(agg);
	if (!checks_pools(&st->checks, st->s, &req->period, &st->ledger, &st->pools))
		return refused(st, false);
	aggregate_digest(&st->ledger, st->run.input_digest);
	if (req->rerun)
	{
		if (!adjust_compute(&st->adj, &st->ledger))
			return PAYRUN_EXIT_DATA;
		st->adjusted = true;
	}
	report_end(&st->rep, REPORT_PHASE_COMPUTE, st->ledger.nrows, 0);
	return PAYRUN_EXIT_OK;
}

/* Step 4: the files, then the database rows; nothing visible yet. */
static enum payrun_exit
settle_write(struct settlement *st)
{
	const struct settle_request *req = st->req;
	enum payrun_exit             rc;

	st->run.settings = manifest_settings_json(st->s, req->period.length, &st->pools);
	st->run.counts = manifest_counts_json(&st->counts, output_files_rejects(&st->files));
	st->run.totals = manifest_totals_json(&st->ledger.totals);
	st->run.checks = json_incref(st->checks.results);
	if (st->adjusted)
		st->run.rerun = manifest_rerun_json(&st->adj, req->reason);

	report_begin(&st->rep, REPORT_PHASE_WRITE);
	rc = output_files_write(&st->files, &st->run, &st->ledger, st->adjusted ? &st->adj : NULL,
							&st->pools);
	report_end(&st->rep, REPORT_PHASE_WRITE, st->ledger.nrows, 0);
	if (rc != PAYRUN_EXIT_OK || !st->use_db)
		return rc;
	report_begin(&st->rep, REPORT_PHASE_DB_WRITE);
	rc = output_db_write(&st->record, &st->run, &st->ledger, &st->pools, req->rerun, req->reason,
						 st->s->out_dir);
	report_end(&st->rep, REPORT_PHASE_DB_WRITE, st->ledger.nrows, 0);
	if (rc != PAYRUN_EXIT_OK)
		nothing_published(st);
	return rc;
}

/* Step 5: the database commits, then the files are renamed into place. */
static enum payrun_exit
settle_publish(struct settlement *st)
{
	const struct period *p = &st->req->period;
	enum payrun_exit     rc = PAYRUN_EXIT_OK;

	fault_point("after_files");
	report_begin(&st->rep, REPORT_PHASE_PUBLISH);
	if (st->use_db)
	{
		/* the commit publishes: a signal now must not cancel it half-way to the files */
		db_cancel_on_signal(&st->db, false);
		rc = output_db_commit(&st->record, p, st->run.version);
		if (rc == PAYRUN_EXIT_OK)
			fault_point("after_commit");
	}
	if (rc == PAYRUN_EXIT_OK)
	{
		rc = output_files_publish(&st->files);
		if (rc != PAYRUN_EXIT_OK && st->use_db)
		{
			char conninfo[1024];

			db_conninfo_shown(&st->db, conninfo, sizeof(conninfo));
			log_error("period %s is recorded in the database but its files were not "
					  "published; rebuild them with: payrun export --period %s --out '%s' --db "
					  "\"%s\"",
					  p->label, p->label, st->s->out_dir, conninfo);
		}
	}
	report_end(&st->rep, REPORT_PHASE_PUBLISH, 0, 0);
	return rc;
}

static void
stdout_write(void *arg, const void *data, size_t len)
{
	fwrite(data, 1, len, arg);
}

/* Prints what a rerun changes (the adjustments.csv it would write). */
static void
print_adjustments(const struct settlement *st)
{
	const struct adjustments *adj = &st->adj;
	const char               *label = st->req->period.label;
	bool                      dry = st->req->dry_run;
	struct csvout             w = { .write = stdout_write, .arg = stdout };
	char                      before[AMOUNT_TEXT_LEN], now[AMOUNT_TEXT_LEN], delta[AMOUNT_TEXT_LEN];

	if (adj->nnodes == 0)
	{
		printf("period %s: no change against v%d (%s)\n", label, adj->previous_version,
			   dry ? "dry run, nothing published" : "published as an empty adjustments.csv");
		return;
	}
	amount_format(&adj->previously_paid, before);
	amount_format(&adj->now_due, now);
	amount_delta_format(&adj->delta, true, delta);
	printf("period %s: v%d -> v%d: %zu node(s) adjusted, previously paid %s, now due %s, "
		   "delta %s%s\n",
		   label, adj->previous_version, st->run.version, adj->nnodes, before, now, delta,
		   dry ? " (dry run, nothing published)" : "");
	if (!dry)
		return;
	fputs(CSVOUT_ADJUSTMENTS_HEADER, stdout);
	for (size_t i = 0; i < adj->nrows; i++)
	{
		csvout_adjustment_row(&w, &adj->rows[i]);
		csvout_char(&w, '\n');
	}
}

/* What a published settlement says: the totals, the rejects, the report. */
static void
settle_announce(const struct settlement *st)
{
	const struct ledger_totals *t = &st->ledger.totals;
	const char                 *path = output_files_path(&st->files);

	char paid[AMOUNT_TEXT_LEN], pool[AMOUNT_TEXT_LEN];
	char forfeited[AMOUNT_TEXT_LEN], unallocated[AMOUNT_TEXT_LEN];

	amount_format(&t->paid, paid);
	amount_format(&t->pool, pool);
	amount_format(&t->forfeited, forfeited);
	amount_format(&t->unallocated, unallocated);
	log_notice("settled period %s v%d: %llu streams, %llu nodes, paid %s of pool %s "
			   "(forfeited %s, unallocated %s) into '%s'",
			   st->req->period.label, st->run.version, (unsigned long long) t->streams,
			   (unsigned long long) t->nodes, paid, pool, forfeited, unallocated, path);
	if (st->counts.rejected > 0)
		log_warning("%llu of %llu rows rejected (within the maximum ratio %s); "
					"see '%s/rejects.csv'",
					(unsigned long long) st->counts.rejected,
					(unsigned long long) st->counts.rows_read, st->s->max_reject_ratio.text, path);
	if (st->req->rerun && log_enabled(LOG_LEVEL_NOTICE))
		print_adjustments(st);
	if (st->req->print_report)
		report_print(&st->rep, stdout);
}

/* One line in DIR/runs.log, whatever the outcome. */
static void
settle_log_run(const struct settlement *st, enum payrun_exit rc)
{
	const struct settle_request *req = st->req;
	const char                  *status = "failed";
	json_t                      *e;

	if (rc == PAYRUN_EXIT_OK)
		status = req->dry_run ? "dry-run" : "settled";
	else if (rc == PAYRUN_EXIT_CONFLICT)
		status = "conflict";
	else if (payrun_exit_interrupted(rc))
		status = "interrupted";
	e = json_pack("{s:s, s:s, s:i, s:s, s:i, s:s, s:f}", "command", req->rerun ? "rerun" : "settle",
				  "period", req->period.label, "version",
				  rc == PAYRUN_EXIT_OK && !req->dry_run ? st->run.version : 0, "status", status,
				  "exit", (int) rc, "source", st->run.source_kind, "wall_s",
				  report_total_wall(&st->rep));
	if (st->computed)
	{
		const struct ledger_totals *t = &st->ledger.totals;

		json_object_set_new(e, "pool", manifest_amount_json(&t->pool));
		json_object_set_new(e, "paid", manifest_amount_json(&t->paid));
		json_object_set_new(e, "forfeited", manifest_amount_json(&t->forfeited));
		json_object_set_new(e, "unallocated", manifest_amount_json(&t->unallocated));
		json_object_set_new(e, "streams", json_integer((json_int_t) t->streams));
		json_object_set_new(e, "nodes", json_integer((json_int_t) t->nodes));
	}
	if (st->counts.rows_read > 0)
	{
		json_object_set_new(e, "rows_read", json_integer((json_int_t) st->counts.rows_read));
		json_object_set_new(e, "rejected", json_integer((json_int_t) st->counts.rejected));
	}
	if (st->adjusted)
	{
		json_object_set_new(e, "delta", manifest_delta_json(&st->adj.delta));
		json_object_set_new(e, "adjusted_nodes", json_integer((json_int_t) st->adj.nnodes));
	}
	if (json_array_size(st->checks.overrides) > 0)
		json_object_set(e, "overrides", st->checks.overrides);
	if (req->reason)
		json_object_set_new(e, "note", manifest_text_json(req->reason));
	if (rc != PAYRUN_EXIT_OK && log_first_error())
		json_object_set_new(e, "error", manifest_text_json(log_first_error()));
	(void) runlog_append(st->s->out_dir, e);
	json_decref(e);
}

/* Step 6: undoes what was not published, releases the lock and the connection. */
static void
settle_release(struct settlement *st)
{
	if (st->files_open)
		output_files_close(&st->files);
	if (st->use_db)
		output_db_close(&st->record);
	db_close(&st->db);
	coverage_release(&st->cover);
	idset_release(&st->seen);
	checks_release(&st->checks);
	run_record_release(&st->run);
	adjust_release(&st->adj);
	ledger_release(&st->ledger);
	aggregate_release(&st->agg);
	pools_release(&st->pools);
	free(st->inputs);
	paths_release(&st->paths);
	free(st->inherited_pools_path);
}

enum payrun_exit
settle_check(const struct settings *s, const struct period *p)
{
	int              fd = outdir_open(s->out_dir, false);
	char             other[PERIOD_LABEL_MAX] = "";
	enum payrun_exit rc = PAYRUN_EXIT_OK;

	if (fd < 0 && errno != ENOENT)
		return PAYRUN_EXIT_INTERNAL;
	if (fd >= 0)
	{
		int v = publish_latest_version(fd, p->label);

		if (v < 0)
			log_error("could not list '%s/%s': %s", s->out_dir, p->label, strerror(errno));
		else if (v > 0)
			log_error("period %s is already settled: '%s/%s/v%d' exists", p->label, s->out_dir,
					  p->label, v);
		else if (publish_overlap(fd, p, other, sizeof(other)))
			log_error("period %s overlaps period %s, settled in '%s': a probe is paid once",
					  p->label, other, s->out_dir);
		rc = v < 0               ? PAYRUN_EXIT_INTERNAL
			 : v > 0 || other[0] ? PAYRUN_EXIT_CONFLICT
								 : PAYRUN_EXIT_OK;
		close(fd);
	}
	if (rc == PAYRUN_EXIT_OK && s->source == SOURCE_PG)
	{
		struct db        db;
		struct output_db od;

		if (!db_connect(&db, s->db_conninfo, "payrun settle"))
			return PAYRUN_EXIT_DB;
		output_db_init(&od, &db);
		rc = output_db_check(&od, p, 1, false, s->out_dir);
		output_db_close(&od);
		db_close(&db);
	}
	return rc;
}

enum payrun_exit
settle_run(const struct settings *s, const struct settle_request *req)
{
	struct settlement st;
	enum payrun_exit  rc;

	settlement_init(&st, s, req);
	/* each step ends at a safe point: a signal stops the run there (interrupt.h) */
	rc = interrupt_status(settle_open(&st), true);
	if (rc == PAYRUN_EXIT_OK)
		rc = interrupt_status(settle_read(&st), true);
	if (rc == PAYRUN_EXIT_OK)
		rc = interrupt_status(settle_compute(&st), true);
	if (rc == PAYRUN_EXIT_OK && req->dry_run)
		print_adjustments(&st);
	else if (rc == PAYRUN_EXIT_OK)
	{
		rc = interrupt_status(settle_write(&st), true);
		/* once published, the version stands: a signal after it changes nothing */
		if (rc == PAYRUN_EXIT_OK)
			rc = interrupt_status(settle_publish(&st), false);
		if (rc == PAYRUN_EXIT_OK)
			settle_announce(&st);
	}
	if (payrun_exit_interrupted(rc))
		log_error("interrupted by %s: nothing published for period %s", interrupt_name(),
				  req->period.label);
	settle_log_run(&st, rc);
	settle_release(&st);
	return rc;
}
