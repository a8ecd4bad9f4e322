/*
 * payrun.c: main() and the table of subcommands.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "payrun/cli.h"
#include "payrun/exitcode.h"
#include "payrun/fault.h"
#include "payrun/interrupt.h"
#include "payrun/log.h"
#include "payrun/mem.h"
#include "payrun/banned.h"

struct command
{
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "run", cli_run, "run a job file: nightly settlement with catch-up, backfill, rerun" },
	{ "settle", cli_settle, "settle one period from CSV exports or PostgreSQL" },
	{ "rerun", cli_rerun, "recompute a settled period as version N+1, with adjustments" },
	{ "backfill", cli_backfill, "settle or load months of history from exports" },
	{ "history", cli_history, "list the runs recorded in an output directory" },
	{ "status", cli_status, "show where every period stands; exit 3 when one is overdue" },
	{ "verify", cli_verify, "check a version's files against its manifest, books and database" },
	{ "export", cli_export, "rebuild a settled version's files from the database" },
	{ "preview", cli_preview, "show a period's earnings so far from PostgreSQL; publish nothing" },
	{ "db", cli_db, "create or upgrade the schema (migrate), indexes, rollups (rollup)" },
};

static void
usage(FILE *out)
{
	fprintf(out, "payrun: settle relay-node payout periods from probe results.\n\n"
				 "Usage:\n"
				 "  payrun [-q | -v] COMMAND [OPTIONS]\n"
				 "  payrun --help | --version\n\n"
				 "Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n'payrun COMMAND --help' describes a command.\n\n"
				 "Exit status: 0 settled, 1 internal error, 2 usage or config error,\n"
				 "3 input data error (run, status: a period overdue; verify: differences),\n"
				 "4 database error, 5 conflict (already settled or locked),\n"
				 "130 or 143 stopped by SIGINT or SIGTERM (nothing half-published).\n");
}

int
main(int argc, char **argv)
{
	int i = 1;

	interrupt_install();

	/* global options before the command */
	for (; i < argc && argv[i][0] == '-'; i++)
	{
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
		{
			usage(stdout);
			return PAYRUN_EXIT_OK;
		}
		if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-V") == 0)
		{
			printf("payrun %s%s\n", PAYRUN_VERSION,
				   FAULT_POINTS_BUILT ? " (test build with fault points)" : "");
			return PAYRUN_EXIT_OK;
		}
		if (!cli_verbosity(argv[i]))
		{
			log_error("unknown option '%s'", argv[i]);
			usage(stderr);
			return PAYRUN_EXIT_USAGE;
		}
	}
	if (i >= argc)
	{
		usage(stderr);
		return PAYRUN_EXIT_USAGE;
	}
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
	{
		if (strcmp(argv[i], commands[c].name) == 0)
		{
			int rc = commands[c].run(argc - i, argv + i);

			log_exit_reason(rc);
			return rc;
		}
	}
	log_error("unknown command '%s'; see 'payrun --help'", argv[i]);
	return PAYRUN_EXIT_USAGE;
}
