/*
 * cli_db.c: "payrun db migrate|indexes|rollup": option parsing only.
 */
#include <stdio.h>
#include <string.h>

#include "payrun/cli.h"
#include "payrun/clock.h"
#include "payrun/db.h"
#include "payrun/exitcode.h"
#include "payrun/log.h"
#include "payrun/migrate.h"
#include "payrun/probes.h"
#include "payrun/rollup.h"
#include "payrun/config.h"
#include "payrun/timestamp.h"
#include "payrun/banned.h"

static const struct cli_command db_command = {
	.name = "db",
	.options = OPT_DB,
	.synopsis = "Usage: payrun db migrate [--create-probe-table] [--probe-table TABLE]\n"
				"                         [--db CONNINFO] [-q | -v]\n"
				"       payrun db indexes [--probe-table TABLE] [--db CONNINFO] [-q | -v]\n"
				"       payrun db rollup (--enable | --disable | [--until TIMESTAMP])\n"
				"                        [--probe-table TABLE] [--db CONNINFO] [-q | -v]",
	.description = "  migrate   create or upgrade payrun's tables (idempotent; versions are\n"
				   "            recorded in payrun_schema_migrations, each in a transaction)\n"
				   "  indexes   create the probe_results indexes of sql/indexes.sql with\n"
				   "            CREATE INDEX CONCURRENTLY (see docs/postgresql.md); on a\n"
				   "            partitioned table on each partition, then attached to the\n"
				   "            partitioned table's (docs/partitioning.md)\n"
				   "  rollup    with --enable, put the invalidation triggers on the probe table;\n"
				   "            with --disable, drop them and empty the rollups; else roll up\n"
				   "            the closed hours past the watermark and the hours changed since\n"
				   "            they were rolled up, each in its own transaction, and sum each\n"
				   "            whole UTC day (run it every few minutes; settle --source pg\n"
				   "            reads the rolled-up hours from the rollups)\n",
	.exit_status = "Exit status: 0 done, 2 usage error (rollup: not enabled, or of another\n"
				   "table), 4 database error, 5 another rollup is running.\n",
	.min_args = 1,
	.max_args = 1,
};

/* payrun db rollup [--enable | --disable | --until TS] */
static int
db_rollup(struct db *db, const struct config_values *v, const char *table)
{
	bool               enable = options_flag(v, OPTION_ENABLE);
	bool               disable = options_flag(v, OPTION_DISABLE);
	const char        *until_text = options_get(v, OPTION_UNTIL);
	int64_t            until = clock_epoch_s();
	struct probe_table pt;
	enum payrun_exit   rc;

	if (enable + disable + (until_text != NULL) > 1)
	{
		log_error("give one of --enable, --disable and --until");
		return PAYRUN_EXIT_USAGE;
	}
	if (until_text && !timestamp_parse(until_text, strlen(until_text), &until))
	{
		log_error("invalid --until '%s' (want e.g. 2026-11-02T00:00:00Z)", until_text);
		return PAYRUN_EXIT_USAGE;
	}
	if (disable)
		return rollup_disable(db);
	rc = probes_resolve(db, table, options_get_or_default(v, OPTION_PROBE_TIMESTAMP_ZONE), false,
						&pt);
	if (rc != PAYRUN_EXIT_OK)
		return rc;
	return enable ? rollup_enable(db, &pt) : rollup_refresh(db, &pt, until);
}

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
	else if (strcmp(action, "migrate") != 0 && strcmp(action, "indexes") != 0 &&
			 strcmp(action, "rollup") != 0)
	{
		log_error("unknown db action '%s' (want migrate, indexes or rollup)", action);
		rc = PAYRUN_EXIT_USAGE;
	}
	else if (strcmp(action, "rollup") != 0 && (options_flag(&args.values, OPTION_ENABLE) ||
											   options_flag(&args.values, OPTION_DISABLE) ||
											   options_get(&args.values, OPTION_UNTIL)))
	{
		log_error("--enable, --disable and --until go with 'payrun db rollup'");
		rc = PAYRUN_EXIT_USAGE;
	}
	else if (!db_connect(&db, args.values.db, "payrun db"))
		rc = PAYRUN_EXIT_DB;
	else
	{
		const char *table = options_get_or_default(&args.values, OPTION_PROBE_TABLE);

		if (strcmp(action, "rollup") == 0)
			rc = db_rollup(&db, &args.values, table);
		else if (strcmp(action, "migrate") == 0)
			rc = migrate_apply(&db, table, options_flag(&args.values, OPTION_CREATE_PROBE_TABLE));
		else
			rc = migrate_indexes(&db, table);
		db_close(&db);
	}
	cli_args_release(&args);
	return rc;
}
