/*
 * rollup.h: 'payrun db rollup': hourly rollups of the probe table, kept
 * current by an invalidation log (docs/postgresql.md, "Rollups").
 *
 *   enable   the triggers that log which hours a statement changed
 *            (sql/rollup_enable.sql) and the state row, in one transaction;
 *   disable  the triggers go, the rollups and the log are emptied;
 *   refresh  rolls up the closed hours past the watermark (up to --until),
 *            then every hour a change was logged for, each hour in its own
 *            transaction, then sums each UTC day whose 24 hours are rolled
 *            up into daily rollups.  One refresh at a time (a session
 *            advisory lock); settles read in their own snapshot meanwhile.
 *
 * The rollups are of one probe table, as resolved, with the zone of its
 * timestamp without time zone; a refresh with another one is refused.
 */
#ifndef PAYRUN_ROLLUP_H
#define PAYRUN_ROLLUP_H

#include <stdbool.h>
#include <stdint.h>

#include "payrun/db.h"
#include "payrun/exitcode.h"
#include "payrun/probes.h"

/* PAYRUN_EXIT_OK, _USAGE (rollups of another table, no schema) or _DB. */
enum payrun_exit rollup_enable(struct db *db, const struct probe_table *pt);

/* PAYRUN_EXIT_OK (also when not enabled: said so) or _DB. */
enum payrun_exit rollup_disable(struct db *db);

/*
 * Rolls up to until (epoch seconds, rounded down to the hour; never past
 * the current hour, which is not closed).  PAYRUN_EXIT_OK, _USAGE (not
 * enabled, or for another table or zone), _CONFLICT (another refresh
 * runs), _DB, or a signal's status between hours.
 */
enum payrun_exit rollup_refresh(struct db *db, const struct probe_table *pt, int64_t until);

#endif
