/*
 * cli_verify.c: "payrun verify": option parsing only.
 */
#include <stdio.h>
#include <string.h>

#include "payrun/cli.h"
#include "payrun/config.h"
#include "payrun/exitcode.h"
#include "payrun/log.h"
#include "payrun/numparse.h"
#include "payrun/publish.h"
#include "payrun/verify.h"
#include "payrun/banned.h"

static const struct cli_command verify_command = {
	.name = "verify",
	.options = OPT_VERIFY,
	.synopsis = "Usage: payrun verify --out DIR --period LABEL [--version N] [--db CONNINFO]",
	.description =
		"Checks a published version, DIR/LABEL/vN/ (the latest, or --version N): every\n"
		"file its manifest.json lists, with its size and SHA-256, and any file it does\n"
		"not list; the books recomputed exactly from ledger.csv and streams.csv (base =\n"
		"payout + forfeited per row, each stream's rows add up to its paid, forfeited,\n"
		"nodes and successful polls, paid + forfeited + unallocated = pool, uptime and\n"
		"contribution ppm, sorted unique rows of the period, the manifest's totals the\n"
		"sums of the streams); with --db (or a config file's db with its source =\n"
		"\"pg\"), that payout_runs, payout_ledger and payout_stream_totals record the\n"
		"same version.  Each difference is one line, FILE:LINE: what (or FILE: what).\n",
	.exit_status = "Exit status: 0 verified, 1 internal error, 2 usage error (no such\n"
				   "directory or version), 3 differences (listed), 4 database error.\n",
};

int
cli_verify(int argc, char **argv)
{
	struct cli_args       args;
	struct verify_request req = { 0 };
	uint64_t              version = 0;
	int                   rc = cli_parse(argc, argv, &verify_command, &args);
	const char           *v;

	if (rc >= 0)
		return rc;
	v = args.values.version;
	if (!config_load_chosen(&args.values))
		rc = PAYRUN_EXIT_USAGE;
	else if (args.values.period == NULL || args.values.out == NULL || args.values.out[0] == '\0')
	{
		log_error("--period and --out are required");
		rc = PAYRUN_EXIT_USAGE;
	}
	else if (v && !numparse_u64(v, strlen(v), 1, PUBLISH_MAX_VERSION, &version))
	{
		log_error("invalid version '%s' (want a positive integer)", v);
		rc = PAYRUN_EXIT_USAGE;
	}
	else if (!config_to_period(&args.values, true, &req.period))
		rc = PAYRUN_EXIT_USAGE;
	else
	{
		req.out_dir = args.values.out;
		req.version = (int) version;
		/* a config file's db goes with its source = "pg" (config.c), a given one always */
		req.use_db = args.values.db != NULL &&
					 (!options_from_config(&args.values, OPTION_DB) ||
					  strcmp(options_get_or_default(&args.values, OPTION_SOURCE), "pg") == 0);
		req.conninfo = args.values.db;
		req.quiet = !log_enabled(LOG_LEVEL_NOTICE);
		rc = verify_run(&req, stdout);
	}
	cli_args_release(&args);
	return rc;
}
