/*
 * period.c: settlement period labels (see period.h).  Pure.
 */
#include <stdio.h>
#include <string.h>

#include "payrun/period.h"
#include "payrun/timestamp.h"
#include "payrun/banned.h"

bool
period_length_parse(const char *s, enum period_length *out)
{
	if (strcmp(s, "1d") == 0 || strcmp(s, "day") == 0)
		*out = PERIOD_LENGTH_DAY;
	else if (strcmp(s, "1h") == 0 || strcmp(s, "hour") == 0)
		*out = PERIOD_LENGTH_HOUR;
	else
		return false;
	return true;
}

const char *
period_length_name(enum period_length length)
{
	switch (length)
	{
		case PERIOD_LENGTH_DAY:
			return "1d";
		case PERIOD_LENGTH_HOUR:
			return "1h";
		default:
			return "unset";
	}
}

static int
two_digits(const char *s)
{
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
		return -1;
	return (s[0] - '0') * 10 + (s[1] - '0');
}

bool
period_parse(const char *label, enum period_length length, struct period *out, char *err,
			 size_t errlen)
{
	size_t             len = strlen(label);
	enum period_length shape;
	int                year = 0, month, day, hour = 0;

	if (len == 10)
		shape = PERIOD_LENGTH_DAY;
	else if (len == 13 && label[10] == 'T')
		shape = PERIOD_LENGTH_HOUR;
	else
	{
		snprintf(err, errlen, "period label '%s' is not YYYY-MM-DD or YYYY-MM-DDTHH", label);
		return false;
	}
	for (int i = 0; i < 4; i++)
	{
		if (label[i] < '0' || label[i] > '9')
		{
			snprintf(err, errlen, "period label '%s' has a malformed year", label);
			return false;
		}
		year = year * 10 + (label[i] - '0');
	}
	month = two_digits(label + 5);
	day = two_digits(label + 8);
	if (label[4] != '-' || label[7] != '-' || !timestamp_valid_date(year, month, day))
	{
		snprintf(err, errlen, "period label '%s' is not a valid date", label);
		return false;
	}
	if (shape == PERIOD_LENGTH_HOUR)
	{
		hour = two_digits(label + 11);
		if (hour < 0 || hour > 23)
		{
			snprintf(err, errlen, "period label '%s' has an invalid hour", label);
			return false;
		}
	}
	if (length != PERIOD_LENGTH_UNSET && length != shape)
	{
		snprintf(err, errlen, "period label '%s' does not fit period length %s (want %s)", label,
				 period_length_name(length),
				 length == PERIOD_LENGTH_DAY ? "YYYY-MM-DD" : "YYYY-MM-DDTHH");
		return false;
	}
	return period_from_start(
		timestamp_days_from_civil(year, month, day) * 86400 + (int64_t) hour * 3600, shape, out);
}

bool
period_from_start(int64_t t, enum period_length length, struct period *out)
{
	char    ts[TIMESTAMP_FORMAT_LEN];
	int64_t span = length == PERIOD_LENGTH_HOUR ? 3600 : 86400;

	if (length == PERIOD_LENGTH_UNSET || t % span != 0)
		return false;
	out->length = length;
	out->start = t;
	out->end = t + span;
	timestamp_format(t, ts);
	/* ts is "YYYY-MM-DDTHH:MM:SSZ": the label is its first 10 or 13 bytes */
	memcpy(out->label, ts, length == PERIOD_LENGTH_HOUR ? 13 : 10);
	out->label[length == PERIOD_LENGTH_HOUR ? 13 : 10] = '\0';
	return true;
}

size_t
period_overlapping(const struct period *p, struct period out[24])
{
	size_t n = 0;

	if (p->length == PERIOD_LENGTH_HOUR)
		return period_from_start(p->start - (p->start % 86400 + 86400) % 86400, PERIOD_LENGTH_DAY,
								 &out[0])
				   ? 1
				   : 0;
	for (int64_t t = p->start; t < p->end && n < 24; t += 3600)
		n += period_from_start(t, PERIOD_LENGTH_HOUR, &out[n]) ? 1 : 0;
	return n;
}
