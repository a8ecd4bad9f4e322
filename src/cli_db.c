/*
 * cli_db.c: "payrun db migrate|indexes": option parsing only.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "payrun/cli.h"
#include "payrun/db.h"
#include "payrun/exitcode.h"
#include "payrun/log.h"
#include "payrun/migrate.h"

static void
db_usage(FILE *out)
{
	fprintf(out,
			"Usage: payrun db migrate [--db CONNINFO] [-q | -v]\n"
			"       payrun db indexes [--db CONNINFO] [-q | -v]\n\n"
			"  migrate   create or upgrade payrun's tables (idempotent; versions are\n"
			"            recorded in payrun_schema_migrations, each in a transaction)\n"
			"  indexes   create the probe_results indexes of sql/indexes.sql with\n"
			"            CREATE INDEX CONCURRENTLY (see docs/postgresql.md)\n\n"
			"  --db CONNINFO   libpq connection string or URI; without it PGHOST,\n"
			"                  PGDATABASE, PGSERVICE and ~/.pgpass apply\n\n"
			"Exit status: 0 done, 2 usage error, 4 database error.\n");
}

int
cli_db(int argc, char **argv)
{
	static const struct option long_options[] = {
		{"db", required_argument, NULL, 'd'},
		{"quiet", no_argument, NULL, 'q'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	const char *conninfo = NULL;
	const char *action;
	struct db	db;
	int			c;
	enum payrun_exit rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "qvh", long_options, NULL)) != -1)
	{
		switch (c)
		{
			case 'd':
				conninfo = optarg;
				break;
			case 'q':
				cli_quieter();
				break;
			case 'v':
				cli_louder();
				break;
			case 'h':
				db_usage(stdout);
				return PAYRUN_EXIT_OK;
			default:
				fprintf(stderr, "Try 'payrun db --help'.\n");
				return PAYRUN_EXIT_USAGE;
		}
	}
	if (optind != argc - 1)
	{
		db_usage(stderr);
		return PAYRUN_EXIT_USAGE;
	}
	action = argv[optind];
	if (strcmp(action, "migrate") != 0 && strcmp(action, "indexes") != 0)
	{
		log_error("unknown db action '%s' (want migrate or indexes)", action);
		return PAYRUN_EXIT_USAGE;
	}
	if (!db_connect(&db, conninfo, "payrun db"))
		return PAYRUN_EXIT_DB;
	rc = strcmp(action, "migrate") == 0 ? migrate_apply(&db) : migrate_indexes(&db);
	db_close(&db);
	return rc;
}
