/*
 * sink_files.h: the file sink, DIR/LABEL/vN/ with ledger.csv, streams.csv,
 * rejects.csv and manifest.json, published atomically (see publish.h).
 * It also keeps the rejects of the run while the input is read, and
 * preserves them when a run fails.
 */
#ifndef PAYRUN_SINK_FILES_H
#define PAYRUN_SINK_FILES_H

#include <stdbool.h>
#include <stddef.h>

#include "payrun/sink.h"

struct sink *sink_files_create(void);

/* The run's rejects collector, writing into the workspace after prepare. */
struct rejects *sink_files_rejects(struct sink *sink);

/*
 * After a failed run: moves rejects.csv to DIR/LABEL/failed/... and writes
 * its path into path_out.  False if there was nothing to keep.
 */
bool sink_files_keep_rejects(struct sink *sink, char *path_out, size_t path_len);

/* After prepare: the version this run publishes (the files decide it,
 * under the output directory's lock). */
int sink_files_version(struct sink *sink);

/* After prepare: DIR/LABEL/v<latest> written into buf, or NULL if none. */
const char *sink_files_previous_dir(struct sink *sink, char *buf, size_t len);

/* DIR/LABEL/vN, for messages. */
const char *sink_files_path(struct sink *sink);

#endif
