/*
 * check_numparse.c: unit tests of the number parsers: numparse.h
 * (numparse_u64, numparse_fraction, numparse_duration), the reject ratio of
 * settings.h (settings_ratio_parse, settings_ratio_exceeded), the penalty
 * factor of payout.h (payout_keep_parse, payout_keep_format) and the
 * amounts of amount.h (amount_parse, which replaced pools_parse_amount,
 * and amount_format), up to 2^256 - 1 base units, with token decimals.
 *
 * Each parser has a table of {input, accepted, value} rows, worked out by
 * hand, with the edge cases (empty, leading zeros, the maximum and one
 * past it, 2^64, signs, spaces, trailing garbage, NUL bytes inside an
 * explicit length).  Then every string of up to 5 characters over a small
 * alphabet is given to each parser and compared with a reference grammar
 * written here from the headers' words, and random 64-bit values are
 * formatted and parsed back.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payrun/amount.h"
#include "payrun/numparse.h"
#include "payrun/payout.h"
#include "payrun/settings.h"

typedef unsigned __int128 u128;

/*
 * ck_assert_msg() reports every passing check to the Check runner (a pipe
 * write per call in fork mode); loops that check many values use this
 * instead, which reports failures only.
 */
#define require(cond, ...)                                                                         \
	do                                                                                             \
	{                                                                                              \
		if (!(cond))                                                                               \
			ck_abort_msg(__VA_ARGS__);                                                             \
	} while (0)

#define NROWS(a) ((int) (sizeof(a) / sizeof((a)[0])))

/* An input given as a string literal, which may hold NUL bytes. */
#define IN(lit) (lit), (sizeof(lit) - 1)

#define P10_9  UINT64_C(1000000000)
#define P10_18 UINT64_C(1000000000000000000)

/* The bytes of s[0..len) made printable for messages: \0, \xNN. */
static const char *
shown(const char *s, size_t len)
{
	static char out[512];
	size_t      o = 0;

	for (size_t i = 0; i < len && o + 5 < sizeof(out); i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c == '\0')
			o += (size_t) snprintf(out + o, sizeof(out) - o, "\\0");
		else if (c < 0x20 || c >= 0x7f)
			o += (size_t) snprintf(out + o, sizeof(out) - o, "\\x%02x", c);
		else
			out[o++] = (char) c;
	}
	out[o] = '\0';
	return out;
}

/* ---- numparse_u64 ---- */

struct u64_case
{
	const char *s;
	size_t      len;
	uint64_t    min;
	uint64_t    max;
	bool        ok;
	uint64_t    value;
};

static const struct u64_case u64_cases[] = {
	{ IN(""), 0, UINT64_MAX, false, 0 },
	{ IN("0"), 0, UINT64_MAX, true, 0 },
	{ IN("7"), 0, UINT64_MAX, true, 7 },
	{ IN("42"), 0, UINT64_MAX, true, 42 },
	/* leading zeros are allowed, even past 20 digits */
	{ IN("007"), 0, UINT64_MAX, true, 7 },
	{ IN("0000"), 0, UINT64_MAX, true, 0 },
	{ IN("000000000000000000000000000042"), 0, UINT64_MAX, true, 42 },
	{ IN("000000000000000000000018446744073709551615"), 0, UINT64_MAX, true, UINT64_MAX },
	/* 2^64 - 1 is the largest; 2^64 and beyond overflow */
	{ IN("18446744073709551615"), 0, UINT64_MAX, true, UINT64_MAX },
	{ IN("18446744073709551616"), 0, UINT64_MAX, false, 0 },  /* 2^64: the add overflows */
	{ IN("18446744073709551619"), 0, UINT64_MAX, false, 0 },  /* the add overflows */
	{ IN("18446744073709551620"), 0, UINT64_MAX, false, 0 },  /* 1844674407370955162 * 10 does */
	{ IN("99999999999999999999"), 0, UINT64_MAX, false, 0 },  /* the multiply overflows */
	{ IN("184467440737095516150"), 0, UINT64_MAX, false, 0 }, /* 21 digits */
	{ IN("36893488147419103232"), 0, UINT64_MAX, false, 0 },  /* 2^65 */
	{ IN("9223372036854775807"), 0, INT64_MAX, true, INT64_MAX },
	{ IN("9223372036854775808"), 0, INT64_MAX, false, 0 },
	/* signs, spaces, prefixes, other notations */
	{ IN("-1"), 0, UINT64_MAX, false, 0 },
	{ IN("-0"), 0, UINT64_MAX, false, 0 },
	{ IN("+1"), 0, UINT64_MAX, false, 0 },
	{ IN(" 1"), 0, UINT64_MAX, false, 0 },
	{ IN("1 "), 0, UINT64_MAX, false, 0 },
	{ IN("\t1"), 0, UINT64_MAX, false, 0 },
	{ IN("1\n"), 0, UINT64_MAX, false, 0 },
	{ IN("1 2"), 0, UINT64_MAX, false, 0 },
	{ IN("0x10"), 0, UINT64_MAX, false, 0 },
	{ IN("1e3"), 0, UINT64_MAX, false, 0 },
	{ IN("1.0"), 0, UINT64_MAX, false, 0 },
	{ IN("1,000"), 0, UINT64_MAX, false, 0 },
	{ IN("12a"), 0, UINT64_MAX, false, 0 },
	{ IN("a12"), 0, UINT64_MAX, false, 0 },
	{ IN("\xd9\xa3"), 0, UINT64_MAX, false, 0 }, /* ARABIC-INDIC DIGIT THREE */
	{ IN("/"), 0, UINT64_MAX, false, 0 },        /* '0' - 1 */
	{ IN(":"), 0, UINT64_MAX, false, 0 },        /* '9' + 1 */
	/* the length decides, not a NUL */
	{ IN("1\0"), 0, UINT64_MAX, false, 0 },
	{ IN("\0"
		 "1"),
	  0, UINT64_MAX, false, 0 },
	{ IN("1\0"
		 "2"),
	  0, UINT64_MAX, false, 0 },
	{ "12", 1, 0, UINT64_MAX, true, 1 },
	{ "123x", 3, 0, UINT64_MAX, true, 123 },
	{ "5", 0, 0, UINT64_MAX, false, 0 },
	/* [min, max], both inclusive */
	{ IN("5"), 5, 5, true, 5 },
	{ IN("4"), 5, 5, false, 0 },
	{ IN("6"), 5, 5, false, 0 },
	{ IN("0"), 1, 10, false, 0 },
	{ IN("1"), 1, 10, true, 1 },
	{ IN("10"), 1, 10, true, 10 },
	{ IN("010"), 1, 10, true, 10 },
	{ IN("11"), 1, 10, false, 0 },
	{ IN("18446744073709551615"), UINT64_MAX, UINT64_MAX, true, UINT64_MAX },
	{ IN("18446744073709551614"), UINT64_MAX, UINT64_MAX, false, 0 },
};

START_TEST(test_u64_table)
{
	const struct u64_case *c = &u64_cases[_i];
	uint64_t               v = 0xdeadbeef;
	bool                   ok = numparse_u64(c->s, c->len, c->min, c->max, &v);

	ck_assert_msg(ok == c->ok, "row %d '%s' (len %zu, [%llu, %llu]): %s, want %s", _i,
				  shown(c->s, c->len), c->len, (unsigned long long) c->min,
				  (unsigned long long) c->max, ok ? "accepted" : "refused",
				  c->ok ? "accepted" : "refused");
	if (c->ok)
		ck_assert_msg(v == c->value, "row %d '%s': %llu, want %llu", _i, shown(c->s, c->len),
					  (unsigned long long) v, (unsigned long long) c->value);
}
END_TEST

/* ---- numparse_fraction ---- */

struct fraction_case
{
	const char *s;
	size_t      len;
	int         max_digits;
	bool        ok;
	uint64_t    num;
	uint64_t    den;
};

static const struct fraction_case fraction_cases[] = {
	/* den = 10^(digits after the point), unreduced */
	{ IN("0"), 6, true, 0, 1 },
	{ IN("1"), 6, true, 1, 1 },
	{ IN("0.5"), 6, true, 5, 10 },
	{ IN("0.50"), 6, true, 50, 100 },
	{ IN("0.25"), 6, true, 25, 100 },
	{ IN("0.000"), 6, true, 0, 1000 },
	{ IN("0.001"), 6, true, 1, 1000 },
	{ IN("1.0"), 6, true, 10, 10 },
	{ IN("1.000"), 6, true, 1000, 1000 },
	{ IN("1.000000"), 6, true, 1000000, 1000000 },
	{ IN("0.999999"), 6, true, 999999, 1000000 },
	{ IN("0.000001"), 6, true, 1, 1000000 },
	/* leading zeros in the whole part, as for every number */
	{ IN("00"), 6, true, 0, 1 },
	{ IN("01"), 6, true, 1, 1 },
	{ IN("00.5"), 6, true, 5, 10 },
	{ IN("001.00"), 6, true, 100, 100 },
	/* above 1 */
	{ IN("1.5"), 6, false, 0, 0 },
	{ IN("1.000001"), 6, false, 0, 0 },
	{ IN("1.1"), 6, false, 0, 0 },
	{ IN("2"), 6, false, 0, 0 },
	{ IN("10"), 6, false, 0, 0 },
	{ IN("2.0"), 6, false, 0, 0 },
	{ IN("18446744073709551617"), 6, false, 0, 0 }, /* 2^64 + 1: overflows, not 1 */
	{ IN("18446744073709551616"), 6, false, 0, 0 }, /* 2^64: overflows, not 0 */
	/* the shape */
	{ IN(""), 6, false, 0, 0 },
	{ IN("."), 6, false, 0, 0 },
	{ IN("0."), 6, false, 0, 0 },
	{ IN("1."), 6, false, 0, 0 },
	{ IN(".5"), 6, false, 0, 0 },
	{ IN("-0.5"), 6, false, 0, 0 },
	{ IN("-0"), 6, false, 0, 0 },
	{ IN("+0.5"), 6, false, 0, 0 },
	{ IN("0.-5"), 6, false, 0, 0 },
	{ IN("0.+5"), 6, false, 0, 0 },
	{ IN(" 0.5"), 6, false, 0, 0 },
	{ IN("0.5 "), 6, false, 0, 0 },
	{ IN("0 .5"), 6, false, 0, 0 },
	{ IN("0. 5"), 6, false, 0, 0 },
	{ IN("0.5x"), 6, false, 0, 0 },
	{ IN("x0.5"), 6, false, 0, 0 },
	{ IN("0,5"), 6, false, 0, 0 },
	{ IN("0..5"), 6, false, 0, 0 },
	{ IN("0.5.1"), 6, false, 0, 0 },
	{ IN("0.5."), 6, false, 0, 0 },
	{ IN("1e-3"), 6, false, 0, 0 },
	{ IN("5e-1"), 6, false, 0, 0 },
	{ IN("0x0"), 6, false, 0, 0 },
	{ IN("0.5\n"), 6, false, 0, 0 },
	/* digits after the point: at most max_digits */
	{ IN("0.1234567"), 6, false, 0, 0 },
	{ IN("0.0000001"), 6, false, 0, 0 },
	{ IN("0.0000000"), 6, false, 0, 0 }, /* too many digits, even if zero */
	{ IN("1.0000000"), 6, false, 0, 0 },
	{ IN("0.5"), 1, true, 5, 10 },
	{ IN("0.50"), 1, false, 0, 0 },
	{ IN("1.0"), 1, true, 10, 10 },
	{ IN("0.123456789"), 9, true, 123456789, P10_9 },
	{ IN("0.1234567890"), 9, false, 0, 0 },
	{ IN("0.999999999999999999"), 18, true, P10_18 - 1, P10_18 },
	{ IN("1.000000000000000000"), 18, true, P10_18, P10_18 },
	{ IN("0.000000000000000001"), 18, true, 1, P10_18 },
	{ IN("0.0000000000000000001"), 18, false, 0, 0 },
	/* max_digits must be 1..18 */
	{ IN("0"), 0, false, 0, 0 },
	{ IN("0.5"), 0, false, 0, 0 },
	{ IN("0"), -1, false, 0, 0 },
	{ IN("0"), 19, false, 0, 0 },
	{ IN("0.5"), 19, false, 0, 0 },
	/* the length decides, not a NUL */
	{ IN("0.5\0"), 6, false, 0, 0 },
	{ IN("0\0.5"), 6, false, 0, 0 },
	{ IN("0.\0"
		 "5"),
	  6, false, 0, 0 },
	{ "0.55", 3, 6, true, 5, 10 },
	{ "0.5", 2, 6, false, 0, 0 }, /* "0." */
	{ "1.5", 1, 6, true, 1, 1 },  /* "1" */
};

/* numparse_i64: PostgreSQL's bigint text, both ends of the range and past them. */
START_TEST(test_i64)
{
	static const struct
	{
		const char *text;
		bool        ok;
		int64_t     want;
	} cases[] = {
		{ "0", true, 0 },
		{ "-0", true, 0 },
		{ "42", true, 42 },
		{ "-42", true, -42 },
		{ "9223372036854775807", true, INT64_MAX },
		{ "-9223372036854775808", true, INT64_MIN },
		{ "9223372036854775808", false, 0 },
		{ "-9223372036854775809", false, 0 },
		{ "", false, 0 },
		{ "-", false, 0 },
		{ "+1", false, 0 },
		{ "1 ", false, 0 },
		{ "--1", false, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		int64_t got = 7;
		bool    ok = numparse_i64(cases[i].text, strlen(cases[i].text), &got);

		ck_assert_msg(ok == cases[i].ok, "'%s': ok %d", cases[i].text, ok);
		if (ok)
			ck_assert_msg(got == cases[i].want, "'%s': %lld", cases[i].text, (long long) got);
	}
}
END_TEST

START_TEST(test_fraction_table)
{
	const struct fraction_case *c = &fraction_cases[_i];
	uint64_t                    num = 0xdead, den = 0xbeef;
	bool                        ok = numparse_fraction(c->s, c->len, c->max_digits, &num, &den);

	ck_assert_msg(ok == c->ok, "row %d '%s' (len %zu, %d digits): %s, want %s", _i,
				  shown(c->s, c->len), c->len, c->max_digits, ok ? "accepted" : "refused",
				  c->ok ? "accepted" : "refused");
	if (c->ok)
		ck_assert_msg(num == c->num && den == c->den, "row %d '%s': %llu/%llu, want %llu/%llu", _i,
					  shown(c->s, c->len), (unsigned long long) num, (unsigned long long) den,
					  (unsigned long long) c->num, (unsigned long long) c->den);
}
END_TEST

/* ---- numparse_duration ---- */

struct duration_case
{
	const char *s;
	size_t      len;
	int64_t     max;
	bool        ok;
	int64_t     value;
};

#define DAY INT64_C(86400)

static const struct duration_case duration_cases[] = {
	/* no unit means seconds */
	{ IN("0"), DAY, true, 0 },
	{ IN("45"), DAY, true, 45 },
	{ IN("045"), DAY, true, 45 },
	{ IN("45s"), DAY, true, 45 },
	{ IN("30m"), DAY, true, 1800 },
	{ IN("2h"), DAY, true, 7200 },
	{ IN("1d"), DAY, true, 86400 },
	{ IN("0s"), DAY, true, 0 },
	{ IN("0d"), DAY, true, 0 },
	{ IN("01m"), DAY, true, 60 },
	/* the maximum, in each unit: 86400 s = 1440 m = 24 h = 1 d */
	{ IN("86400"), DAY, true, 86400 },
	{ IN("86401"), DAY, false, 0 },
	{ IN("86401s"), DAY, false, 0 },
	{ IN("1440m"), DAY, true, 86400 },
	{ IN("1441m"), DAY, false, 0 },
	{ IN("24h"), DAY, true, 86400 },
	{ IN("25h"), DAY, false, 0 },
	{ IN("2d"), DAY, false, 0 },
	/* a maximum that is no whole number of the unit: 86399 s */
	{ IN("1d"), DAY - 1, false, 0 },
	{ IN("24h"), DAY - 1, false, 0 },
	{ IN("23h"), DAY - 1, true, 82800 },
	{ IN("1439m"), DAY - 1, true, 86340 }, /* 1439 * 60 */
	{ IN("1440m"), DAY - 1, false, 0 },
	{ IN("86399"), DAY - 1, true, 86399 },
	/* max 0: only zero */
	{ IN("0"), 0, true, 0 },
	{ IN("0h"), 0, true, 0 },
	{ IN("1"), 0, false, 0 },
	{ IN("1d"), 0, false, 0 },
	/* a negative maximum refuses everything */
	{ IN("0"), -1, false, 0 },
	/* near 2^63: INT64_MAX / 86400 = 106751991167300 (remainder 55807) */
	{ IN("9223372036854775807"), INT64_MAX, true, INT64_MAX },
	{ IN("9223372036854775808"), INT64_MAX, false, 0 },
	{ IN("106751991167300d"), INT64_MAX, true, INT64_C(9223372036854720000) },
	{ IN("106751991167301d"), INT64_MAX, false, 0 },
	{ IN("153722867280912930m"), INT64_MAX, true, INT64_C(9223372036854775800) },
	{ IN("153722867280912931m"), INT64_MAX, false, 0 },
	{ IN("18446744073709551616s"), INT64_MAX, false, 0 }, /* 2^64 */
	/* the shape */
	{ IN(""), DAY, false, 0 },
	{ IN("s"), DAY, false, 0 },
	{ IN("d"), DAY, false, 0 },
	{ IN("1x"), DAY, false, 0 },
	{ IN("1S"), DAY, false, 0 },
	{ IN("1H"), DAY, false, 0 },
	{ IN("1w"), DAY, false, 0 },
	{ IN("1ms"), DAY, false, 0 },
	{ IN("1hh"), DAY, false, 0 },
	{ IN("1 h"), DAY, false, 0 },
	{ IN(" 1h"), DAY, false, 0 },
	{ IN("1h "), DAY, false, 0 },
	{ IN("h1"), DAY, false, 0 },
	{ IN("1.5h"), DAY, false, 0 },
	{ IN("-1"), DAY, false, 0 },
	{ IN("-1s"), DAY, false, 0 },
	{ IN("+1s"), DAY, false, 0 },
	{ IN("1h30m"), DAY, false, 0 },
	/* the length decides, not a NUL */
	{ IN("1\0"), DAY, false, 0 },
	{ IN("1\0h"), DAY, false, 0 },
	{ "2hx", 2, DAY, true, 7200 },
	{ "12h", 1, DAY, true, 1 },
};

START_TEST(test_duration_table)
{
	const struct duration_case *c = &duration_cases[_i];
	int64_t                     v = -7;
	bool                        ok = numparse_duration(c->s, c->len, c->max, &v);

	ck_assert_msg(ok == c->ok, "row %d '%s' (len %zu, max %lld): %s, want %s", _i,
				  shown(c->s, c->len), c->len, (long long) c->max, ok ? "accepted" : "refused",
				  c->ok ? "accepted" : "refused");
	if (c->ok)
		ck_assert_msg(v == c->value, "row %d '%s': %lld, want %lld", _i, shown(c->s, c->len),
					  (long long) v, (long long) c->value);
}
END_TEST

/*
 * Every count 0..2000 in every unit against maxima around the unit sizes:
 * accepted exactly when count * unit <= max.
 */
START_TEST(test_duration_sweep)
{
	static const int64_t maxima[] = { 0,    1,    59,    60,    61,    3599,
									  3600, 3601, 86399, 86400, 86401, 100000 };
	static const struct
	{
		const char *suffix;
		int64_t     unit;
	} units[] = { { "", 1 }, { "s", 1 }, { "m", 60 }, { "h", 3600 }, { "d", 86400 } };
	int accepted = 0;

	for (size_t mi = 0; mi < sizeof(maxima) / sizeof(maxima[0]); mi++)
		for (size_t ui = 0; ui < sizeof(units) / sizeof(units[0]); ui++)
			for (int64_t v = 0; v <= 2000; v++)
			{
				char    buf[32];
				int     n = snprintf(buf, sizeof(buf), "%lld%s", (long long) v, units[ui].suffix);
				int64_t got = -1;
				bool    want = v * units[ui].unit <= maxima[mi];
				bool    ok = numparse_duration(buf, (size_t) n, maxima[mi], &got);

				require(ok == want, "'%s' with max %lld: %s", buf, (long long) maxima[mi],
						ok ? "accepted" : "refused");
				require(!ok || got == v * units[ui].unit, "'%s': %lld", buf, (long long) got);
				accepted += ok;
			}
	ck_assert_int_gt(accepted, 1000);
}
END_TEST

/* ---- settings_ratio_parse / settings_ratio_exceeded ---- */

struct ratio_case
{
	const char *s;
	bool        ok;
	uint64_t    num;
	uint64_t    den;
};

static const struct ratio_case ratio_cases[] = {
	{ "0.001", true, 1, 1000 }, /* the default --max-reject-ratio */
	{ "0", true, 0, 1 },
	{ "1", true, 1, 1 },
	{ "0.5", true, 5, 10 },
	{ "1.0", true, 10, 10 },
	{ "0.000000001", true, 1, P10_9 },
	{ "0.123456789", true, 123456789, P10_9 },
	{ "1.000000000", true, P10_9, P10_9 },
	{ "0.0010", true, 10, 10000 },
	{ "00.5", true, 5, 10 },
	/* 23 characters: the longest text kept */
	{ "000000000000000000000.5", true, 5, 10 },
	{ "0.1234567890", false, 0, 0 }, /* 10 digits */
	{ "0.0000000001", false, 0, 0 },
	{ "1.000000001", false, 0, 0 },
	{ "1.5", false, 0, 0 },
	{ "2", false, 0, 0 },
	{ "", false, 0, 0 },
	{ ".5", false, 0, 0 },
	{ "0.", false, 0, 0 },
	{ "-0", false, 0, 0 },
	{ "+0.1", false, 0, 0 },
	{ " 0.1", false, 0, 0 },
	{ "0.1 ", false, 0, 0 },
	{ "0.1%", false, 0, 0 },
	{ "1e-3", false, 0, 0 },
	{ "0,001", false, 0, 0 },
};

START_TEST(test_ratio_parse_table)
{
	const struct ratio_case *c = &ratio_cases[_i];
	struct settings_ratio    r;
	bool                     ok;

	memset(&r, 0xa5, sizeof(r));
	ok = settings_ratio_parse(c->s, &r);
	ck_assert_msg(ok == c->ok, "row %d '%s': %s, want %s", _i, c->s, ok ? "accepted" : "refused",
				  c->ok ? "accepted" : "refused");
	if (!c->ok)
		return;
	ck_assert_msg(r.num == c->num && r.den == c->den, "row %d '%s': %llu/%llu, want %llu/%llu", _i,
				  c->s, (unsigned long long) r.num, (unsigned long long) r.den,
				  (unsigned long long) c->num, (unsigned long long) c->den);
	/* the text is kept as given, for the manifest */
	ck_assert_msg(strcmp(r.text, c->s) == 0, "row %d '%s': text '%s'", _i, c->s, r.text);
}
END_TEST

struct exceeded_case
{
	const char *ratio;
	uint64_t    part;
	uint64_t    whole;
	bool        exceeded;
};

#define U64MAX UINT64_MAX
#define TWO63  (UINT64_C(1) << 63)

static const struct exceeded_case exceeded_cases[] = {
	/* 1/1000 is not more than 0.001; 2/1000 is */
	{ "0.001", 1, 1000, false },
	{ "0.001", 2, 1000, true },
	{ "0.001", 1, 999, true },   /* 1/999 > 1/1000 */
	{ "0.001", 1, 1001, false }, /* 1/1001 < 1/1000 */
	{ "0.001", 0, 1000, false },
	{ "0.001", 0, 0, false },     /* nothing read, nothing rejected */
	{ "0.001", 1, 0, true },      /* part/0 with part > 0: more than any ratio */
	{ "0.0010", 1, 1000, false }, /* an unreduced ratio is the same ratio */
	{ "0.0010", 2, 1000, true },
	{ "0", 0, 100, false },
	{ "0", 1, 100, true },
	{ "0", 1, U64MAX, true },
	{ "0", 0, 0, false },
	{ "1", 100, 100, false },
	{ "1", U64MAX, U64MAX, false },
	{ "1", 101, 100, true },
	{ "1.000000000", U64MAX, U64MAX, false },
	/* (2^63 - 1)/(2^64 - 1) < 1/2 < 2^63/(2^64 - 1); part * 10 needs 128 bits */
	{ "0.5", TWO63 - 1, U64MAX, false },
	{ "0.5", TWO63, U64MAX, true },
	{ "0.5", TWO63 / 2, TWO63, false }, /* exactly 1/2 */
	/* 1 and 1 - 1/(2^64 - 1) are both above 0.999999999 */
	{ "0.999999999", U64MAX, U64MAX, true },
	{ "0.999999999", U64MAX - 1, U64MAX, true },
	{ "0.999999999", 999999999, 1000000000, false }, /* equal */
	{ "0.999999999", 999999998, 999999999, false },  /* 1 - 1/999999999 < 1 - 1/10^9 */
	{ "0.000000001", 1, 1000000000, false },
	{ "0.000000001", 2, 1000000000, true },
	{ "0.000000001", 18446744073, U64MAX, false }, /* floor((2^64 - 1) / 10^9) */
	{ "0.000000001", 18446744074, U64MAX, true },
};

START_TEST(test_ratio_exceeded_table)
{
	const struct exceeded_case *c = &exceeded_cases[_i];
	struct settings_ratio       r;
	bool                        got;

	ck_assert_msg(settings_ratio_parse(c->ratio, &r), "row %d: ratio '%s' refused", _i, c->ratio);
	got = settings_ratio_exceeded(&r, c->part, c->whole);
	ck_assert_msg(got == c->exceeded, "row %d: %llu / %llu against %s: %s, want %s", _i,
				  (unsigned long long) c->part, (unsigned long long) c->whole, c->ratio,
				  got ? "exceeded" : "not exceeded", c->exceeded ? "exceeded" : "not exceeded");
}
END_TEST

/* ---- amount_parse and amount_format (amount.h) ---- */

/* 2^256 - 1 (exact, from Python) */
#define MAX_TEXT "115792089237316195423570985008687907853269984665640564039457584007913129639935"

struct amount_case
{
	const char        *s;
	size_t             len;
	unsigned           decimals;
	enum amount_status status;
	const char        *value; /* in base units, when AMOUNT_OK */
};

#define OK(v) AMOUNT_OK, (v)

static const struct amount_case amount_cases[] = {
	/* base units (0 decimals): the old pool amounts' rows, and 2^63 is no limit */
	{ IN("0"), 0, OK("0") },
	{ IN("1"), 0, OK("1") },
	{ IN("1000000"), 0, OK("1000000") },
	{ IN("00012"), 0, OK("12") },
	{ IN("0000"), 0, OK("0") },
	{ IN("9223372036854775807"), 0, OK("9223372036854775807") },
	{ IN("09223372036854775807"), 0, OK("9223372036854775807") },
	{ IN("9223372036854775808"), 0, OK("9223372036854775808") }, /* 2^63 */
	{ IN("18446744073709551615"), 0, OK("18446744073709551615") },
	{ IN("18446744073709551616"), 0, OK("18446744073709551616") }, /* 2^64 */
	{ IN("99999999999999999999999"), 0, OK("99999999999999999999999") },
	{ IN(MAX_TEXT), 0, OK(MAX_TEXT) },
	{ IN("0000" MAX_TEXT), 0, OK(MAX_TEXT) },
	{ IN("115792089237316195423570985008687907853269984665640564039457584007913129639936"), 0,
	  AMOUNT_TOO_LARGE, NULL }, /* 2^256 */
	{ IN("999999999999999999999999999999999999999999999999999999999999999999999999999999"), 0,
	  AMOUNT_TOO_LARGE, NULL },
	{ IN(""), 0, AMOUNT_SYNTAX, NULL },
	{ IN("-1"), 0, AMOUNT_SYNTAX, NULL },
	{ IN("-0"), 0, AMOUNT_SYNTAX, NULL },
	{ IN("+5"), 0, AMOUNT_SYNTAX, NULL },
	{ IN(" 1"), 0, AMOUNT_SYNTAX, NULL },
	{ IN("1 "), 0, AMOUNT_SYNTAX, NULL },
	{ IN("1_000"), 0, AMOUNT_SYNTAX, NULL },
	{ IN("0x1f"), 0, AMOUNT_SYNTAX, NULL },
	{ IN("12abc"), 0, AMOUNT_SYNTAX, NULL },
	{ IN("1\r"), 0, AMOUNT_SYNTAX, NULL },
	{ IN("1\0"), 0, AMOUNT_SYNTAX, NULL },
	{ IN("\0"
		 "1"),
	  0, AMOUNT_SYNTAX, NULL },
	{ "12", 1, 0, OK("1") },
	{ "9223372036854775808", 18, 0, OK("922337203685477580") },
	/* a point and a fraction: zeros past the decimals change nothing */
	{ IN("1.0"), 0, OK("1") },
	{ IN("1.000"), 0, OK("1") },
	{ IN("1.5"), 0, AMOUNT_TOO_PRECISE, NULL },
	{ IN("0.1"), 0, AMOUNT_TOO_PRECISE, NULL },
	{ IN(".5"), 0, AMOUNT_SYNTAX, NULL },
	{ IN("5."), 0, AMOUNT_SYNTAX, NULL },
	{ IN("1..5"), 0, AMOUNT_SYNTAX, NULL },
	{ IN("1.5.0"), 1, AMOUNT_SYNTAX, NULL },
	{ IN("1,5"), 1, AMOUNT_SYNTAX, NULL },
	/* exponents, as PostgreSQL prints a large float */
	{ IN("1e6"), 0, OK("1000000") },
	{ IN("1E6"), 0, OK("1000000") },
	{ IN("1e+6"), 0, OK("1000000") },
	{ IN("1e-0"), 0, OK("1") },
	{ IN("150e-1"), 0, OK("15") },
	{ IN("15e-1"), 0, AMOUNT_TOO_PRECISE, NULL },
	{ IN("1.5e1"), 0, OK("15") },
	{ IN("0.15e2"), 0, OK("15") },
	{ IN("1e"), 0, AMOUNT_SYNTAX, NULL },
	{ IN("1e+"), 0, AMOUNT_SYNTAX, NULL },
	{ IN("1e-"), 0, AMOUNT_SYNTAX, NULL },
	{ IN("e5"), 0, AMOUNT_SYNTAX, NULL },
	{ IN("1.e5"), 0, AMOUNT_SYNTAX, NULL },
	{ IN("1e5.0"), 0, AMOUNT_SYNTAX, NULL },
	{ IN("1e++5"), 0, AMOUNT_SYNTAX, NULL },
	{ IN("1e 5"), 0, AMOUNT_SYNTAX, NULL },
	{ IN("1e0005"), 0, OK("100000") },
	{ IN("1e77"), 0,
	  OK("100000000000000000000000000000000000000000000000000000000000000000000000000000") },
	{ IN("2e77"), 0, AMOUNT_TOO_LARGE, NULL },
	{ IN("1e78"), 0, AMOUNT_TOO_LARGE, NULL },
	{ IN("1e1000"), 0, AMOUNT_TOO_LARGE, NULL },
	{ IN("1e99999999999999999999"), 0, AMOUNT_TOO_LARGE, NULL },
	{ IN("0e99999999999999999999"), 0, OK("0") },
	{ IN("0.000e1000"), 0, OK("0") },
	{ IN("1e-1000"), 0, AMOUNT_TOO_PRECISE, NULL },
	{ IN("1e-99999999999999999999"), 0, AMOUNT_TOO_PRECISE, NULL },
	{ IN("0e-99999999999999999999"), 0, OK("0") },
	{ IN("1.15792089237316195423570985008687907853269984665640564039457584007913129639935e77"), 0,
	  OK(MAX_TEXT) },
	{ IN("1.15792089237316195423570985008687907853269984665640564039457584007913129639936e77"), 0,
	  AMOUNT_TOO_LARGE, NULL },
	/* tokens with decimals */
	{ IN("2500000.123456"), 6, OK("2500000123456") },
	{ IN("2500000.1234560"), 6, OK("2500000123456") },
	{ IN("2500000.1234567"), 6, AMOUNT_TOO_PRECISE, NULL },
	{ IN("1"), 6, OK("1000000") },
	{ IN("0.000001"), 6, OK("1") },
	{ IN("0.0000001"), 6, AMOUNT_TOO_PRECISE, NULL },
	{ IN("1e-6"), 6, OK("1") },
	{ IN("1e-7"), 6, AMOUNT_TOO_PRECISE, NULL },
	{ IN("1.50"), 1, OK("15") },
	{ IN("42"), 18, OK("42000000000000000000") }, /* past 2^64 */
	{ IN("42.000000000000000001"), 18, OK("42000000000000000001") },
	{ IN("42.0000000000000000001"), 18, AMOUNT_TOO_PRECISE, NULL },
	{ IN("42.0000000000000000010"), 18, OK("42000000000000000001") },
	{ IN("4.2E19"), 18, OK("42000000000000000000000000000000000000") },
	{ IN("1e+21"), 18, OK("1000000000000000000000000000000000000000") },
	{ IN("1e-18"), 18, OK("1") },
	{ IN("1e-19"), 18, AMOUNT_TOO_PRECISE, NULL },
	{ IN("115792089237316195423570985008687907853269984665640564039457.584007913129639935"), 18,
	  OK(MAX_TEXT) },
	{ IN("115792089237316195423570985008687907853269984665640564039457.584007913129639936"), 18,
	  AMOUNT_TOO_LARGE, NULL },
	{ IN("115792089237316195423570985008687907853269984665640564039458"), 18, AMOUNT_TOO_LARGE,
	  NULL },
	{ IN("1"), 36, OK("1000000000000000000000000000000000000") },
	{ IN("0.000000000000000000000000000000000001"), 36, OK("1") },
	{ IN("0.0000000000000000000000000000000000001"), 36, AMOUNT_TOO_PRECISE, NULL },
	{ IN("1"), 37, AMOUNT_SYNTAX, NULL }, /* more decimals than AMOUNT_DECIMALS_MAX */
	{ IN("-1"), 6, AMOUNT_SYNTAX, NULL },
	{ IN(""), 18, AMOUNT_SYNTAX, NULL },
};

START_TEST(test_amount_table)
{
	const struct amount_case *c = &amount_cases[_i];
	struct amount             a;
	enum amount_status        st;
	char                      buf[AMOUNT_TEXT_LEN];

	memset(&a, 0xa5, sizeof(a));
	st = amount_parse(c->s, c->len, c->decimals, &a);
	ck_assert_msg(st == c->status, "row %d '%s' (len %zu, %u decimals): %s, want %s", _i,
				  shown(c->s, c->len), c->len, c->decimals, amount_status_message(st),
				  amount_status_message(c->status));
	if (st == AMOUNT_OK)
	{
		amount_format(&a, buf);
		ck_assert_msg(strcmp(buf, c->value) == 0, "row %d '%s': %s, want %s", _i,
					  shown(c->s, c->len), buf, c->value);
	}
}
END_TEST

START_TEST(test_amount_status_messages)
{
	const enum amount_status all[] = { AMOUNT_OK, AMOUNT_SYNTAX, AMOUNT_TOO_LARGE,
									   AMOUNT_TOO_PRECISE };

	for (size_t i = 0; i < 4; i++)
	{
		ck_assert_uint_gt(strlen(amount_status_message(all[i])), 0);
		for (size_t j = 0; j < i; j++)
			ck_assert_str_ne(amount_status_message(all[i]), amount_status_message(all[j]));
	}
	ck_assert_ptr_nonnull(strstr(amount_status_message(AMOUNT_TOO_LARGE), "2^256 - 1"));
}
END_TEST

/*
 * amount.h's words, as a reference on decimal strings: digits, optionally
 * a point and one or more digits, optionally e or E, a sign and one or
 * more digits; the value times 10^decimals must be a whole number (else
 * too precise) of at most 2^256 - 1 (else too large).  The canonical
 * decimal text of the base units goes to out.  The header does not say
 * which of the two a number both too precise and too large is: REF_EITHER.
 */
#define REF_LEN    8192
#define REF_EITHER ((enum amount_status) 99)

static enum amount_status
ref_amount(const char *s, size_t len, unsigned decimals, char *out)
{
	static char m[REF_LEN];
	size_t      nm = 0, i = 0, start, frac = 0, lead = 0;
	int64_t     exponent = 0, shift;
	bool        negative = false;

	if (decimals > 36 || len + 100 > REF_LEN)
		return AMOUNT_SYNTAX;
	while (i < len && s[i] >= '0' && s[i] <= '9')
		m[nm++] = s[i++];
	if (nm == 0)
		return AMOUNT_SYNTAX;
	if (i < len && s[i] == '.')
	{
		start = ++i;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			m[nm++] = s[i++];
		frac = i - start;
		if (frac == 0)
			return AMOUNT_SYNTAX;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E'))
	{
		if (++i < len && (s[i] == '+' || s[i] == '-'))
			negative = s[i++] == '-';
		start = i;
		while (i < len && s[i] >= '0' && s[i] <= '9')
		{
			/* past 10^9 no input of this size can bring the value back */
			if (exponent < 1000000000)
				exponent = exponent * 10 + (s[i] - '0');
			i++;
		}
		if (i == start)
			return AMOUNT_SYNTAX;
	}
	if (i != len)
		return AMOUNT_SYNTAX;
	/* the base units are m times 10^shift */
	shift = (int64_t) decimals + (negative ? -exponent : exponent) - (int64_t) frac;
	while (lead + 1 < nm && m[lead] == '0')
		lead++;
	if (nm - lead == 1 && m[lead] == '0')
	{
		snprintf(out, REF_LEN, "0");
		return AMOUNT_OK;
	}
	if (shift < 0)
	{
		bool precise = true;

		for (int64_t k = 0; k < -shift && (size_t) k < nm - lead; k++)
			precise &= m[nm - 1 - (size_t) k] == '0';
		if ((size_t) -shift >= nm - lead)
			return AMOUNT_TOO_PRECISE; /* every significant digit dropped, one not 0 */
		nm -= (size_t) -shift;
		if (!precise)
			return nm - lead > 78 || (nm - lead == 78 && memcmp(m + lead, MAX_TEXT, 78) > 0)
					   ? REF_EITHER
					   : AMOUNT_TOO_PRECISE;
	}
	else
	{
		if ((int64_t) (nm - lead) + shift > 78)
			return AMOUNT_TOO_LARGE;
		for (int64_t k = 0; k < shift; k++)
			m[nm++] = '0';
	}
	if (nm - lead > 78 || (nm - lead == 78 && memcmp(m + lead, MAX_TEXT, 78) > 0))
		return AMOUNT_TOO_LARGE;
	memcpy(out, m + lead, nm - lead);
	out[nm - lead] = '\0';
	return AMOUNT_OK;
}

/* Parses with both and compares; false (and *why) on a difference. */
static bool
amount_agrees(const char *s, size_t len, unsigned decimals, char *why, size_t whylen)
{
	static char        want[REF_LEN];
	char               got[AMOUNT_TEXT_LEN];
	struct amount      a;
	enum amount_status st = amount_parse(s, len, decimals, &a);
	enum amount_status rst = ref_amount(s, len, decimals, want);

	if (st == AMOUNT_OK)
		amount_format(&a, got);
	if (rst == REF_EITHER && (st == AMOUNT_TOO_LARGE || st == AMOUNT_TOO_PRECISE))
		return true;
	if (st != rst || (st == AMOUNT_OK && strcmp(got, want) != 0))
	{
		snprintf(why, whylen, "'%.200s' with %u decimals: %s %s, want %s %.100s", shown(s, len),
				 decimals, amount_status_message(st), st == AMOUNT_OK ? got : "",
				 rst == REF_EITHER ? "too large or too precise" : amount_status_message(rst),
				 rst == AMOUNT_OK ? want : "");
		return false;
	}
	return true;
}

/*
 * Every string of 0..6 characters over digits, point, e, E and signs
 * (137,257 strings), with 0, 1, 2 and 18 decimals, against the reference.
 */
START_TEST(test_amount_short_strings)
{
	static const char     alphabet[] = "019.e+-";
	static const unsigned decimals[] = { 0, 1, 2, 18 };
	const size_t          na = sizeof(alphabet) - 1;
	char                  s[8], why[512];
	int                   n_ok = 0, n_precise = 0, n_syntax = 0;

	for (size_t len = 0; len <= 6; len++)
	{
		size_t total = 1;

		for (size_t i = 0; i < len; i++)
			total *= na;
		for (size_t k = 0; k < total; k++)
		{
			size_t x = k;

			for (size_t i = 0; i < len; i++, x /= na)
				s[i] = alphabet[x % na];
			s[len] = '\0';
			for (size_t d = 0; d < 4; d++)
			{
				struct amount      a;
				enum amount_status st = amount_parse(s, len, decimals[d], &a);

				require(amount_agrees(s, len, decimals[d], why, sizeof(why)), "%s", why);
				n_ok += st == AMOUNT_OK;
				n_precise += st == AMOUNT_TOO_PRECISE;
				n_syntax += st == AMOUNT_SYNTAX;
			}
		}
	}
	ck_assert_int_gt(n_ok, 5000);
	ck_assert_int_gt(n_precise, 1000);
	ck_assert_int_gt(n_syntax, 100000);
}
END_TEST

/*
 * Exponents past 1000 that a long mantissa brings back: the value is
 * exact whatever the exponent.  "7" and 1010 zeros, times 10^-1010, is 7;
 * 42 and 1003 zeros times 10^-1003 is 42 tokens; "0." and 1500 zeros and
 * a 1, times 10^1501, is 1; "1" and 1500 zeros times 10^-1500 is 1.
 */
struct long_case
{
	const char *head;
	size_t      zeros;
	const char *tail;
	unsigned    decimals;
	const char *value;
};

static const struct long_case long_cases[] = {
	{ "7", 1010, "e-1010", 0, "7" },  { "42", 1003, "e-1003", 18, "42000000000000000000" },
	{ "0.", 1500, "1e1501", 0, "1" }, { "1", 1500, "e-1500", 0, "1" },
	{ "1", 1001, "E-1001", 0, "1" },
};

START_TEST(test_amount_long_mantissa)
{
	const struct long_case *c = &long_cases[_i];
	static char             s[4096];
	size_t                  n = 0;
	struct amount           a;
	enum amount_status      st;
	char                    got[AMOUNT_TEXT_LEN];

	n += (size_t) snprintf(s + n, sizeof(s) - n, "%s", c->head);
	memset(s + n, '0', c->zeros);
	n += c->zeros;
	n += (size_t) snprintf(s + n, sizeof(s) - n, "%s", c->tail);
	st = amount_parse(s, n, c->decimals, &a);
	ck_assert_msg(st == AMOUNT_OK, "row %d (%s, %zu zeros, %s; %u decimals): %s, want %s", _i,
				  c->head, c->zeros, c->tail, c->decimals, amount_status_message(st), c->value);
	amount_format(&a, got);
	ck_assert_msg(strcmp(got, c->value) == 0,
				  "row %d (%s, %zu zeros, %s; %u decimals): %s, want %s", _i, c->head, c->zeros,
				  c->tail, c->decimals, got, c->value);
}
END_TEST

static uint64_t next_random(uint64_t *state);

/* digits[0..n) at random, the first not 0 unless n == 1 */
static void
random_digits(uint64_t *rng, char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (char) ('0' + next_random(rng) % 10);
	if (n > 1 && buf[0] == '0')
		buf[0] = '1';
}

/*
 * Random amounts written every way amount.h allows: a whole part with
 * leading zeros, a fraction with trailing zeros, an exponent that moves
 * the point, any decimals up to 36; all against the reference.  Then
 * random values of up to 78 digits parse (0 decimals) and format back to
 * themselves, or are too large exactly when the reference says so.
 */
START_TEST(test_amount_random)
{
	uint64_t rng = 25625625;
	char     why[512];
	int      n_ok = 0, n_large = 0, n_precise = 0, n_roundtrip = 0;

	for (int iter = 0; iter < 100000; iter++)
	{
		char     s[400];
		size_t   n = 0;
		size_t   whole = 1 + (size_t) (next_random(&rng) % 80);
		size_t   frac = next_random(&rng) % 3 ? (size_t) (next_random(&rng) % 40) : 0;
		unsigned decimals = (unsigned) (next_random(&rng) % 37);

		for (size_t z = next_random(&rng) % 4; z > 0; z--)
			s[n++] = '0';
		random_digits(&rng, s + n, whole);
		n += whole;
		if (frac > 0)
		{
			s[n++] = '.';
			random_digits(&rng, s + n, frac);
			/* often zeros at the end, which cost no precision */
			for (size_t k = 0; k < frac && next_random(&rng) % 2; k++)
				s[n + frac - 1 - k] = '0';
			n += frac;
		}
		if (next_random(&rng) % 2)
			n += (size_t) snprintf(s + n, sizeof(s) - n, "%s%s%d",
								   next_random(&rng) % 2 ? "e" : "E",
								   (const char *[]){ "", "+", "-" }[next_random(&rng) % 3],
								   (int) (next_random(&rng) % 120));
		require(amount_agrees(s, n, decimals, why, sizeof(why)), "iteration %d: %s", iter, why);
		{
			struct amount      a;
			enum amount_status st = amount_parse(s, n, decimals, &a);

			n_ok += st == AMOUNT_OK;
			n_large += st == AMOUNT_TOO_LARGE;
			n_precise += st == AMOUNT_TOO_PRECISE;
		}
	}
	for (int iter = 0; iter < 100000; iter++)
	{
		char               s[AMOUNT_MAX_DIGITS + 2], back[AMOUNT_TEXT_LEN];
		size_t             n = 1 + (size_t) (next_random(&rng) % AMOUNT_MAX_DIGITS);
		struct amount      a;
		enum amount_status st;
		bool               fits;

		random_digits(&rng, s, n);
		s[n] = '\0';
		fits = n < AMOUNT_MAX_DIGITS || strcmp(s, MAX_TEXT) <= 0;
		st = amount_parse(s, n, 0, &a);
		require(st == (fits ? AMOUNT_OK : AMOUNT_TOO_LARGE), "'%s': %s", s,
				amount_status_message(st));
		if (!fits)
			continue;
		amount_format(&a, back);
		require(strcmp(back, s) == 0, "'%s' formatted back as '%s'", s, back);
		n_roundtrip++;
	}
	ck_assert_int_gt(n_ok, 20000);
	ck_assert_int_gt(n_large, 10000);
	ck_assert_int_gt(n_precise, 10000);
	ck_assert_int_gt(n_roundtrip, 90000);
}
END_TEST

/* ---- the penalty factor: payout_keep_parse / payout_keep_format ---- */

/*
 * Rows check_payout.c does not have: leading zeros, trailing zeros and the
 * ends of the range.  keep = 1 - f = (10^6 - ppm)/10^6, reduced.
 */
struct keep_case
{
	const char *f;
	bool        ok;
	uint64_t    num;
	uint64_t    den;
	uint32_t    ppm;
	const char *canonical;
};

static const struct keep_case keep_cases[] = {
	{ "00.5", true, 1, 2, 500000, "0.5" },
	{ "0.500000", true, 1, 2, 500000, "0.5" },
	{ "01", true, 0, 1, 1000000, "1" },
	{ "001.000", true, 0, 1, 1000000, "1" },
	{ "0.000000", true, 1, 1, 0, "0" },
	{ "0.05", true, 19, 20, 50000, "0.05" },                   /* 950000/10^6, gcd 50000 */
	{ "0.010", true, 99, 100, 10000, "0.01" },                 /* 990000/10^6, gcd 10000 */
	{ "0.4", true, 3, 5, 400000, "0.4" },                      /* 600000/10^6, gcd 200000 */
	{ "0.000002", true, 499999, 500000, 2, "0.000002" },       /* 999998/10^6, gcd 2 */
	{ "0.100001", true, 899999, 1000000, 100001, "0.100001" }, /* 899999 is odd, not 5k */
	{ "0.0000005", false, 0, 0, 0, NULL },
	{ "1.0000000", false, 0, 0, 0, NULL },
	{ "1.000001", false, 0, 0, 0, NULL },
	{ "0.5\n", false, 0, 0, 0, NULL },
	{ "\t0.5", false, 0, 0, 0, NULL },
	{ "50%", false, 0, 0, 0, NULL },
	{ "1/2", false, 0, 0, 0, NULL },
};

START_TEST(test_keep_table)
{
	const struct keep_case *c = &keep_cases[_i];
	struct payout_keep      k;
	char                    buf[32];
	bool                    ok;

	memset(&k, 0xee, sizeof(k));
	ok = payout_keep_parse(c->f, &k);
	ck_assert_msg(ok == c->ok, "row %d '%s': %s, want %s", _i, shown(c->f, strlen(c->f)),
				  ok ? "accepted" : "refused", c->ok ? "accepted" : "refused");
	if (!c->ok)
		return;
	ck_assert_msg(k.num == c->num && k.den == c->den && k.penalty_ppm == c->ppm,
				  "row %d '%s': %llu/%llu ppm %u, want %llu/%llu ppm %u", _i, c->f,
				  (unsigned long long) k.num, (unsigned long long) k.den, k.penalty_ppm,
				  (unsigned long long) c->num, (unsigned long long) c->den, c->ppm);
	payout_keep_format(&k, buf, sizeof(buf));
	ck_assert_msg(strcmp(buf, c->canonical) == 0, "row %d '%s' formatted as '%s', want '%s'", _i,
				  c->f, buf, c->canonical);
}
END_TEST

/* A short buffer is cut and terminated, never overrun. */
START_TEST(test_keep_format_short_buffer)
{
	struct payout_keep k;
	char               buf[8];

	ck_assert(payout_keep_parse("0.123456", &k));
	memset(buf, 'x', sizeof(buf));
	payout_keep_format(&k, buf, 4);
	ck_assert_str_eq(buf, "0.1");
	ck_assert_int_eq(buf[4], 'x');
}
END_TEST

/* ---- every short string against a reference grammar ---- */

static uint64_t
gcd(uint64_t a, uint64_t b)
{
	return b == 0 ? a : gcd(b, a % b);
}

/* numparse.h's words: 1..n decimal digits (nothing else) in [min, max]. */
static bool
ref_u64(const char *s, size_t len, uint64_t min, uint64_t max, uint64_t *out)
{
	u128 v = 0;

	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
	{
		if (!strchr("0123456789", s[i]) || s[i] == '\0')
			return false;
		v = v * 10 + (u128) (s[i] - '0');
		if (v > UINT64_MAX)
			return false;
	}
	if (v < min || v > max)
		return false;
	*out = (uint64_t) v;
	return true;
}

/*
 * A whole part of one or more digits, optionally a point and 1..max_digits
 * digits, worth at most 1: num / den with den = 10^(digits after the point).
 */
static bool
ref_fraction(const char *s, size_t len, int max_digits, uint64_t *num, uint64_t *den)
{
	const char *dot = memchr(s, '.', len);
	size_t      wlen = dot ? (size_t) (dot - s) : len;
	size_t      flen = dot ? len - wlen - 1 : 0;
	uint64_t    whole, frac = 0, scale = 1;

	if (max_digits < 1 || max_digits > 18 || !ref_u64(s, wlen, 0, UINT64_MAX, &whole))
		return false;
	if (dot &&
		(flen < 1 || flen > (size_t) max_digits || !ref_u64(dot + 1, flen, 0, UINT64_MAX, &frac)))
		return false;
	for (size_t i = 0; i < flen; i++)
		scale *= 10;
	if (whole > 1 || (whole == 1 && frac > 0))
		return false;
	*num = whole * scale + frac;
	*den = scale;
	return true;
}

/*
 * Every string of 0..5 characters over digits, point, signs, space and a
 * letter (37,449 strings), through every parser, against the reference.
 */
START_TEST(test_short_strings_vs_reference)
{
	static const char alphabet[] = "0159.- x";
	const size_t      na = sizeof(alphabet) - 1;
	char              s[8];
	int               n_fraction_ok = 0, n_keep_ok = 0, n_u64_ok = 0;

	for (size_t len = 0; len <= 5; len++)
	{
		size_t total = 1;

		for (size_t i = 0; i < len; i++)
			total *= na;
		for (size_t k = 0; k < total; k++)
		{
			size_t x = k;

			for (size_t i = 0; i < len; i++, x /= na)
				s[i] = alphabet[x % na];
			s[len] = '\0';

			/* numparse_u64, two ranges */
			{
				uint64_t got = 0, want = 0;
				bool     ok = numparse_u64(s, len, 0, UINT64_MAX, &got);
				bool     rok = ref_u64(s, len, 0, UINT64_MAX, &want);

				require(ok == rok && (!ok || got == want), "u64 '%s': %d %llu, want %d %llu", s, ok,
						(unsigned long long) got, rok, (unsigned long long) want);
				n_u64_ok += ok;
				ok = numparse_u64(s, len, 10, 5000, &got);
				rok = ref_u64(s, len, 10, 5000, &want);
				require(ok == rok && (!ok || got == want), "u64 '%s' in [10, 5000]: %d, want %d", s,
						ok, rok);
			}
			/* numparse_fraction, for every max_digits that matters here */
			for (int d = 0; d <= 5; d++)
			{
				uint64_t num = 0, den = 0, rnum = 0, rden = 0;
				bool     ok = numparse_fraction(s, len, d, &num, &den);
				bool     rok = ref_fraction(s, len, d, &rnum, &rden);

				require(ok == rok && (!ok || (num == rnum && den == rden)),
						"fraction '%s' (%d digits): %d %llu/%llu, want %d %llu/%llu", s, d, ok,
						(unsigned long long) num, (unsigned long long) den, rok,
						(unsigned long long) rnum, (unsigned long long) rden);
				n_fraction_ok += ok;
			}
			/* payout_keep_parse: 6 digits; keep = 1 - num/den in lowest terms */
			{
				struct payout_keep kp;
				uint64_t           num = 0, den = 0;
				bool               ok = payout_keep_parse(s, &kp);
				bool               rok = ref_fraction(s, len, 6, &num, &den);

				require(ok == rok, "penalty '%s': %d, want %d", s, ok, rok);
				if (ok)
				{
					require((u128) kp.num * den == (u128) (den - num) * kp.den && kp.den > 0 &&
								gcd(kp.num, kp.den) == 1,
							"penalty '%s': keep %llu/%llu, want (%llu - %llu)/%llu reduced", s,
							(unsigned long long) kp.num, (unsigned long long) kp.den,
							(unsigned long long) den, (unsigned long long) num,
							(unsigned long long) den);
					require((u128) kp.penalty_ppm * den == (u128) num * PAYOUT_PPM,
							"penalty '%s': ppm %u", s, kp.penalty_ppm);
					n_keep_ok++;
				}
			}
			/* settings_ratio_parse: 9 digits, unreduced, the text kept */
			{
				struct settings_ratio r;
				uint64_t              num = 0, den = 0;
				bool                  ok = settings_ratio_parse(s, &r);
				bool                  rok = ref_fraction(s, len, 9, &num, &den);

				require(ok == rok &&
							(!ok || (r.num == num && r.den == den && strcmp(r.text, s) == 0)),
						"ratio '%s': %d, want %d", s, ok, rok);
			}
			/* amount_parse in base units, and in tokens of 2 decimals */
			{
				char why[512];

				require(amount_agrees(s, len, 0, why, sizeof(why)), "%s", why);
				require(amount_agrees(s, len, 2, why, sizeof(why)), "%s", why);
			}
		}
	}
	/* the alphabet reached the accepted forms too */
	ck_assert_int_gt(n_u64_ok, 1000);
	ck_assert_int_gt(n_fraction_ok, 100);
	ck_assert_int_gt(n_keep_ok, 50);
}
END_TEST

/* ---- random 64-bit values ---- */

static uint64_t
next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/*
 * A random value v, written with 0..3 leading zeros, parses back to v, and
 * is refused by [v + 1, max] and [0, v - 1]; v with one more digit d
 * appended is 10v + d, accepted exactly when that fits 64 bits (computed
 * in 128).  Values are drawn at every magnitude.
 */
START_TEST(test_u64_random)
{
	uint64_t rng = 424242;
	int      n_over = 0, n_fit = 0;

	for (int iter = 0; iter < 200000; iter++)
	{
		int      bits = (int) (next_random(&rng) % 65);
		uint64_t v = bits == 0 ? 0 : next_random(&rng) >> (64 - bits);
		int      zeros = (int) (next_random(&rng) % 4);
		unsigned d = (unsigned) (next_random(&rng) % 10);
		char     buf[40];
		int      n = snprintf(buf, sizeof(buf), "%.*s%llu", zeros, "000", (unsigned long long) v);
		uint64_t got = 0;
		u128     longer = (u128) v * 10 + d;
		bool     ok;

		require(numparse_u64(buf, (size_t) n, 0, UINT64_MAX, &got) && got == v,
				"'%s' parsed as %llu", buf, (unsigned long long) got);
		require(numparse_u64(buf, (size_t) n, v, v, &got) && got == v, "'%s' in [v, v]", buf);
		if (v < UINT64_MAX)
			require(!numparse_u64(buf, (size_t) n, v + 1, UINT64_MAX, &got), "'%s' >= v + 1", buf);
		if (v > 0)
			require(!numparse_u64(buf, (size_t) n, 0, v - 1, &got), "'%s' <= v - 1", buf);

		buf[n] = (char) ('0' + d);
		ok = numparse_u64(buf, (size_t) n + 1, 0, UINT64_MAX, &got);
		require(ok == (longer <= UINT64_MAX) && (!ok || got == (uint64_t) longer), "'%.*s': %s",
				n + 1, buf, ok ? "accepted" : "refused");
		if (ok)
			n_fit++;
		else
			n_over++;
	}
	ck_assert_int_gt(n_over, 1000);
	ck_assert_int_gt(n_fit, 1000);
}
END_TEST

static Suite *
numparse_suite(void)
{
	Suite *s = suite_create("numparse");
	TCase *tc;

	tc = tcase_create("u64");
	tcase_add_loop_test(tc, test_u64_table, 0, NROWS(u64_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("i64");
	tcase_add_test(tc, test_i64);
	suite_add_tcase(s, tc);

	tc = tcase_create("fraction");
	tcase_add_loop_test(tc, test_fraction_table, 0, NROWS(fraction_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("duration");
	tcase_add_loop_test(tc, test_duration_table, 0, NROWS(duration_cases));
	tcase_add_test(tc, test_duration_sweep);
	suite_add_tcase(s, tc);

	tc = tcase_create("ratio");
	tcase_add_loop_test(tc, test_ratio_parse_table, 0, NROWS(ratio_cases));
	tcase_add_loop_test(tc, test_ratio_exceeded_table, 0, NROWS(exceeded_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("amount");
	tcase_add_loop_test(tc, test_amount_table, 0, NROWS(amount_cases));
	tcase_add_test(tc, test_amount_status_messages);
	tcase_add_loop_test(tc, test_amount_long_mantissa, 0, NROWS(long_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("penalty_factor");
	tcase_add_loop_test(tc, test_keep_table, 0, NROWS(keep_cases));
	tcase_add_test(tc, test_keep_format_short_buffer);
	suite_add_tcase(s, tc);

	tc = tcase_create("reference");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_short_strings_vs_reference);
	tcase_add_test(tc, test_u64_random);
	tcase_add_test(tc, test_amount_short_strings);
	tcase_add_test(tc, test_amount_random);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(numparse_suite());
	int      failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
