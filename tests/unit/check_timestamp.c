/*
 * check_timestamp.c: unit tests of timestamp.h (parsing, calendar, format).
 *
 * Expected epoch values are worked out by hand in the comments from a few
 * anchors (1970-01-01 = day 0, 30 * 365 + 7 leap days = 10957 for
 * 2000-01-01, 2024-01-01 = day 19723) and cross-checked against glibc's
 * timegm()/gmtime_r(), an implementation independent of ours.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "payrun/timestamp.h"

/*
 * Day numbers used below:
 *   2024-01-01 = 19723 (1704067200 / 86400)
 *   2025-01-01 = 19723 + 366 = 20089
 *   2026-01-01 = 20089 + 365 = 20454
 *   2026-11-01 = 20454 + (31+28+31+30+31+30+31+31+30+31 = 304) = 20758
 *                -> 20758 * 86400 = 1793491200
 *   2026-12-31 = 20758 + 30 + 30 = 20818; 2027-01-01 = 20819
 */
#define T_2026_11_01 INT64_C(1793491200)
#define T_2027_01_01 INT64_C(1798761600) /* 20819 * 86400 */

/*
 * ck_assert_msg() reports every passing check to the Check runner (a pipe
 * write per call in fork mode); loops that check millions of values use
 * this instead, which reports failures only.
 */
#define require(cond, ...)                                                                         \
	do                                                                                             \
	{                                                                                              \
		if (!(cond))                                                                               \
			ck_abort_msg(__VA_ARGS__);                                                             \
	} while (0)

/* splitmix64: a small deterministic generator for the property tests */
static uint64_t
next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static bool
parse_str(const char *s, int64_t *t)
{
	return timestamp_parse(s, strlen(s), t);
}

/* ---- days_from_civil and valid_date ---- */

START_TEST(test_days_from_civil_known)
{
	/* the epoch itself */
	ck_assert_int_eq(timestamp_days_from_civil(1970, 1, 1), 0);
	ck_assert_int_eq(timestamp_days_from_civil(1970, 1, 2), 1);
	ck_assert_int_eq(timestamp_days_from_civil(1969, 12, 31), -1);
	/* 1970..1999: 30 * 365 + 7 leap days (72 76 80 84 88 92 96) */
	ck_assert_int_eq(timestamp_days_from_civil(2000, 1, 1), 10957);
	/* 2000 is a leap year (divisible by 400): Jan 31 + Feb 29 */
	ck_assert_int_eq(timestamp_days_from_civil(2000, 2, 29), 10957 + 31 + 28);
	ck_assert_int_eq(timestamp_days_from_civil(2000, 3, 1), 10957 + 31 + 29);
	ck_assert_int_eq(timestamp_days_from_civil(2024, 1, 1), 19723);
	ck_assert_int_eq(timestamp_days_from_civil(2024, 2, 29), 19723 + 31 + 28);
	ck_assert_int_eq(timestamp_days_from_civil(2026, 11, 1), 20758);
	ck_assert_int_eq(timestamp_days_from_civil(2027, 1, 1), 20819);

	/*
	 * 1900 is not a leap year.  1900..1969: 70 * 365 + 17 leap days
	 * (1904..1968) = 25567, so 1900-03-01 = -25567 + 31 + 28.
	 */
	ck_assert_int_eq(timestamp_days_from_civil(1900, 1, 1), -25567);
	ck_assert_int_eq(timestamp_days_from_civil(1900, 3, 1), -25567 + 31 + 28);

	/*
	 * 0001-01-01: 1969 years of 365 days plus 1969/4 - 1969/100 + 1969/400
	 * = 492 - 19 + 4 = 477 leap days: 718685 + 477 = 719162 days before.
	 */
	ck_assert_int_eq(timestamp_days_from_civil(1, 1, 1), -719162);

	/*
	 * 10000-01-01: 9999 * 365 + (2499 - 99 + 24) = 3652059 days after
	 * 0001-01-01, i.e. 3652059 - 719162 = 2932897; the day before is the
	 * last valid one.
	 */
	ck_assert_int_eq(timestamp_days_from_civil(9999, 12, 31), 2932896);
}
END_TEST

/* Every day of years 1..9999 is one more than the previous one. */
START_TEST(test_days_from_civil_consecutive)
{
	int64_t prev = timestamp_days_from_civil(1, 1, 1) - 1;
	int64_t ndays = 0;

	for (int y = 1; y <= 9999; y++)
		for (int m = 1; m <= 12; m++)
			for (int d = 1; d <= 31; d++)
			{
				int64_t cur;

				if (!timestamp_valid_date(y, m, d))
					continue;
				cur = timestamp_days_from_civil(y, m, d);
				require(cur == prev + 1, "%04d-%02d-%02d: %lld after %lld", y, m, d,
						(long long) cur, (long long) prev);
				prev = cur;
				ndays++;
			}
	/* 9999 years of 365 days plus 2424 leap days (see above) */
	ck_assert_int_eq(ndays, 3652059);
}
END_TEST

/* days_from_civil agrees with glibc's timegm on every day 1900..2200. */
START_TEST(test_days_from_civil_vs_timegm)
{
	for (int y = 1900; y <= 2200; y++)
		for (int m = 1; m <= 12; m++)
			for (int d = 1; d <= 31; d++)
			{
				struct tm tm;

				if (!timestamp_valid_date(y, m, d))
					continue;
				memset(&tm, 0, sizeof(tm));
				tm.tm_year = y - 1900;
				tm.tm_mon = m - 1;
				tm.tm_mday = d;
				require(timestamp_days_from_civil(y, m, d) * 86400 == (int64_t) timegm(&tm),
						"%04d-%02d-%02d disagrees with timegm", y, m, d);
			}
}
END_TEST

START_TEST(test_valid_date)
{
	ck_assert(timestamp_valid_date(2026, 1, 31));
	ck_assert(!timestamp_valid_date(2026, 1, 32));
	ck_assert(timestamp_valid_date(2026, 2, 28));
	ck_assert(!timestamp_valid_date(2026, 2, 29)); /* 2026 % 4 != 0 */
	ck_assert(timestamp_valid_date(2024, 2, 29));  /* 2024 % 4 == 0 */
	ck_assert(!timestamp_valid_date(2024, 2, 30));
	ck_assert(!timestamp_valid_date(1900, 2, 29)); /* % 100 == 0 */
	ck_assert(timestamp_valid_date(2000, 2, 29));  /* % 400 == 0 */
	ck_assert(!timestamp_valid_date(2026, 4, 31)); /* 30 days hath April */
	ck_assert(timestamp_valid_date(2026, 12, 31));
	ck_assert(!timestamp_valid_date(2026, 13, 1));
	ck_assert(!timestamp_valid_date(2026, 0, 1));
	ck_assert(!timestamp_valid_date(2026, 1, 0));
	ck_assert(!timestamp_valid_date(2026, -1, 1));
	ck_assert(!timestamp_valid_date(0, 1, 1));
	ck_assert(timestamp_valid_date(1, 1, 1));
	ck_assert(timestamp_valid_date(9999, 12, 31));
	ck_assert(!timestamp_valid_date(10000, 1, 1));
}
END_TEST

/* ---- timestamp_parse: accepted shapes ---- */

struct accept_case
{
	const char *text;
	int64_t     want;
	const char *why;
};

/* 12:34:56 is 12 * 3600 + 34 * 60 + 56 = 45296 s into the day. */
static const struct accept_case accept_cases[] = {
	{ "2026-11-01 00:00:00", T_2026_11_01, "space separator" },
	{ "2026-11-01T00:00:00", T_2026_11_01, "T separator" },
	{ "2026-11-01 12:34:56", T_2026_11_01 + 45296, "time of day" },
	{ "2026-11-01 12:34:56.5", T_2026_11_01 + 45296, "1-digit fraction truncated" },
	{ "2026-11-01 12:34:56.999999999", T_2026_11_01 + 45296, "9-digit fraction truncated" },
	{ "2026-11-01 12:34:56.000001", T_2026_11_01 + 45296, "6-digit fraction" },
	{ "2026-11-01 12:34:56Z", T_2026_11_01 + 45296, "Z" },
	{ "2026-11-01T12:34:56.123Z", T_2026_11_01 + 45296, "fraction and Z" },
	{ "2026-11-01 12:34:56+00", T_2026_11_01 + 45296, "+00" },
	{ "2026-11-01 12:34:56-00:00", T_2026_11_01 + 45296, "-00:00" },
	/* local = UTC + offset, so UTC = local - offset */
	{ "2026-11-01 12:34:56+02", T_2026_11_01 + 45296 - 7200, "+HH" },
	{ "2026-11-01 12:34:56+0230", T_2026_11_01 + 45296 - 9000, "+HHMM" },
	{ "2026-11-01 12:34:56+02:30", T_2026_11_01 + 45296 - 9000, "+HH:MM" },
	{ "2026-11-01 12:34:56-05", T_2026_11_01 + 45296 + 18000, "-HH" },
	{ "2026-11-01 12:34:56-0530", T_2026_11_01 + 45296 + 19800, "-HHMM" },
	{ "2026-11-01 12:34:56.25-05:30", T_2026_11_01 + 45296 + 19800, "fraction and -HH:MM" },
	/* 15:59 = 57540 s, the largest offset accepted */
	{ "2026-11-01 12:34:56+15:59", T_2026_11_01 + 45296 - 57540, "+15:59" },
	{ "2026-11-01 12:34:56-1559", T_2026_11_01 + 45296 + 57540, "-1559" },
	/* 00:30 at +01 is 23:30 UTC the day before */
	{ "2026-11-01 00:30:00+01", T_2026_11_01 - 1800, "offset crosses midnight back" },
	/* 23:59:59 at -01 on Dec 31 is 00:59:59 UTC on the next year's Jan 1 */
	{ "2026-12-31 23:59:59-01", T_2027_01_01 + 3599, "offset crosses the year" },
	/* day 19723 + 31 + 28 = 19782, 19782 * 86400 */
	{ "2024-02-29 00:00:00", INT64_C(1709164800), "leap day" },
	/* day 10957 + 59 = 11016 */
	{ "2000-02-29T23:59:59", INT64_C(951782400) + 86399, "leap day of a 400 year" },
	{ "1970-01-01 00:00:00", 0, "the epoch" },
	{ "1969-12-31 23:59:59", -1, "before the epoch" },
	{ "1970-01-01 00:00:00+01", -3600, "offset before the epoch" },
	/* -719162 * 86400 */
	{ "0001-01-01 00:00:00", INT64_C(-62135596800), "first valid day" },
	/* 2932896 * 86400 + 86399 */
	{ "9999-12-31 23:59:59", INT64_C(253402300799), "last valid second" },
};

START_TEST(test_parse_accepts)
{
	const struct accept_case *c = &accept_cases[_i];
	int64_t                   t = INT64_MIN;

	ck_assert_msg(parse_str(c->text, &t), "'%s' (%s) rejected", c->text, c->why);
	ck_assert_msg(t == c->want, "'%s' (%s): got %lld, want %lld", c->text, c->why, (long long) t,
				  (long long) c->want);
}
END_TEST

/* ---- timestamp_parse: rejections ---- */

static const char *const reject_cases[] = {
	"2026-02-29 00:00:00", /* 2026 is not a leap year */
	"2024-02-30 00:00:00",
	"1900-02-29 00:00:00", /* divisible by 100, not by 400 */
	"2026-04-31 00:00:00",
	"2026-13-01 00:00:00",
	"2026-00-10 00:00:00",
	"2026-01-00 00:00:00",
	"2026-01-32 00:00:00",
	"0000-01-01 00:00:00", /* year 0 */
	"2026-11-01 24:00:00",
	"2026-11-01 12:60:00",
	"2026-11-01 12:00:60", /* no leap seconds */
	"2026-11-01 99:99:99",
	"2026-11-01 12:00:00.1234567890", /* 10 fraction digits */
	"2026-11-01 12:00:00.",           /* fraction without digits */
	"2026-11-01 12:00:00.5.5",
	"2026-11-01 12:00:00x", /* junk after */
	"2026-11-01 12:00:00 ",
	"2026-11-01 12:00:00Z ",
	"2026-11-01 12:00:00Zx",
	"2026-11-01 12:00:00z", /* lowercase zone */
	"2026-11-01 12:00:00+02:00Z",
	"2026-11-01 12:00:00 +02",
	"2026-11-01 12:00:0", /* too short */
	"2026-11-01 12:00",
	"2026-11-01",
	"",
	"2026-11-01 12:00:00+16", /* offset hour 16 */
	"2026-11-01 12:00:00-16:00",
	"2026-11-01 12:00:00+1600",
	"2026-11-01 12:00:00+02:60", /* offset minute 60 */
	"2026-11-01 12:00:00+2",
	"2026-11-01 12:00:00+020",
	"2026-11-01 12:00:00+02:3",
	"2026-11-01 12:00:00+02:300",
	"2026-11-01 12:00:00+02-30",
	"2026-11-01 12:00:00+",
	"2026-11-01 12:00:00+ab",
	"2026-11-01X12:00:00",
	"2026-11-01t12:00:00",
	"2026/11/01 12:00:00",
	"2026-11-01 12-00-00",
	"2026-11-01 1a:00:00",
	"2026-1a-01 12:00:00",
	"202a-11-01 12:00:00",
	" 2026-11-01 12:00:00",
	"+026-11-01 12:00:00",
	"2026-11-01 -1:00:00",
	"2026-11-01 12:00:00.12a",
};

START_TEST(test_parse_rejects)
{
	const char *text = reject_cases[_i];
	int64_t     t = 12345;

	ck_assert_msg(!parse_str(text, &t), "'%s' accepted as %lld", text, (long long) t);
}
END_TEST

/* The parser reads s[0..len) and nothing else. */
START_TEST(test_parse_honors_len)
{
	const char *s = "2026-11-01 12:34:56Zjunk";
	int64_t     t = 0;

	ck_assert(timestamp_parse(s, 20, &t)); /* up to and including Z */
	ck_assert_int_eq(t, T_2026_11_01 + 45296);
	ck_assert(timestamp_parse(s, 19, &t)); /* no zone */
	ck_assert_int_eq(t, T_2026_11_01 + 45296);
	ck_assert(!timestamp_parse(s, 18, &t));
	ck_assert(!timestamp_parse(s, 21, &t)); /* "Zj" */
	ck_assert(!timestamp_parse(s, strlen(s), &t));
}
END_TEST

/*
 * The date part is cached between calls: alternating dates, and a bad date
 * right after a good one with the same time, must each be parsed afresh.
 */
START_TEST(test_parse_date_cache)
{
	int64_t t = 0;

	for (int round = 0; round < 3; round++)
	{
		ck_assert(parse_str("2026-11-01 00:00:01", &t));
		ck_assert_int_eq(t, T_2026_11_01 + 1);
		ck_assert(parse_str("2026-11-01 00:00:02", &t));
		ck_assert_int_eq(t, T_2026_11_01 + 2);
		ck_assert(parse_str("2024-02-29 00:00:00", &t));
		ck_assert_int_eq(t, INT64_C(1709164800));
		ck_assert(!parse_str("2026-02-29 00:00:00", &t));
		ck_assert(!parse_str("2026-11-01 24:00:00", &t)); /* cached date, bad hour */
		ck_assert(parse_str("2026-11-01T00:00:00", &t));
		ck_assert_int_eq(t, T_2026_11_01);
	}
}
END_TEST

/* ---- timestamp_format ---- */

START_TEST(test_format_known)
{
	char out[TIMESTAMP_FORMAT_LEN];

	timestamp_format(0, out);
	ck_assert_str_eq(out, "1970-01-01T00:00:00Z");
	timestamp_format(-1, out);
	ck_assert_str_eq(out, "1969-12-31T23:59:59Z");
	timestamp_format(T_2026_11_01 + 45296, out);
	ck_assert_str_eq(out, "2026-11-01T12:34:56Z");
	timestamp_format(T_2027_01_01 - 1, out);
	ck_assert_str_eq(out, "2026-12-31T23:59:59Z");
	timestamp_format(INT64_C(951782400), out);
	ck_assert_str_eq(out, "2000-02-29T00:00:00Z");
	timestamp_format(INT64_C(-62135596800), out);
	ck_assert_str_eq(out, "0001-01-01T00:00:00Z");
	timestamp_format(INT64_C(253402300799), out);
	ck_assert_str_eq(out, "9999-12-31T23:59:59Z");
	ck_assert_uint_eq(strlen(out), TIMESTAMP_FORMAT_LEN - 1);
}
END_TEST

static void
format_with_gmtime(int64_t t, char *buf, size_t len)
{
	time_t    tt = (time_t) t;
	struct tm tm;

	require(gmtime_r(&tt, &tm) != NULL, "gmtime_r(%lld) failed", (long long) t);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
			 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/*
 * Random instants over years 1..9999: format agrees with gmtime_r, and
 * parse(format(t)) == t.
 */
/* Durations for people: the two largest units, a zero second unit left out. */
START_TEST(test_duration_text)
{
	static const struct
	{
		int64_t     s;
		const char *want;
	} cases[] = {
		{ 0, "0s" },
		{ 45, "45s" },
		{ 60, "1m" },
		{ 250, "4m 10s" },
		{ 3600, "1h" },
		{ 11100, "3h 5m" },
		{ 86400, "1d" },
		{ 86400 + 59, "1d" },
		{ 16 * 86400 + 7200, "16d 2h" },
		{ -90, "-1m 30s" },
		{ INT64_MIN, "-106751991167300d 15h" },
	};
	char buf[32];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		timestamp_duration_text(cases[i].s, buf, sizeof(buf));
		ck_assert_str_eq(buf, cases[i].want);
	}
}
END_TEST

START_TEST(test_format_parse_roundtrip)
{
	const int64_t lo = INT64_C(-62135596800);
	const int64_t hi = INT64_C(253402300799);
	uint64_t      seed = 42;

	for (int i = 0; i < 100000; i++)
	{
		int64_t t = lo + (int64_t) (next_random(&seed) % (uint64_t) (hi - lo + 1));
		char    ours[TIMESTAMP_FORMAT_LEN];
		char    theirs[64];
		int64_t back = 0;

		timestamp_format(t, ours);
		format_with_gmtime(t, theirs, sizeof(theirs));
		require(strcmp(ours, theirs) == 0, "t=%lld: '%s' vs gmtime '%s'", (long long) t, ours,
				theirs);
		require(parse_str(ours, &back) && back == t, "'%s' parsed back as %lld", ours,
				(long long) back);
	}
}
END_TEST

/*
 * Random instants written in local time at a random zone offset, with a
 * random separator, fraction and zone spelling, parse back to the instant.
 */
START_TEST(test_parse_random_offsets)
{
	uint64_t seed = 7;

	for (int i = 0; i < 100000; i++)
	{
		/* 1900..2200, clear of the year 1 and 9999 edges */
		int64_t t = INT64_C(-2208988800) + (int64_t) (next_random(&seed) % UINT64_C(9467280000));
		int     off_min = (int) (next_random(&seed) % (2 * 959 + 1)) - 959;
		int     a = off_min < 0 ? -off_min : off_min;
		char    local[64];
		char    text[96];
		char    frac[16] = "";
		char    zone[16] = "";
		int     ndigits = (int) (next_random(&seed) % 10);
		int     shape = (int) (next_random(&seed) % 5);
		int64_t back = 0;

		format_with_gmtime(t + off_min * 60, local, sizeof(local));
		local[19] = '\0'; /* drop the Z */
		if (next_random(&seed) % 2)
			local[10] = ' ';
		if (ndigits > 0)
		{
			frac[0] = '.';
			for (int k = 1; k <= ndigits; k++)
				frac[k] = (char) ('0' + next_random(&seed) % 10);
			frac[ndigits + 1] = '\0';
		}
		switch (shape)
		{
			case 0:
				if (off_min != 0)
					snprintf(zone, sizeof(zone), "%c%02d:%02d", off_min < 0 ? '-' : '+', a / 60,
							 a % 60);
				break;
			case 1:
				snprintf(zone, sizeof(zone), "%c%02d%02d", off_min < 0 ? '-' : '+', a / 60, a % 60);
				break;
			case 2:
				snprintf(zone, sizeof(zone), "%c%02d:%02d", off_min < 0 ? '-' : '+', a / 60,
						 a % 60);
				break;
			case 3:
				if (a % 60 == 0)
					snprintf(zone, sizeof(zone), "%c%02d", off_min < 0 ? '-' : '+', a / 60);
				else
					snprintf(zone, sizeof(zone), "%c%02d%02d", off_min < 0 ? '-' : '+', a / 60,
							 a % 60);
				break;
			default:
				if (off_min == 0)
					snprintf(zone, sizeof(zone), "Z");
				else
					snprintf(zone, sizeof(zone), "%c%02d:%02d", off_min < 0 ? '-' : '+', a / 60,
							 a % 60);
				break;
		}
		snprintf(text, sizeof(text), "%s%s%s", local, frac, zone);
		require(parse_str(text, &back) && back == t, "'%s': got %lld, want %lld", text,
				(long long) back, (long long) t);
	}
}
END_TEST

static Suite *
timestamp_suite(void)
{
	Suite *s = suite_create("timestamp");
	TCase *tc;

	tc = tcase_create("calendar");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_days_from_civil_known);
	tcase_add_test(tc, test_days_from_civil_consecutive);
	tcase_add_test(tc, test_days_from_civil_vs_timegm);
	tcase_add_test(tc, test_valid_date);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_parse_accepts, 0,
						(int) (sizeof(accept_cases) / sizeof(accept_cases[0])));
	tcase_add_loop_test(tc, test_parse_rejects, 0,
						(int) (sizeof(reject_cases) / sizeof(reject_cases[0])));
	tcase_add_test(tc, test_parse_honors_len);
	tcase_add_test(tc, test_parse_date_cache);
	tcase_add_test(tc, test_parse_random_offsets);
	suite_add_tcase(s, tc);

	tc = tcase_create("format");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_format_known);
	tcase_add_test(tc, test_format_parse_roundtrip);
	tcase_add_test(tc, test_duration_text);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(timestamp_suite());
	int      failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
