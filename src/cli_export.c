/*
 * cli_export.c: "payrun export": option parsing only.
 */
#include <stdio.h>
#include <string.h>

#include "payrun/cli.h"
#include "payrun/config.h"
#include "payrun/exitcode.h"
#include "payrun/export.h"
#include "payrun/log.h"
#include "payrun/numparse.h"
#include "payrun/publish.h"
#include "payrun/banned.h"

static const struct cli_command export_command = {
	.name = "export",
	.options = OPT_EXPORT,
	.synopsis = "Usage: payrun export --period LABEL --out DIR [--version N]\n"
				"                     [--period-length 1d|1h] [--db CONNINFO] [-q | -v]",
	.description = "Publishes DIR/LABEL/vN/ from the run recorded in the database (the newest\n"
				   "settled version, or --version N), for when the files of a settlement were\n"
				   "lost after the database commit.  Amounts are read back as stored, not\n"
				   "recomputed; rejects.csv is not stored in the database and comes out empty\n"
				   "(and a rerun's adjustments.csv is not written).  Versions are published in\n"
				   "order: vN only next to vN-1 (export v1 first into an empty DIR).\n",
	.exit_status = "Exit status: 0 exported, 1 internal error (the files could not be written),\n"
				   "2 usage error, 3 no such run, or a record that does\n"
				   "not balance, 4 database error,\n"
				   "5 the version's directory already exists or the output is locked.\n",
};

int
cli_export(int argc, char **argv)
{
	struct cli_args args;
	struct period   period;
	uint64_t        version = 0;
	int             rc = cli_parse(argc, argv, &export_command, &args);
	const char     *v;

	if (rc >= 0)
		return rc;
	v = args.values.version;
	if (!config_load_chosen(&args.values))
		rc = PAYRUN_EXIT_USAGE;
	else if (args.values.period == NULL || args.values.out == NULL)
	{
		log_error("--period and --out are required");
		rc = PAYRUN_EXIT_USAGE;
	}
	else if (v && !numparse_u64(v, strlen(v), 1, PUBLISH_MAX_VERSION, &version))
	{
		log_error("invalid version '%s' (want a positive integer)", v);
		rc = PAYRUN_EXIT_USAGE;
	}
	else if (!config_to_period(&args.values, true, &period))
		rc = PAYRUN_EXIT_USAGE;
	else
		rc = export_run(args.values.db, &period, (int) version, args.values.out);
	cli_args_release(&args);
	return rc;
}
