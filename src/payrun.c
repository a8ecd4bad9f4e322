/*
 * payrun.c: main() and the table of subcommands.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "payrun/cli.h"
#include "payrun/exitcode.h"
#include "payrun/fault.h"
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
	{ "export", cli_export, "rebuild a settled version's files from the database" },
	{ "db", cli_db, "create or upgrade the schema (migrate), create indexes (indexes)" },
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
				 "3 input data error, 4 database error, 5 conflict (already settled or locked).\n");
}

/* Overwrites n bytes at p with 'x'. */
static void
blank(char *p, size_t n)
{
	memset(p, 'x', n);
}

char *
cli_take_conninfo(char *arg)
{
	char *copy = mem_strdup(arg);
	char *p;

	/* key/value form: password=secret or password='se cret'; libpq allows any
	 * white space around '=' and between pairs, tabs included */
	for (p = strstr(arg, "password"); p; p = strstr(p + 1, "password"))
	{
		char *v = p + 8;

		while (isspace((unsigned char) *v))
			v++;
		if (*v != '=')
			continue;
		v++;
		while (isspace((unsigned char) *v))
			v++;
		if (*v == '\'')
		{
			char *e = v + 1;

			while (*e && *e != '\'')
				e += (*e == '\\' && e[1]) ? 2 : 1;
			blank(v + 1, (size_t) (e - v - 1));
		}
		else
			blank(v, strcspn(v, " \t\n\v\f\r"));
	}
	/* URI form: postgresql://user:secret@host/db, and ?password=... handled above */
	if ((p = strstr(arg, "://")) != NULL)
	{
		char *at = strchr(p + 3, '@');
		char *colon = strchr(p + 3, ':');

		if (at && colon && colon < at)
			blank(colon + 1, (size_t) (at - colon - 1));
	}
	return copy;
}

void
cli_quieter(void)
{
	log_set_level(LOG_LEVEL_ERROR);
}

void
cli_louder(void)
{
	if (log_get_level() < LOG_LEVEL_DEBUG)
		log_set_level(log_get_level() < LOG_LEVEL_INFO ? LOG_LEVEL_INFO : LOG_LEVEL_DEBUG);
}

int
main(int argc, char **argv)
{
	int i = 1;

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
		if (strcmp(argv[i], "-q") == 0 || strcmp(argv[i], "--quiet") == 0)
			cli_quieter();
		else if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0)
			cli_louder();
		else
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
			return commands[c].run(argc - i, argv + i);
	}
	log_error("unknown command '%s'; see 'payrun --help'", argv[i]);
	return PAYRUN_EXIT_USAGE;
}
