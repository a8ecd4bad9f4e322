/*
 * cli_db.c: "payrun db migrate|indexes": option parsing only.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payrun/cli.h"
#include "payrun/db.h"
#include "payrun/exitcode.h"
#include "payrun/log.h"
#include "payrun/migrate.h"
#include "payrun/banned.h"

static void
db_usage(FILE *out)
{
	fprintf(out, "Usage: payrun db migrate [--db CONNINFO] [-q | -v]\n"
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
	static const struct option long_options[] = { { "db", required_argument, NULL, 'd' },
												  { "quiet", no_argument, NULL, 'q' },
												  { "verbose", no_argument, NULL, 'v' },
												  { "help", no_argument, NULL, 'h' },
												  { NULL, 0, NULL, 0 } };
	char                      *conninfo = NULL;
	const char                *action;
	struct db                  db;
	int                        c;
	enum payrun_exit           rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "qvh", long_options, NULL)) != -1)
	{
		switch (c)
		{
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
				db_usage(stdout);
				free(conninfo);
				return PAYRUN_EXIT_OK;
			default:
				fprintf(stderr, "Try 'payrun db --help'.\n");
				free(conninfo);
				return PAYRUN_EXIT_USAGE;
		}
	}
	action = optind == argc - 1 ? argv[optind] : "";
	if (strcmp(action, "migrate") != 0 && strcmp(action, "indexes") != 0)
	{
		if (optind == argc - 1)
			log_error("unknown db action '%s' (want migrate or indexes)", action);
		else
			db_usage(stderr);
		rc = PAYRUN_EXIT_USAGE;
	}
	else if (!db_connect(&db, conninfo, "payrun db"))
		rc = PAYRUN_EXIT_DB;
	else
	{
		rc = strcmp(action, "migrate") == 0 ? migrate_apply(&db) : migrate_indexes(&db);
		db_close(&db);
	}
	free(conninfo);
	return rc;
}
