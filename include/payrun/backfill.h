/*
 * backfill.h: history from exports.
 *
 * backfill_settle settles every period of a range that has no version yet,
 * straight from the files, reading each file once however many periods it
 * spans (one aggregate per period); each period is its own publication.
 *
 * backfill_load loads exports into probe_results: each file through COPY
 * into a staging table and an insert that skips probe ids already present,
 * in one transaction per file, recorded by content (SHA-256) in
 * payout_backfill_files so a file loaded once is never loaded again.
 *
 * Both apply settle's input rules: rejects kept (DIR/backfill/<stamp>/) and
 * counted, the reject ratio, a corrupt file named and nothing published or
 * committed for it.
 */
#ifndef PAYRUN_BACKFILL_H
#define PAYRUN_BACKFILL_H

#include "payrun/exitcode.h"
#include "payrun/paths.h"
#include "payrun/period.h"
#include "payrun/settings.h"

enum payrun_exit backfill_settle(const struct settings *s, const struct paths *files,
								 const struct period *from, const struct period *to);

enum payrun_exit backfill_load(const struct settings *s, const struct paths *files);

#endif
