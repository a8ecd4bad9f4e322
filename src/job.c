/*
 * job.c: job files and the nightly catch-up (see job.h).
 */
#include <confuse.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "payrun/clock.h"
#include "payrun/backfill.h"
#include "payrun/config.h"
#include "payrun/db.h"
#include "payrun/job.h"
#include "payrun/log.h"
#include "payrun/mem.h"
#include "payrun/paths.h"
#include "payrun/period.h"
#include "payrun/publish.h"
#include "payrun/report.h"
#include "payrun/runlog.h"
#include "payrun/settle.h"
#include "payrun/sql.h"
#include "payrun/timestamp.h"
#include "payrun/banned.h"

#define DEFAULT_GRACE_S     (30 * 60)
#define DEFAULT_MAX_PERIODS 31

struct job
{
	char                *name;    /* owned */
	char                *command; /* owned: settle, backfill or rerun */
	struct config_values values;
	char                *start_period; /* owned, NULL if none */
	int64_t              grace_s;
	long                 max_periods;
	bool                 require_complete;
	char                *from; /* backfill */
	char                *to;
	bool                 into_db;
	char                *reason; /* rerun */
};

/* "30m", "2h", "45s", "0": seconds; -1 if malformed. */
static int64_t
parse_duration(const char *s)
{
	char     *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || v < 0 || v > 100LL * 24 * 3600)
		return -1;
	if (*end == '\0' || strcmp(end, "s") == 0)
		return v;
	if (strcmp(end, "m") == 0)
		return v * 60;
	if (strcmp(end, "h") == 0)
		return v * 3600;
	if (strcmp(end, "d") == 0)
		return v * 86400;
	return -1;
}

static char *
dup_or_null(cfg_t *cfg, const char *key)
{
	const char *v = cfg_getstr(cfg, key);

	return v ? mem_strdup(v) : NULL;
}

static bool
job_load(struct job *job, const char *path)
{
	cfg_opt_t   opts[] = { CONFIG_SETTLE_OPTS,
						   CFG_STR("job", NULL, CFGF_NONE),
						   CFG_STR("command", "settle", CFGF_NONE),
						   CFG_STR("start_period", NULL, CFGF_NONE),
						   CFG_STR("grace", "30m", CFGF_NONE),
						   CFG_INT("max_periods", DEFAULT_MAX_PERIODS, CFGF_NONE),
						   CFG_BOOL("require_complete", cfg_true, CFGF_NONE),
						   CFG_STR("from", NULL, CFGF_NONE),
						   CFG_STR("to", NULL, CFGF_NONE),
						   CFG_BOOL("into_db", cfg_false, CFGF_NONE),
						   CFG_STR("reason", NULL, CFGF_NONE),
						   CFG_END() };
	cfg_t      *cfg = cfg_init(opts, CFGF_NONE);
	int         rc;
	const char *grace;

	memset(job, 0, sizeof(*job));
	config_set_error_function(cfg);
	rc = cfg_parse(cfg, path);
	if (rc != CFG_SUCCESS)
	{
		if (rc == CFG_FILE_ERROR)
			log_error("could not read job file '%s': %s", path, strerror(errno));
		else
			log_error("invalid job file '%s'", path);
		cfg_free(cfg);
		return false;
	}
	job->name = cfg_getstr(cfg, "job") ? mem_strdup(cfg_getstr(cfg, "job")) : mem_strdup(path);
	job->command = mem_strdup(cfg_getstr(cfg, "command"));
	config_fill(&job->values, cfg);
	job->start_period = dup_or_null(cfg, "start_period");
	grace = cfg_getstr(cfg, "grace");
	job->grace_s = parse_duration(grace);
	job->max_periods = cfg_getint(cfg, "max_periods");
	job->require_complete = cfg_getbool(cfg, "require_complete");
	job->from = dup_or_null(cfg, "from");
	job->to = dup_or_null(cfg, "to");
	job->into_db = cfg_getbool(cfg, "into_db");
	job->reason = dup_or_null(cfg, "reason");
	cfg_free(cfg);
	if (job->grace_s < 0)
	{
		log_error("%s: invalid grace '%s' (want e.g. 30m, 2h, 0)", path, grace);
		return false;
	}
	if (job->max_periods < 1 || job->max_periods > 100000)
	{
		log_error("%s: max_periods must be 1 to 100000", path);
		return false;
	}
	return true;
}

static void
job_release(struct job *job)
{
	free(job->name);
	free(job->command);
	config_release(&job->values);
	free(job->start_period);
	free(job->from);
	free(job->to);
	free(job->reason);
}

/* The earliest period label with a published version under out_dir, or "". */
static void
earliest_settled(const char *out_dir, enum period_length length, char *label, size_t len)
{
	DIR           *d = opendir(out_dir);
	struct dirent *de;
	size_t         want = length == PERIOD_LENGTH_HOUR ? 13 : 10;

	label[0] = '\0';
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL)
	{
		struct period p;
		char          err[128];

		if (strlen(de->d_name) != want || (label[0] != '\0' && strcmp(de->d_name, label) >= 0) ||
			!period_parse(de->d_name, length, &p, err, sizeof(err)))
			continue;
		if (publish_latest_version(dirfd(d), de->d_name) > 0)
			snprintf(label, len, "%s", de->d_name);
	}
	closedir(d);
}

/* Has period label a published version under out_dir? */
static bool
is_settled(const char *out_dir, const char *label)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s/v1", out_dir, label);
	return access(path, F_OK) == 0;
}

/* The inputs of a csv job for one period: patterns with {period} filled. */
static bool
period_inputs(const struct config_values *v, const char *label, struct paths *out, bool allow_empty)
{
	char **pats = mem_calloc(v->ninputs ? v->ninputs : 1, sizeof(char *));
	bool   ok;

	for (size_t i = 0; i < v->ninputs; i++)
		pats[i] = paths_substitute(v->inputs[i], label);
	ok = paths_expand(out, (const char *const *) pats, v->ninputs, allow_empty);
	for (size_t i = 0; i < v->ninputs; i++)
		free(pats[i]);
	free(pats);
	return ok;
}

static bool
on_exists(void *arg, int ncols, const char *const *v, const int *len)
{
	(void) len;
	*(bool *) arg = ncols == 1 && v[0] && v[0][0] == 't';
	return true;
}

/*
 * Is the data of period p complete?  PostgreSQL: some probe at or after
 * its end.  CSV: the inputs of the following period exist.  -1 on error.
 */
static int
data_complete(const struct settings *s, const struct config_values *v, const struct period *p)
{
	if (s->source == SOURCE_PG)
	{
		struct db   db;
		char        end[TIMESTAMP_FORMAT_LEN];
		const char *params[1] = { end };
		bool        exists = false;
		bool        ok;

		timestamp_format(p->end, end);
		if (!db_connect(&db, s->db_conninfo, "payrun run"))
			return -1;
		ok = db_query(&db, "check completeness", "data_after", sql_data_after, 1, params, on_exists,
					  &exists, NULL);
		db_close(&db);
		return ok ? exists : -1;
	}
	else
	{
		struct period next;
		struct paths  files;
		int           found;

		period_from_start(p->end, p->length, &next);
		if (!period_inputs(v, next.label, &files, true))
			return -1;
		found = files.count > 0;
		paths_release(&files);
		return found;
	}
}

/*
 * One line in DIR/runs.log for a nightly run as a whole, whatever it did:
 * the periods it settled have their own lines, but a night that settled
 * nothing (nothing to do, data not complete, a failure) must show too.
 */
static enum payrun_exit
log_nightly(const struct job *job, const struct settings *s, bool dry_run, double t0,
			const char *status, enum payrun_exit rc, const char *period, long done, const char *why)
{
	char    note[512];
	json_t *e;

	if (dry_run)
		return rc;
	snprintf(note, sizeof(note), "job %s: %ld period(s) settled; %s", job->name, done, why);
	e = json_pack("{s:s, s:s, s:s, s:i, s:f, s:s}", "command", "nightly", "period", period,
				  "status", status, "exit", (int) rc, "wall_s", clock_monotonic_s() - t0, "note",
				  note);
	if (e)
	{
		(void) runlog_append(s->out_dir, e);
		json_decref(e);
	}
	return rc;
}

static enum payrun_exit
run_nightly(struct job *job, struct settings *s, bool dry_run, int64_t now)
{
	double        t0 = clock_monotonic_s();
	char          first[PERIOD_LABEL_MAX];
	struct period p;
	int64_t       limit = now - job->grace_s;
	long          done = 0;
	char          err[256];
	char          nowtext[TIMESTAMP_FORMAT_LEN];
	bool          csv_per_period = false;

	for (size_t i = 0; i < job->values.ninputs; i++)
		csv_per_period |= strstr(job->values.inputs[i], "{period}") != NULL;
	if (s->source == SOURCE_CSV && job->require_complete && !csv_per_period)
	{
		log_error("job %s: a csv job with require_complete needs '{period}' in its input "
				  "pattern, so the next period's export shows this one is complete",
				  job->name);
		return PAYRUN_EXIT_USAGE;
	}

	/*
	 * Every period from the start is looked at, not only those after the
	 * latest settled one: a period missed in between (a failed night, a
	 * manual settle of a later day) is settled by the next run, oldest
	 * first, instead of being skipped for good.
	 */
	if (job->start_period)
	{
		if (!period_parse(job->start_period, s->period.length, &p, err, sizeof(err)))
		{
			log_error("job %s: start_period: %s", job->name, err);
			return PAYRUN_EXIT_USAGE;
		}
	}
	else
	{
		earliest_settled(s->out_dir, s->period.length, first, sizeof(first));
		if (first[0] == '\0')
		{
			log_error("job %s: nothing is settled in '%s' yet and the job has no start_period",
					  job->name, s->out_dir);
			return PAYRUN_EXIT_USAGE;
		}
		period_parse(first, s->period.length, &p, err, sizeof(err));
	}

	timestamp_format(now, nowtext);
	while (p.end <= limit && done < job->max_periods)
	{
		enum payrun_exit rc;

		if (is_settled(s->out_dir, p.label))
		{
			period_from_start(p.end, p.length, &p);
			continue;
		}
		if (job->require_complete)
		{
			int c = data_complete(s, &job->values, &p);

			if (c < 0)
				return log_nightly(job, s, dry_run, t0, "failed",
								   s->source == SOURCE_PG ? PAYRUN_EXIT_DB : PAYRUN_EXIT_DATA,
								   p.label, done, "could not check whether its data is complete");
			if (c == 0)
			{
				log_notice("job %s: stopping at period %s: no data at or after its end yet "
						   "(data not complete); it will be settled by a later run",
						   job->name, p.label);
				return log_nightly(job, s, dry_run, t0, "waiting", PAYRUN_EXIT_OK, p.label, done,
								   "stopped here: no data at or after its end yet");
			}
		}
		if (dry_run)
			printf("would settle period %s\n", p.label);
		else
		{
			struct settings ps = *s;
			struct paths    files = { 0 };

			ps.period = p;
			if (s->source == SOURCE_CSV)
			{
				if (!period_inputs(&job->values, p.label, &files, false))
					return log_nightly(job, s, dry_run, t0, "failed", PAYRUN_EXIT_DATA, p.label,
									   done, "its input files are missing");
				ps.inputs = files.items;
				ps.ninputs = files.count;
			}
			log_notice("job %s: settling period %s", job->name, p.label);
			rc = settle_run(&ps, log_enabled(LOG_LEVEL_INFO));
			paths_release(&files);
			if (rc != PAYRUN_EXIT_OK)
			{
				log_error("job %s: stopped at period %s (exit %d)", job->name, p.label, rc);
				return log_nightly(job, s, dry_run, t0, "failed", rc, p.label, done,
								   "stopped here: its settlement failed");
			}
		}
		done++;
		period_from_start(p.end, p.length, &p);
	}
	if (done == 0)
	{
		log_notice(
			"job %s: nothing to do at %s: the next period, %s, closes at its end plus %llds grace",
			job->name, nowtext, p.label, (long long) job->grace_s);
		return log_nightly(job, s, dry_run, t0, "idle", PAYRUN_EXIT_OK, p.label, done,
						   "nothing to do: this period is not closed yet");
	}
	if (p.end <= limit)
	{
		log_notice("job %s: settled %ld period(s), the most per run (max_periods); "
				   "the next run goes on from %s",
				   job->name, done, p.label);
		return log_nightly(job, s, dry_run, t0, "done", PAYRUN_EXIT_OK, p.label, done,
						   "max_periods reached: the next run goes on from this period");
	}
	log_notice("job %s: %s %ld period(s); up to date", job->name,
			   dry_run ? "would settle" : "settled", done);
	return log_nightly(job, s, dry_run, t0, "done", PAYRUN_EXIT_OK, p.label, done,
					   "up to date: this period is not closed yet");
}

enum payrun_exit
job_run(const char *path, bool dry_run, int64_t now_override)
{
	struct job       job;
	struct settings  s;
	enum payrun_exit rc = PAYRUN_EXIT_OK;
	int64_t          now = now_override >= 0 ? now_override : clock_epoch_s();
	bool             nightly, backfill, rerun;
	unsigned         need;

	if (!job_load(&job, path))
	{
		job_release(&job);
		return PAYRUN_EXIT_USAGE;
	}
	nightly = strcmp(job.command, "settle") == 0;
	backfill = strcmp(job.command, "backfill") == 0;
	rerun = strcmp(job.command, "rerun") == 0;
	if (!nightly && !backfill && !rerun)
	{
		log_error("%s: unknown command '%s' (want settle, backfill or rerun)", path, job.command);
		job_release(&job);
		return PAYRUN_EXIT_USAGE;
	}
	need = rerun ? CONFIG_NEED_PERIOD | CONFIG_NEED_SOURCE : CONFIG_NEED_SOURCE;
	if (rerun && !config_inherit_latest(&job.values))
	{
		job_release(&job);
		return PAYRUN_EXIT_DATA;
	}
	{
		/* a backfill's db is where it loads, not a probe source */
		char *db = NULL;

		if (backfill && job.values.db)
		{
			db = job.values.db;
			job.values.db = NULL;
		}
		if (!config_to_settings(&job.values, &s, need))
		{
			free(db);
			job_release(&job);
			return PAYRUN_EXIT_USAGE;
		}
		if (db)
			s.db_conninfo = db;
	}

	if (nightly)
		rc = run_nightly(&job, &s, dry_run, now);
	else if (rerun)
	{
		if (job.reason == NULL)
		{
			log_error("%s: a rerun job needs a reason", path);
			rc = PAYRUN_EXIT_USAGE;
		}
		else
		{
			struct paths files = { 0 };

			s.rerun = true;
			s.dry_run = dry_run;
			s.reason = mem_strdup(job.reason);
			if (s.source == SOURCE_CSV &&
				!period_inputs(&job.values, s.period.label, &files, false))
				rc = PAYRUN_EXIT_DATA;
			else
			{
				char **saved = s.inputs;
				size_t nsaved = s.ninputs;

				if (s.source == SOURCE_CSV)
				{
					s.inputs = files.items;
					s.ninputs = files.count;
				}
				rc = settle_run(&s, log_enabled(LOG_LEVEL_NOTICE) && !dry_run);
				s.inputs = saved;
				s.ninputs = nsaved;
			}
			paths_release(&files);
		}
	}
	else
	{
		struct paths files;

		if (!paths_expand(&files, (const char *const *) s.inputs, s.ninputs, false))
			rc = PAYRUN_EXIT_DATA;
		else if (dry_run)
		{
			for (size_t i = 0; i < files.count; i++)
				printf("would read %s\n", files.items[i]);
			paths_release(&files);
		}
		else
		{
			if (job.into_db)
				rc = backfill_load(&s, &files);
			else
			{
				struct period from, to;
				char          err[256];

				if (job.from == NULL || job.to == NULL ||
					!period_parse(job.from, PERIOD_LENGTH_UNSET, &from, err, sizeof(err)) ||
					!period_parse(job.to, from.length, &to, err, sizeof(err)))
				{
					log_error("%s: a backfill job needs from and to periods (or into_db = true)",
							  path);
					rc = PAYRUN_EXIT_USAGE;
				}
				else
					rc = backfill_settle(&s, &files, &from, &to);
			}
			paths_release(&files);
		}
	}
	settings_release(&s);
	job_release(&job);
	return rc;
}
