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
#include "payrun/config.h"
#include "payrun/banned.h"

static const struct cli_command db_command = {
	.name = "db",
	.options = OPT_DB,
	.synopsis = "Usage: payrun db migrate [--create-probe-table] [--probe-table TABLE]\n"
				"                         [--db CONNINFO] [-q | -v]\n"
				"       payrun db indexes [--probe-table TABLE] [--db CONNINFO] [-q | -v]",
	.description = "  migrate   create or upgrade payrun's tables (idempotent; versions are\n"
				   "            recorded in payrun_schema_migrations, each in a transaction)\n"
				   "  indexes   create the probe_results indexes of sql/indexes.sql with\n"
				   "            CREATE INDEX CONCURRENTLY (see docs/postgresql.md); on a\n"
				   "            partitioned table on each partition, then attached to the\n"
				   "            partitioned table's (docs/partitioning.md)\n",
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
	if (!config_load_chosen(&args.values))
		rc = PAYRUN_EXIT_USAGE;
	else if (strcmp(action, "migrate") != 0 && strcmp(action, "indexes") != 0)
	{
		log_error("unknown db action '%s' (want migrate or indexes)", action);
		rc = PAYRUN_EXIT_USAGE;
	}
	else if (!db_connect(&db, args.values.db, "payrun db"))
		rc = PAYRUN_EXIT_DB;
	else
	{
		const char *table = options_get_or_default(&args.values, OPTION_PROBE_TABLE);

		rc = strcmp(action, "migrate") == 0
				 ? migrate_apply(&db, table, options_flag(&args.values, OPTION_CREATE_PROBE_TABLE))
				 : migrate_indexes(&db, table);
		db_close(&db);
	}
	cli_args_release(&args);
	return rc;
}
