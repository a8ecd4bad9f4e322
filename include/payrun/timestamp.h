/*
 * timestamp.h: parsing probe timestamps and formatting UTC instants.
 *
 * Accepted: "YYYY-MM-DD HH:MM:SS" or with 'T', an optional fraction of 1 to
 * 9 digits, an optional zone: Z, +HH, +HHMM, +HH:MM (or '-').  No zone means
 * UTC.  Impossible dates and times (Feb 30, 24:00, 12:60) are rejected, and
 * so are instants an offset moves out of years 1..9999 UTC.
 * Pure: no I/O, no locale, no global state.
 */
#ifndef PAYRUN_TIMESTAMP_H
#define PAYRUN_TIMESTAMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "YYYY-MM-DDTHH:MM:SSZ" plus NUL */
#define TIMESTAMP_FORMAT_LEN 21

/* 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z, in epoch seconds */
#define TIMESTAMP_FIRST INT64_C(-62135596800)
#define TIMESTAMP_LAST  INT64_C(253402300799)

/*
 * Parses s[0..len) into whole seconds since the Unix epoch, UTC.  The
 * fraction is validated and truncated: period bounds are whole seconds, so
 * t >= start and t < end depend on the seconds alone.
 */
bool timestamp_parse(const char *s, size_t len, int64_t *epoch_seconds);

/* Days since 1970-01-01 of a proleptic Gregorian date (no validation). */
int64_t timestamp_days_from_civil(int64_t year, int month, int day);

/* True when year-month-day names a real day, years 1..9999. */
bool timestamp_valid_date(int year, int month, int day);

/* Formats epoch seconds as "YYYY-MM-DDTHH:MM:SSZ" (years 1..9999). */
void timestamp_format(int64_t epoch_seconds, char out[TIMESTAMP_FORMAT_LEN]);

/*
 * A duration of seconds for people: its two largest units, "16d 2h",
 * "3h 5m", "4m 10s", "45s" ("-" and the same for a negative one).
 */
void timestamp_duration_text(int64_t seconds, char *buf, size_t len);

#endif
