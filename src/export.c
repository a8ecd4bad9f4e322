/*
 * export.c: database -> files (see export.h).
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payrun/db.h"
#include "payrun/export.h"
#include "payrun/ledger.h"
#include "payrun/log.h"
#include "payrun/mem.h"
#include "payrun/numparse.h"
#include "payrun/publish.h"
#include "payrun/report.h"
#include "payrun/settings.h"
#include "payrun/sink_files.h"
#include "payrun/sql.h"
#include "payrun/timestamp.h"
#include "payrun/banned.h"

struct stored_run
{
	bool    found;
	char    id[24];
	int     version;
	json_t *record; /* owned: the manifest fields as stored */
	bool    bad;
};

static json_t *
parse_json(const char *text, const char *what, bool *bad)
{
	json_error_t err;
	json_t      *j = text ? json_loads(text, 0, &err) : json_null();

	if (j == NULL)
	{
		log_error("payout_runs.%s is not valid JSON: %s", what, err.text);
		*bad = true;
		return json_null();
	}
	return j;
}

static bool
on_run(void *arg, int ncols, const char *const *v, const int *lengths)
{
	struct stored_run *sr = arg;

	(void) lengths;
	if (ncols != 11 || v[0] == NULL || v[1] == NULL)
		return false;
	sr->found = true;
	snprintf(sr->id, sizeof(sr->id), "%s", v[0]);
	{
		uint64_t n = 0;

		if (!numparse_u64(v[1], strlen(v[1]), 1, PUBLISH_MAX_VERSION, &n))
		{
			log_error("payout_runs.version '%s' is not a valid version", v[1]);
			sr->bad = true;
		}
		sr->version = (int) n;
	}
	sr->record = json_pack(
		"{s:i, s:{s:s}, s:s?, s:o, s:o, s:o, s:o, s:s?, s:s?, s:s?, s:s}", "version", sr->version,
		"source", "kind", v[2], "input_digest", v[4], "settings",
		parse_json(v[3], "settings", &sr->bad), "counts", parse_json(v[5], "counts", &sr->bad),
		"totals", parse_json(v[6], "totals", &sr->bad), "timing",
		parse_json(v[7], "timing", &sr->bad), "started_at", v[8], "finished_at", v[9],
		"payrun_version", v[10], "note",
		"exported from the database: rejects.csv is not stored there and is empty here");
	return true;
}

struct rows_reader
{
	struct ledger *ledger;
	size_t         cap_rows;
	size_t         cap_streams;
	bool           bad;
};

static bool
parse_u64(const char *v, uint64_t *out)
{
	return v != NULL && numparse_u64(v, strlen(v), 0, UINT64_MAX, out);
}

static bool
parse_i64(const char *v, int64_t *out)
{
	uint64_t u;

	if (!parse_u64(v, &u) || u > INT64_MAX)
		return false;
	*out = (int64_t) u;
	return true;
}

static bool
on_ledger_row(void *arg, int ncols, const char *const *v, const int *len)
{
	struct rows_reader *rr = arg;
	struct ledger_row  *r;
	uint64_t            up, contrib;

	if (ncols != 10 || v[0] == NULL || v[1] == NULL)
	{
		rr->bad = true;
		return false;
	}
	if (rr->ledger->nrows == rr->cap_rows)
	{
		rr->cap_rows = rr->cap_rows ? rr->cap_rows * 2 : 1024;
		rr->ledger->rows = mem_realloc_array(rr->ledger->rows, rr->cap_rows, sizeof(*r));
	}
	r = &rr->ledger->rows[rr->ledger->nrows++];
	memset(r, 0, sizeof(*r));
	r->stream = mem_memdup(v[0], (size_t) len[0]);
	r->stream_len = (size_t) len[0];
	r->node = mem_memdup(v[1], (size_t) len[1]);
	r->node_len = (size_t) len[1];
	if (!parse_u64(v[2], &r->counts.total_polls) || !parse_u64(v[3], &r->counts.successful_polls) ||
		!parse_u64(v[4], &r->counts.failed_spot_checks) || !parse_u64(v[5], &up) ||
		!parse_u64(v[6], &contrib) || !parse_i64(v[7], &r->base) ||
		!parse_i64(v[8], &r->forfeited) || !parse_i64(v[9], &r->payout))
	{
		rr->bad = true;
		return false;
	}
	r->uptime_ppm = (uint32_t) up;
	r->contribution_ppm = (uint32_t) contrib;
	return true;
}

static bool
on_stream_row(void *arg, int ncols, const char *const *v, const int *len)
{
	struct rows_reader   *rr = arg;
	struct ledger_stream *s;

	if (ncols != 7 || v[0] == NULL)
	{
		rr->bad = true;
		return false;
	}
	if (rr->ledger->nstreams == rr->cap_streams)
	{
		rr->cap_streams = rr->cap_streams ? rr->cap_streams * 2 : 64;
		rr->ledger->streams = mem_realloc_array(rr->ledger->streams, rr->cap_streams, sizeof(*s));
	}
	s = &rr->ledger->streams[rr->ledger->nstreams++];
	memset(s, 0, sizeof(*s));
	s->stream = mem_memdup(v[0], (size_t) len[0]);
	s->stream_len = (size_t) len[0];
	if (!parse_i64(v[1], &s->pool) || !parse_u64(v[2], &s->nodes) ||
		!parse_u64(v[3], &s->total_successful_polls) || !parse_i64(v[4], &s->paid) ||
		!parse_i64(v[5], &s->forfeited) || !parse_i64(v[6], &s->unallocated))
	{
		rr->bad = true;
		return false;
	}
	return true;
}

static int
row_cmp(const void *x, const void *y)
{
	const struct ledger_row *a = x;
	const struct ledger_row *b = y;
	int c = aggregate_id_cmp(a->stream, a->stream_len, b->stream, b->stream_len);

	return c ? c : aggregate_id_cmp(a->node, a->node_len, b->node, b->node_len);
}

static int
stream_cmp(const void *x, const void *y)
{
	const struct ledger_stream *a = x;
	const struct ledger_stream *b = y;

	return aggregate_id_cmp(a->stream, a->stream_len, b->stream, b->stream_len);
}

static void
free_strings(struct ledger *ledger)
{
	for (size_t i = 0; i < ledger->nrows; i++)
	{
		free((char *) ledger->rows[i].stream);
		free((char *) ledger->rows[i].node);
	}
	for (size_t i = 0; i < ledger->nstreams; i++)
		free((char *) ledger->streams[i].stream);
}

enum payrun_exit
export_run(const char *conninfo, const struct period *period, int version, const char *out_dir)
{
	struct db          db;
	char               start[TIMESTAMP_FORMAT_LEN];
	char               end[TIMESTAMP_FORMAT_LEN];
	char               vtext[16];
	const char        *params[3] = { start, end, NULL };
	struct stored_run  sr = { 0 };
	struct ledger      ledger;
	struct rows_reader rr = { .ledger = &ledger };
	struct settings    settings;
	struct report      rep;
	struct sink_run    run;
	struct sink       *files = NULL;
	enum payrun_exit   rc = PAYRUN_EXIT_OK;

	memset(&ledger, 0, sizeof(ledger));
	memset(&settings, 0, sizeof(settings));
	memset(&run, 0, sizeof(run));
	report_init(&rep);
	ledger.period = *period;
	timestamp_format(period->start, start);
	timestamp_format(period->end, end);
	if (version > 0)
	{
		snprintf(vtext, sizeof(vtext), "%d", version);
		params[2] = vtext;
	}
	if (!db_connect(&db, conninfo, "payrun export"))
		return PAYRUN_EXIT_DB;
	/* one snapshot for the run and its rows */
	if (!db_exec(&db, "export", "BEGIN", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") ||
		!db_query(&db, "export", "export_run", sql_export_run, 3, params, on_run, &sr, NULL))
	{
		rc = PAYRUN_EXIT_DB;
		goto out;
	}
	if (!sr.found)
	{
		log_error("period %s has no settled run%s in the database", period->label,
				  version > 0 ? " of that version" : "");
		rc = PAYRUN_EXIT_DATA;
		goto out;
	}
	if (sr.bad)
	{
		rc = PAYRUN_EXIT_DB;
		goto out;
	}
	params[0] = sr.id;
	if (!db_query(&db, "export", "export_ledger", sql_export_ledger, 1, params, on_ledger_row, &rr,
				  NULL) ||
		!db_query(&db, "export", "export_totals", sql_export_totals, 1, params, on_stream_row, &rr,
				  NULL) ||
		!db_exec(&db, "export", "COMMIT", "COMMIT"))
	{
		if (rr.bad)
			log_error("payout_ledger or payout_stream_totals of run %s holds an invalid row",
					  sr.id);
		rc = PAYRUN_EXIT_DB;
		goto out;
	}
	if (ledger.nrows > 1)
		qsort(ledger.rows, ledger.nrows, sizeof(struct ledger_row), row_cmp);
	if (ledger.nstreams > 1)
		qsort(ledger.streams, ledger.nstreams, sizeof(struct ledger_stream), stream_cmp);
	json_object_set_new(sr.record, "period",
						json_pack("{s:s, s:s, s:s, s:s}", "start", start, "end", end, "label",
								  period->label, "length", period_length_name(period->length)));

	settings.period = *period;
	settings.out_dir = (char *) out_dir;
	settings.rerun = sr.version > 1; /* vN goes next to vN-1, never in place of v1 */
	run.settings = &settings;
	run.version = sr.version;
	run.source_kind = "pg";
	run.ledger = &ledger;
	run.report = &rep;
	run.stored_run = sr.record;
	files = sink_files_create();
	rc = files->ops->prepare(files, &run);
	if (rc == PAYRUN_EXIT_OK && sink_files_version(files) != sr.version)
	{
		if (sink_files_version(files) > sr.version)
			log_error("period %s v%d is already published in '%s'", period->label, sr.version,
					  out_dir);
		else
			log_error("cannot export period %s v%d into '%s': its latest version there is v%d; "
					  "export v%d first",
					  period->label, sr.version, out_dir, sink_files_version(files) - 1,
					  sink_files_version(files));
		rc = PAYRUN_EXIT_CONFLICT;
	}
	if (rc == PAYRUN_EXIT_OK)
		rc = files->ops->write(files, &run);
	if (rc == PAYRUN_EXIT_OK)
		rc = files->ops->publish(files, &run);
	if (rc == PAYRUN_EXIT_OK)
		log_notice("exported period %s v%d (payout_runs id %s) into '%s'", period->label,
				   sr.version, sr.id, sink_files_path(files));

out:
	if (files)
		files->ops->destroy(files);
	db_close(&db);
	free_strings(&ledger);
	ledger_release(&ledger);
	json_decref(sr.record);
	return rc;
}
