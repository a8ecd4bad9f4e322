/*
 * rejects.h: rejected input records, kept and counted.  Each goes to
 * rejects.csv as file,line,reason,record (the raw record cut at 1 KiB).
 */
#ifndef PAYRUN_REJECTS_H
#define PAYRUN_REJECTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "payrun/outfile.h"

#define REJECTS_RECORD_MAX 1024

enum reject_reason
{
	REJECT_FIELD_COUNT = 0,
	REJECT_BAD_QUOTE,
	REJECT_EMPTY_STREAM_ID,
	REJECT_EMPTY_NODE_ID,
	REJECT_STREAM_ID_TOO_LONG,
	REJECT_NODE_ID_TOO_LONG,
	REJECT_BAD_PROBE_TYPE,
	REJECT_BAD_SUCCESS,
	REJECT_BAD_TIMESTAMP,
	REJECT_BAD_ID, /* loading: the probe id is not an integer */
	REJECT_REASON_COUNT
};

struct rejects
{
	struct outfile file;
	bool           open;
	uint64_t       total;
	uint64_t       by_reason[REJECT_REASON_COUNT];
};

/* The reason code as written to rejects.csv and the manifest. */
const char *rejects_reason_name(enum reject_reason reason);

/* Creates rejects.csv in dirfd and writes its header. */
bool rejects_open(struct rejects *rj, int dirfd, const char *name);
void rejects_add(struct rejects *rj, const char *file, uint64_t line, enum reject_reason reason,
				 const char *raw, size_t raw_len);
/* One line standing for rows rejected rows (the PostgreSQL source groups them). */
void rejects_add_rows(struct rejects *rj, const char *file, uint64_t line,
					  enum reject_reason reason, const char *raw, size_t raw_len, uint64_t rows);
/* Adds the counts of another collector (a per-file one) into rj. */
void rejects_count_merge(struct rejects *rj, const struct rejects *other);
bool rejects_close(struct rejects *rj);
void rejects_discard(struct rejects *rj);

#endif
