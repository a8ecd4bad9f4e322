/*
 * cli_backfill.c: "payrun backfill": option parsing only.
 */
#include <stdio.h>

#include "payrun/backfill.h"
#include "payrun/cli.h"
#include "payrun/config.h"
#include "payrun/exitcode.h"
#include "payrun/banned.h"

static const struct cli_command backfill_command = {
	.name = "backfill",
	.options = OPT_BACKFILL,
	.synopsis = "Usage: payrun backfill --input GLOB [--input GLOB ...] --out DIR\n"
				"                       --settle --from LABEL --to LABEL [options]\n"
				"       payrun backfill --input GLOB [--input GLOB ...] --out DIR\n"
				"                       --into-db [--db CONNINFO]",
	.description =
		"--settle settles every period from --from to --to (inclusive) that has no\n"
		"version in DIR yet, straight from the files (no database), reading each\n"
		"file once however many periods it spans; each period is published as its\n"
		"own v1.  Periods without any row are not settled and make the exit status 3.\n\n"
		"--into-db loads the exports into probe_results, one transaction per file:\n"
		"COPY into a staging table, then an insert that skips probe ids already\n"
		"present.  Each file is recorded by content (payout_backfill_files), so\n"
		"loading it again does nothing and says so.  The exports need an id column.\n\n"
		"Rejected rows are kept in DIR/backfill/<time>-<pid>/rejects.csv; past\n"
		"--max-reject-ratio nothing is published (--settle) or the file is rolled\n"
		"back (--into-db).  Each backfill appends a line to DIR/runs.log.  Quote the\n"
		"globs, so that payrun expands them.\n",
	.exit_status = "Exit status: 0 done, 1 internal error, 2 usage or config error,\n"
				   "3 input data error or periods without data, 4 database error.\n",
	.args_hint = "inputs are given with --input",
};

int
cli_backfill(int argc, char **argv)
{
	struct cli_args         args;
	struct settings         settings;
	struct backfill_request req;
	int                     rc = cli_parse(argc, argv, &backfill_command, &args);

	if (rc >= 0)
		return rc;
	if (!config_load_chosen(&args.values) || !config_to_backfill(&args.values, &settings, &req))
	{
		cli_args_release(&args);
		return PAYRUN_EXIT_USAGE;
	}
	rc = backfill_run(&settings, &req);
	settings_release(&settings);
	cli_args_release(&args);
	return rc;
}
