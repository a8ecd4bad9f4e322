/*
 * migrate.c: schema migrations and indexes (see migrate.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payrun/log.h"
#include "payrun/mem.h"
#include "payrun/migrate.h"
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

enum payrun_exit
migrate_apply(struct db *db)
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
	return PAYRUN_EXIT_OK;
}

enum payrun_exit
migrate_indexes(struct db *db)
{
	/*
	 * CREATE INDEX CONCURRENTLY cannot run inside a transaction block, and
	 * a multi-statement string is one implicit transaction: run the file's
	 * statements one by one (each ends with ';' at the end of a line).
	 */
	char            *text = mem_strdup(sql_indexes);
	char            *start = text;
	int              n = 0;
	enum payrun_exit rc = PAYRUN_EXIT_OK;

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
