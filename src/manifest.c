/*
 * manifest.c: building manifest.json with jansson (see manifest.h).
 * Amounts fit json_int_t: every total is checked to fit int64 upstream.
 */
#include <time.h>

#include "payrun/clock.h"
#include "payrun/manifest.h"
#include "payrun/banned.h"

json_t *
manifest_settings_json(const struct settings *s)
{
	char penalty[16];

	payout_keep_format(&s->keep, penalty, sizeof(penalty));
	return json_pack("{s:s, s:s?, s:I, s:s, s:s}", "penalty_factor", penalty, "pools",
					 s->pools_path, "default_pool", (json_int_t) s->default_pool,
					 "max_reject_ratio", s->max_reject_ratio.text, "period_length",
					 period_length_name(s->period.length));
}

json_t *
manifest_counts_json(const struct sink_run *run)
{
	json_t *by_reason = json_object();

	for (int i = 0; i < REJECT_REASON_COUNT; i++)
	{
		if (run->rejects->by_reason[i] > 0)
			json_object_set_new(by_reason, rejects_reason_name((enum reject_reason) i),
								json_integer((json_int_t) run->rejects->by_reason[i]));
	}
	return json_pack("{s:I, s:I, s:I, s:I, s:o}", "rows_read", (json_int_t) run->counts->rows_read,
					 "in_period", (json_int_t) run->counts->in_period, "out_of_period",
					 (json_int_t) run->counts->out_of_period, "rejected",
					 (json_int_t) run->counts->rejected, "rejected_by_reason", by_reason);
}

json_t *
manifest_totals_json(const struct ledger_totals *t)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "streams", (json_int_t) t->streams, "nodes",
					 (json_int_t) t->nodes, "pool", (json_int_t) t->pool, "paid",
					 (json_int_t) t->paid, "forfeited", (json_int_t) t->forfeited, "unallocated",
					 (json_int_t) t->unallocated);
}

static json_t *manifest_fields(const struct sink_run *run, const char *start, const char *end,
							   const char *finished, json_t *inputs, json_t *outs);

json_t *
manifest_build(const struct sink_run *run, const struct manifest_output *outputs, size_t noutputs)
{
	const struct period *p = &run->settings->period;
	char                 start[TIMESTAMP_FORMAT_LEN];
	char                 end[TIMESTAMP_FORMAT_LEN];
	char                 finished[TIMESTAMP_FORMAT_LEN];
	json_t              *inputs = json_array();
	json_t              *outs = json_array();

	timestamp_format(p->start, start);
	timestamp_format(p->end, end);
	for (size_t i = 0; i < run->nfiles; i++)
		json_array_append_new(inputs, json_pack("{s:s, s:s, s:I, s:s, s:I}", "path",
												run->files[i].path, "kind", run->files[i].kind,
												"bytes", (json_int_t) run->files[i].bytes, "sha256",
												run->files[i].sha256, "rows",
												(json_int_t) run->files[i].rows));
	for (size_t i = 0; i < noutputs; i++)
		json_array_append_new(outs, json_pack("{s:s, s:I, s:s}", "name", outputs[i].name, "bytes",
											  (json_int_t) outputs[i].bytes, "sha256",
											  outputs[i].sha256));
	if (run->stored_run)
	{
		/* an export: the stored record, with this publication's outputs */
		json_t *m = json_deep_copy(run->stored_run);
		char    now[TIMESTAMP_FORMAT_LEN];

		json_decref(inputs);
		clock_utc_text(now);
		json_object_set_new(m, "outputs", outs);
		json_object_set_new(m, "exported_at", json_string(now));
		json_object_set_new(m, "exported_by", json_string(PAYRUN_VERSION));
		return m;
	}
	clock_utc_text(finished);
	if (run->adjustments)
	{
		json_t *m = manifest_fields(run, start, end, finished, inputs, outs);

		json_object_set_new(m, "rerun",
							json_pack("{s:i, s:s, s:I, s:I, s:I, s:I}", "supersedes_version",
									  run->adjustments->previous_version, "reason",
									  run->settings->reason ? run->settings->reason : "",
									  "adjusted_nodes", (json_int_t) run->adjustments->nnodes,
									  "previously_paid",
									  (json_int_t) run->adjustments->previously_paid, "now_due",
									  (json_int_t) run->adjustments->now_due, "delta",
									  (json_int_t) run->adjustments->delta));
		return m;
	}
	if (run->note)
	{
		json_t *m = manifest_fields(run, start, end, finished, inputs, outs);

		json_object_set_new(m, "note", json_string(run->note));
		return m;
	}
	return manifest_fields(run, start, end, finished, inputs, outs);
}

static json_t *
manifest_fields(const struct sink_run *run, const char *start, const char *end,
				const char *finished, json_t *inputs, json_t *outs)
{
	const struct period *p = &run->settings->period;

	return json_pack("{s:{s:s, s:s, s:s, s:s}, s:i, s:{s:s, s:s?}, s:s, s:o, s:o, s:o,"
					 " s:o, s:o, s:o, s:s, s:s, s:s}",
					 "period", "start", start, "end", end, "label", p->label, "length",
					 period_length_name(p->length), "version", run->version, "source", "kind",
					 run->source_kind, "db", run->db_description, "input_digest", run->input_digest,
					 "inputs", inputs, "settings", manifest_settings_json(run->settings), "counts",
					 manifest_counts_json(run), "totals",
					 manifest_totals_json(&run->ledger->totals), "outputs", outs, "timing",
					 report_to_json(run->report), "started_at", run->started_at, "finished_at",
					 finished, "payrun_version", PAYRUN_VERSION);
}
