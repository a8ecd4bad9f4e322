/*
 * job.h: job files (the .conf files in jobs/, libconfuse) and running them.
 *
 * A job is one of:
 *   settle    the nightly settlement: every closed period after the last
 *             settled one (or from start_period), oldest first, up to
 *             now - grace, at most max_periods per run, each its own
 *             transaction and publication; it stops at the first period
 *             whose data is not complete yet (require_complete), and exits
 *             3 when that period has waited longer than max_wait since it
 *             closed;
 *   backfill  'payrun backfill' with the job's inputs, from/to or into_db;
 *   rerun     'payrun rerun' of the job's period with its reason.
 * Every settle key (source, db, input, pools, out, ...) applies.
 */
#ifndef PAYRUN_JOB_H
#define PAYRUN_JOB_H

#include <stdbool.h>
#include <stdint.h>

#include "payrun/config.h"
#include "payrun/db.h"
#include "payrun/exitcode.h"
#include "payrun/options.h"
#include "payrun/period.h"
#include "payrun/probes.h"
#include "payrun/settings.h"

enum job_command
{
	JOB_NIGHTLY, /* command = settle */
	JOB_BACKFILL,
	JOB_RERUN
};

struct job
{
	const char            *path;   /* borrowed */
	struct config_values   values; /* owned: the file's */
	const char            *name;   /* borrowed: the job key, or the path */
	enum job_command       command;
	struct config_deadline deadline; /* grace and max_wait */
	long                   max_periods;
	bool                   require_complete;
};

/*
 * Reads a job file: its values fill those job->values does not hold yet
 * (set them before, as 'payrun status' does with its command line; zero
 * job first otherwise), then the job's own keys are validated.  Logs and
 * returns false on an unreadable file or a bad value.
 */
bool job_load(struct job *job, const char *path);
void job_release(struct job *job);

/* now_override: epoch seconds to use as the current time, or -1. */
enum payrun_exit job_run(const char *path, bool dry_run, int64_t now_override);

/*
 * The require_complete check of a nightly job, also 'payrun status''s: is
 * a period's data complete?  PostgreSQL: some probe at or after its end
 * (probes_data_after, one connection for every period asked about, made on
 * the first); CSV: the next period's inputs (patterns with {period})
 * exist.  The answers of earlier questions are kept (data at or after t is
 * also at or after any earlier time), so asking about periods in order
 * costs a query until the first incomplete one and none after it.
 */
struct job_complete
{
	enum settings_source        source;
	const struct config_values *values; /* borrowed: db, probe_table, its zone, the inputs */
	struct db                   db;
	struct probe_table          pt;
	bool                        connected;
	int64_t                     data_until; /* a probe at or after this; INT64_MIN: none known */
	int64_t                     none_from;  /* no probe at or after this; INT64_MAX: not known */
};

void job_complete_init(struct job_complete *c, enum settings_source source,
					   const struct config_values *v);
/* 1 complete, 0 not yet, -1 the check failed (logged). */
int  job_complete_check(struct job_complete *c, const struct period *p);
void job_complete_release(struct job_complete *c);

#endif
