/*
 * cli_export.c: "payrun export": option parsing only.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payrun/cli.h"
#include "payrun/exitcode.h"
#include "payrun/export.h"
#include "payrun/log.h"
#include "payrun/numparse.h"
#include "payrun/publish.h"
#include "payrun/period.h"
#include "payrun/banned.h"

static void
export_usage(FILE *out)
{
	fprintf(out, "Usage: payrun export --period LABEL --out DIR [--version N]\n"
				 "                     [--period-length 1d|1h] [--db CONNINFO] [-q | -v]\n\n"
				 "Publishes DIR/LABEL/vN/ from the run recorded in the database (the newest\n"
				 "settled version, or --version N), for when the files of a settlement were\n"
				 "lost after the database commit.  Amounts are read back as stored, not\n"
				 "recomputed; rejects.csv is not stored in the database and comes out empty\n"
				 "(and a rerun's adjustments.csv is not written).  Versions are published in\n"
				 "order: vN only next to vN-1 (export v1 first into an empty DIR).\n\n"
				 "Exit status: 0 exported, 2 usage error, 3 no such run, 4 database error,\n"
				 "5 the version's directory already exists or the output is locked.\n");
}

int
cli_export(int argc, char **argv)
{
	static const struct option long_options[] = { { "period", required_argument, NULL, 'p' },
												  { "period-length", required_argument, NULL, 'l' },
												  { "out", required_argument, NULL, 'o' },
												  { "version", required_argument, NULL, 'n' },
												  { "db", required_argument, NULL, 'd' },
												  { "quiet", no_argument, NULL, 'q' },
												  { "verbose", no_argument, NULL, 'v' },
												  { "help", no_argument, NULL, 'h' },
												  { NULL, 0, NULL, 0 } };
	const char                *label = NULL;
	const char                *out_dir = NULL;
	char                      *conninfo = NULL;
	enum period_length         length = PERIOD_LENGTH_UNSET;
	uint64_t                   version = 0;
	struct period              period;
	char                       err[256];
	int                        c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "qvh", long_options, NULL)) != -1)
	{
		switch (c)
		{
			case 'p':
				label = optarg;
				break;
			case 'l':
				if (!period_length_parse(optarg, &length))
				{
					log_error("invalid period length '%s' (want 1d or 1h)", optarg);
					return PAYRUN_EXIT_USAGE;
				}
				break;
			case 'o':
				out_dir = optarg;
				break;
			case 'n':
				if (!numparse_u64(optarg, strlen(optarg), 1, PUBLISH_MAX_VERSION, &version))
				{
					log_error("invalid version '%s' (want a positive integer)", optarg);
					return PAYRUN_EXIT_USAGE;
				}
				break;
			case 'd':
				free(conninfo);
				conninfo = cli_take_conninfo(optarg);
				break;
			case 'q':
				cli_quieter();
				break;
			case 'v':
				cli_louder();
				break;
			case 'h':
				export_usage(stdout);
				free(conninfo);
				return PAYRUN_EXIT_OK;
			default:
				fprintf(stderr, "Try 'payrun export --help'.\n");
				free(conninfo);
				return PAYRUN_EXIT_USAGE;
		}
	}
	if (optind < argc || label == NULL || out_dir == NULL)
	{
		free(conninfo);
		log_error(optind < argc ? "unexpected argument '%s'" : "--period and --out are required%s",
				  optind < argc ? argv[optind] : "");
		return PAYRUN_EXIT_USAGE;
	}
	if (!period_parse(label, length, &period, err, sizeof(err)))
	{
		free(conninfo);
		log_error("%s", err);
		return PAYRUN_EXIT_USAGE;
	}
	{
		enum payrun_exit rc = export_run(conninfo, &period, (int) version, out_dir);

		free(conninfo);
		return rc;
	}
}
