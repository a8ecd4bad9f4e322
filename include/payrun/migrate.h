/*
 * migrate.h: the payrun schema (sql/migrations/) and the probe_results
 * indexes (sql/indexes.sql).
 */
#ifndef PAYRUN_MIGRATE_H
#define PAYRUN_MIGRATE_H

#include "payrun/db.h"
#include "payrun/exitcode.h"

/*
 * Applies every migration not yet recorded in payrun_schema_migrations,
 * in order, each in its own transaction under an advisory lock.  Running
 * it again is a no-op.
 */
enum payrun_exit migrate_apply(struct db *db);

/* Creates the indexes of sql/indexes.sql, one statement at a time. */
enum payrun_exit migrate_indexes(struct db *db);

#endif
