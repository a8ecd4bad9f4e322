/*
 * cli_history.c: "payrun history": option parsing only.
 */
#include <stdio.h>

#include "payrun/cli.h"
#include "payrun/exitcode.h"
#include "payrun/log.h"
#include "payrun/runlog.h"
#include "payrun/config.h"
#include "payrun/banned.h"

static const struct cli_command history_command = {
	.name = "history",
	.options = OPT_HISTORY,
	.synopsis = "Usage: payrun history --out DIR [--period LABEL]",
	.description = "Lists the runs recorded in DIR/runs.log (settle, rerun, backfill, nightly),\n"
				   "oldest first: when, command, period, version, status, exit status, paid,\n"
				   "forfeited, rerun delta, rejected rows, wall time, reason.\n",
	.exit_status = "Exit status: 0 listed, 1 the run log could not be read, 2 usage error.\n",
};

int
cli_history(int argc, char **argv)
{
	struct cli_args args;
	int             rc = cli_parse(argc, argv, &history_command, &args);

	if (rc >= 0)
		return rc;
	if (!config_load_chosen(&args.values))
		rc = PAYRUN_EXIT_USAGE;
	else if (args.values.out == NULL)
	{
		log_error("--out DIR is required");
		rc = PAYRUN_EXIT_USAGE;
	}
	else
		rc = runlog_print(args.values.out, args.values.period, stdout) ? PAYRUN_EXIT_OK
																	   : PAYRUN_EXIT_INTERNAL;
	cli_args_release(&args);
	return rc;
}
