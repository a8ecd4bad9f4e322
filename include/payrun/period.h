/*
 * period.h: settlement periods, the half-open UTC interval [start, end).
 * Labels are "YYYY-MM-DD" for day periods and "YYYY-MM-DDTHH" for hours.
 */
#ifndef PAYRUN_PERIOD_H
#define PAYRUN_PERIOD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PERIOD_LABEL_MAX 14 /* "YYYY-MM-DDTHH" plus NUL */

enum period_length
{
	PERIOD_LENGTH_UNSET = 0,
	PERIOD_LENGTH_DAY, /* "1d" */
	PERIOD_LENGTH_HOUR /* "1h" */
};

struct period
{
	enum period_length length;
	int64_t            start;                   /* seconds since the epoch, UTC, inclusive */
	int64_t            end;                     /* seconds since the epoch, UTC, exclusive */
	char               label[PERIOD_LABEL_MAX]; /* canonical label, NUL-terminated */
};

/* "1d" or "1h" (also "day", "hour"); false for anything else. */
bool        period_length_parse(const char *s, enum period_length *out);
const char *period_length_name(enum period_length length);

/*
 * Parses a label.  With length UNSET the label's shape decides; with a
 * length given, the label must have that shape.  On failure writes a
 * human-readable reason into err (lowercase, no trailing period).
 */
bool period_parse(const char *label, enum period_length length, struct period *out, char *err,
				  size_t errlen);

/* The period of the given length that starts at epoch seconds t (aligned). */
bool period_from_start(int64_t t, enum period_length length, struct period *out);

/*
 * The periods of the other length that overlap p: a day's 24 hours, or an
 * hour's day.  Writes up to 24 into out; returns how many.
 */
size_t period_overlapping(const struct period *p, struct period out[24]);

#endif
