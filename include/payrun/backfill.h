/*
 * backfill.h: history from exports.
 *
 * Settling (--settle) settles every period of a range that has no version
 * yet, straight from the files, reading each file once however many
 * periods it spans (one aggregate per period); each period is its own
 * publication (settle.h, with a filled aggregate).
 *
 * Loading (--into-db) loads exports into probe_results: each file through
 * COPY into a staging table and an insert that skips probe ids already
 * present, in one transaction per file, recorded by content (SHA-256) in
 * payout_backfill_files so a file loaded once is never loaded again.
 *
 * Both apply settle's input rules: rejects kept (DIR/backfill/<stamp>/) and
 * counted, the reject ratio, a corrupt file named and nothing published or
 * committed for it.
 */
#ifndef PAYRUN_BACKFILL_H
#define PAYRUN_BACKFILL_H

#include <stdbool.h>
#include <stddef.h>

#include "payrun/exitcode.h"
#include "payrun/period.h"
#include "payrun/settings.h"

struct backfill_request
{
	const char *const *patterns; /* borrowed: input glob patterns */
	size_t             npatterns;
	bool               into_db; /* load, else settle from .. to */
	struct period      from;
	struct period      to;
	bool               dry_run; /* list the files, do nothing */
};

/* Expands the patterns and settles or loads; logs any failure. */
enum payrun_exit backfill_run(const struct settings *s, const struct backfill_request *req);

#endif
