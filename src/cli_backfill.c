/*
 * cli_backfill.c: "payrun backfill": option parsing only.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "payrun/backfill.h"
#include "payrun/cli.h"
#include "payrun/config.h"
#include "payrun/exitcode.h"
#include "payrun/log.h"
#include "payrun/mem.h"
#include "payrun/paths.h"
#include "payrun/banned.h"

static void
backfill_usage(FILE *out)
{
	fprintf(out, "Usage: payrun backfill --input GLOB [--input GLOB ...] --out DIR\n"
				 "                       --settle --from LABEL --to LABEL [settle options]\n"
				 "       payrun backfill --input GLOB [--input GLOB ...] --out DIR\n"
				 "                       --into-db [--db CONNINFO]\n\n"
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
				 "back (--into-db).  Each backfill appends a line to DIR/runs.log.\n\n"
				 "  --input GLOB            export files (gzip or plain CSV); quote the glob\n"
				 "  --from, --to LABEL      first and last period (YYYY-MM-DD or YYYY-MM-DDTHH)\n"
				 "  --db CONNINFO           libpq connection string or URI (--into-db)\n"
				 "  --jobs N                files read at once with --settle (default: one per\n"
				 "                          CPU); --into-db loads them one by one\n"
				 "  --pools, --default-pool, --penalty-factor, --max-reject-ratio,\n"
				 "  --max-inflate-ratio, --period-length, --config: as for 'payrun settle'\n\n"
				 "Exit status: 0 done, 1 internal error, 2 usage or config error,\n"
				 "3 input data error or periods without data, 4 database error.\n");
}

int
cli_backfill(int argc, char **argv)
{
	enum
	{
		OPT_SETTING = 256,
		OPT_SETTLE,
		OPT_INTO_DB,
		OPT_FROM,
		OPT_TO,
		OPT_DB,
		OPT_CONFIG,
		OPT_NO_CONFIG
	};
	static const struct option long_options[] = {
		{ "input", required_argument, NULL, OPT_SETTING },
		{ "out", required_argument, NULL, OPT_SETTING },
		{ "settle", no_argument, NULL, OPT_SETTLE },
		{ "into-db", no_argument, NULL, OPT_INTO_DB },
		{ "from", required_argument, NULL, OPT_FROM },
		{ "to", required_argument, NULL, OPT_TO },
		{ "db", required_argument, NULL, OPT_DB },
		{ "pools", required_argument, NULL, OPT_SETTING },
		{ "default-pool", required_argument, NULL, OPT_SETTING },
		{ "penalty-factor", required_argument, NULL, OPT_SETTING },
		{ "max-reject-ratio", required_argument, NULL, OPT_SETTING },
		{ "max-inflate-ratio", required_argument, NULL, OPT_SETTING },
		{ "jobs", required_argument, NULL, OPT_SETTING },
		{ "period-length", required_argument, NULL, OPT_SETTING },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "no-config", no_argument, NULL, OPT_NO_CONFIG },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct config_values values = { 0 };
	struct settings      settings;
	struct paths         files;
	const char          *config_path = NULL;
	bool                 no_config = false;
	const char          *from = NULL;
	const char          *to = NULL;
	char                *db = NULL;
	bool                 settle = false;
	bool                 into_db = false;
	struct period        pfrom, pto;
	char                 err[256];
	int                  c;
	int                  li = 0; /* index of the long option found */
	enum payrun_exit     rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "qvh", long_options, &li)) != -1)
	{
		switch (c)
		{
			case OPT_SETTING:
				config_set_option(&values, long_options[li].name, optarg);
				break;
			case OPT_SETTLE:
				settle = true;
				break;
			case OPT_INTO_DB:
				into_db = true;
				break;
			case OPT_FROM:
				from = optarg;
				break;
			case OPT_TO:
				to = optarg;
				break;
			case OPT_DB:
				free(db);
				db = cli_take_conninfo(optarg);
				break;
			case OPT_CONFIG:
				config_path = optarg;
				break;
			case OPT_NO_CONFIG:
				no_config = true;
				break;
			case 'q':
				cli_quieter();
				break;
			case 'v':
				cli_louder();
				break;
			case 'h':
				backfill_usage(stdout);
				config_release(&values);
				free(db);
				return PAYRUN_EXIT_OK;
			default:
				fprintf(stderr, "Try 'payrun backfill --help'.\n");
				config_release(&values);
				free(db);
				return PAYRUN_EXIT_USAGE;
		}
	}
	if (optind < argc || settle == into_db || (settle && (from == NULL || to == NULL)))
	{
		log_error(optind < argc       ? "unexpected argument"
				  : settle == into_db ? "give exactly one of --settle and --into-db"
									  : "--settle needs --from and --to");
		config_release(&values);
		free(db);
		return PAYRUN_EXIT_USAGE;
	}
	if (!config_load_chosen(&values, config_path, no_config) ||
		!config_to_settings(&values, &settings, CONFIG_NEED_SOURCE))
	{
		config_release(&values);
		free(db);
		return PAYRUN_EXIT_USAGE;
	}
	settings.db_conninfo = db; /* owned by settings from here */
	config_release(&values);
	if (settle && (!period_parse(from,
								 settings.period.length == PERIOD_LENGTH_HOUR ? PERIOD_LENGTH_HOUR
																			  : PERIOD_LENGTH_UNSET,
								 &pfrom, err, sizeof(err)) ||
				   !period_parse(to, pfrom.length, &pto, err, sizeof(err))))
	{
		log_error("%s", err);
		settings_release(&settings);
		return PAYRUN_EXIT_USAGE;
	}
	if (!paths_expand(&files, (const char *const *) settings.inputs, settings.ninputs, false))
	{
		settings_release(&settings);
		return PAYRUN_EXIT_DATA;
	}
	if (settle)
	{
		settings.period = pfrom;
		rc = backfill_settle(&settings, &files, &pfrom, &pto);
	}
	else
		rc = backfill_load(&settings, &files);
	paths_release(&files);
	settings_release(&settings);
	return rc;
}
