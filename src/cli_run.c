/*
 * cli_run.c: "payrun run JOBFILE": option parsing only.
 */
#include <stdio.h>
#include <string.h>

#include "payrun/cli.h"
#include "payrun/exitcode.h"
#include "payrun/job.h"
#include "payrun/log.h"
#include "payrun/timestamp.h"
#include "payrun/banned.h"

static const struct cli_command run_command = {
	.name = "run",
	.options = OPT_RUN,
	.synopsis = "Usage: payrun run JOBFILE [--dry-run] [--now TIMESTAMP] [-q | -v]",
	.description = "Runs a job file (see jobs/): command = settle settles every closed period\n"
				   "after the last settled one (or from start_period), oldest first, up to\n"
				   "now - grace, at most max_periods, stopping at a period whose data is not\n"
				   "complete yet (exit 3 once it has waited longer than max_wait, default\n"
				   "24h, since it closed: one nightly cycle, so a late feed gets one more\n"
				   "night but a missing one is not silent); command = backfill or rerun run\n"
				   "those commands with the job's settings.\n",
	.exit_status = "Exit status: 0 done, nothing to do, or waiting within max_wait, 1 internal\n"
				   "error, 2 usage or job file error, 3 input data error, or the period it\n"
				   "stops at is overdue (waited longer than max_wait), 4 database error,\n"
				   "5 another run holds the lock, or the period is settled already.\n",
	.min_args = 1,
	.max_args = 1,
};

int
cli_run(int argc, char **argv)
{
	struct cli_args args;
	int64_t         now = -1;
	const char     *t;
	int             rc = cli_parse(argc, argv, &run_command, &args);

	if (rc >= 0)
		return rc;
	t = args.values.now;
	if (t && !timestamp_parse(t, strlen(t), &now))
	{
		log_error("invalid --now '%s' (want YYYY-MM-DD HH:MM:SS[+HH])", t);
		rc = PAYRUN_EXIT_USAGE;
	}
	else
		rc = job_run(args.args[0], options_flag(&args.values, OPTION_DRY_RUN), now);
	cli_args_release(&args);
	return rc;
}
