/*
 * cli_db.c: "payrun db migrate|indexes": option parsing only.
 */
#include <stdio.h>
#include <string.h>

#include "payrun/cli.h"
#include "payrun/db.h"
#include "payrun/exitcode.h"
#include "payrun/log.h"
#include "payrun/migrate.h"
#include "payrun/banned.h"

static const struct cli_command db_command = {
	.name = "db",
	.options = OPT_DB,
	.synopsis = "Usage: payrun db migrate [--db CONNINFO] [-q | -v]\n"
				"       payrun db indexes [--db CONNINFO] [-q | -v]",
	.description = "  migrate   create or upgrade payrun's tables (idempotent; versions are\n"
				   "            recorded in payrun_schema_migrations, each in a transaction)\n"
				   "  indexes   create the probe_results indexes of sql/indexes.sql with\n"
				   "            CREATE INDEX CONCURRENTLY (see docs/postgresql.md)\n",
	.exit_status = "Exit status: 0 done, 2 usage error, 4 database error.\n",
	.min_args = 1,
	.max_args = 1,
};

int
cli_db(int argc, char **argv)
{
	struct cli_args args;
	struct db       db;
	int             rc = cli_parse(argc, argv, &db_command, &args);
	const char     *action;

	if (rc >= 0)
		return rc;
	action = args.args[0];
	if (strcmp(action, "migrate") != 0 && strcmp(action, "indexes") != 0)
	{
		log_error("unknown db action '%s' (want migrate or indexes)", action);
		rc = PAYRUN_EXIT_USAGE;
	}
	else if (!db_connect(&db, args.values.db, "payrun db"))
		rc = PAYRUN_EXIT_DB;
	else
	{
		rc = strcmp(action, "migrate") == 0 ? migrate_apply(&db) : migrate_indexes(&db);
		db_close(&db);
	}
	cli_args_release(&args);
	return rc;
}
