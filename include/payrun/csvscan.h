/*
 * csvscan.h: the RFC 4180 record scanner, the fast path for probe exports.
 *
 * Dialect (the same as libcsv with CSV_STRICT and no space trimming, which
 * tests/unit/check_csvscan.c holds it to): comma separator, double quote,
 * "" inside a quoted field for a quote, quoted fields may span lines, CR or
 * LF outside quotes end a record (so CRLF works), empty lines are skipped.
 * Line numbers count LF, CRLF and a lone CR alike as a line end.
 * A quote anywhere else (inside an unquoted field, or text after a closing
 * quote) marks the record bad_quote instead of stopping the scan, so the
 * caller can reject that record and go on.  Such a record is rescanned
 * byte by byte: a quote inside an unquoted field is an ordinary byte there
 * (as in libcsv), so it never swallows the records after it.
 *
 * It works on 64-byte blocks: bit masks of quotes, commas and line ends,
 * quote parity by prefix XOR, then one step per field boundary.
 */
#ifndef PAYRUN_CSVSCAN_H
#define PAYRUN_CSVSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CSVSCAN_PAD 64 /* readable bytes the caller provides past len */

struct csv_span
{
	uint32_t off; /* from the start of the record */
	uint32_t len; /* raw length, quotes included */
};

struct csv_record
{
	const char            *raw;     /* record bytes, not NUL-terminated */
	size_t                 len;     /* without the line end */
	uint64_t               line;    /* 1-based line where the record starts */
	uint32_t               nfields; /* fields in the record */
	uint32_t               nspans;  /* spans filled: min(nfields, span capacity) */
	const struct csv_span *spans;
	bool                   bad_quote; /* a quote where RFC 4180 allows none */
};

/* Called per record; returning false stops the scan. */
typedef bool (*csvscan_fn)(void *arg, const struct csv_record *rec);

enum csvscan_status
{
	CSVSCAN_OK = 0,
	CSVSCAN_STOPPED,           /* the callback returned false */
	CSVSCAN_UNTERMINATED_QUOTE /* end of data inside a quoted field */
};

struct csvscan
{
	struct csv_span *spans;      /* owned, span_cap entries */
	uint32_t         span_cap;   /* field spans kept per record */
	uint64_t         line;       /* line number of the next unscanned byte */
	uint64_t         error_line; /* where an unterminated quote's record began */
	bool             cr_pending; /* the last feed ended with a CR whose LF may follow */
};

void csvscan_init(struct csvscan *scan, uint32_t span_cap);
void csvscan_set_span_cap(struct csvscan *scan, uint32_t span_cap);
void csvscan_release(struct csvscan *scan);

/*
 * Scans buf[0..len), calling fn for each complete record.  buf must have
 * CSVSCAN_PAD readable bytes after len.  *consumed is set to the offset of
 * the first byte of the unfinished record; the caller passes those bytes
 * again, followed by more data, on the next call.  With eof, whatever
 * follows the last line end is the final record.
 */
enum csvscan_status csvscan_feed(struct csvscan *scan, const char *buf, size_t len, bool eof,
								 size_t *consumed, csvscan_fn fn, void *arg);

/* The scanner's builds (csvscan.c); csvscan_feed uses the best the CPU has. */
enum csvscan_impl
{
	CSVSCAN_BASELINE, /* SSE2 on x86-64, portable C elsewhere */
	CSVSCAN_AVX2      /* x86-64 with AVX2, BMI1, BMI2, POPCNT and PCLMUL */
};

/* Whether this CPU can run CSVSCAN_AVX2. */
bool csvscan_have_avx2(void);

/* csvscan_feed with the given build (for tests: CSVSCAN_AVX2 only if csvscan_have_avx2()). */
enum csvscan_status csvscan_feed_with(enum csvscan_impl impl, struct csvscan *scan, const char *buf,
									  size_t len, bool eof, size_t *consumed, csvscan_fn fn,
									  void *arg);

/*
 * The value of field i of a record without bad_quote: unquoted as is;
 * quoted without its quotes and with "" turned into ".  Unescaping writes
 * into scratch, which must hold the span's length.
 */
void csvscan_field(const struct csv_record *rec, uint32_t i, char *scratch, const char **value,
				   size_t *value_len);

#endif
