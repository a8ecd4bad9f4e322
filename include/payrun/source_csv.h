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
#include "payrun/exitcode.h"
#include "payrun/input.h"
#include "payrun/period.h"
#include "payrun/rejects.h"
#include "payrun/sha256.h"

#define SOURCE_CSV_MAX_RECORD (64 * 1024 * 1024)	/* longest record, bytes */

struct source_counts
{
	uint64_t	rows_read;		/* = in_period + out_of_period + rejected */
	uint64_t	in_period;
	uint64_t	out_of_period;
	uint64_t	rejected;
	uint64_t	file_bytes;		/* read from disk */
	uint64_t	decoded_bytes;	/* after inflating */
};

struct source_file
{
	const char *path;			/* borrowed from the options */
	const char *kind;			/* "gzip" or "plain" */
	uint64_t	bytes;			/* file size as read */
	uint64_t	rows;			/* data rows read from it */
	char		sha256[SHA256_HEX_LEN];
};

/*
 * Reads every path in order into agg.  files[] receives one entry per
 * path.  Returns PAYRUN_EXIT_OK or PAYRUN_EXIT_DATA (logged: unreadable,
 * corrupt or truncated file, missing header column, unterminated quote).
 */
enum payrun_exit source_csv_read(const char *const *paths, size_t npaths,
								 const struct period *period,
								 const struct input_limits *limits,
								 struct aggregate *agg, struct rejects *rejects,
								 struct source_counts *counts,
								 struct source_file *files);

#endif
