/*
 * settle.h: settling one period, end to end, in explicit steps over one
 * struct settlement (settle.c):
 *
 *   open     the file output's lock and version, the database's agreement
 *            (source pg), a rerun's previous ledger;
 *   read     the pools, then the probes: CSV exports, PostgreSQL, or an
 *            aggregate the caller filled (a backfill reads each file once
 *            for many periods); the reject ratio;
 *   compute  the ledger, the aggregate's digest, a rerun's adjustments;
 *   write    the files, then the database rows, neither visible yet;
 *   publish  the database commits, then the files are renamed into place
 *            (if the files are lost after the commit, 'payrun export'
 *            rebuilds them);
 *   release  whatever was not published is undone; a line goes to
 *            DIR/runs.log whatever the outcome.
 *
 * The policy comes in struct settings, what to settle in the request.
 */
#ifndef PAYRUN_SETTLE_H
#define PAYRUN_SETTLE_H

#include <stdbool.h>
#include <stddef.h>

#include "payrun/aggregate.h"
#include "payrun/coverage.h"
#include "payrun/exitcode.h"
#include "payrun/period.h"
#include "payrun/settings.h"
#include "payrun/source_csv.h"

/* An aggregate the caller read already (backfill); all borrowed. */
struct settle_filled
{
	struct aggregate         *agg;
	struct source_counts      counts; /* of this period's rows */
	const struct coverage    *cover;  /* when its probes were taken */
	const struct source_file *files;
	size_t                    nfiles;
	const char               *note; /* where the rows came from, for the manifest */
};

struct settle_request
{
	struct period               period;
	const char *const          *inputs; /* borrowed: CSV files (source csv, no filled) */
	size_t                      ninputs;
	const struct settle_filled *filled;       /* borrowed, or NULL: read the source */
	bool                        rerun;        /* publish version N+1 with adjustments */
	const char                 *reason;       /* borrowed; required with rerun */
	bool                        dry_run;      /* rerun: print the adjustments, publish nothing */
	bool                        print_report; /* the timing report on stdout */
};

/*
 * Would a first settlement of p be refused?  The checks settle makes before
 * reading, read-only: a version under OUT, an overlapping period settled
 * there, and with source pg the database's record.  PAYRUN_EXIT_OK if not;
 * else the status settle would exit with, having logged why.  Dry runs.
 */
enum payrun_exit settle_check(const struct settings *s, const struct period *p);

/* Settles; returns the process exit status, having logged any failure. */
enum payrun_exit settle_run(const struct settings *s, const struct settle_request *req);

#endif
