/*
 * cli_status.c: "payrun status": option parsing only.
 */
#include <stdio.h>
#include <string.h>

#include "payrun/cli.h"
#include "payrun/clock.h"
#include "payrun/config.h"
#include "payrun/exitcode.h"
#include "payrun/job.h"
#include "payrun/log.h"
#include "payrun/status.h"
#include "payrun/banned.h"

static const struct cli_command status_command = {
	.name = "status",
	.options = OPT_STATUS,
	.synopsis = "Usage: payrun status --out DIR [--db CONNINFO] [--json] [--job FILE]\n"
				"                     [--max-wait DURATION] [--period-length 1d|1h] [--grace D]",
	.description = "Shows every period from the first (the job's start_period, or the earliest\n"
				   "settled one) to the current one: settled (its latest version, when, paid and\n"
				   "forfeited), pending (closed, not settled), waiting (closed, its data not\n"
				   "complete yet: with the database or a csv job, the job's require_complete\n"
				   "check; else the last nightly run stopped there), failed (the last run of it\n"
				   "failed, from DIR/runs.log), open (not closed yet: a period closes at its end\n"
				   "plus grace).  With --db (or a job with source = \"pg\") payout_runs counts as\n"
				   "settled too.  A closed period still unsettled max_wait after it closed is\n"
				   "overdue: the default, 24h, is one nightly cycle, so a period whose feed is a\n"
				   "night late is not yet an alarm, one that missed two nights is.  With --job,\n"
				   "the job file gives what the command line does not (and no config file is\n"
				   "read unless --config names one), so status judges as 'payrun run' does.\n",
	.exit_status = "Exit status: 0 nothing overdue, 1 internal error, 2 usage or config error\n"
				   "(DIR does not exist, nothing to start from), 3 a closed period is overdue,\n"
				   "4 database error.\n",
};

int
cli_status(int argc, char **argv)
{
	struct cli_args       args;
	struct job            job;
	struct status_request req;
	int                   rc = cli_parse(argc, argv, &status_command, &args);
	bool                  from_job;

	if (rc >= 0)
		return rc;
	/* the command line's values first, then the job file's, then a config file's */
	memset(&job, 0, sizeof(job));
	job.values = args.values;
	memset(&args.values, 0, sizeof(args.values));
	from_job = job.values.job_file != NULL;
	if ((from_job && !job_load(&job, job.values.job_file)) ||
		((!from_job || job.values.config) && !config_load_chosen(&job.values)) ||
		!status_request_init(&req, &job.values, from_job))
		rc = PAYRUN_EXIT_USAGE;
	else
	{
		req.now = clock_epoch_s();
		rc = status_run(&req, stdout);
	}
	job_release(&job);
	cli_args_release(&args);
	return rc;
}
