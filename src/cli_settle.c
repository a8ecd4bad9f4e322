/*
 * cli_settle.c: "payrun settle" and "payrun rerun": option parsing only.
 * A rerun takes every settle option plus --reason and --dry-run, so both
 * share this table.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "payrun/cli.h"
#include "payrun/config.h"
#include "payrun/exitcode.h"
#include "payrun/log.h"
#include "payrun/mem.h"
#include "payrun/settle.h"
#include "payrun/banned.h"

static void
rerun_usage(FILE *out)
{
	fprintf(
		out,
		"Usage: payrun rerun --period LABEL --reason TEXT [--dry-run] --out DIR\n"
		"                    (--input FILE ... | --source pg [--db CONNINFO]) [settle options]\n\n"
		"Recomputes a settled period and publishes version N+1 next to the old ones\n"
		"(DIR/LABEL/vN+1/, and with --source pg a new payout_runs row that records\n"
		"'supersedes' and the reason).  Old versions are never modified.  It also\n"
		"writes adjustments.csv (stream_id,node_id,previously_paid,now_due,delta) for\n"
		"every node whose payout changed, appeared or disappeared against vN, read\n"
		"back from vN/ledger.csv and checked against vN/manifest.json.\n\n"
		"  --reason TEXT   why (required; kept in the manifest, database and run log)\n"
		"  --dry-run       print the adjustments and publish nothing\n\n"
		"Every 'payrun settle' option applies (see 'payrun settle --help').\n\n"
		"Exit status: 0 done, 1 internal error, 2 usage or config error,\n"
		"3 input data error, 4 database error, 5 nothing to rerun, or another run\n"
		"holds the period.\n");
}

static void
settle_usage(FILE *out)
{
	fprintf(out,
			"Usage: payrun settle --period LABEL --input FILE [--input FILE ...] --out DIR\n"
			"       payrun settle --period LABEL --source pg [--db CONNINFO] --out DIR\n"
			"                     [--period-length 1d|1h] [--pools FILE] [--default-pool N]\n"
			"                     [--penalty-factor F] [--max-reject-ratio R]\n"
			"                     [--max-inflate-ratio N] [--jobs N] [--config FILE] [-q | -v]\n\n"
			"Settles one period from probe exports (gzip or plain CSV) or from PostgreSQL\n"
			"and publishes DIR/LABEL/v1/ with ledger.csv, streams.csv, rejects.csv and\n"
			"manifest.json.  With --source pg the run is also recorded in the database\n"
			"(payout_runs, payout_ledger, payout_stream_totals), committed before the\n"
			"files are published.\n\n"
			"  --period LABEL          YYYY-MM-DD (a day) or YYYY-MM-DDTHH (an hour), UTC\n"
			"  --period-length 1d|1h   must agree with the label (default: from the label)\n"
			"  --input FILE            export file; repeat for several (merged in order)\n"
			"  --source csv|pg         where probes come from (default csv)\n"
			"  --db CONNINFO           libpq connection string or URI (with --source pg);\n"
			"                          default: PGHOST, PGDATABASE, PGSERVICE, ~/.pgpass\n"
			"  --pools FILE            CSV with header stream_id,pool (integer base units);\n"
			"                          with --source pg, payout_pools is used without it\n"
			"  --default-pool N        pool of streams the pools file does not list (0)\n"
			"  --penalty-factor F      f in the penalty (1 - f)^failed_spot_checks (0.5)\n"
			"  --max-reject-ratio R    fail if rejected rows / rows read exceeds R (0.001)\n"
			"  --max-inflate-ratio N   refuse gzip input inflating more than N:1 (1000, 0 = off)\n"
			"  --jobs N                input files read at once, two threads each\n"
			"                          (default: one per CPU; 1 reads them one by one)\n"
			"  --out DIR               output directory (created if missing)\n"
			"  --config FILE           config file (default " CONFIG_DEFAULT_PATH " if present);\n"
			"                          keys as the options with '_' for '-'; options win\n"
			"  -q, --quiet             errors only, no report\n"
			"  -v, --verbose           more detail (twice for debug)\n"
			"  -h, --help              this help\n\n"
			"Exit status: 0 settled, 1 internal error, 2 usage or config error,\n"
			"3 input data error, 4 database error, 5 period already settled or locked.\n");
}

static int
settle_main(int argc, char **argv, bool rerun)
{
	enum
	{
		OPT_SETTING = 256,
		OPT_CONFIG,
		OPT_NO_CONFIG,
		OPT_DB,
		OPT_REASON,
		OPT_DRY_RUN
	};
	static const struct option long_options[] = {
		{ "period", required_argument, NULL, OPT_SETTING },
		{ "period-length", required_argument, NULL, OPT_SETTING },
		{ "input", required_argument, NULL, OPT_SETTING },
		{ "pools", required_argument, NULL, OPT_SETTING },
		{ "default-pool", required_argument, NULL, OPT_SETTING },
		{ "penalty-factor", required_argument, NULL, OPT_SETTING },
		{ "max-reject-ratio", required_argument, NULL, OPT_SETTING },
		{ "max-inflate-ratio", required_argument, NULL, OPT_SETTING },
		{ "jobs", required_argument, NULL, OPT_SETTING },
		{ "out", required_argument, NULL, OPT_SETTING },
		{ "source", required_argument, NULL, OPT_SETTING },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "no-config", no_argument, NULL, OPT_NO_CONFIG },
		{ "db", required_argument, NULL, OPT_DB },
		{ "reason", required_argument, NULL, OPT_REASON },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct config_values values = { 0 };
	struct settings      settings;
	const char          *config_path = NULL;
	bool                 no_config = false;
	const char          *reason = NULL;
	bool                 dry_run = false;
	int                  c;
	int                  li = 0; /* index of the long option found */
	int                  rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "qvh", long_options, &li)) != -1)
	{
		switch (c)
		{
			case OPT_SETTING:
				config_set_option(&values, long_options[li].name, optarg);
				break;
			case OPT_CONFIG:
				config_path = optarg;
				break;
			case OPT_NO_CONFIG:
				no_config = true;
				break;
			case OPT_DB:
				free(values.db);
				values.db = cli_take_conninfo(optarg);
				break;
			case OPT_REASON:
			case OPT_DRY_RUN:
				if (!rerun)
				{
					log_error("--reason and --dry-run belong to 'payrun rerun'");
					config_release(&values);
					return PAYRUN_EXIT_USAGE;
				}
				if (c == OPT_REASON)
					reason = optarg;
				else
					dry_run = true;
				break;
			case 'q':
				cli_quieter();
				break;
			case 'v':
				cli_louder();
				break;
			case 'h':
				if (rerun)
					rerun_usage(stdout);
				else
					settle_usage(stdout);
				config_release(&values);
				return PAYRUN_EXIT_OK;
			default:
				fprintf(stderr, "Try 'payrun %s --help'.\n", rerun ? "rerun" : "settle");
				config_release(&values);
				return PAYRUN_EXIT_USAGE;
		}
	}
	if (optind < argc)
	{
		log_error("unexpected argument '%s'; inputs are given with --input", argv[optind]);
		config_release(&values);
		return PAYRUN_EXIT_USAGE;
	}
	if (!config_load_chosen(&values, config_path, no_config) ||
		(rerun && !config_inherit_latest(&values)) ||
		!config_to_settings(&values, &settings, CONFIG_NEED_PERIOD | CONFIG_NEED_SOURCE))
	{
		config_release(&values);
		return PAYRUN_EXIT_USAGE;
	}
	config_release(&values);
	if (rerun && (reason == NULL || reason[0] == '\0'))
	{
		log_error("a rerun needs --reason TEXT: why the period is recomputed");
		settings_release(&settings);
		return PAYRUN_EXIT_USAGE;
	}
	settings.rerun = rerun;
	settings.reason = reason ? mem_strdup(reason) : NULL;
	settings.dry_run = dry_run;
	rc = settle_run(&settings, log_enabled(LOG_LEVEL_NOTICE) && !dry_run);
	settings_release(&settings);
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
