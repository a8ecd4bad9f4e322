/*
 * output_files.h: the file output of a settled period, DIR/LABEL/vN/ with
 * ledger.csv, streams.csv, rejects.csv, (reruns) adjustments.csv, the
 * pools it used (pools.csv), the page of the version (report.html,
 * report_html.h) and manifest.json, published atomically (publish.h).  It also collects the
 * run's rejects while the input is read, and keeps them when a run fails.
 *
 *   open     before any input is read: takes the output directory's lock,
 *            refuses a settled period (or, for a next version, an
 *            unsettled one) with PAYRUN_EXIT_CONFLICT, decides the
 *            version, opens the workspace and its rejects.csv;
 *   write    the version's files, not yet visible;
 *   publish  makes them visible atomically;
 *   close    undoes whatever was not published and releases the lock.
 */
#ifndef PAYRUN_OUTPUT_FILES_H
#define PAYRUN_OUTPUT_FILES_H

#include <stdbool.h>
#include <stddef.h>

#include "payrun/adjust.h"
#include "payrun/exitcode.h"
#include "payrun/ledger.h"
#include "payrun/manifest.h"
#include "payrun/pools.h"
#include "payrun/publish.h"
#include "payrun/rejects.h"

struct output_files
{
	struct publish pub;
	bool           begun;    /* publish_begin called: publish_end owed */
	bool           prepared; /* ... and it succeeded */
	struct rejects rejects;
};

/* Takes the lock and a workspace for the version mode picks (publish.h). */
enum payrun_exit output_files_open(struct output_files *of, const char *out_dir, const char *label,
								   enum publish_mode mode, int exact);

/* The run's rejects collector, writing into the workspace. */
struct rejects *output_files_rejects(struct output_files *of);

/* The version this run publishes (the files decide it, under the lock). */
int output_files_version(const struct output_files *of);

/* DIR/LABEL/v<latest> written into buf, or NULL if there is none. */
const char *output_files_previous_dir(const struct output_files *of, char *buf, size_t len);

/*
 * Under the lock: a period of the other length that overlaps p (a day's
 * hours, an hour's day) and has a version here; its label into found.
 * Never follows a symlink at DIR/LABEL.
 */
bool output_files_overlap(const struct output_files *of, const struct period *p, char *found,
						  size_t len);

/* DIR/LABEL/vN, for messages. */
const char *output_files_path(const struct output_files *of);

/*
 * Writes the files of the version: adjustments NULL unless a rerun; pools
 * (NULL, or none: not written) as pools.csv, the copy of the pools it used.
 */
enum payrun_exit output_files_write(struct output_files *of, const struct run_record *run,
									const struct ledger      *ledger,
									const struct adjustments *adjustments,
									const struct pools       *pools);

enum payrun_exit output_files_publish(struct output_files *of);

/*
 * After a failed run: moves rejects.csv to DIR/LABEL/failed/... and writes
 * its path into path_out.  False if there was nothing to keep.
 */
bool output_files_keep_rejects(struct output_files *of, char *path_out, size_t path_len);

void output_files_close(struct output_files *of);

#endif
