/*
 * export.h: rebuilding a version's files from the database, for when the
 * publish step after a database commit was lost.  The ledger and stream
 * totals are read back as stored (not recomputed) and published through
 * the file output like a settlement (output_files.h).
 */
#ifndef PAYRUN_EXPORT_H
#define PAYRUN_EXPORT_H

#include "payrun/exitcode.h"
#include "payrun/period.h"

/* version 0 = the newest settled version of the period. */
enum payrun_exit export_run(const char *conninfo, const struct period *period, int version,
							const char *out_dir);

#endif
