/*
 * sink.h: where a settled period goes.  Every sink implements the same
 * three steps, so a run can record to several (files now; PostgreSQL next)
 * and publish them in a fixed order:
 *
 *   prepare  before any input is read: take locks, refuse a period that is
 *            already settled (PAYRUN_EXIT_CONFLICT), set up a workspace;
 *   write    the ledger and its run record, not yet visible;
 *   publish  make it visible atomically.
 *
 * destroy undoes whatever was not published.
 */
#ifndef PAYRUN_SINK_H
#define PAYRUN_SINK_H

#include <stddef.h>

#include "payrun/adjust.h"
#include "payrun/exitcode.h"
#include "payrun/ledger.h"
#include "payrun/rejects.h"
#include "payrun/report.h"
#include "payrun/settings.h"
#include "payrun/source_csv.h"
#include "payrun/timestamp.h"

/* Everything a sink may record about a run; all borrowed. */
struct sink_run
{
	const struct settings *settings;
	int                    version;
	const char            *source_kind;    /* "csv" or "pg" */
	const char            *db_description; /* "host=... dbname=..." (no password), or NULL */
	char                   input_digest[SHA256_HEX_LEN]; /* of the aggregate: source-independent */
	const struct source_file   *files;                   /* csv inputs */
	size_t                      nfiles;
	const struct source_counts *counts;
	const struct rejects       *rejects;
	const struct ledger        *ledger;      /* set once computed */
	const struct adjustments   *adjustments; /* reruns: against the previous version */
	const char                 *note;        /* e.g. how a backfill read the rows, or NULL */
	const struct report        *report;
	char                        started_at[TIMESTAMP_FORMAT_LEN];
	/*
	 * Set by 'payrun export': the run as stored in the database (settings,
	 * counts, totals, timing as JSON); the manifest is built from it rather
	 * than from the fields above.  Borrowed.
	 */
	const void *stored_run; /* json_t * */
};

struct sink;

struct sink_ops
{
	const char *name;
	enum payrun_exit (*prepare)(struct sink *sink, const struct sink_run *run);
	enum payrun_exit (*write)(struct sink *sink, const struct sink_run *run);
	enum payrun_exit (*publish)(struct sink *sink, const struct sink_run *run);
	void (*destroy)(struct sink *sink);
};

struct sink
{
	const struct sink_ops *ops;
};

#endif
