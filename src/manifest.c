/*
 * manifest.c: the run record and manifest.json (see manifest.h).
 * Amounts are decimal strings: most JSON readers lose integers past 2^53.
 */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "payrun/clock.h"
#include "payrun/manifest.h"
#include "payrun/utf8.h"
#include "payrun/input.h"
#include "payrun/log.h"
#include "payrun/banned.h"

#define MANIFEST_MAX_BYTES (64 * 1024 * 1024)

void
run_record_release(struct run_record *run)
{
	json_decref(run->settings);
	json_decref(run->counts);
	json_decref(run->totals);
	json_decref(run->checks);
	json_decref(run->timing);
	json_decref(run->rerun);
	memset(run, 0, sizeof(*run));
}

json_t *
manifest_text_json(const char *s)
{
	char   *text;
	json_t *j;

	if (s == NULL)
		return json_null();
	text = utf8_escape(s);
	j = json_string(text);
	free(text);
	return j;
}

json_t *
manifest_load(const char *dir)
{
	char         path[4200];
	char        *text;
	size_t       len;
	json_error_t err;
	json_t      *m;

	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	if (!input_read_whole(path, "manifest", MANIFEST_MAX_BYTES, &text, &len))
		return NULL;
	m = json_loadb(text, len, 0, &err);
	free(text);
	if (m == NULL || !json_is_object(m))
		log_error("could not read '%s': %s", path, m ? "not a JSON object" : err.text);
	if (m && !json_is_object(m))
	{
		json_decref(m);
		m = NULL;
	}
	return m;
}

json_t *
manifest_amount_json(const struct amount *a)
{
	char buf[AMOUNT_TEXT_LEN];

	amount_format(a, buf);
	return json_string(buf);
}

json_t *
manifest_delta_json(const struct amount_delta *d)
{
	char buf[AMOUNT_TEXT_LEN];

	amount_delta_format(d, false, buf);
	return json_string(buf);
}

/* Where the pools came from, and the digest of the copy the version keeps. */
static json_t *
pools_json(const struct settings *s, const struct pools *pools)
{
	json_t *j;

	if (pools == NULL || pools->origin == POOLS_NONE)
		return json_null();
	j = json_pack("{s:s, s:o, s:s, s:s}", "origin", pools_origin_name(pools->origin), "path",
				  manifest_text_json(pools->path), "copy", "pools.csv", "sha256", pools->sha256);
	if (j && pools->origin == POOLS_QUERY && s->pools_query)
	{
		struct sha256 d;
		char          hex[SHA256_HEX_LEN];

		sha256_init(&d);
		sha256_update(&d, s->pools_query, strlen(s->pools_query));
		sha256_final_hex(&d, hex);
		sha256_release(&d);
		json_object_set_new(j, "query_sha256", json_string(hex));
	}
	return j;
}

json_t *
manifest_settings_json(const struct settings *s, enum period_length length,
					   const struct pools *pools)
{
	char penalty[16];

	payout_keep_format(&s->keep, penalty, sizeof(penalty));
	return json_pack("{s:s, s:o, s:o, s:i, s:s, s:s}", "penalty_factor", penalty, "pools",
					 pools_json(s, pools), "default_pool", manifest_amount_json(&s->default_pool),
					 "token_decimals", (int) s->token_decimals, "max_reject_ratio",
					 s->max_reject_ratio.text, "period_length", period_length_name(length));
}

json_t *
manifest_counts_json(const struct source_counts *counts, const struct rejects *rejects)
{
	json_t *by_reason = json_object();

	for (int i = 0; i < REJECT_REASON_COUNT; i++)
	{
		if (rejects->by_reason[i] > 0)
			json_object_set_new(by_reason, rejects_reason_name((enum reject_reason) i),
								json_integer((json_int_t) rejects->by_reason[i]));
	}
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:o}", "rows_read", (json_int_t) counts->rows_read,
					 "in_period", (json_int_t) counts->in_period, "out_of_period",
					 (json_int_t) counts->out_of_period, "rejected", (json_int_t) counts->rejected,
					 "duplicate", (json_int_t) counts->duplicate, "rejected_by_reason", by_reason);
}

json_t *
manifest_totals_json(const struct ledger_totals *t)
{
	return json_pack("{s:I, s:I, s:o, s:o, s:o, s:o}", "streams", (json_int_t) t->streams, "nodes",
					 (json_int_t) t->nodes, "pool", manifest_amount_json(&t->pool), "paid",
					 manifest_amount_json(&t->paid), "forfeited",
					 manifest_amount_json(&t->forfeited), "unallocated",
					 manifest_amount_json(&t->unallocated));
}

json_t *
manifest_rerun_json(const struct adjustments *adj, const char *reason)
{
	return json_pack(
		"{s:i, s:o, s:I, s:o, s:o, s:o}", "supersedes_version", adj->previous_version, "reason",
		manifest_text_json(reason ? reason : ""), "adjusted_nodes", (json_int_t) adj->nnodes,
		"previously_paid", manifest_amount_json(&adj->previously_paid), "now_due",
		manifest_amount_json(&adj->now_due), "delta", manifest_delta_json(&adj->delta));
}

json_t *
manifest_timing_json(const struct run_record *run)
{
	if (run->timing)
		return json_incref(run->timing);
	return run->report ? report_to_json(run->report) : json_null();
}

static json_t *
inputs_json(const struct run_record *run)
{
	json_t *inputs = json_array();

	for (size_t i = 0; i < run->ninputs; i++)
	{
		const struct source_file *f = &run->inputs[i];
		json_t *input = json_pack("{s:o, s:s, s:I, s:s, s:I}", "path", manifest_text_json(f->path),
								  "kind", f->kind, "bytes", (json_int_t) f->bytes, "sha256",
								  f->sha256, "rows", (json_int_t) f->rows);

		/* which library inflated a gzip input (--inflater) */
		if (f->inflater)
			json_object_set_new(input, "inflater", json_string(f->inflater));
		json_array_append_new(inputs, input);
	}
	return inputs;
}

static json_t *
outputs_json(const struct manifest_output *outputs, size_t noutputs)
{
	json_t *outs = json_array();

	for (size_t i = 0; i < noutputs; i++)
		json_array_append_new(outs, json_pack("{s:s, s:I, s:s}", "name", outputs[i].name, "bytes",
											  (json_int_t) outputs[i].bytes, "sha256",
											  outputs[i].sha256));
	return outs;
}

json_t *
manifest_rollups_json(const struct rollups_use *u)
{
	json_t *j = json_pack(
		"{s:s, s:I, s:I, s:I, s:I, s:I, s:s}", "mode", u->mode == ROLLUPS_AUTO ? "auto" : "off",
		"hours", (json_int_t) u->hours, "hours_from_daily_rollups", (json_int_t) u->hours_daily,
		"hours_from_hourly_rollups", (json_int_t) u->hours_hourly, "hours_from_probes",
		(json_int_t) u->hours_probes, "seconds_off_the_hour_from_probes", (json_int_t) u->edge_s,
		"untimed_rows_from", u->untimed_from_rollups ? "rollups" : "probes");

	if (j && u->why_none)
		json_object_set_new(j, "none_used", json_string(u->why_none));
	return j;
}

/* Where the probes came from: the kind, and for PostgreSQL the table read. */
static json_t *
source_json(const struct run_record *run)
{
	json_t *j = json_pack("{s:s, s:o}", "kind", run->source_kind, "db",
						  manifest_text_json(run->db_description));

	if (j && run->table)
	{
		json_object_set_new(j, "probe_table", manifest_text_json(run->table->shown));
		json_object_set_new(j, "probe_timestamp",
							json_string(run->table->local_time ? "timestamp without time zone"
															   : "timestamp with time zone"));
		if (run->table->local_time)
			json_object_set_new(j, "probe_timestamp_zone", json_string(run->table->zone));
	}
	if (j && run->rollups)
		json_object_set_new(j, "rollups", manifest_rollups_json(run->rollups));
	return j;
}

/* When the period's valid probes were taken: the first, the last, the longest gap. */
static json_t *
coverage_json(const struct coverage *c)
{
	char first[TIMESTAMP_FORMAT_LEN], last[TIMESTAMP_FORMAT_LEN];

	if (c == NULL || !c->any)
		return json_pack("{s:n, s:n, s:I, s:I}", "first", "last", "longest_gap_s", (json_int_t) 0,
						 "gap_resolution_s", (json_int_t) (c ? coverage_resolution_s(c) : 1));
	timestamp_format(c->first, first);
	timestamp_format(c->last, last);
	return json_pack("{s:s, s:s, s:I, s:I}", "first", first, "last", last, "longest_gap_s",
					 (json_int_t) coverage_longest_gap_s(c), "gap_resolution_s",
					 (json_int_t) coverage_resolution_s(c));
}

json_t *
manifest_build(const struct run_record *run, const struct manifest_output *outputs, size_t noutputs)
{
	const struct period *p = &run->period;
	char                 start[TIMESTAMP_FORMAT_LEN];
	char                 end[TIMESTAMP_FORMAT_LEN];
	char                 now[TIMESTAMP_FORMAT_LEN];
	json_t              *m;

	timestamp_format(p->start, start);
	timestamp_format(p->end, end);
	clock_utc_text(now);
	m = json_pack("{s:{s:s, s:s, s:s, s:s}, s:i, s:o, s:s}", "period", "start", start, "end", end,
				  "label", p->label, "length", period_length_name(p->length), "version",
				  run->version, "source", source_json(run), "input_digest", run->input_digest);
	if (m == NULL)
		return NULL;
	if (run->inputs_known)
		json_object_set_new(m, "inputs", inputs_json(run));
	json_object_set(m, "settings", run->settings ? run->settings : json_null());
	json_object_set(m, "counts", run->counts ? run->counts : json_null());
	if (!run->exported)
		json_object_set_new(m, "probes", coverage_json(run->coverage));
	json_object_set(m, "totals", run->totals ? run->totals : json_null());
	if (run->checks)
		json_object_set(m, "checks", run->checks);
	json_object_set_new(m, "outputs", outputs_json(outputs, noutputs));
	json_object_set_new(m, "timing", manifest_timing_json(run));
	json_object_set_new(m, "started_at", json_string(run->started_at));
	json_object_set_new(m, "finished_at",
						json_string(run->finished_at[0] ? run->finished_at : now));
	json_object_set_new(m, "payrun_version", json_string(run->payrun_version));
	if (run->rerun)
		json_object_set(m, "rerun", run->rerun);
	if (run->note)
		json_object_set_new(m, "note", manifest_text_json(run->note));
	if (run->exported)
	{
		json_object_set_new(m, "exported_at", json_string(now));
		json_object_set_new(m, "exported_by", json_string(PAYRUN_VERSION));
	}
	return m;
}
