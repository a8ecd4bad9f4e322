/*
 * cli_run.c: "payrun run JOBFILE": option parsing only.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "payrun/cli.h"
#include "payrun/exitcode.h"
#include "payrun/job.h"
#include "payrun/log.h"
#include "payrun/timestamp.h"
#include "payrun/banned.h"

static void
run_usage(FILE *out)
{
	fprintf(out, "Usage: payrun run JOBFILE [--dry-run] [--now TIMESTAMP] [-q | -v]\n\n"
				 "Runs a job file (see jobs/): command = settle settles every closed period\n"
				 "after the last settled one (or from start_period), oldest first, up to\n"
				 "now - grace, at most max_periods, stopping at a period whose data is not\n"
				 "complete yet; command = backfill or rerun run those commands with the\n"
				 "job's settings.\n\n"
				 "  --dry-run         say what would be done, do nothing\n"
				 "  --now TIMESTAMP   take this as the current time (tests, replaying a day)\n\n"
				 "Exit status: 0 done or nothing to do, 1 internal error, 2 usage or job\n"
				 "file error, 3 input data error, 4 database error, 5 another run holds\n"
				 "the lock, or the period is settled already.\n");
}

int
cli_run(int argc, char **argv)
{
	static const struct option long_options[] = {
		{ "dry-run", no_argument, NULL, 'n' }, { "now", required_argument, NULL, 't' },
		{ "quiet", no_argument, NULL, 'q' },   { "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },    { NULL, 0, NULL, 0 }
	};
	bool    dry_run = false;
	int64_t now = -1;
	int     c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "qvh", long_options, NULL)) != -1)
	{
		switch (c)
		{
			case 'n':
				dry_run = true;
				break;
			case 't':
				if (!timestamp_parse(optarg, strlen(optarg), &now))
				{
					log_error("invalid --now '%s' (want YYYY-MM-DD HH:MM:SS[+HH])", optarg);
					return PAYRUN_EXIT_USAGE;
				}
				break;
			case 'q':
				cli_quieter();
				break;
			case 'v':
				cli_louder();
				break;
			case 'h':
				run_usage(stdout);
				return PAYRUN_EXIT_OK;
			default:
				fprintf(stderr, "Try 'payrun run --help'.\n");
				return PAYRUN_EXIT_USAGE;
		}
	}
	if (optind != argc - 1)
	{
		run_usage(stderr);
		return PAYRUN_EXIT_USAGE;
	}
	return job_run(argv[optind], dry_run, now);
}
