/*
 * status.h: where the periods of an output directory stand, for
 * monitoring ('payrun status').  Every period from the first (the job's
 * start_period, or else the earliest settled one) to the current one is
 *   settled  a version is published in OUT (with the database, or a run
 *            recorded in payout_runs): its latest version, when, paid and
 *            forfeited;
 *   open     not closed yet: a period closes at its end plus grace;
 *   waiting  closed, its data not complete yet: the job's require_complete
 *            check (job.h) with the database or a csv job, else the last
 *            run of it in runs.log stopped there for that reason;
 *   failed   closed, and the last run of it (runs.log) failed;
 *   pending  closed and none of these: the next nightly run settles it.
 * A closed period still unsettled max_wait after it closed is overdue.
 */
#ifndef PAYRUN_STATUS_H
#define PAYRUN_STATUS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "payrun/config.h"
#include "payrun/exitcode.h"
#include "payrun/options.h"
#include "payrun/period.h"
#include "payrun/settings.h"

struct status_request
{
	const char                 *out_dir;        /* borrowed */
	const struct config_values *values;         /* borrowed: db, probe table, inputs */
	bool                        use_db;         /* --db, or source = pg */
	bool                        check_complete; /* the require_complete check applies */
	enum settings_source        complete_by;    /* pg: probes; csv: the next period's inputs */
	bool                        has_first;      /* start_period given */
	struct period               first;          /* the first period, if has_first */
	enum period_length          length;
	struct config_deadline      deadline;
	int64_t                     now; /* epoch seconds */
	bool                        json;
};

/*
 * The request from option values (the command line, then a job file and
 * a config file): out, db, source, start_period, period_length, grace,
 * max_wait, require_complete; with from_job, a csv job's input patterns
 * with {period} tell whether a period's data is complete.  Borrows v's
 * strings.  Logs and returns false on a missing or bad value.
 */
bool status_request_init(struct status_request *req, const struct config_values *v, bool from_job);

/*
 * Prints every period's state to out (an aligned table, or with json one
 * object: the periods and the verdict).  Returns PAYRUN_EXIT_OK, _DATA
 * when a period is overdue, _USAGE (no such directory, nothing to start
 * from), _DB or _INTERNAL, having logged why.
 */
enum payrun_exit status_run(const struct status_request *req, FILE *out);

#endif
