/*
 * cli_preview.c: "payrun preview": option parsing only.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "payrun/cli.h"
#include "payrun/config.h"
#include "payrun/exitcode.h"
#include "payrun/log.h"
#include "payrun/preview.h"
#include "payrun/banned.h"

static const struct cli_command preview_command = {
	.name = "preview",
	.options = OPT_PREVIEW,
	.synopsis = "Usage: payrun preview --period LABEL [--source pg] [--db CONNINFO] [--json]\n"
				"                      [options]",
	.description = "Shows the earnings of a period so far, from PostgreSQL: the period may\n"
				   "still be open.  Probes are read as settle --source pg reads them (the\n"
				   "hours 'payrun db rollup' holds from its rollups, the rest from the probe\n"
				   "table) and paid out by the same math, from payout_pools, --pools-query,\n"
				   "--pools or the default pool.  Prints the totals and one line per node, or\n"
				   "with --json one object.  Publishes nothing: no file, no database row.\n",
	.exit_status = "Exit status: 0 shown, 1 internal error, 2 usage or config error, 3 input\n"
				   "data error (pools), 4 database error.\n",
};

int
cli_preview(int argc, char **argv)
{
	struct cli_args args;
	struct settings settings;
	struct period   period;
	int             rc = cli_parse(argc, argv, &preview_command, &args);

	if (rc >= 0)
		return rc;
	rc = PAYRUN_EXIT_USAGE;
	if (!config_load_chosen(&args.values))
		goto done;
	if (args.values.source == NULL)
		options_set(&args.values, OPTION_SOURCE, "pg"); /* the one source a preview reads */
	if (strcmp(args.values.source, "pg") != 0)
	{
		log_error("preview reads PostgreSQL only (--source pg), not '%s'", args.values.source);
		goto done;
	}
	if (!config_to_settings(&args.values, OPT_PREVIEW, &settings))
		goto done;
	if (config_to_period(&args.values, true, &period))
		rc = preview_run(&settings, &period, options_flag(&args.values, OPTION_JSON));
	settings_release(&settings);
done:
	cli_args_release(&args);
	return rc;
}
