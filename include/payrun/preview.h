/*
 * preview.h: 'payrun preview': the earnings of a period so far, from
 * PostgreSQL, with the settle read (rollups for the hours they hold, the
 * probes for the rest: source_pg.h) and the same payout math (ledger.h),
 * printed as a table or one JSON object.  The period may still be open.
 * Nothing is written: no file, no database row, no lock; the refusal
 * checks of a settle are not made.  This is the coordinator's dashboard
 * use.
 */
#ifndef PAYRUN_PREVIEW_H
#define PAYRUN_PREVIEW_H

#include <stdbool.h>

#include "payrun/exitcode.h"
#include "payrun/period.h"
#include "payrun/settings.h"

/* Previews p (s->source is SOURCE_PG); json: one object on stdout. */
enum payrun_exit preview_run(const struct settings *s, const struct period *p, bool json);

#endif
