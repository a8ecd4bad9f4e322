/*
 * cli_settle.c: "payrun settle" and "payrun rerun": option parsing only.
 * A rerun takes every settle option plus --reason and --dry-run.
 */
#include <stdbool.h>
#include <stdio.h>

#include "payrun/cli.h"
#include "payrun/config.h"
#include "payrun/exitcode.h"
#include "payrun/settle.h"
#include "payrun/banned.h"

static const struct cli_command settle_command = {
	.name = "settle",
	.options = OPT_SETTLE,
	.synopsis = "Usage: payrun settle --period LABEL --input FILE [--input FILE ...] --out DIR\n"
				"       payrun settle --period LABEL --source pg [--db CONNINFO] --out DIR\n"
				"                     [options]",
	.description = "Settles one period from probe exports (gzip or plain CSV) or from PostgreSQL\n"
				   "and publishes DIR/LABEL/v1/ with ledger.csv, streams.csv, rejects.csv, the\n"
				   "pools it used (pools.csv), report.html (a static page of charts and tables\n"
				   "for a browser) and manifest.json.  With --source pg the run is also\n"
				   "recorded in the database (payout_runs, payout_ledger, payout_stream_totals),\n"
				   "committed before the files are published.\n",
	.exit_status = "Exit status: 0 settled, 1 internal error, 2 usage or config error,\n"
				   "3 input data error or a refusal check (no probes, probes short of an end\n"
				   "of the period, zero pools, an input given twice), 4 database error,\n"
				   "5 period already settled, overlapping a settled one, or locked.\n",
	.args_hint = "inputs are given with --input",
};

static const struct cli_command rerun_command = {
	.name = "rerun",
	.options = OPT_RERUN,
	.synopsis = "Usage: payrun rerun --period LABEL --reason TEXT [--dry-run] --out DIR\n"
				"                    (--input FILE ... | --source pg [--db CONNINFO]) [options]",
	.description = "Recomputes a settled period and publishes version N+1 next to the old ones\n"
				   "(DIR/LABEL/vN+1/, and with --source pg a new payout_runs row that records\n"
				   "'supersedes' and the reason).  Old versions are never modified.  It also\n"
				   "writes adjustments.csv (stream_id,node_id,previously_paid,now_due,delta) for\n"
				   "every node whose payout changed, appeared or disappeared against vN, read\n"
				   "back from vN/ledger.csv and checked against vN/manifest.json.  Payout\n"
				   "settings not given (penalty factor, pools, default pool, maximum reject\n"
				   "ratio) are those of vN.\n",
	.exit_status = "Exit status: 0 done, 1 internal error, 2 usage or config error,\n"
				   "3 input data error or a refusal check, 4 database error, 5 nothing to\n"
				   "rerun, or another run holds the period.\n",
	.args_hint = "inputs are given with --input",
};

static int
settle_main(int argc, char **argv, bool rerun)
{
	struct cli_args       args;
	struct settings       settings;
	struct settle_request req;
	int rc = cli_parse(argc, argv, rerun ? &rerun_command : &settle_command, &args);

	if (rc >= 0)
		return rc;
	if (!config_load_chosen(&args.values) ||
		!config_to_settle(&args.values, rerun, &settings, &req))
	{
		cli_args_release(&args);
		return PAYRUN_EXIT_USAGE;
	}
	rc = settle_run(&settings, &req);
	settings_release(&settings);
	cli_args_release(&args);
	return rc;
}

int
cli_settle(int argc, char **argv)
{
	return settle_main(argc, argv, false);
}

int
cli_rerun(int argc, char **argv)
{
	return settle_main(argc, argv, true);
}
