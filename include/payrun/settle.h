/*
 * settle.h: settling one period from CSV exports, end to end:
 * sinks prepared -> pools -> read and reduce -> reject ratio -> ledger ->
 * sinks written -> sinks published -> report.
 */
#ifndef PAYRUN_SETTLE_H
#define PAYRUN_SETTLE_H

#include <stdbool.h>

#include "payrun/exitcode.h"
#include "payrun/settings.h"

#include "payrun/aggregate.h"
#include "payrun/source_csv.h"

/* Settles; returns the process exit status, having logged any failure. */
enum payrun_exit settle_run(const struct settings *s, bool print_report);

/*
 * Settles from an aggregate the caller filled (a backfill reads each file
 * once for many periods): the same sinks, pools, payout math, publication
 * and run log as settle_run, with counts describing this period's rows and
 * note (borrowed) saying where the rows came from.
 */
enum payrun_exit settle_aggregate(const struct settings *s, struct aggregate *agg,
								  const struct source_counts *counts,
								  const struct source_file *files, size_t nfiles, const char *note);

#endif
