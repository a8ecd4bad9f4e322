/*
 * source.h: what every probe source (CSV exports, PostgreSQL) reports:
 * the counts of the rows it read, the files it read, and the reject-ratio
 * check that decides whether a read may be settled or loaded.
 */
#ifndef PAYRUN_SOURCE_H
#define PAYRUN_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "payrun/settings.h"
#include "payrun/sha256.h"

/* rows_read = in_period + out_of_period + rejected + duplicate, in every use. */
struct source_counts
{
	uint64_t rows_read;     /* data rows seen */
	uint64_t in_period;     /* valid rows inside the period (or window) */
	uint64_t out_of_period; /* valid rows outside it */
	uint64_t rejected;      /* invalid rows, kept in rejects.csv */
	uint64_t duplicate;     /* valid rows whose probe id was seen before: counted once */
	uint64_t file_bytes;    /* read from disk */
	uint64_t decoded_bytes; /* after inflating */
};

/* One input file as read. */
struct source_file
{
	const char *path;     /* borrowed from the options */
	const char *kind;     /* "gzip" or "plain" */
	const char *inflater; /* gzip: "isal" or "zlib" (what read it); NULL for plain */
	uint64_t    bytes;    /* file size as read */
	uint64_t    rows;     /* data rows read from it */
	char        sha256[SHA256_HEX_LEN];
};

/*
 * False (logged, with what's name when not NULL and where the rejects were
 * kept, or that they could not be when kept is NULL) when more rows were
 * rejected than the maximum ratio allows.
 */
bool source_reject_ratio_ok(const struct settings_ratio *max, const struct source_counts *c,
							const char *what, const char *kept);

/*
 * Refuses inputs given twice: the same file under two names ("fa.csv" and
 * "./fa.csv"), before anything is read.  Logs naming both; false.
 */
bool source_distinct_paths(const char *const *paths, size_t npaths);

/*
 * Refuses inputs with the same contents (the same SHA-256, once read: a
 * copy of an export given with it).  Logs naming both; false.
 */
bool source_distinct_files(const struct source_file *files, size_t nfiles);

#endif
