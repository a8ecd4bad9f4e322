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

#define RUNLOG_NAME "runs.log"

/* Appends entry (a JSON object; "at" is added) to out_dir/runs.log. */
bool runlog_append(const char *out_dir, json_t *entry);

/*
 * Prints the log as a table to out, only the lines of period when it is
 * not NULL.  Returns false (logged) if the log cannot be read.
 */
bool runlog_print(const char *out_dir, const char *period, FILE *out);

#endif
