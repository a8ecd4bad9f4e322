/*
 * preview.c: 'payrun preview' (see preview.h).
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "payrun/amount.h"
#include "payrun/clock.h"
#include "payrun/coverage.h"
#include "payrun/db.h"
#include "payrun/ledger.h"
#include "payrun/log.h"
#include "payrun/manifest.h"
#include "payrun/pools.h"
#include "payrun/preview.h"
#include "payrun/probes.h"
#include "payrun/rejects.h"
#include "payrun/report.h"
#include "payrun/source_pg.h"
#include "payrun/timestamp.h"
#include "payrun/banned.h"

struct preview
{
	const struct settings *s;
	const struct period   *p;
	int64_t                now;
	struct db              db;
	struct probe_table     table;
	struct pools           pools;
	struct aggregate       agg;
	struct coverage        cover;
	struct rejects         rejects; /* counted, not written */
	struct source_counts   counts;
	struct rollups_use     rollups;
	struct report          rep;
	struct ledger          ledger;
};

/* The probes and pools, in one snapshot, as a settle reads them. */
static enum payrun_exit
preview_read(struct preview *pv)
{
	const struct settings *s = pv->s;
	struct source_pg_plan  plan = { .period = pv->p,
									.table = &pv->table,
									.pools = s->pools_query ? POOLS_QUERY : POOLS_TABLE,
									.pools_query = s->pools_query,
									.decimals = s->token_decimals,
									.rollups_mode = s->rollups,
									.rollups = &pv->rollups };
	enum payrun_exit       rc;

	if (!db_connect(&pv->db, s->db_conninfo, "payrun preview"))
		return PAYRUN_EXIT_DB;
	rc = probes_resolve(&pv->db, s->probe_table, s->probe_timestamp_zone, false, &pv->table);
	if (rc != PAYRUN_EXIT_OK)
		return rc;
	if (s->pools_path)
	{
		plan.pools = POOLS_FILE;
		if (!pools_load(&pv->pools, s->pools_path, s->token_decimals, POOLS_FILE))
			return PAYRUN_EXIT_DATA;
	}
	return source_pg_read(&pv->db, &plan, &pv->pools, &pv->agg, &pv->cover, &pv->rejects,
						  &pv->counts, &pv->rep);
}

static enum payrun_exit
preview_compute(struct preview *pv)
{
	struct ledger_settings ls = { .default_pool = pv->s->default_pool, .keep = pv->s->keep };
	char                   err[512];

	switch (ledger_build(&pv->ledger, pv->p, &pv->agg, &pv->pools, &ls, err, sizeof(err)))
	{
		case LEDGER_OK:
			return PAYRUN_EXIT_OK;
		case LEDGER_OVERFLOW:
			log_error("could not preview period %s: %s", pv->p->label, err);
			return PAYRUN_EXIT_DATA;
		case LEDGER_INVARIANT:
			break;
	}
	log_error("internal error previewing period %s: %s", pv->p->label, err);
	return PAYRUN_EXIT_INTERNAL;
}

/* How far the period has gone, in seconds (its length once it is over). */
static int64_t
elapsed_s(const struct preview *pv)
{
	if (pv->now >= pv->p->end)
		return pv->p->end - pv->p->start;
	return pv->now > pv->p->start ? pv->now - pv->p->start : 0;
}

/* An id as the manifest writes text: bytes that are not UTF-8 escaped. */
static json_t *
id_json(const char *id, size_t len)
{
	char buf[AGGREGATE_ID_MAX + 1];

	snprintf(buf, sizeof(buf), "%.*s", (int) len, id);
	return manifest_text_json(buf);
}

static json_t *
preview_json(const struct preview *pv)
{
	char    start[TIMESTAMP_FORMAT_LEN], end[TIMESTAMP_FORMAT_LEN], now[TIMESTAMP_FORMAT_LEN];
	json_t *streams = json_array(), *nodes = json_array();
	json_t *o;

	timestamp_format(pv->p->start, start);
	timestamp_format(pv->p->end, end);
	timestamp_format(pv->now, now);
	for (size_t i = 0; i < pv->ledger.nstreams; i++)
	{
		const struct ledger_stream *st = &pv->ledger.streams[i];

		json_array_append_new(
			streams, json_pack("{s:o, s:o, s:I, s:I, s:o, s:o, s:o}", "stream_id",
							   id_json(st->stream, st->stream_len), "pool",
							   manifest_amount_json(&st->pool), "nodes", (json_int_t) st->nodes,
							   "successful_polls", (json_int_t) st->total_successful_polls, "paid",
							   manifest_amount_json(&st->paid), "forfeited",
							   manifest_amount_json(&st->forfeited), "unallocated",
							   manifest_amount_json(&st->unallocated)));
	}
	for (size_t i = 0; i < pv->ledger.nrows; i++)
	{
		const struct ledger_row *r = &pv->ledger.rows[i];

		json_array_append_new(
			nodes,
			json_pack("{s:o, s:o, s:I, s:I, s:I, s:o, s:o}", "stream_id",
					  id_json(r->stream, r->stream_len), "node_id", id_json(r->node, r->node_len),
					  "total_polls", (json_int_t) r->counts.total_polls, "successful_polls",
					  (json_int_t) r->counts.successful_polls, "failed_spot_checks",
					  (json_int_t) r->counts.failed_spot_checks, "payout",
					  manifest_amount_json(&r->payout), "forfeited",
					  manifest_amount_json(&r->forfeited)));
	}
	o = json_pack("{s:s, s:s, s:s, s:s, s:b, s:I, s:I, s:I, s:o, s:o, s:o, s:o}", "period",
				  pv->p->label, "start", start, "end", end, "as_of", now, "open",
				  pv->now < pv->p->end, "elapsed_s", (json_int_t) elapsed_s(pv), "rows_read",
				  (json_int_t) pv->counts.rows_read, "rejected", (json_int_t) pv->counts.rejected,
				  "rollups", manifest_rollups_json(&pv->rollups), "totals",
				  manifest_totals_json(&pv->ledger.totals), "streams", streams, "nodes", nodes);
	return o;
}

static void
print_table(const struct preview *pv)
{
	const struct ledger_totals *t = &pv->ledger.totals;
	char                        now[TIMESTAMP_FORMAT_LEN], gone[64], whole[64];
	char                        pool[AMOUNT_TEXT_LEN], paid[AMOUNT_TEXT_LEN];
	char                        forfeited[AMOUNT_TEXT_LEN], unallocated[AMOUNT_TEXT_LEN];

	timestamp_format(pv->now, now);
	timestamp_duration_text(elapsed_s(pv), gone, sizeof(gone));
	timestamp_duration_text(pv->p->end - pv->p->start, whole, sizeof(whole));
	amount_format(&t->pool, pool);
	amount_format(&t->paid, paid);
	amount_format(&t->forfeited, forfeited);
	amount_format(&t->unallocated, unallocated);
	printf("period %s, as of %s: %s (%s of %s); a preview, nothing is settled\n", pv->p->label, now,
		   pv->now < pv->p->end ? "open" : "over", gone, whole);
	printf("probes: %llu rows read, %llu rejected; hours: %u from daily rollups, %u from hourly "
		   "rollups, %u from the probes\n",
		   (unsigned long long) pv->counts.rows_read, (unsigned long long) pv->counts.rejected,
		   pv->rollups.hours_daily, pv->rollups.hours_hourly, pv->rollups.hours_probes);
	printf("so far: %llu streams, %llu nodes, paid %s of pool %s (forfeited %s, unallocated %s) "
		   "base units\n\n",
		   (unsigned long long) t->streams, (unsigned long long) t->nodes, paid, pool, forfeited,
		   unallocated);
	printf("%-20s %-24s %12s %12s %8s %s\n", "stream_id", "node_id", "polls", "successful",
		   "failed", "payout");
	for (size_t i = 0; i < pv->ledger.nrows; i++)
	{
		const struct ledger_row *r = &pv->ledger.rows[i];
		char                     payout[AMOUNT_TEXT_LEN];

		amount_format(&r->payout, payout);
		printf("%-20.*s %-24.*s %12llu %12llu %8llu %s\n", (int) r->stream_len, r->stream,
			   (int) r->node_len, r->node, (unsigned long long) r->counts.total_polls,
			   (unsigned long long) r->counts.successful_polls,
			   (unsigned long long) r->counts.failed_spot_checks, payout);
	}
}

enum payrun_exit
preview_run(const struct settings *s, const struct period *p, bool json)
{
	struct preview   pv = { .s = s, .p = p, .now = clock_epoch_s() };
	enum payrun_exit rc;

	report_init(&pv.rep);
	pools_init(&pv.pools);
	aggregate_init(&pv.agg);
	coverage_init(&pv.cover, p->start, p->end - p->start, SOURCE_PG_SLICES);
	rc = preview_read(&pv);
	if (rc == PAYRUN_EXIT_OK)
		rc = preview_compute(&pv);
	if (rc == PAYRUN_EXIT_OK && json)
	{
		json_t *o = preview_json(&pv);

		if (o == NULL || json_dumpf(o, stdout, JSON_COMPACT) != 0)
			rc = PAYRUN_EXIT_INTERNAL;
		json_decref(o);
		putchar('\n');
	}
	else if (rc == PAYRUN_EXIT_OK)
		print_table(&pv);
	if (fflush(stdout) != 0 && rc == PAYRUN_EXIT_OK)
	{
		log_error("could not write the preview to stdout");
		rc = PAYRUN_EXIT_INTERNAL;
	}
	ledger_release(&pv.ledger);
	coverage_release(&pv.cover);
	aggregate_release(&pv.agg);
	pools_release(&pv.pools);
	db_close(&pv.db);
	return rc;
}
