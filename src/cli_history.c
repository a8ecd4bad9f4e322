/*
 * cli_history.c: "payrun history": option parsing only.
 */
#include <stdio.h>

#include "payrun/cli.h"
#include "payrun/config.h"
#include "payrun/exitcode.h"
#include "payrun/log.h"
#include "payrun/runlog.h"
#include "payrun/banned.h"

static const struct cli_command history_command = {
	.name = "history",
	.options = OPT_HISTORY,
	.synopsis = "Usage: payrun history --out DIR [--period LABEL] [--json]",
	.description = "Lists the runs recorded in DIR/runs.log (settle, rerun, backfill, nightly),\n"
				   "oldest first: when, command, period, version, status, exit status, paid,\n"
				   "forfeited, rerun delta, rejected rows, wall time, reason.  With --json,\n"
				   "JSON lines: each entry as runs.log holds it, one object per line (amounts\n"
				   "as decimal strings), and no line at all when there is none.\n",
	.exit_status = "Exit status: 0 listed (also when no run is recorded), 1 the run log could\n"
				   "not be read, 2 usage error (DIR does not exist, an invalid period label).\n",
};

int
cli_history(int argc, char **argv)
{
	struct cli_args args;
	struct period   period;
	int             rc = cli_parse(argc, argv, &history_command, &args);

	if (rc >= 0)
		return rc;
	if (!config_load_chosen(&args.values))
		rc = PAYRUN_EXIT_USAGE;
	else if (args.values.out == NULL || args.values.out[0] == '\0')
	{
		log_error("--out DIR is required");
		rc = PAYRUN_EXIT_USAGE;
	}
	else if (!config_to_period(&args.values, false, &period))
		rc = PAYRUN_EXIT_USAGE;
	else
		rc = runlog_print(args.values.out, args.values.period ? period.label : NULL,
						  options_flag(&args.values, OPTION_JSON), stdout);
	cli_args_release(&args);
	return rc;
}
