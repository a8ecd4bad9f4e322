/*
 * migrate.c: schema migrations and indexes (see migrate.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payrun/log.h"
#include "payrun/mem.h"
#include "payrun/migrate.h"
#include "payrun/probes.h"
#include "payrun/sql.h"
#include "payrun/banned.h"

static bool
apply_one(struct db *db, const struct sql_migration *m, bool *applied)
{
	char            version[16];
	const char     *params[2] = { version, m->name };
	struct db_value present = { .type = DB_VALUE_TEXT };
	struct db_value ignored = { .type = DB_VALUE_TEXT };

	snprintf(version, sizeof(version), "%d", m->version);
	*applied = false;
	if (!db_begin(db, "migrate", NULL))
		return false;
	if (!db_query_value(db, "migrate", "migration_lock", sql_migration_lock, 0, NULL, &ignored) ||
		!db_exec(db, "migrate", "migrations_table", sql_migrations_table) ||
		!db_query_value(db, "migrate", "migration_applied", sql_migration_applied, 1, params,
						&present))
		goto fail;
	if (present.found)
		return db_commit(db, "migrate");
	if (!db_exec(db, "migrate", m->name, m->text) ||
		!db_query_value(db, "migrate", "migration_record", sql_migration_record, 2, params,
						&ignored) ||
		!db_commit(db, "migrate"))
		goto fail;
	*applied = true;
	return true;

fail:
	db_rollback(db, "migrate");
	return false;
}

/* Runs one DO block of sql/ with payrun.probe_table set, in its own transaction. */
static bool
probe_block(struct db *db, const char *step, const char *name, const char *sql,
			const char *probe_table)
{
	const char     *params[1] = { probe_table };
	struct db_value ignored = { .type = DB_VALUE_TEXT };

	if (db_begin(db, step, NULL) &&
		db_query_value(db, step, "probe_setting", sql_probe_setting, 1, params, &ignored) &&
		db_exec(db, step, name, sql) && db_commit(db, step))
		return true;
	db_rollback(db, step);
	return false;
}

/* After the migrations: the probe table (if asked for) and its statistics. */
static enum payrun_exit
migrate_probe_table(struct db *db, const char *probe_table, bool create)
{
	struct probe_table pt;
	enum payrun_exit   rc;

	if (create)
	{
		if (!probe_block(db, "create probe table", "probe_table_create", sql_probe_table_create,
						 probe_table))
			return PAYRUN_EXIT_DB;
		log_notice("probe table %s is there (--create-probe-table)", probe_table);
	}
	rc = probes_resolve(db, probe_table, NULL, true, &pt);
	if (rc != PAYRUN_EXIT_OK)
		return rc;
	if (pt.qualified[0] == '\0')
	{
		log_warning("the statistics the settle query needs are not created; run 'payrun db "
					"migrate' again once the probe table exists (or add --create-probe-table)");
		return PAYRUN_EXIT_OK;
	}
	if (!probe_block(db, "probe statistics", "probe_statistics", sql_probe_statistics,
					 pt.qualified))
		return PAYRUN_EXIT_DB;
	log_info("statistics of %s are in place (or their statements were given above)", pt.shown);
	return PAYRUN_EXIT_OK;
}

enum payrun_exit
migrate_apply(struct db *db, const char *probe_table, bool create_probe_table)
{
	int applied = 0;
	int latest = 0;

	for (const struct sql_migration *m = sql_migrations; m->name != NULL; m++)
	{
		bool done;

		if (!apply_one(db, m, &done))
		{
			log_error("migration %s failed; the schema stays at the last applied version", m->name);
			return PAYRUN_EXIT_DB;
		}
		if (done)
		{
			log_notice("applied migration %s", m->name);
			applied++;
		}
		latest = m->version;
	}
	if (applied == 0)
		log_notice("schema is up to date (version %d); nothing applied", latest);
	else
		log_notice("schema is at version %d (%d migration(s) applied)", latest, applied);
	return migrate_probe_table(db, probe_table, create_probe_table);
}

enum payrun_exit
migrate_indexes(struct db *db, const char *probe_table)
{
	/*
	 * CREATE INDEX CONCURRENTLY cannot run inside a transaction block, and
	 * a multi-statement string is one implicit transaction: run the file's
	 * statements one by one (each ends with ';' at the end of a line).
	 */
	struct probe_table pt;
	char              *text;
	char              *start;
	int                n = 0;
	enum payrun_exit   rc = probes_resolve(db, probe_table, NULL, false, &pt);

	if (rc != PAYRUN_EXIT_OK)
		return rc;
	text = probes_sql(&pt, sql_indexes);
	start = text;
	for (char *p = text; *p; p++)
	{
		char name[32];

		if (!(*p == ';' && (p[1] == '\n' || p[1] == '\0')))
			continue;
		*p = '\0';
		snprintf(name, sizeof(name), "indexes.sql #%d", ++n);
		log_info("creating index (%s)", name);
		if (!db_exec(db, "indexes", name, start))
		{
			rc = PAYRUN_EXIT_DB;
			break;
		}
		start = p + 1;
	}
	free(text);
	if (rc == PAYRUN_EXIT_OK)
		log_notice("%d index statement(s) applied from sql/indexes.sql", n);
	return rc;
}
