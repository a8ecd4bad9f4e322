/*
 * check_period.c: unit tests of period.h (labels, lengths, bounds).
 *
 * Bounds are worked out by hand from day numbers (see check_timestamp.c):
 *   2026-11-01 = day 20758 -> 1793491200
 *   2026-12-31 = day 20818 -> 1798675200, 2027-01-01 -> 1798761600
 *   2024-02-29 = day 19782 -> 1709164800, 2024-03-01 -> 1709251200
 * and the day-by-day sweep compares with glibc's timegm().
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "payrun/period.h"
#include "payrun/timestamp.h"

#define T_2026_11_01 INT64_C(1793491200)

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

static bool
parse_ts(const char *s, int64_t *t)
{
	return timestamp_parse(s, strlen(s), t);
}

START_TEST(test_length_parse)
{
	enum period_length len = PERIOD_LENGTH_UNSET;

	ck_assert(period_length_parse("1d", &len));
	ck_assert_int_eq(len, PERIOD_LENGTH_DAY);
	ck_assert(period_length_parse("1h", &len));
	ck_assert_int_eq(len, PERIOD_LENGTH_HOUR);
	ck_assert(period_length_parse("day", &len));
	ck_assert_int_eq(len, PERIOD_LENGTH_DAY);
	ck_assert(period_length_parse("hour", &len));
	ck_assert_int_eq(len, PERIOD_LENGTH_HOUR);

	len = PERIOD_LENGTH_UNSET;
	ck_assert(!period_length_parse("", &len));
	ck_assert(!period_length_parse("1D", &len));
	ck_assert(!period_length_parse("2d", &len));
	ck_assert(!period_length_parse("d", &len));
	ck_assert(!period_length_parse("1d ", &len));
	ck_assert(!period_length_parse("days", &len));
	ck_assert_int_eq(len, PERIOD_LENGTH_UNSET); /* untouched on failure */

	ck_assert_str_eq(period_length_name(PERIOD_LENGTH_DAY), "1d");
	ck_assert_str_eq(period_length_name(PERIOD_LENGTH_HOUR), "1h");
}
END_TEST

struct label_case
{
	const char        *label;
	enum period_length given;
	enum period_length want_length;
	int64_t            start;
	int64_t            end;
};

static const struct label_case good_labels[] = {
	/* a day is 86400 s from its midnight */
	{ "2026-11-01", PERIOD_LENGTH_UNSET, PERIOD_LENGTH_DAY, T_2026_11_01, T_2026_11_01 + 86400 },
	{ "2026-11-01", PERIOD_LENGTH_DAY, PERIOD_LENGTH_DAY, T_2026_11_01, T_2026_11_01 + 86400 },
	/* hour 05 starts 5 * 3600 = 18000 s after midnight */
	{ "2026-11-01T05", PERIOD_LENGTH_UNSET, PERIOD_LENGTH_HOUR, T_2026_11_01 + 18000,
	  T_2026_11_01 + 21600 },
	{ "2026-11-01T05", PERIOD_LENGTH_HOUR, PERIOD_LENGTH_HOUR, T_2026_11_01 + 18000,
	  T_2026_11_01 + 21600 },
	{ "2026-11-01T00", PERIOD_LENGTH_HOUR, PERIOD_LENGTH_HOUR, T_2026_11_01, T_2026_11_01 + 3600 },
	/* year boundary: the last day and hour of 2026 end at 2027-01-01 */
	{ "2026-12-31", PERIOD_LENGTH_UNSET, PERIOD_LENGTH_DAY, INT64_C(1798675200),
	  INT64_C(1798761600) },
	{ "2026-12-31T23", PERIOD_LENGTH_UNSET, PERIOD_LENGTH_HOUR, INT64_C(1798758000),
	  INT64_C(1798761600) },
	{ "2027-01-01", PERIOD_LENGTH_UNSET, PERIOD_LENGTH_DAY, INT64_C(1798761600),
	  INT64_C(1798761600) + 86400 },
	/* leap day: ends at March 1; Feb 28 23h ends at the leap day */
	{ "2024-02-29", PERIOD_LENGTH_DAY, PERIOD_LENGTH_DAY, INT64_C(1709164800),
	  INT64_C(1709251200) },
	{ "2024-02-28T23", PERIOD_LENGTH_UNSET, PERIOD_LENGTH_HOUR, INT64_C(1709164800) - 3600,
	  INT64_C(1709164800) },
	{ "2000-02-29", PERIOD_LENGTH_UNSET, PERIOD_LENGTH_DAY, INT64_C(951782400),
	  INT64_C(951782400) + 86400 },
	/* before the epoch */
	{ "1969-12-31", PERIOD_LENGTH_UNSET, PERIOD_LENGTH_DAY, -86400, 0 },
	{ "1969-12-31T23", PERIOD_LENGTH_UNSET, PERIOD_LENGTH_HOUR, -3600, 0 },
	/* last valid day: 2932896 * 86400 */
	{ "9999-12-31", PERIOD_LENGTH_UNSET, PERIOD_LENGTH_DAY, INT64_C(253402214400),
	  INT64_C(253402300800) },
};

START_TEST(test_parse_good)
{
	const struct label_case *c = &good_labels[_i];
	struct period            p;
	char                     err[256] = "";

	memset(&p, 0xa5, sizeof(p));
	ck_assert_msg(period_parse(c->label, c->given, &p, err, sizeof(err)), "'%s' rejected: %s",
				  c->label, err);
	ck_assert_int_eq(p.length, c->want_length);
	ck_assert_int_eq(p.start, c->start);
	ck_assert_int_eq(p.end, c->end);
	ck_assert_str_eq(p.label, c->label);
}
END_TEST

struct bad_case
{
	const char        *label;
	enum period_length given;
};

static const struct bad_case bad_labels[] = {
	{ "2026-13-01", PERIOD_LENGTH_UNSET },
	{ "2026-00-01", PERIOD_LENGTH_UNSET },
	{ "2026-02-29", PERIOD_LENGTH_UNSET }, /* not a leap year */
	{ "2024-02-30", PERIOD_LENGTH_UNSET },
	{ "1900-02-29", PERIOD_LENGTH_UNSET },
	{ "2026-04-31", PERIOD_LENGTH_DAY },
	{ "0000-01-01", PERIOD_LENGTH_UNSET },
	{ "../../etc", PERIOD_LENGTH_UNSET },
	{ "../../etc/passwd", PERIOD_LENGTH_UNSET },
	{ "2026/11/01", PERIOD_LENGTH_UNSET },
	{ "2026-11-0/", PERIOD_LENGTH_UNSET },
	{ "2026-11-01T24", PERIOD_LENGTH_UNSET },
	{ "2026-11-01T99", PERIOD_LENGTH_HOUR },
	{ "2026-11-01T-1", PERIOD_LENGTH_UNSET },
	{ "2026-11-01T0a", PERIOD_LENGTH_UNSET },
	{ "2026-11-01T5", PERIOD_LENGTH_UNSET },
	{ "2026-11-01 05", PERIOD_LENGTH_UNSET },
	{ "2026-11-01X05", PERIOD_LENGTH_UNSET },
	{ "2026-11-01T05:00", PERIOD_LENGTH_UNSET },
	{ "2026-11-01T", PERIOD_LENGTH_UNSET },
	{ "2026-11-1", PERIOD_LENGTH_UNSET },
	{ "2026-1-01", PERIOD_LENGTH_UNSET },
	{ "20261101", PERIOD_LENGTH_UNSET },
	{ "+026-11-01", PERIOD_LENGTH_UNSET },
	{ " 2026-11-01", PERIOD_LENGTH_UNSET },
	{ "2026-11-01\n", PERIOD_LENGTH_UNSET },
	{ "", PERIOD_LENGTH_UNSET },
	/* the shape does not match the length asked for */
	{ "2026-11-01", PERIOD_LENGTH_HOUR },
	{ "2026-11-01T05", PERIOD_LENGTH_DAY },
};

START_TEST(test_parse_bad)
{
	const struct bad_case *c = &bad_labels[_i];
	struct period          p;
	char                   err[256] = "";
	char                   quoted[64];

	ck_assert_msg(!period_parse(c->label, c->given, &p, err, sizeof(err)), "'%s' accepted",
				  c->label);
	ck_assert_msg(err[0] != '\0', "'%s': no reason given", c->label);
	/* the reason quotes the label */
	snprintf(quoted, sizeof(quoted), "'%s'", c->label);
	ck_assert_msg(strstr(err, quoted) != NULL, "reason '%s' does not quote %s", err, quoted);
}
END_TEST

/* A short err buffer is cut, never overrun. */
START_TEST(test_parse_bad_short_errbuf)
{
	struct period p;
	char          err[8];

	memset(err, 'x', sizeof(err));
	ck_assert(!period_parse("2026-13-01", PERIOD_LENGTH_UNSET, &p, err, 4));
	ck_assert_uint_eq(strlen(err), 3); /* cut and terminated */
	ck_assert_int_eq(err[4], 'x');
}
END_TEST

/*
 * Start is in, end is out, as timestamps parse: the last second of the
 * period is inside, the first second of the next one is its end.
 */
START_TEST(test_bounds_membership)
{
	struct period p;
	char          err[128];
	int64_t       t;

	ck_assert(period_parse("2026-12-31", PERIOD_LENGTH_DAY, &p, err, sizeof(err)));
	ck_assert(parse_ts("2026-12-31 00:00:00", &t));
	ck_assert_int_eq(t, p.start);
	ck_assert(parse_ts("2026-12-31 23:59:59.999999999", &t));
	ck_assert(t >= p.start && t < p.end);
	ck_assert(parse_ts("2027-01-01 00:00:00", &t));
	ck_assert_int_eq(t, p.end);
	/* 2027-01-01 00:30 at +01:00 is 2026-12-31 23:30 UTC: inside */
	ck_assert(parse_ts("2027-01-01 00:30:00+01", &t));
	ck_assert(t >= p.start && t < p.end);
	/* 2026-12-30 23:30 at -01:00 is 2026-12-31 00:30 UTC: inside */
	ck_assert(parse_ts("2026-12-30 23:30:00-01", &t));
	ck_assert(t >= p.start && t < p.end);
	ck_assert(parse_ts("2026-12-30 23:59:59", &t));
	ck_assert(t < p.start);

	ck_assert(period_parse("2026-11-01T05", PERIOD_LENGTH_HOUR, &p, err, sizeof(err)));
	ck_assert(parse_ts("2026-11-01T05:00:00Z", &t));
	ck_assert_int_eq(t, p.start);
	ck_assert(parse_ts("2026-11-01T05:59:59Z", &t));
	ck_assert_int_eq(t, p.end - 1);
	ck_assert(parse_ts("2026-11-01T06:00:00Z", &t));
	ck_assert_int_eq(t, p.end);
}
END_TEST

/*
 * Every day of 1969..2101 and every hour of a leap February: bounds agree
 * with timegm, periods tile the time line (end of one = start of the
 * next), and the canonical label is the one parsed.
 */
START_TEST(test_sweep_days_and_hours)
{
	int64_t prev_end = INT64_MIN;

	for (int y = 1969; y <= 2101; y++)
		for (int m = 1; m <= 12; m++)
			for (int d = 1; d <= 31; d++)
			{
				char          label[32];
				char          err[128];
				struct period p;
				struct tm     tm;

				if (!timestamp_valid_date(y, m, d))
					continue;
				snprintf(label, sizeof(label), "%04d-%02d-%02d", y, m, d);
				require(period_parse(label, PERIOD_LENGTH_UNSET, &p, err, sizeof(err)), "'%s': %s",
						label, err);
				memset(&tm, 0, sizeof(tm));
				tm.tm_year = y - 1900;
				tm.tm_mon = m - 1;
				tm.tm_mday = d;
				require(p.start == (int64_t) timegm(&tm), "'%s': start %lld", label,
						(long long) p.start);
				require(p.end - p.start == 86400, "'%s': end %lld", label, (long long) p.end);
				require(prev_end == INT64_MIN || p.start == prev_end,
						"'%s' does not start where the day before ended", label);
				prev_end = p.end;
				require(strcmp(p.label, label) == 0, "'%s' labelled '%s'", label, p.label);
			}

	prev_end = INT64_MIN;
	for (int d = 27; d <= 31; d++)
		for (int h = 0; h < 24; h++)
		{
			/* 2024-02-27 .. 2024-03-02 as day numbers 19723 + 31 + (d - 1) */
			int           mon = d <= 29 ? 2 : 3;
			int           mday = d <= 29 ? d : d - 29;
			char          label[32];
			char          err[128];
			struct period p;

			snprintf(label, sizeof(label), "2024-%02d-%02dT%02d", mon, mday, h);
			ck_assert_msg(period_parse(label, PERIOD_LENGTH_HOUR, &p, err, sizeof(err)), "'%s': %s",
						  label, err);
			ck_assert_int_eq(p.start, (INT64_C(19723) + 31 + d - 1) * 86400 + h * 3600);
			ck_assert_int_eq(p.end, p.start + 3600);
			if (prev_end != INT64_MIN)
				ck_assert_int_eq(p.start, prev_end);
			prev_end = p.end;
			ck_assert_str_eq(p.label, label);
		}
}
END_TEST

START_TEST(test_from_start)
{
	struct period p;

	ck_assert(period_from_start(T_2026_11_01, PERIOD_LENGTH_DAY, &p));
	ck_assert_int_eq(p.length, PERIOD_LENGTH_DAY);
	ck_assert_int_eq(p.start, T_2026_11_01);
	ck_assert_int_eq(p.end, T_2026_11_01 + 86400);
	ck_assert_str_eq(p.label, "2026-11-01");

	ck_assert(period_from_start(T_2026_11_01 + 23 * 3600, PERIOD_LENGTH_HOUR, &p));
	ck_assert_int_eq(p.end, T_2026_11_01 + 86400);
	ck_assert_str_eq(p.label, "2026-11-01T23");

	ck_assert(period_from_start(-86400, PERIOD_LENGTH_DAY, &p));
	ck_assert_str_eq(p.label, "1969-12-31");
	ck_assert(period_from_start(-3600, PERIOD_LENGTH_HOUR, &p));
	ck_assert_str_eq(p.label, "1969-12-31T23");

	/* not aligned, or no length */
	ck_assert(!period_from_start(T_2026_11_01 + 3600, PERIOD_LENGTH_DAY, &p));
	ck_assert(!period_from_start(T_2026_11_01 + 1, PERIOD_LENGTH_HOUR, &p));
	ck_assert(!period_from_start(-1, PERIOD_LENGTH_HOUR, &p));
	ck_assert(!period_from_start(T_2026_11_01, PERIOD_LENGTH_UNSET, &p));
}
END_TEST

static Suite *
period_suite(void)
{
	Suite *s = suite_create("period");
	TCase *tc;

	tc = tcase_create("length");
	tcase_add_test(tc, test_length_parse);
	suite_add_tcase(s, tc);

	tc = tcase_create("labels");
	tcase_add_loop_test(tc, test_parse_good, 0,
						(int) (sizeof(good_labels) / sizeof(good_labels[0])));
	tcase_add_loop_test(tc, test_parse_bad, 0, (int) (sizeof(bad_labels) / sizeof(bad_labels[0])));
	tcase_add_test(tc, test_parse_bad_short_errbuf);
	suite_add_tcase(s, tc);

	tc = tcase_create("bounds");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_bounds_membership);
	tcase_add_test(tc, test_sweep_days_and_hours);
	tcase_add_test(tc, test_from_start);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(period_suite());
	int      failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
