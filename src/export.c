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
#include "payrun/output_files.h"
#include "payrun/sql.h"
#include "payrun/timestamp.h"
#include "payrun/banned.h"

/* The run row of the period being read, and whether a column was bad. */
struct stored_run
{
	struct export_record *rec;
	bool                  bad;
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

/* Copies a text column into a fixed field; a NULL or too long value is bad. */
static void
copy_text(char *dst, size_t size, const char *v, const char *what, bool *bad)
{
	if (v == NULL || strlen(v) >= size)
	{
		log_error("payout_runs.%s is %s", what, v == NULL ? "NULL" : "too long");
		*bad = true;
		return;
	}
	memcpy(dst, v, strlen(v) + 1);
}

static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* bytea's hex output ("\\x0a1b") as the kept pools' copy. */
static bool
decode_bytea(const char *text, struct pools *pools)
{
	size_t n = strlen(text);

	if (n < 2 || text[0] != '\\' || text[1] != 'x' || n % 2 != 0)
		return false;
	pools->copy = mem_alloc(n / 2);
	pools->copy_len = 0;
	pools->origin = POOLS_FILE; /* as kept: what it came from is in the settings */
	for (size_t i = 2; i < n; i += 2)
	{
		int hi = hex_digit(text[i]), lo = hex_digit(text[i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		pools->copy[pools->copy_len++] = (char) (hi * 16 + lo);
	}
	return true;
}

static bool
on_run(void *arg, int ncols, const char *const *v, const int *lengths)
{
	struct stored_run *sr = arg;
	struct run_record *run = &sr->rec->run;
	uint64_t           version = 0;

	(void) lengths;
	if (ncols != 12 || v[0] == NULL || v[1] == NULL)
		return false;
	sr->rec->found = true;
	snprintf(sr->rec->id, sizeof(sr->rec->id), "%s", v[0]);
	if (!numparse_u64(v[1], strlen(v[1]), 1, PUBLISH_MAX_VERSION, &version))
	{
		log_error("payout_runs.version '%s' is not a valid version", v[1]);
		sr->bad = true;
	}
	run->version = (int) version;
	run->source_kind = v[2] && strcmp(v[2], "csv") == 0 ? "csv" : "pg";
	run->settings = parse_json(v[3], "settings", &sr->bad);
	copy_text(run->input_digest, sizeof(run->input_digest), v[4], "input_digest", &sr->bad);
	run->counts = parse_json(v[5], "counts", &sr->bad);
	run->totals = parse_json(v[6], "totals", &sr->bad);
	run->timing = parse_json(v[7], "timing", &sr->bad);
	copy_text(run->started_at, sizeof(run->started_at), v[8], "started_at", &sr->bad);
	copy_text(run->finished_at, sizeof(run->finished_at), v[9], "finished_at", &sr->bad);
	copy_text(run->payrun_version, sizeof(run->payrun_version), v[10], "payrun_version", &sr->bad);
	run->note = "exported from the database: rejects.csv is not stored there and is empty here";
	run->exported = true;
	if (v[11] != NULL && !decode_bytea(v[11], &sr->rec->pools))
	{
		log_error("payout_runs.pools_csv is not bytea's hex output");
		sr->bad = true;
	}
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

/* An amount column (numeric, in base units) as stored. */
static bool
parse_amount(const char *v, struct amount *out)
{
	return v != NULL && amount_parse(v, strlen(v), 0, out) == AMOUNT_OK;
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
		!parse_u64(v[6], &contrib) || !parse_amount(v[7], &r->base) ||
		!parse_amount(v[8], &r->forfeited) || !parse_amount(v[9], &r->payout))
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
	if (!parse_amount(v[1], &s->pool) || !parse_u64(v[2], &s->nodes) ||
		!parse_u64(v[3], &s->total_successful_polls) || !parse_amount(v[4], &s->paid) ||
		!parse_amount(v[5], &s->forfeited) || !parse_amount(v[6], &s->unallocated))
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

/* Reads the run and its rows in one snapshot; rows come sorted as settle wrote them. */
static enum payrun_exit
read_stored(struct db *db, const struct period *period, int version, struct export_record *rec)
{
	char               start[TIMESTAMP_FORMAT_LEN];
	char               end[TIMESTAMP_FORMAT_LEN];
	char               vtext[16];
	const char        *params[3] = { start, end, NULL };
	struct stored_run  sr = { .rec = rec };
	struct rows_reader rr = { .ledger = &rec->ledger };

	timestamp_format(period->start, start);
	timestamp_format(period->end, end);
	if (version > 0)
	{
		snprintf(vtext, sizeof(vtext), "%d", version);
		params[2] = vtext;
	}
	if (!db_begin(db, "export", "ISOLATION LEVEL REPEATABLE READ READ ONLY") ||
		!db_exec(db, "export", "SET TimeZone", "SET LOCAL TimeZone = 'UTC'") ||
		!db_query(db, "export", "export_run", sql_export_run, 3, params, on_run, &sr, NULL))
		return PAYRUN_EXIT_DB;
	if (sr.bad)
		return PAYRUN_EXIT_DB;
	if (!rec->found)
		return db_commit(db, "export") ? PAYRUN_EXIT_OK : PAYRUN_EXIT_DB;
	params[0] = rec->id;
	if (!db_query(db, "export", "export_ledger", sql_export_ledger, 1, params, on_ledger_row, &rr,
				  NULL) ||
		!db_query(db, "export", "export_totals", sql_export_totals, 1, params, on_stream_row, &rr,
				  NULL) ||
		!db_commit(db, "export"))
	{
		if (rr.bad)
			log_error("payout_ledger or payout_stream_totals of run %s holds an invalid row",
					  rec->id);
		return PAYRUN_EXIT_DB;
	}
	if (rec->ledger.nrows > 1)
		qsort(rec->ledger.rows, rec->ledger.nrows, sizeof(struct ledger_row), row_cmp);
	if (rec->ledger.nstreams > 1)
		qsort(rec->ledger.streams, rec->ledger.nstreams, sizeof(struct ledger_stream), stream_cmp);
	return PAYRUN_EXIT_OK;
}

enum payrun_exit
export_read(struct db *db, const struct period *period, int version, struct export_record *rec)
{
	enum payrun_exit rc;

	memset(rec, 0, sizeof(*rec));
	rec->ledger.period = *period;
	rec->run.period = *period;
	rc = read_stored(db, period, version, rec);
	if (rc != PAYRUN_EXIT_OK)
		db_rollback(db, "export");
	return rc;
}

void
export_record_release(struct export_record *rec)
{
	free_strings(&rec->ledger);
	ledger_release(&rec->ledger);
	run_record_release(&rec->run);
	pools_release(&rec->pools);
	memset(rec, 0, sizeof(*rec));
}

/* Does a stored total (a decimal string, or an old integer) equal want? */
static bool
stored_total_is(json_t *totals, const char *key, const struct amount *want)
{
	json_t       *j = json_object_get(totals, key);
	char          buf[32];
	const char   *text = json_string_value(j);
	struct amount a;

	if (text == NULL && json_is_integer(j))
	{
		snprintf(buf, sizeof(buf), "%lld", (long long) json_integer_value(j));
		text = buf;
	}
	return text && amount_parse(text, strlen(text), 0, &a) == AMOUNT_OK &&
		   amount_cmp(&a, want) == 0;
}

/*
 * The invariants settle checks before it publishes, on the record as the
 * database holds it now (rows may have been edited by hand since).
 */
static enum payrun_exit
check_stored(struct export_record *rec)
{
	struct ledger *ledger = &rec->ledger;
	char           err[512];
	json_t        *t = rec->run.totals;
	const char    *bad = NULL;

	if (!ledger_sum_totals(ledger))
		bad = "its stream totals add up past 2^256 - 1";
	else if (!ledger_check(ledger, err, sizeof(err)))
		bad = err;
	else if (!stored_total_is(t, "pool", &ledger->totals.pool) ||
			 !stored_total_is(t, "paid", &ledger->totals.paid) ||
			 !stored_total_is(t, "forfeited", &ledger->totals.forfeited) ||
			 !stored_total_is(t, "unallocated", &ledger->totals.unallocated))
		bad = "payout_runs.totals is not the sum of its stream totals";
	if (bad == NULL)
		return PAYRUN_EXIT_OK;
	log_error("the database record of period %s v%d (payout_runs id %s) does not balance: %s; "
			  "nothing exported",
			  rec->run.period.label, rec->run.version, rec->id, bad);
	return PAYRUN_EXIT_DATA;
}

/* Publishes the stored version through the file output, in version order. */
static enum payrun_exit
publish_stored(const struct export_record *rec, const char *out_dir)
{
	const struct period *p = &rec->run.period;
	int                  want = rec->run.version;
	struct output_files  files;
	enum payrun_exit     rc;

	/* vN goes next to vN-1, never in place of v1 */
	rc = output_files_open(&files, out_dir, p->label, PUBLISH_EXACT, want);
	if (rc == PAYRUN_EXIT_OK)
		rc = output_files_write(&files, &rec->run, &rec->ledger, NULL, &rec->pools);
	if (rc == PAYRUN_EXIT_OK)
		rc = output_files_publish(&files);
	if (rc == PAYRUN_EXIT_OK)
		log_notice("exported period %s v%d (payout_runs id %s) into '%s'", p->label, want, rec->id,
				   output_files_path(&files));
	output_files_close(&files);
	return rc;
}

enum payrun_exit
export_run(const char *conninfo, const struct period *period, int version, const char *out_dir)
{
	struct db            db;
	struct export_record rec;
	enum payrun_exit     rc;

	if (!db_connect(&db, conninfo, "payrun export"))
		return PAYRUN_EXIT_DB;
	rc = export_read(&db, period, version, &rec);
	db_close(&db);
	if (rc == PAYRUN_EXIT_OK && !rec.found)
	{
		log_error("period %s has no settled run%s in the database", period->label,
				  version > 0 ? " of that version" : "");
		rc = PAYRUN_EXIT_DATA;
	}
	if (rc == PAYRUN_EXIT_OK)
		rc = check_stored(&rec);
	if (rc == PAYRUN_EXIT_OK)
		rc = publish_stored(&rec, out_dir);
	export_record_release(&rec);
	return rc;
}
