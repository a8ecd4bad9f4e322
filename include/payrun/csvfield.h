/*
 * csvfield.h: reading the fields of scanned CSV records (csvscan.h) by
 * name and of any length, as every CSV reader of payrun does: the probe
 * exports, the pools file and a previous version's ledger.
 */
#ifndef PAYRUN_CSVFIELD_H
#define PAYRUN_CSVFIELD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "payrun/csvscan.h"

#define CSVFIELD_ABSENT UINT32_MAX /* a column the header does not have */

/* A growable buffer for unescaped field values; zero-initialise it. */
struct csvfield_buf
{
	char  *data; /* owned */
	size_t cap;
};

/*
 * The value of field i (i < rec->nspans, rec without bad_quote), unescaped
 * into buf, which grows to the longest field seen.
 */
const char *csvfield_value(struct csvfield_buf *buf, const struct csv_record *rec, uint32_t i,
						   size_t *len);

void csvfield_buf_release(struct csvfield_buf *buf);

/*
 * Finds the columns names[0..nnames) in a header record: cols[c] is the
 * field index of names[c], or CSVFIELD_ABSENT.  The first field may start
 * with a UTF-8 byte order mark.  Logs "path:line: ..." and returns false
 * when the header is malformed, has more fields than the scanner kept,
 * names a wanted column twice, or lacks one of names[0..nrequired).  With
 * last_col, sets it to the highest index found.
 */
bool csvfield_match_header(const struct csv_record *rec, const char *path, const char *const *names,
						   size_t nnames, size_t nrequired, uint32_t *cols, uint32_t *last_col);

#endif
