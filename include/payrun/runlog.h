/*
 * runlog.h: the run log, DIR/runs.log: one JSON line per run of settle,
 * rerun or backfill against an output directory, and one per nightly job
 * run (command "nightly", besides its periods' lines), appended with a single
 * write (O_APPEND), success or not, so an operator can read the history
 * with 'payrun history'.
 */
#ifndef PAYRUN_RUNLOG_H
#define PAYRUN_RUNLOG_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "payrun/exitcode.h"

#define RUNLOG_NAME "runs.log"

/* Appends entry (a JSON object; "at" is added) to out_dir/runs.log. */
bool runlog_append(const char *out_dir, json_t *entry);

/* Called with each entry of the log (a JSON object, borrowed), oldest first; false stops. */
typedef bool (*runlog_fn)(void *arg, json_t *entry);

/*
 * Reads out_dir/runs.log, handing fn each entry; a line that is not a JSON
 * object is skipped with a warning naming its line.  *found says whether
 * the log exists (a missing log has no entries).  Returns PAYRUN_EXIT_OK,
 * _USAGE (out_dir does not exist or is not a directory) or _INTERNAL (the
 * log cannot be read), logged.
 */
enum payrun_exit runlog_read(const char *out_dir, runlog_fn fn, void *arg, bool *found);

/*
 * Prints the log to out, only the entries of period when it is not NULL:
 * as a table, or with json as JSON lines (each entry as runs.log holds it,
 * one compact object per line; no entries, no lines).  Returns what
 * runlog_read does, or _INTERNAL when out cannot be written.
 */
enum payrun_exit runlog_print(const char *out_dir, const char *period, bool json, FILE *out);

#endif
