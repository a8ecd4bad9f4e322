/*
 * job.c: job files and the nightly catch-up (see job.h).
 *
 * A job file holds option values (options.h, the keys marked OPT_IN_JOB);
 * a rerun or backfill job is the command line's rerun or backfill with
 * them, through the same config_to_* and run functions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payrun/backfill.h"
#include "payrun/clock.h"
#include "payrun/config.h"
#include "payrun/db.h"
#include "payrun/job.h"
#include "payrun/interrupt.h"
#include "payrun/log.h"
#include "payrun/mem.h"
#include "payrun/numparse.h"
#include "payrun/paths.h"
#include "payrun/period.h"
#include "payrun/probes.h"
#include "payrun/publish.h"
#include "payrun/runlog.h"
#include "payrun/settle.h"
#include "payrun/sql.h"
#include "payrun/timestamp.h"
#include "payrun/manifest.h"
#include "payrun/utf8.h"
#include "payrun/banned.h"

#define JOB_MAX_PERIODS 100000

/* The job's own keys: command, grace, max_wait, max_periods, require_complete. */
static bool
job_keys(struct job *job)
{
	const char *command = options_get_or_default(&job->values, OPTION_COMMAND);
	const char *maxp = options_get_or_default(&job->values, OPTION_MAX_PERIODS);
	const char *complete = options_get_or_default(&job->values, OPTION_REQUIRE_COMPLETE);
	uint64_t    n;

	if (strcmp(command, "settle") == 0 || strcmp(command, "backfill") == 0 ||
		strcmp(command, "rerun") == 0)
		job->command = command[0] == 's'   ? JOB_NIGHTLY
					   : command[0] == 'b' ? JOB_BACKFILL
										   : JOB_RERUN;
	else
	{
		log_error("%s: unknown command '%s' (want settle, backfill or rerun)", job->path, command);
		return false;
	}
	if (!config_to_deadline(&job->values, job->path, &job->deadline))
		return false;
	if (!numparse_u64(maxp, strlen(maxp), 1, JOB_MAX_PERIODS, &n))
	{
		log_error("%s: max_periods must be 1 to %d", job->path, JOB_MAX_PERIODS);
		return false;
	}
	job->max_periods = (long) n;
	if (!options_parse_flag(complete, &job->require_complete))
	{
		log_error("%s: invalid require_complete '%s' (want true or false)", job->path, complete);
		return false;
	}
	return true;
}

bool
job_load(struct job *job, const char *path)
{
	job->path = path;
	job->name = path;
	if (!config_parse_file(&job->values, path, OPT_IN_JOB, "job file"))
		return false;
	job->name = job->values.job ? job->values.job : path;
	log_set_job(job->name);
	return job_keys(job);
}

void
job_release(struct job *job)
{
	options_release(&job->values);
}

/* The inputs of a csv job for one period: patterns with {period} filled. */
static bool
period_inputs(const struct config_values *v, const char *label, struct paths *out, bool allow_empty)
{
	size_t n = v->input.count;
	char **pats = mem_calloc(n ? n : 1, sizeof(char *));
	bool   ok;

	for (size_t i = 0; i < n; i++)
		pats[i] = paths_substitute(v->input.items[i], label);
	ok = paths_expand(out, (const char *const *) pats, n, allow_empty);
	for (size_t i = 0; i < n; i++)
		free(pats[i]);
	free(pats);
	return ok;
}

void
job_complete_init(struct job_complete *c, enum settings_source source,
				  const struct config_values *v)
{
	memset(c, 0, sizeof(*c));
	c->source = source;
	c->values = v;
	c->data_until = INT64_MIN;
	c->none_from = INT64_MAX;
}

void
job_complete_release(struct job_complete *c)
{
	if (c->connected)
		db_close(&c->db);
	c->connected = false;
}

/* Some probe at or after t?  Asks the database only what earlier answers do not tell. */
static int
probe_at_or_after(struct job_complete *c, int64_t t)
{
	const struct config_values *v = c->values;
	int                         found;

	if (t <= c->data_until)
		return 1;
	if (t >= c->none_from)
		return 0;
	if (!c->connected)
	{
		if (!db_connect(&c->db, v->db, "payrun completeness"))
			return -1;
		c->connected = true;
		if (probes_resolve(&c->db, options_get_or_default(v, OPTION_PROBE_TABLE),
						   options_get_or_default(v, OPTION_PROBE_TIMESTAMP_ZONE), false,
						   &c->pt) != PAYRUN_EXIT_OK)
		{
			job_complete_release(c);
			return -1;
		}
	}
	found = probes_data_after(&c->db, &c->pt, t);
	if (found > 0)
		c->data_until = t;
	else if (found == 0)
		c->none_from = t;
	return found;
}

int
job_complete_check(struct job_complete *c, const struct period *p)
{
	struct period next;
	struct paths  files;
	int           found;

	if (c->source == SOURCE_PG)
		return probe_at_or_after(c, p->end);
	period_from_start(p->end, p->length, &next);
	if (!period_inputs(c->values, next.label, &files, true))
		return -1;
	found = files.count > 0;
	paths_release(&files);
	return found;
}

/* A nightly run as it goes: what it settled, and when it began. */
struct nightly
{
	const struct job      *job;
	const struct settings *s;
	bool                   dry_run;
	double                 t0;
	int64_t                now;  /* epoch seconds */
	long                   done; /* periods settled */
	struct job_complete    complete;
};

/*
 * One line in DIR/runs.log for a nightly run as a whole, whatever it did:
 * the periods it settled have their own lines, but a night that settled
 * nothing (nothing to do, data not complete, a failure) must show too.
 */
static enum payrun_exit
log_nightly(const struct nightly *n, const char *status, enum payrun_exit rc, const char *period,
			const char *why)
{
	char    note[512];
	json_t *e;

	if (n->dry_run)
		return rc;
	snprintf(note, sizeof(note), "job %s: %ld period(s) settled; %s", n->job->name, n->done, why);
	e = json_pack("{s:s, s:s, s:s, s:i, s:f, s:o}", "command", "nightly", "period", period,
				  "status", status, "exit", (int) rc, "wall_s", clock_monotonic_s() - n->t0, "note",
				  manifest_text_json(note));
	if (e && rc != PAYRUN_EXIT_OK && log_first_error())
		json_object_set_new(e, "error", manifest_text_json(log_first_error()));
	if (e)
	{
		(void) runlog_append(n->s->out_dir, e);
		json_decref(e);
	}
	return rc;
}

/* The first period a nightly job looks at; false (logged) if there is none. */
static bool
nightly_first(const struct job *job, const struct settings *s, enum period_length length,
			  struct period *p)
{
	char first[PERIOD_LABEL_MAX];
	char err[256];

	/*
	 * Every period from the start is looked at, not only those after the
	 * latest settled one: a period missed in between (a failed night, a
	 * manual settle of a later day) is settled by the next run, oldest
	 * first, instead of being skipped for good.
	 */
	if (job->values.start_period)
	{
		if (period_parse(job->values.start_period, length, p, err, sizeof(err)))
			return true;
		log_error("job %s: start_period: %s", job->name, err);
		return false;
	}
	publish_earliest_settled(s->out_dir, length, first);
	if (first[0] == '\0')
	{
		log_error("job %s: nothing is settled in '%s' yet and the job has no start_period",
				  job->name, s->out_dir);
		return false;
	}
	return period_parse(first, length, p, err, sizeof(err));
}

/* Settles one period of a nightly run, as 'payrun settle' would. */
static enum payrun_exit
nightly_settle(struct nightly *n, const struct period *p)
{
	const struct config_values *v = &n->job->values;
	struct settle_request req = { .period = *p, .print_report = log_enabled(LOG_LEVEL_NOTICE) };
	struct paths          files = { 0 };
	enum payrun_exit      rc;

	if (n->s->source == SOURCE_CSV)
	{
		if (!period_inputs(v, p->label, &files, false))
			return log_nightly(n, "failed", PAYRUN_EXIT_DATA, p->label,
							   "its input files are missing");
		req.inputs = (const char *const *) files.items;
		req.ninputs = files.count;
	}
	log_notice("job %s: settling period %s", n->job->name, p->label);
	rc = settle_run(n->s, &req);
	paths_release(&files);
	if (payrun_exit_interrupted(rc))
		return log_nightly(n, "interrupted", rc, p->label, interrupt_name());
	if (rc != PAYRUN_EXIT_OK)
	{
		log_error("job %s: stopped at period %s (exit %d)", n->job->name, p->label, rc);
		return log_nightly(n, "failed", rc, p->label, "stopped here: its settlement failed");
	}
	return PAYRUN_EXIT_OK;
}

/*
 * The run stops at p, whose data is not complete yet: exit 0 while p is
 * within max_wait of its close, 3 once it has waited longer (a feed that
 * stopped must not go unnoticed behind exit 0), said even under -q.
 */
static enum payrun_exit
nightly_waiting(const struct nightly *n, const struct period *p)
{
	const struct config_deadline *d = &n->job->deadline;
	int64_t                       closed = p->end + d->grace_s;
	char                          closed_text[TIMESTAMP_FORMAT_LEN];
	char                          waited[32];
	char                          max_wait[32];
	char                          note[256];

	timestamp_format(closed, closed_text);
	timestamp_duration_text(n->now - closed, waited, sizeof(waited));
	timestamp_duration_text(d->max_wait_s, max_wait, sizeof(max_wait));
	if (d->max_wait_s == 0 || n->now - closed <= d->max_wait_s)
	{
		log_notice("job %s: stopping at period %s: no data at or after its end yet "
				   "(data not complete); it will be settled by a later run",
				   n->job->name, p->label);
		return log_nightly(n, "waiting", PAYRUN_EXIT_OK, p->label,
						   "stopped here: no data at or after its end yet");
	}
	log_error("job %s: period %s is overdue: it closed at %s and has waited %s for its data, "
			  "longer than max_wait %s (no data at or after its end yet): check the feed",
			  n->job->name, p->label, closed_text, waited, max_wait);
	snprintf(note, sizeof(note),
			 "overdue: stopped here: no data at or after its end yet, %s after it closed "
			 "(max_wait %s)",
			 waited, max_wait);
	return log_nightly(n, "waiting", PAYRUN_EXIT_DATA, p->label, note);
}

/* Looks at period p: settles it (1), or says why the run stops (0, *rc set). */
static int
nightly_step(struct nightly *n, const struct period *p, enum payrun_exit *rc)
{
	const struct job *job = n->job;

	if (interrupt_pending())
	{
		*rc = log_nightly(n, "interrupted", interrupt_exit(), p->label, interrupt_name());
		return 0;
	}
	if (publish_latest_version_at(n->s->out_dir, p->label) > 0)
		return 1; /* settled already: nothing to count */
	if (job->require_complete)
	{
		int c = job_complete_check(&n->complete, p);

		if (c < 0)
		{
			*rc = log_nightly(n, "failed",
							  n->s->source == SOURCE_PG ? PAYRUN_EXIT_DB : PAYRUN_EXIT_DATA,
							  p->label, "could not check whether its data is complete");
			return 0;
		}
		if (c == 0)
		{
			*rc = nightly_waiting(n, p);
			return 0;
		}
	}
	if (n->dry_run)
	{
		/* what the real run would refuse, the dry run refuses: the same checks, read-only */
		*rc = settle_check(n->s, p);
		if (*rc != PAYRUN_EXIT_OK)
			return 0;
		printf("would settle period %s\n", p->label);
	}
	else if ((*rc = nightly_settle(n, p)) != PAYRUN_EXIT_OK)
		return 0;
	n->done++;
	return 1;
}

/* The periods of a nightly run, from the first to the last closed one (or max_periods). */
static enum payrun_exit
nightly_periods(struct nightly *n, struct period *p)
{
	const struct job *job = n->job;
	int64_t           limit = n->now - job->deadline.grace_s;
	char              nowtext[TIMESTAMP_FORMAT_LEN];
	enum payrun_exit  rc = PAYRUN_EXIT_OK;

	timestamp_format(n->now, nowtext);
	for (; p->end <= limit && n->done < job->max_periods; period_from_start(p->end, p->length, p))
	{
		if (!nightly_step(n, p, &rc))
			return rc;
	}
	if (n->done == 0)
	{
		log_notice("job %s: nothing to do at %s: the next period, %s, closes at its end plus "
				   "%llds grace",
				   job->name, nowtext, p->label, (long long) job->deadline.grace_s);
		return log_nightly(n, "idle", PAYRUN_EXIT_OK, p->label,
						   "nothing to do: this period is not closed yet");
	}
	if (p->end <= limit)
	{
		log_notice("job %s: settled %ld period(s), the most per run (max_periods); "
				   "the next run goes on from %s",
				   job->name, n->done, p->label);
		return log_nightly(n, "done", PAYRUN_EXIT_OK, p->label,
						   "max_periods reached: the next run goes on from this period");
	}
	log_notice("job %s: %s %ld period(s); up to date", job->name,
			   n->dry_run ? "would settle" : "settled", n->done);
	return log_nightly(n, "done", PAYRUN_EXIT_OK, p->label,
					   "up to date: this period is not closed yet");
}

static enum payrun_exit
run_nightly(const struct job *job, const struct settings *s, bool dry_run, int64_t now)
{
	struct nightly n = {
		.job = job, .s = s, .dry_run = dry_run, .t0 = clock_monotonic_s(), .now = now
	};
	enum period_length length = s->period_length ? s->period_length : PERIOD_LENGTH_DAY;
	struct period      p;
	bool               per_period = false;
	enum payrun_exit   rc;

	for (size_t i = 0; i < job->values.input.count; i++)
		per_period |= strstr(job->values.input.items[i], "{period}") != NULL;
	if (s->source == SOURCE_CSV && job->require_complete && !per_period)
	{
		log_error("job %s: a csv job with require_complete needs '{period}' in its input "
				  "pattern, so the next period's export shows this one is complete",
				  job->name);
		return PAYRUN_EXIT_USAGE;
	}
	if (!nightly_first(job, s, length, &p))
		return PAYRUN_EXIT_USAGE;
	job_complete_init(&n.complete, s->source, &job->values);
	rc = nightly_periods(&n, &p);
	job_complete_release(&n.complete);
	return rc;
}

/* 'payrun rerun' with the job's values, its inputs patterns filled with the period. */
/*
 * Has this rerun job run already?  Its period's latest version is a rerun
 * with the job's reason: running the job again would publish one more
 * version that changes nothing, so a job is done once.
 */
static bool
rerun_done(const struct job *job, const char *out_dir, const char *label, const char *reason)
{
	int         latest = publish_latest_version_at(out_dir, label);
	char        dir[4300];
	json_t     *m;
	const char *had;
	char       *want;
	bool        done;

	if (latest < 2)
		return false;
	snprintf(dir, sizeof(dir), "%s/%s/v%d", out_dir, label, latest);
	m = manifest_load(dir);
	had = json_string_value(json_object_get(json_object_get(m, "rerun"), "reason"));
	want = utf8_escape(reason); /* as the manifest keeps it */
	done = had && strcmp(had, want) == 0;
	if (done)
		log_notice("job %s: nothing to do: period %s is already rerun for this reason as v%d "
				   "('%s'); give the job another reason to rerun it again",
				   job->name, label, latest, had);
	free(want);
	json_decref(m);
	return done;
}

static enum payrun_exit
run_rerun(struct job *job, bool dry_run)
{
	struct settings       s;
	struct settle_request req;
	struct paths          files = { 0 };
	enum payrun_exit      rc;

	if (dry_run)
		options_set(&job->values, OPTION_DRY_RUN, "true");
	job->values.settings_given = config_given(&job->values); /* the job file's are given */
	if (!config_to_settle(&job->values, true, &s, &req))
		return PAYRUN_EXIT_USAGE;
	if (rerun_done(job, s.out_dir, req.period.label, req.reason))
		rc = PAYRUN_EXIT_OK;
	else if (s.source == SOURCE_CSV &&
			 !period_inputs(&job->values, req.period.label, &files, false))
		rc = PAYRUN_EXIT_DATA;
	else
	{
		if (s.source == SOURCE_CSV)
		{
			req.inputs = (const char *const *) files.items;
			req.ninputs = files.count;
		}
		rc = settle_run(&s, &req);
	}
	paths_release(&files);
	settings_release(&s);
	return rc;
}

/* 'payrun backfill' with the job's values: --into-db with into_db, else --settle. */
static enum payrun_exit
run_backfill(struct job *job, bool dry_run)
{
	struct settings         s;
	struct backfill_request req;
	enum payrun_exit        rc;

	if (!options_flag(&job->values, OPTION_INTO_DB))
		options_set(&job->values, OPTION_SETTLE, "true");
	if (dry_run)
		options_set(&job->values, OPTION_DRY_RUN, "true");
	if (!config_to_backfill(&job->values, &s, &req))
		return PAYRUN_EXIT_USAGE;
	rc = backfill_run(&s, &req);
	settings_release(&s);
	return rc;
}

enum payrun_exit
job_run(const char *path, bool dry_run, int64_t now_override)
{
	struct job       job;
	struct settings  s;
	enum payrun_exit rc;

	memset(&job, 0, sizeof(job));
	if (!job_load(&job, path))
		rc = PAYRUN_EXIT_USAGE;
	else if (job.command == JOB_RERUN)
		rc = run_rerun(&job, dry_run);
	else if (job.command == JOB_BACKFILL)
		rc = run_backfill(&job, dry_run);
	else if (!config_to_settings(&job.values, OPT_SETTLE, &s))
		rc = PAYRUN_EXIT_USAGE;
	else
	{
		rc = run_nightly(&job, &s, dry_run, now_override >= 0 ? now_override : clock_epoch_s());
		settings_release(&s);
	}
	job_release(&job);
	return rc;
}
