/*
 * migrate.h: the payrun schema (sql/migrations/), and the probe table's
 * statistics and indexes (sql/probe_statistics.sql, sql/indexes.sql).
 */
#ifndef PAYRUN_MIGRATE_H
#define PAYRUN_MIGRATE_H

#include <stdbool.h>

#include "payrun/db.h"
#include "payrun/exitcode.h"

/*
 * Applies every migration not yet recorded in payrun_schema_migrations,
 * in order, each in its own transaction under an advisory lock, then (with
 * create_probe_table) creates the probe table named probe_table if absent,
 * and the statistics its settle query needs (sql/probe_statistics.sql) on
 * the probe table as resolved (probes.h: two visible tables of that name
 * stop it, named).  Running it again changes nothing.
 */
enum payrun_exit migrate_apply(struct db *db, const char *probe_table, bool create_probe_table);

/*
 * Creates the indexes of sql/indexes.sql on the probe table, one statement
 * at a time with CREATE INDEX CONCURRENTLY.  On a partitioned table (any
 * depth) they are made that way on each leaf partition, then, the deepest
 * level first, ON ONLY each partitioned table, whose index is attached its
 * partitions' and so becomes valid (docs/partitioning.md).  An index in
 * place is left alone: running it again does nothing, and a partition added
 * since gets the indexes it lacks.  An index left invalid (a concurrent
 * build that failed), a foreign-table partition or a name past 63 bytes
 * stops it before that index, naming the table and what to do.
 */
enum payrun_exit migrate_indexes(struct db *db, const char *probe_table);

#endif
