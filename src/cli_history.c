/*
 * cli_history.c: "payrun history": option parsing only.
 */
#include <getopt.h>
#include <stdio.h>

#include "payrun/cli.h"
#include "payrun/exitcode.h"
#include "payrun/log.h"
#include "payrun/runlog.h"
#include "payrun/banned.h"

static void
history_usage(FILE *out)
{
	fprintf(out, "Usage: payrun history --out DIR [--period LABEL]\n\n"
				 "Lists the runs recorded in DIR/runs.log (settle, rerun, backfill, nightly),\n"
				 "oldest first: when, command, period, version, status, exit status, paid,\n"
				 "forfeited, rerun delta, rejected rows, wall time, reason.\n");
}

int
cli_history(int argc, char **argv)
{
	static const struct option long_options[] = { { "out", required_argument, NULL, 'o' },
												  { "period", required_argument, NULL, 'p' },
												  { "help", no_argument, NULL, 'h' },
												  { NULL, 0, NULL, 0 } };
	const char                *out_dir = NULL;
	const char                *period = NULL;
	int                        c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", long_options, NULL)) != -1)
	{
		switch (c)
		{
			case 'o':
				out_dir = optarg;
				break;
			case 'p':
				period = optarg;
				break;
			case 'h':
				history_usage(stdout);
				return PAYRUN_EXIT_OK;
			default:
				fprintf(stderr, "Try 'payrun history --help'.\n");
				return PAYRUN_EXIT_USAGE;
		}
	}
	if (out_dir == NULL || optind < argc)
	{
		log_error("--out DIR is required");
		return PAYRUN_EXIT_USAGE;
	}
	return runlog_print(out_dir, period, stdout) ? PAYRUN_EXIT_OK : PAYRUN_EXIT_INTERNAL;
}
