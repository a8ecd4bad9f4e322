/*
 * source_csv_int.h: what source_csv.c shares with source_csv_split.c, the
 * reader of one file on several threads: the record reader (a file's
 * header, its columns, and each record validated and reduced) and the
 * shard (a part's results kept apart until they are added in, in order).
 * Not an interface: the two files are one module.
 */
#ifndef PAYRUN_SOURCE_CSV_INT_H
#define PAYRUN_SOURCE_CSV_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "payrun/csvfield.h"
#include "payrun/csvscan.h"
#include "payrun/source_csv.h"

/* Scratch for one field: an id that unescapes to more than 255 bytes is
 * rejected before unescaping, so 2 * 255 + 2 bytes always suffice. */
#define FIELD_SCRATCH (2 * AGGREGATE_ID_MAX + 2)

enum column
{
	COL_STREAM = 0,
	COL_NODE,
	COL_TYPE,
	COL_SUCCESS,
	COL_TIMESTAMP,
	COL_REQUIRED,          /* the columns above are required */
	COL_ID = COL_REQUIRED, /* required when loading */
	COL_ERROR,             /* optional, loaded when present */
	COL_RESPONSE,          /* optional, loaded when present */
	COL_COUNT
};

/*
 * Valid in-period rows wait in a batch so that their hash slots and
 * entries can be prefetched together: the aggregate lookup is a cache miss
 * per row otherwise, the largest cost of the whole scan.
 */
#define BATCH_ROWS 32

struct pending_row
{
	struct aggregate *agg; /* of the row's period */
	uint64_t          hash;
	uint8_t           stream_len;
	uint8_t           node_len;
	bool              poll;                      /* stats_poll, else spot_check */
	bool              ok;                        /* success */
	char              key[2 * AGGREGATE_ID_MAX]; /* stream then node */
};

struct shard;
struct staged_rows;

struct reader
{
	const char                 *path;
	const struct source_window *win;
	struct rejects             *rejects;
	struct source_counts       *counts;
	struct csvscan             *scan;
	struct shard               *stage;       /* reading files at once: rejects wait here */
	bool                        no_progress; /* another thread draws the progress line */
	bool                        have_header;
	bool                        failed;   /* a fatal error was logged */
	bool                        ids_full; /* the probe ids spread past what idset holds */
	bool   quiet;      /* a part read ahead (source_csv_split.c): log nothing, stop instead */
	size_t max_ranges; /* with quiet: id ranges a part may hold before it stops */
	struct staged_rows *staged; /* with quiet: valid in-period rows wait here, not in aggregates */
	struct idset       *seen;   /* the ids to check against, or NULL */
	uint32_t            ncols;  /* header fields */
	uint32_t            col[COL_COUNT]; /* field index of each column, CSVFIELD_ABSENT if none */
	uint64_t            rows;           /* data rows of this file */
	char                scratch[COL_REQUIRED][FIELD_SCRATCH];
	char                id_scratch[32];
	struct csvfield_buf big[COL_COUNT]; /* for the loaded free-text columns */
	struct pending_row  batch[BATCH_ROWS];
	int                 nbatch;
};

/*
 * Shards: a file (reading files at once) or a part of one (one file on
 * several threads) read into results of its own.
 *
 * Rejects wait in memory in the order they were found, their lines
 * counted from the part's start; a shard whose rejects outgrow
 * STAGE_MAX_BYTES stops keeping them and is read again when its turn comes.
 */
#define STAGE_MAX_BYTES (4 * 1024 * 1024)

struct staged_reject
{
	uint64_t line;
	size_t   raw_off; /* in the shard's raw bytes */
	uint32_t raw_len; /* cut at REJECTS_RECORD_MAX */
	uint8_t  reason;
};

struct shard
{
	const char           *path;
	struct source_window  win;       /* the caller's window, into the arrays below */
	struct aggregate     *aggs;      /* owned, win.nperiods, created on first use */
	uint64_t             *in_period; /* owned, win.nperiods */
	struct coverage      *covers;    /* owned, win.nperiods, when the caller's window has them */
	struct idset          seen;      /* the file's own ids, when the caller checks ids */
	struct source_counts  counts;
	struct source_file    file;
	struct staged_reject *rj; /* owned */
	size_t                nrj;
	size_t                rj_cap;
	char                 *raw; /* owned: the staged records' bytes */
	size_t                raw_len;
	size_t                raw_cap;
	bool                  overflow; /* rejects no longer kept: read it again */
	bool                  reread;   /* holds ids of earlier files: read it again */
	enum payrun_exit      rc;
	bool                  started;
	bool                  done; /* under the pool's lock */
};

/*
 * Valid in-period rows of a part read ahead, waiting until the part is
 * known to be read as the sequential reader would read it: then they go
 * into aggregates (source_csv_split.c), else they are dropped.
 */
struct staged_row
{
	uint64_t hash;    /* aggregate_hash of the key */
	uint32_t key_off; /* in keys: stream then node */
	uint32_t period;  /* index in the window */
	uint8_t  stream_len;
	uint8_t  node_len;
	bool     poll;
	bool     ok;
};

struct staged_rows
{
	struct staged_row *rows; /* owned */
	size_t             nrows;
	size_t             cap;
	char              *keys; /* owned */
	size_t             keys_len;
	size_t             keys_cap;
};

void csv_stage_row(struct staged_rows *st, size_t period, const char *stream, size_t stream_len,
				   const char *node, size_t node_len, bool poll, bool ok);

/* Applies the reader's batched rows to their aggregates. */
void csv_flush_batch(struct reader *r);

/* The scanner's callback: the header first, then each record. */
bool csv_on_record(void *arg, const struct csv_record *rec);

/* Scans buf; false (logged) on an unterminated quote or a callback stop. */
bool csv_scan_buffer(struct reader *r, const char *buf, size_t len, bool eof, size_t *consumed);

/* Keeps a rejected record in the shard (see above). */
void csv_stage_reject(struct shard *sh, uint64_t line, enum reject_reason reason, const char *raw,
					  size_t len);

/* Results of its own for the caller's window; path and the flags are set by the caller. */
void csv_shard_init(struct shard *sh, const struct source_window *win);
void csv_shard_release(struct shard *sh);

/*
 * Adds a shard into the caller's window, counts and rejects, a staged
 * reject's line plus line_base (0 for a whole file).  False (logged) if
 * a probe counter overflowed.
 */
bool csv_shard_merge(struct shard *sh, const struct source_window *win, struct rejects *rejects,
					 struct source_counts *counts, uint64_t line_base);

/*
 * After a file's last read: its statistics into file and the reader's
 * counts, the input closed, a line logged if ok.  PAYRUN_EXIT_OK if ok.
 */
enum payrun_exit csv_file_done(struct reader *r, struct input *in, struct source_file *file,
							   bool ok);

/*
 * Reads one file into r's window as read_file does, with workers threads
 * parsing parts of it of about part_bytes (0: CSV_SPLIT_TARGET) bytes
 * (source_csv_split.c): the same results, rejects order and messages.  r
 * is set up as for read_file.
 */
#define CSV_SPLIT_TARGET (2 * 1024 * 1024) /* a part's bytes, before its cut */

enum payrun_exit csv_read_split(const char *path, const struct input_options *input_opts,
								struct reader *r, struct source_file *file, unsigned workers,
								size_t part_bytes);

/*
 * source_csv_read_file with workers threads (1: read_file) and parts of
 * part_bytes (0: CSV_SPLIT_TARGET); for tests/unit/check_source_split.c.
 */
enum payrun_exit csv_read_one(const char *path, const struct source_window *win,
							  const struct input_options *input_opts, struct rejects *rejects,
							  struct source_counts *counts, struct source_file *file,
							  unsigned workers, size_t part_bytes);

#endif
