/*
 * timestamp.c: probe timestamp parsing and UTC formatting (see timestamp.h).
 *
 * This is on the per-row hot path: digits are read with fixed offsets, and
 * the day number of the last date seen is cached by the caller-free trick
 * of comparing the 10 date bytes (exports hold one or two dates per file).
 */
#include <stdio.h>
#include <string.h>

#include "payrun/timestamp.h"
#include "payrun/banned.h"

static inline int
digit(char c)
{
	return (unsigned char) c - '0';
}

static inline bool
is_digit(char c)
{
	return (unsigned char) (c - '0') <= 9;
}

/* Reads n digits at s into *out; false if any is not a digit. */
static inline bool
read_digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++)
	{
		if (!is_digit(s[i]))
			return false;
		v = v * 10 + digit(s[i]);
	}
	*out = v;
	return true;
}

bool
timestamp_valid_date(int year, int month, int day)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int              max;

	if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1)
		return false;
	max = mdays[month - 1];
	if (month == 2 && (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)))
		max = 29;
	return day <= max;
}

/*
 * Days from civil: the well-known era-based computation for the proleptic
 * Gregorian calendar (H. Hinnant's public-domain derivation of the formula).
 */
int64_t
timestamp_days_from_civil(int64_t y, int m, int d)
{
	int64_t era;
	int64_t yoe;
	int64_t doy;
	int64_t doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

bool
timestamp_parse(const char *s, size_t len, int64_t *epoch_seconds)
{
	/* one-entry cache of the date part; per thread, as parsing is threaded */
	static _Thread_local char    cached_date[10];
	static _Thread_local int64_t cached_days;
	static _Thread_local bool    cached_valid;
	int                          year, month, day, hour, minute, second;
	int64_t                      days;
	int64_t                      t;
	size_t                       pos;
	int                          offset_seconds = 0;

	/* "YYYY-MM-DD HH:MM:SS" is 19 bytes */
	if (len < 19 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') || s[13] != ':' ||
		s[16] != ':')
		return false;

	if (cached_valid && memcmp(cached_date, s, 10) == 0)
		days = cached_days;
	else
	{
		if (!read_digits(s, 4, &year) || !read_digits(s + 5, 2, &month) ||
			!read_digits(s + 8, 2, &day) || !timestamp_valid_date(year, month, day))
			return false;
		days = timestamp_days_from_civil(year, month, day);
		memcpy(cached_date, s, 10);
		cached_days = days;
		cached_valid = true;
	}

	if (!read_digits(s + 11, 2, &hour) || !read_digits(s + 14, 2, &minute) ||
		!read_digits(s + 17, 2, &second) || hour > 23 || minute > 59 || second > 59)
		return false;

	pos = 19;
	if (pos < len && s[pos] == '.')
	{
		size_t start = ++pos;

		while (pos < len && is_digit(s[pos]))
			pos++;
		if (pos == start || pos - start > 9)
			return false;
	}
	if (pos < len)
	{
		char sign = s[pos];
		int  oh, om = 0;

		if (sign == 'Z')
		{
			if (pos + 1 != len)
				return false;
		}
		else if (sign == '+' || sign == '-')
		{
			size_t      rest = len - pos - 1;
			const char *z = s + pos + 1;

			if (rest == 2)
			{
				if (!read_digits(z, 2, &oh))
					return false;
			}
			else if (rest == 4)
			{
				if (!read_digits(z, 2, &oh) || !read_digits(z + 2, 2, &om))
					return false;
			}
			else if (rest == 5 && z[2] == ':')
			{
				if (!read_digits(z, 2, &oh) || !read_digits(z + 3, 2, &om))
					return false;
			}
			else
				return false;
			/* PostgreSQL's own limit for zone offsets */
			if (oh > 15 || om > 59)
				return false;
			offset_seconds = oh * 3600 + om * 60;
			if (sign == '-')
				offset_seconds = -offset_seconds;
		}
		else
			return false;
	}

	/* local = UTC + offset, so UTC = local - offset */
	t = days * 86400 + hour * 3600 + minute * 60 + second - offset_seconds;
	/* an offset can step out of years 1..9999, which timestamp_format covers */
	if (t < TIMESTAMP_FIRST || t > TIMESTAMP_LAST)
		return false;
	*epoch_seconds = t;
	return true;
}

/* Writes v as exactly n decimal digits (v is in range by construction). */
static void
put_digits(char *out, int v, int n)
{
	for (int i = n - 1; i >= 0; i--)
	{
		out[i] = (char) ('0' + v % 10);
		v /= 10;
	}
}

void
timestamp_format(int64_t t, char out[TIMESTAMP_FORMAT_LEN])
{
	int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	int64_t secs = t - days * 86400;
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int     d = (int) (doy - (153 * mp + 2) / 5 + 1);
	int     m = (int) (mp < 10 ? mp + 3 : mp - 9);
	int64_t y = yoe + era * 400 + (m <= 2);

	put_digits(out, (int) y, 4);
	out[4] = '-';
	put_digits(out + 5, m, 2);
	out[7] = '-';
	put_digits(out + 8, d, 2);
	out[10] = 'T';
	put_digits(out + 11, (int) (secs / 3600), 2);
	out[13] = ':';
	put_digits(out + 14, (int) (secs / 60 % 60), 2);
	out[16] = ':';
	put_digits(out + 17, (int) (secs % 60), 2);
	out[19] = 'Z';
	out[20] = '\0';
}

void
timestamp_duration_text(int64_t seconds, char *buf, size_t len)
{
	static const struct
	{
		int64_t     size;
		const char *unit;
	} units[] = { { 86400, "d" }, { 3600, "h" }, { 60, "m" }, { 1, "s" } };
	const char *sign = seconds < 0 ? "-" : "";
	uint64_t    s = seconds < 0 ? 0 - (uint64_t) seconds : (uint64_t) seconds;

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
	{
		uint64_t big = s / (uint64_t) units[i].size;
		uint64_t rest;

		if (big == 0 && units[i].size > 1)
			continue;
		rest = i + 1 < sizeof(units) / sizeof(units[0])
				   ? (s % (uint64_t) units[i].size) / (uint64_t) units[i + 1].size
				   : 0;
		if (rest > 0)
			snprintf(buf, len, "%s%llu%s %llu%s", sign, (unsigned long long) big, units[i].unit,
					 (unsigned long long) rest, units[i + 1].unit);
		else
			snprintf(buf, len, "%s%llu%s", sign, (unsigned long long) big, units[i].unit);
		return;
	}
}
