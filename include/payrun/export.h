/*
 * export.h: rebuilding a version's files from the database, for when the
 * publish step after a database commit was lost.  The ledger and stream
 * totals are read back as stored (not recomputed) and published through
 * the file output like a settlement (output_files.h).
 */
#ifndef PAYRUN_EXPORT_H
#define PAYRUN_EXPORT_H

#include <stdbool.h>

#include "payrun/db.h"
#include "payrun/exitcode.h"
#include "payrun/ledger.h"
#include "payrun/manifest.h"
#include "payrun/period.h"
#include "payrun/pools.h"

/* A version as the database records it: its payout_runs row and its rows. */
struct export_record
{
	bool              found;  /* false: no settled run of that version */
	char              id[24]; /* payout_runs.id */
	struct run_record run;    /* owned: version, settings, counts, totals, timing as stored */
	struct pools      pools;  /* owned: the copy of the pools it kept, if any */
	struct ledger     ledger; /* owned, ids too: payout_ledger and payout_stream_totals, sorted */
};

/*
 * Reads the newest settled run of a period (version 0) or that version,
 * with its rows, in one read-only snapshot (also for 'payrun verify').
 * PAYRUN_EXIT_OK, rec->found saying whether there is one, or _DB
 * (logged; an invalid column or row too).  Release rec either way.
 */
enum payrun_exit export_read(struct db *db, const struct period *period, int version,
							 struct export_record *rec);
void             export_record_release(struct export_record *rec);

/* version 0 = the newest settled version of the period. */
enum payrun_exit export_run(const char *conninfo, const struct period *period, int version,
							const char *out_dir);

#endif
