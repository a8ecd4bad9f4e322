/*
 * status.c: the state of every period of an output directory (see
 * status.h).  It reads, never writes: the published versions, runs.log,
 * and with the database payout_runs and the probe table.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payrun/amount.h"
#include "payrun/db.h"
#include "payrun/job.h"
#include "payrun/log.h"
#include "payrun/mem.h"
#include "payrun/numparse.h"
#include "payrun/publish.h"
#include "payrun/runlog.h"
#include "payrun/sql.h"
#include "payrun/status.h"
#include "payrun/timestamp.h"
#include "payrun/banned.h"

enum status_state
{
	STATE_SETTLED,
	STATE_PENDING,
	STATE_WAITING,
	STATE_FAILED,
	STATE_OPEN,
	STATE_COUNT
};

static const char *const state_names[STATE_COUNT] = { "settled", "pending", "waiting", "failed",
													  "open" };

/* One period as status found it. */
struct period_status
{
	struct period     p;
	enum status_state state;
	int               version;       /* the latest, in OUT or the database; 0 if none */
	int               files_version; /* in OUT; 0 if none */
	int               db_version;    /* in payout_runs; 0 if none, or not read */
	char              when[TIMESTAMP_FORMAT_LEN]; /* settled at; else when it closes or closed */
	char              paid[AMOUNT_TEXT_LEN];      /* settled: as recorded; else "" */
	char              forfeited[AMOUNT_TEXT_LEN];
	int64_t           waited_s; /* closed and unsettled: seconds since it closed */
	bool              overdue;
	json_t           *last_run; /* borrowed: the run log entry that made it failed or waiting */
	char              note[512];
};

/* What a status run gathers before it prints. */
struct status
{
	const struct status_request *req;
	json_t                      *last;    /* owned: label -> its last run of consequence */
	json_t                      *db_runs; /* owned: label -> its newest settled run, or NULL */
	char                         db_first[PERIOD_LABEL_MAX]; /* the earliest there, or "" */
	struct job_complete          complete;
	struct period_status        *periods; /* owned */
	size_t                       nperiods;
	size_t                       cap;
	size_t                       counts[STATE_COUNT];
	size_t                       noverdue;
};

bool
status_request_init(struct status_request *req, const struct config_values *v, bool from_job)
{
	const char *source = options_get_or_default(v, OPTION_SOURCE);
	bool        per_period = false;
	char        err[256];

	memset(req, 0, sizeof(*req));
	req->values = v;
	req->out_dir = v->out;
	if (req->out_dir == NULL || req->out_dir[0] == '\0')
	{
		log_error("--out DIR is required (or --job FILE with out)");
		return false;
	}
	if (strcmp(source, "csv") != 0 && strcmp(source, "pg") != 0)
	{
		log_error("invalid source '%s' (want csv or pg)", source);
		return false;
	}
	req->length = PERIOD_LENGTH_DAY;
	if (v->period_length && !period_length_parse(v->period_length, &req->length))
	{
		log_error("invalid period length '%s' (want 1d or 1h)", v->period_length);
		return false;
	}
	if (v->start_period)
	{
		if (!period_parse(v->start_period, req->length, &req->first, err, sizeof(err)))
		{
			log_error("start_period: %s", err);
			return false;
		}
		req->has_first = true;
	}
	if (!config_to_deadline(v, NULL, &req->deadline))
		return false;
	for (size_t i = 0; i < v->input.count; i++)
		per_period |= strstr(v->input.items[i], "{period}") != NULL;
	/* a config file's db goes with its source = "pg" (config.c), a given one always */
	req->use_db = strcmp(source, "pg") == 0 || (v->db && !options_from_config(v, OPTION_DB));
	req->complete_by = req->use_db ? SOURCE_PG : SOURCE_CSV;
	req->check_complete = options_flag(v, OPTION_REQUIRE_COMPLETE) &&
						  (req->use_db || (from_job && per_period));
	req->json = options_flag(v, OPTION_JSON);
	return true;
}

/* ---- what the run log and the database say ------------------------------ */

/* Keeps the last run of each period that says something about it. */
static bool
on_logged_run(void *arg, json_t *e)
{
	struct status *st = arg;
	const char    *period = json_string_value(json_object_get(e, "period"));
	const char    *status = json_string_value(json_object_get(e, "status"));

	if (period == NULL || status == NULL)
		return true;
	/* a nightly run's "done" and "idle" name a period not closed yet; dry runs change nothing */
	if (strcmp(status, "failed") == 0 || strcmp(status, "conflict") == 0 ||
		strcmp(status, "waiting") == 0 || strcmp(status, "settled") == 0)
		json_object_set(st->last, period, e);
	return true;
}

static bool
on_db_run(void *arg, int ncols, const char *const *v, const int *len)
{
	struct status *st = arg;

	(void) len;
	if (ncols != 5 || v[0] == NULL || v[1] == NULL || strlen(v[0]) >= PERIOD_LABEL_MAX)
		return false;
	if (st->db_first[0] == '\0')
		memcpy(st->db_first, v[0], strlen(v[0]) + 1); /* rows come in period order */
	json_object_set_new(st->db_runs, v[0],
						json_pack("{s:s, s:s?, s:s?, s:s?}", "version", v[1], "at", v[2], "paid",
								  v[3], "forfeited", v[4]));
	return true;
}

/* The newest settled run of every period of the length in payout_runs. */
static enum payrun_exit
read_db_runs(struct status *st)
{
	const struct status_request *req = st->req;
	struct db                    db;
	char                         from[TIMESTAMP_FORMAT_LEN] = "-infinity";
	char                         span[24];
	const char                  *params[2] = { from, span };
	bool                         ok;

	if (req->has_first)
		timestamp_format(req->first.start, from);
	snprintf(span, sizeof(span), "%d", req->length == PERIOD_LENGTH_HOUR ? 3600 : 86400);
	st->db_runs = json_object();
	if (!db_connect(&db, req->values->db, "payrun status"))
		return PAYRUN_EXIT_DB;
	ok = db_query(&db, "read settled runs", "status_settled", sql_status_settled, 2, params,
				  on_db_run, st, NULL);
	db_close(&db);
	return ok ? PAYRUN_EXIT_OK : PAYRUN_EXIT_DB;
}

/* The first period to show; false (logged) when there is nothing to start from. */
static bool
first_period(const struct status *st, struct period *p)
{
	const struct status_request *req = st->req;
	char                         first[PERIOD_LABEL_MAX];
	char                         err[256];

	if (req->has_first)
	{
		*p = req->first;
		return true;
	}
	publish_earliest_settled(req->out_dir, req->length, first);
	if (st->db_first[0] != '\0' && (first[0] == '\0' || strcmp(st->db_first, first) < 0))
		memcpy(first, st->db_first, sizeof(first));
	if (first[0] == '\0')
	{
		log_error("nothing of period length %s is settled in '%s'%s and there is no "
				  "start_period to begin from (give the nightly job: --job FILE)",
				  period_length_name(req->length), req->out_dir,
				  req->use_db ? " or in the database" : "");
		return false;
	}
	if (!period_parse(first, req->length, p, err, sizeof(err)))
	{
		log_error("%s", err);
		return false;
	}
	return true;
}

/* ---- one period ---------------------------------------------------------- */

/* An amount of a record (a decimal string, or an integer of old records) into buf. */
static void
amount_of(json_t *j, char buf[AMOUNT_TEXT_LEN])
{
	if (json_is_string(j))
		snprintf(buf, AMOUNT_TEXT_LEN, "%s", json_string_value(j));
	else if (json_is_integer(j))
		snprintf(buf, AMOUNT_TEXT_LEN, "%lld", (long long) json_integer_value(j));
	else
		snprintf(buf, AMOUNT_TEXT_LEN, "?");
}

/* A string member of o, or "?". */
static const char *
text_of(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "?";
}

/* When the published version was settled, and its totals, from its manifest. */
static void
read_manifest(const struct status *st, struct period_status *ps)
{
	char         path[4200];
	json_error_t err;
	json_t      *m;
	json_t      *totals;

	snprintf(path, sizeof(path), "%s/%s/v%d/manifest.json", st->req->out_dir, ps->p.label,
			 ps->files_version);
	m = json_load_file(path, 0, &err);
	if (m == NULL)
	{
		snprintf(ps->note, sizeof(ps->note), "its manifest.json cannot be read: %s", err.text);
		return;
	}
	snprintf(ps->when, sizeof(ps->when), "%s", text_of(m, "finished_at"));
	totals = json_object_get(m, "totals");
	amount_of(json_object_get(totals, "paid"), ps->paid);
	amount_of(json_object_get(totals, "forfeited"), ps->forfeited);
	json_decref(m);
}

/* The database's newest version of the period, when newer than the files'. */
static void
use_db_run(const struct status *st, struct period_status *ps)
{
	json_t     *run = st->db_runs ? json_object_get(st->db_runs, ps->p.label) : NULL;
	const char *v = json_string_value(json_object_get(run, "version"));
	uint64_t    version = 0;

	if (v == NULL || !numparse_u64(v, strlen(v), 1, PUBLISH_MAX_VERSION, &version))
		return;
	ps->db_version = (int) version;
	if (ps->files_version > ps->db_version)
		snprintf(ps->note, sizeof(ps->note), "the database's newest version is v%d",
				 ps->db_version);
	if (ps->db_version <= ps->files_version)
		return;
	snprintf(ps->when, sizeof(ps->when), "%s", text_of(run, "at"));
	amount_of(json_object_get(run, "paid"), ps->paid);
	amount_of(json_object_get(run, "forfeited"), ps->forfeited);
	snprintf(ps->note, sizeof(ps->note),
			 "v%d is in the database only: its files are missing from the output directory "
			 "(payrun export --period %s --version %d)",
			 ps->db_version, ps->p.label, ps->db_version);
}

/* A failed or waiting period's note from the run log entry that says so. */
static void
note_from_run(struct period_status *ps, json_t *e, const char *what)
{
	const char *note = json_string_value(json_object_get(e, "note"));
	const char *error = json_string_value(json_object_get(e, "error"));

	snprintf(ps->note, sizeof(ps->note), "%s: %s at %s, exit %lld%s%s%s%s", what,
			 text_of(e, "command"), text_of(e, "at"),
			 (long long) json_integer_value(json_object_get(e, "exit")), note ? ": " : "",
			 note ? note : "", error ? "; error: " : "", error ? error : "");
	ps->last_run = e;
}

/* A closed period with no version: waiting, failed or pending. */
static enum payrun_exit
judge_unsettled(struct status *st, struct period_status *ps)
{
	const struct status_request *req = st->req;
	json_t                      *last = json_object_get(st->last, ps->p.label);
	const char                  *status = json_string_value(json_object_get(last, "status"));

	ps->state = STATE_PENDING;
	snprintf(ps->note, sizeof(ps->note),
			 "closed, not settled yet: the next nightly run settles it");
	if (req->check_complete)
	{
		int c = job_complete_check(&st->complete, &ps->p);

		if (c < 0)
			return req->complete_by == SOURCE_PG ? PAYRUN_EXIT_DB : PAYRUN_EXIT_INTERNAL;
		if (c == 0)
		{
			ps->state = STATE_WAITING;
			snprintf(ps->note, sizeof(ps->note), "%s",
					 req->complete_by == SOURCE_PG
						 ? "data not complete: no probe at or after its end yet"
						 : "data not complete: the next period's input files do not exist yet");
			return PAYRUN_EXIT_OK;
		}
	}
	if (status && (strcmp(status, "failed") == 0 || strcmp(status, "conflict") == 0))
	{
		ps->state = STATE_FAILED;
		note_from_run(ps, last, "its last run failed");
	}
	else if (status && strcmp(status, "waiting") == 0 && !req->check_complete)
	{
		ps->state = STATE_WAITING;
		note_from_run(ps, last, "data not complete: the last nightly run stopped here");
	}
	return PAYRUN_EXIT_OK;
}

/* The state of one period. */
static enum payrun_exit
judge_period(struct status *st, struct period_status *ps)
{
	const struct status_request *req = st->req;
	int64_t                      closed = ps->p.end + req->deadline.grace_s;
	int                          v = publish_latest_version_at(req->out_dir, ps->p.label);
	enum payrun_exit             rc;

	if (v < 0)
	{
		log_error("could not list '%s/%s': %s", req->out_dir, ps->p.label, strerror(errno));
		return PAYRUN_EXIT_INTERNAL;
	}
	ps->files_version = v;
	if (v > 0)
		read_manifest(st, ps);
	use_db_run(st, ps);
	ps->version = ps->files_version > ps->db_version ? ps->files_version : ps->db_version;
	if (ps->version > 0)
	{
		ps->state = STATE_SETTLED;
		return PAYRUN_EXIT_OK;
	}
	timestamp_format(closed, ps->when);
	if (closed > req->now)
	{
		ps->state = STATE_OPEN;
		snprintf(ps->note, sizeof(ps->note), "not closed yet: it closes at its end plus grace");
		return PAYRUN_EXIT_OK;
	}
	ps->waited_s = req->now - closed;
	rc = judge_unsettled(st, ps);
	ps->overdue = req->deadline.max_wait_s > 0 && ps->waited_s > req->deadline.max_wait_s;
	return rc;
}

/* Every period from the first to the current one. */
static enum payrun_exit
judge_periods(struct status *st)
{
	struct period    p;
	enum payrun_exit rc = PAYRUN_EXIT_OK;

	if (!first_period(st, &p))
		return PAYRUN_EXIT_USAGE;
	for (; p.start <= st->req->now && rc == PAYRUN_EXIT_OK; period_from_start(p.end, p.length, &p))
	{
		struct period_status *ps;

		if (st->nperiods == st->cap)
		{
			st->cap = st->cap ? st->cap * 2 : 64;
			st->periods = mem_realloc_array(st->periods, st->cap, sizeof(*ps));
		}
		ps = &st->periods[st->nperiods++];
		memset(ps, 0, sizeof(*ps));
		ps->p = p;
		rc = judge_period(st, ps);
		st->counts[ps->state]++;
		st->noverdue += ps->overdue;
	}
	return rc;
}

/* ---- output -------------------------------------------------------------- */

static json_t *
period_json(const struct period_status *ps)
{
	json_t *j = json_pack("{s:s, s:s}", "period", ps->p.label, "state", state_names[ps->state]);

	if (ps->state == STATE_SETTLED)
	{
		json_object_set_new(j, "version", json_integer(ps->version));
		json_object_set_new(j, "settled_at", json_string(ps->when));
		json_object_set_new(j, "paid", json_string(ps->paid));
		json_object_set_new(j, "forfeited", json_string(ps->forfeited));
		json_object_set_new(j, "files_version", json_integer(ps->files_version));
		json_object_set_new(j, "db_version", json_integer(ps->db_version));
	}
	else if (ps->state == STATE_OPEN)
		json_object_set_new(j, "closes_at", json_string(ps->when));
	else
	{
		json_object_set_new(j, "closed_at", json_string(ps->when));
		json_object_set_new(j, "waited_s", json_integer((json_int_t) ps->waited_s));
		json_object_set_new(j, "overdue", json_boolean(ps->overdue));
		if (ps->last_run)
			json_object_set(j, "last_run", ps->last_run);
	}
	if (ps->note[0] && ps->state != STATE_OPEN)
		json_object_set_new(j, "note", json_string(ps->note));
	return j;
}

static void
print_json(const struct status *st, FILE *out)
{
	const struct status_request *req = st->req;
	char                         now[TIMESTAMP_FORMAT_LEN];
	json_t                      *periods = json_array();
	json_t                      *overdue = json_array();
	json_t                      *counts = json_object();
	json_t                      *j;

	timestamp_format(req->now, now);
	for (size_t i = 0; i < st->nperiods; i++)
	{
		json_array_append_new(periods, period_json(&st->periods[i]));
		if (st->periods[i].overdue)
			json_array_append_new(overdue, json_string(st->periods[i].p.label));
	}
	for (int s = 0; s < STATE_COUNT; s++)
		json_object_set_new(counts, state_names[s], json_integer((json_int_t) st->counts[s]));
	j = json_pack("{s:s, s:s, s:s, s:I, s:I, s:b, s:o, s:o, s:b, s:o}", "out", req->out_dir, "now",
				  now, "period_length", period_length_name(req->length), "grace_s",
				  (json_int_t) req->deadline.grace_s, "max_wait_s",
				  (json_int_t) req->deadline.max_wait_s, "database", req->use_db, "periods",
				  periods, "counts", counts, "overdue", st->noverdue > 0, "overdue_periods",
				  overdue);
	if (j)
	{
		json_dumpf(j, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
		fputc('\n', out);
	}
	json_decref(j);
}

#define STATUS_COLUMNS 8

/* The cells of a period's row in the table. */
static void
row_cells(const struct period_status *ps, char cells[STATUS_COLUMNS][AMOUNT_TEXT_LEN])
{
	snprintf(cells[0], AMOUNT_TEXT_LEN, "%s", ps->p.label);
	snprintf(cells[1], AMOUNT_TEXT_LEN, "%s%s", state_names[ps->state],
			 ps->overdue ? " OVERDUE" : "");
	if (ps->version > 0)
		snprintf(cells[2], AMOUNT_TEXT_LEN, "%d", ps->version);
	else
		snprintf(cells[2], AMOUNT_TEXT_LEN, "-");
	snprintf(cells[3], AMOUNT_TEXT_LEN, "%s", ps->when[0] ? ps->when : "-");
	if (ps->state == STATE_SETTLED || ps->state == STATE_OPEN)
		snprintf(cells[4], AMOUNT_TEXT_LEN, "-");
	else
		timestamp_duration_text(ps->waited_s, cells[4], AMOUNT_TEXT_LEN);
	snprintf(cells[5], AMOUNT_TEXT_LEN, "%s", ps->paid[0] ? ps->paid : "-");
	snprintf(cells[6], AMOUNT_TEXT_LEN, "%s", ps->forfeited[0] ? ps->forfeited : "-");
	cells[7][0] = '\0';
}

static void
print_row(FILE *out, char cells[STATUS_COLUMNS][AMOUNT_TEXT_LEN], const int *width,
		  const char *note)
{
	/* numbers to the right, words to the left */
	static const bool right[STATUS_COLUMNS] = { false, false, true, false, true, true, true };

	for (int c = 0; c < STATUS_COLUMNS - 1; c++)
		fprintf(out, right[c] ? "%*s  " : "%-*s  ", width[c], cells[c]);
	fprintf(out, "%s\n", note);
}

static void
print_summary(const struct status *st, FILE *out)
{
	const struct status_request *req = st->req;
	char                         max_wait[32];

	timestamp_duration_text(req->deadline.max_wait_s, max_wait, sizeof(max_wait));
	fprintf(out, "\n%zu periods: %zu settled, %zu pending, %zu waiting, %zu failed, %zu open\n",
			st->nperiods, st->counts[STATE_SETTLED], st->counts[STATE_PENDING],
			st->counts[STATE_WAITING], st->counts[STATE_FAILED], st->counts[STATE_OPEN]);
	if (req->deadline.max_wait_s == 0)
		fprintf(out, "overdue: not checked (max_wait 0)\n");
	else if (st->noverdue == 0)
		fprintf(out, "overdue: none (no closed period has waited longer than max_wait %s)\n",
				max_wait);
	else
		fprintf(out, "overdue: %zu closed period(s) have waited longer than max_wait %s\n",
				st->noverdue, max_wait);
}

static void
print_table(const struct status *st, FILE *out)
{
	static const char *const head[STATUS_COLUMNS] = { "period", "state", "v",         "when",
													  "waited", "paid",  "forfeited", "note" };
	char                     cells[STATUS_COLUMNS][AMOUNT_TEXT_LEN];
	int                      width[STATUS_COLUMNS] = { 0 };

	for (int c = 0; c < STATUS_COLUMNS; c++)
		width[c] = (int) strlen(head[c]);
	for (size_t i = 0; i < st->nperiods; i++)
	{
		row_cells(&st->periods[i], cells);
		for (int c = 0; c < STATUS_COLUMNS - 1; c++)
			if ((int) strlen(cells[c]) > width[c])
				width[c] = (int) strlen(cells[c]);
	}
	for (int c = 0; c < STATUS_COLUMNS; c++)
		snprintf(cells[c], AMOUNT_TEXT_LEN, "%s", head[c]);
	print_row(out, cells, width, head[STATUS_COLUMNS - 1]);
	for (size_t i = 0; i < st->nperiods; i++)
	{
		row_cells(&st->periods[i], cells);
		print_row(out, cells, width, st->periods[i].note);
	}
	print_summary(st, out);
}

/* Says which periods are overdue on stderr, so that cron's mail shows it under -q. */
static void
log_overdue(const struct status *st)
{
	char max_wait[32];

	timestamp_duration_text(st->req->deadline.max_wait_s, max_wait, sizeof(max_wait));
	for (size_t i = 0; i < st->nperiods; i++)
	{
		const struct period_status *ps = &st->periods[i];
		char                        waited[32];

		if (!ps->overdue)
			continue;
		timestamp_duration_text(ps->waited_s, waited, sizeof(waited));
		log_error("period %s is overdue: %s since it closed at %s, longer than max_wait %s (%s)",
				  ps->p.label, waited, ps->when, max_wait, state_names[ps->state]);
	}
}

enum payrun_exit
status_run(const struct status_request *req, FILE *out)
{
	struct status    st;
	bool             found;
	enum payrun_exit rc;

	memset(&st, 0, sizeof(st));
	st.req = req;
	st.last = json_object();
	job_complete_init(&st.complete, req->complete_by, req->values);
	rc = runlog_read(req->out_dir, on_logged_run, &st, &found);
	if (rc == PAYRUN_EXIT_OK && req->use_db)
		rc = read_db_runs(&st);
	if (rc == PAYRUN_EXIT_OK)
		rc = judge_periods(&st);
	if (rc == PAYRUN_EXIT_OK)
	{
		if (req->json)
			print_json(&st, out);
		else
			print_table(&st, out);
		if (fflush(out) != 0 || ferror(out))
		{
			log_error("could not write the status: %s", strerror(errno));
			rc = PAYRUN_EXIT_INTERNAL;
		}
	}
	if (rc == PAYRUN_EXIT_OK && st.noverdue > 0)
	{
		log_overdue(&st);
		rc = PAYRUN_EXIT_DATA;
	}
	job_complete_release(&st.complete);
	json_decref(st.last);
	json_decref(st.db_runs);
	free(st.periods);
	return rc;
}
