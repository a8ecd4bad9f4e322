/*
 * source_csv.h: the CSV export source.  Streams each file through the
 * record scanner, validates every record (even outside the period),
 * rejects bad ones into the rejects file, counts rows outside the period
 * and reduces the rest into the aggregate.
 */
#ifndef PAYRUN_SOURCE_CSV_H
#define PAYRUN_SOURCE_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "payrun/aggregate.h"
#include "payrun/coverage.h"
#include "payrun/idset.h"
#include "payrun/exitcode.h"
#include "payrun/input.h"
#include "payrun/period.h"
#include "payrun/rejects.h"
#include "payrun/sha256.h"
#include "payrun/source.h"

#define SOURCE_CSV_MAX_RECORD (64 * 1024 * 1024) /* longest record, bytes */
#define SOURCE_CSV_MAX_JOBS   64                 /* files read at once, at most */

/*
 * Where valid rows go.  By default, rows in [start, start + nperiods * span)
 * are counted into the aggregate of their period (one file read once can
 * feed many periods: backfill), and their times into its coverage; rows
 * outside are out_of_period.  With seen, a file with an id column has its
 * ids checked (bad_id) and a probe id seen again (in this file or an
 * earlier one, in file order) is a duplicate, counted once.  With
 * row_fn, every valid row goes to it instead, wherever its timestamp lies
 * (loading exports into the database), and the header must have an id.
 */
struct source_row
{
	const char *id; /* "" when the export has no id column */
	size_t      id_len;
	const char *stream;
	size_t      stream_len;
	const char *node;
	size_t      node_len;
	bool        poll;      /* stats_poll, else spot_check */
	bool        ok;        /* success */
	const char *timestamp; /* as written in the file */
	size_t      timestamp_len;
	const char *error_message; /* NULL when absent */
	size_t      error_message_len;
	const char *response_data; /* NULL when absent */
	size_t      response_data_len;
};

struct source_window
{
	int64_t           start; /* first period's start, epoch seconds */
	int64_t           span;  /* seconds per period */
	size_t            nperiods;
	struct aggregate *aggs;      /* nperiods aggregates */
	uint64_t         *in_period; /* nperiods counters of valid rows */
	struct coverage  *covers;    /* nperiods coverages (1 s slices), or NULL */
	struct idset     *seen;      /* probe ids seen, or NULL: ids not checked */
	bool (*row_fn)(void *arg, const struct source_row *row);
	void *row_arg;
};

/* A window of one period into one aggregate (settle). */
void source_window_single(struct source_window *win, const struct period *period,
						  struct aggregate *agg, uint64_t *in_period, struct coverage *cover,
						  struct idset *seen);

/*
 * Reads every path into the window, as if one after another: up to jobs
 * files at once (0: one per online CPU, at most SOURCE_CSV_MAX_JOBS; with
 * row_fn always one at a time), each by its own reader thread pair, merged
 * in file order, so the aggregates, counts and rejects (in file and line
 * order) are those of a sequential read.  files[] receives one entry per path.  Returns
 * PAYRUN_EXIT_OK, or the status of the first file that failed, in file
 * order: PAYRUN_EXIT_DATA (logged: unreadable, corrupt or truncated file,
 * missing header column, unterminated quote) or what row_fn's failure
 * means (PAYRUN_EXIT_DB).  No file after a failed one is started.
 */
enum payrun_exit source_csv_read(const char *const *paths, size_t npaths,
								 const struct source_window *win,
								 const struct input_options *input_opts, unsigned jobs,
								 struct rejects *rejects, struct source_counts *counts,
								 struct source_file *files);

/* Reads one file; the same as source_csv_read for a single path. */
enum payrun_exit source_csv_read_file(const char *path, const struct source_window *win,
									  const struct input_options *input_opts,
									  struct rejects *rejects, struct source_counts *counts,
									  struct source_file *file);

#endif
