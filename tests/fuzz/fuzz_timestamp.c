/*
 * fuzz_timestamp.c: libFuzzer target for timestamp_parse (timestamp.h) and
 * period_parse (period.h).
 *
 * The input is tried as a probe timestamp and as a period label.  Neither
 * may crash, and:
 *   - timestamp_parse accepts exactly what a POSIX regex of the documented
 *     shapes accepts with a real date and time (checked with glibc timegm
 *     and gmtime_r), and returns timegm's value less the zone offset; it
 *     gives the same answer with its one-date cache cold, primed by the
 *     input itself, and primed by another date;
 *   - a parsed instant is in years 1..9999 and formats (timestamp_format)
 *     to a string that parses back to the same value;
 *   - the first 8 bytes, read as an instant in years 1..9999, format and
 *     parse back too;
 *   - period_parse succeeds exactly for a label of the right shape naming a
 *     real day (and hour), with start < end, end - start 86400 or 3600,
 *     start equal to timegm's, the label unchanged, and reparsing the label
 *     or period_from_start(start) giving the same period; a length given
 *     must match the shape; errors fit any err buffer size.
 */
#include <regex.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "payrun/period.h"
#include "payrun/timestamp.h"
#include "fuzz_common.h"

static regex_t ts_re;
static regex_t label_re;
static int64_t min_t; /* 0001-01-01T00:00:00Z */
static int64_t max_t; /* 10000-01-01T00:00:00Z, exclusive */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void) argc;
	(void) argv;
	if (regcomp(&ts_re,
				"^([0-9]{4})-([0-9]{2})-([0-9]{2})[ T]([0-9]{2}):([0-9]{2}):([0-9]{2})"
				"(\\.[0-9]{1,9})?(Z|([+-])([0-9]{2})(:?([0-9]{2}))?)?$",
				REG_EXTENDED) != 0 ||
		regcomp(&label_re, "^([0-9]{4})-([0-9]{2})-([0-9]{2})(T([0-9]{2}))?$", REG_EXTENDED) != 0)
		fuzz_fail("regcomp failed");
	min_t = timestamp_days_from_civil(1, 1, 1) * 86400;
	max_t = timestamp_days_from_civil(10000, 1, 1) * 86400;
	if (min_t != TIMESTAMP_FIRST || max_t - 1 != TIMESTAMP_LAST)
		fuzz_fail("TIMESTAMP_FIRST or TIMESTAMP_LAST is off");
	return 0;
}

static int
group_int(const char *s, const regmatch_t *m)
{
	int v = 0;

	for (regoff_t i = m->rm_so; i < m->rm_eo; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/*
 * The UTC instant of a civil date and time through glibc, or false when
 * the fields name no real instant (timegm would normalise them) or the
 * year is outside 1..9999.
 */
static bool
ref_civil(int year, int month, int day, int hour, int minute, int second, int64_t *out)
{
	struct tm tm;
	struct tm back;
	time_t    t;

	if (year < 1 || year > 9999)
		return false;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = month - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = minute;
	tm.tm_sec = second;
	t = timegm(&tm);
	if (gmtime_r(&t, &back) == NULL)
		return false;
	if (back.tm_year != year - 1900 || back.tm_mon != month - 1 || back.tm_mday != day ||
		back.tm_hour != hour || back.tm_min != minute || back.tm_sec != second)
		return false;
	*out = (int64_t) t;
	return true;
}

/* The reference timestamp parser: the regex, then timegm. */
static bool
ref_timestamp(const char *s, size_t len, int64_t *out)
{
	regmatch_t m[13];
	int64_t    t;
	int        offset = 0;

	if (memchr(s, '\0', len) != NULL)
		return false; /* s is a NUL-terminated copy of len bytes */
	if (regexec(&ts_re, s, 13, m, 0) != 0)
		return false;
	if (!ref_civil(group_int(s, &m[1]), group_int(s, &m[2]), group_int(s, &m[3]),
				   group_int(s, &m[4]), group_int(s, &m[5]), group_int(s, &m[6]), &t))
		return false;
	if (m[9].rm_so >= 0)
	{
		int oh = group_int(s, &m[10]);
		int om = m[12].rm_so >= 0 ? group_int(s, &m[12]) : 0;

		if (oh > 15 || om > 59)
			return false;
		offset = oh * 3600 + om * 60;
		if (s[m[9].rm_so] == '-')
			offset = -offset;
	}
	/* timestamp.h: instants an offset moves out of years 1..9999 are refused */
	if (t - offset < min_t || t - offset >= max_t)
		return false;
	*out = t - offset;
	return true;
}

/* Parses s[0..len) from a buffer of exactly len bytes (ASan sees overreads). */
static bool
parse_exact(const char *s, size_t len, int64_t *out)
{
	char *copy = fuzz_copy((const uint8_t *) s, len, 0);
	bool  ok = timestamp_parse(copy, len, out);

	free(copy);
	return ok;
}

/* timestamp_format(t) has the documented shape and parses back to t. */
static void
check_format_roundtrip(int64_t t)
{
	char    out[TIMESTAMP_FORMAT_LEN];
	int64_t back = 0;
	int64_t ref = 0;

	memset(out, 'x', sizeof(out));
	timestamp_format(t, out);
	fuzz_require(out[TIMESTAMP_FORMAT_LEN - 1] == '\0' && strlen(out) == 20 && out[19] == 'Z',
				 "timestamp_format(%lld) gave '%.21s'", (long long) t, out);
	fuzz_require(parse_exact(out, 20, &back) && back == t,
				 "timestamp_format(%lld) gave '%s', which parses to %lld", (long long) t, out,
				 (long long) back);
	fuzz_require(ref_timestamp(out, 20, &ref) && ref == t,
				 "timestamp_format(%lld) gave '%s', which glibc reads as %lld", (long long) t, out,
				 (long long) ref);
}

static void
fuzz_timestamp(const char *s, size_t len)
{
	int64_t want = 0, got = 0, again = 0, cold = 0;
	bool    ref_ok = ref_timestamp(s, len, &want);
	bool    ok = parse_exact(s, len, &got);
	bool    ok_again = parse_exact(s, len, &again);
	int64_t other;

	fuzz_require(ok == ref_ok, "timestamp_parse('%s') says %d, the reference %d", s, ok, ref_ok);
	fuzz_require(ok_again == ok, "timestamp_parse('%s') says %d, then %d", s, ok, ok_again);
	/* prime the date cache with another day, then parse again */
	timestamp_parse(len >= 10 && memcmp(s, "1999", 4) == 0 ? "2000-01-01 00:00:00"
														   : "1999-12-31 00:00:00",
					19, &other);
	fuzz_require(parse_exact(s, len, &cold) == ok,
				 "timestamp_parse('%s') depends on "
				 "the date cache",
				 s);
	if (!ok)
		return;
	fuzz_require(got == want && again == want && cold == want,
				 "timestamp_parse('%s') = %lld (%lld, %lld), the reference %lld", s,
				 (long long) got, (long long) again, (long long) cold, (long long) want);
	fuzz_require(got >= TIMESTAMP_FIRST && got <= TIMESTAMP_LAST,
				 "timestamp_parse('%s') = %lld, outside years 1..9999", s, (long long) got);
	check_format_roundtrip(got);
}

/* The reference label parser: the regex, then timegm. */
static bool
ref_label(const char *label, enum period_length *shape, int64_t *start)
{
	regmatch_t m[6];

	if (regexec(&label_re, label, 6, m, 0) != 0)
		return false;
	*shape = m[4].rm_so >= 0 ? PERIOD_LENGTH_HOUR : PERIOD_LENGTH_DAY;
	return ref_civil(group_int(label, &m[1]), group_int(label, &m[2]), group_int(label, &m[3]),
					 m[5].rm_so >= 0 ? group_int(label, &m[5]) : 0, 0, 0, start);
}

static bool
same_period(const struct period *a, const struct period *b)
{
	return a->length == b->length && a->start == b->start && a->end == b->end &&
		   strcmp(a->label, b->label) == 0;
}

static void
fuzz_period(const char *label, size_t errlen)
{
	static const enum period_length lengths[] = { PERIOD_LENGTH_UNSET, PERIOD_LENGTH_DAY,
												  PERIOD_LENGTH_HOUR };
	enum period_length              shape = PERIOD_LENGTH_UNSET;
	int64_t                         ref_start = 0;
	bool                            ref_ok = ref_label(label, &shape, &ref_start);
	enum period_length              plen;

	for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++)
	{
		enum period_length length = lengths[i];
		struct period      p;
		char               err[256];
		char              *small = fuzz_realloc(NULL, errlen); /* exactly errlen bytes */
		bool               ok;
		bool               want = ref_ok && (length == PERIOD_LENGTH_UNSET || length == shape);

		memset(&p, 0, sizeof(p));
		err[0] = '\0';
		ok = period_parse(label, length, &p, err, sizeof(err));
		fuzz_require(ok == want, "period_parse('%s', %s) says %d, the reference %d", label,
					 period_length_name(length), ok, want);
		fuzz_require(period_parse(label, length, &p, small, errlen) == ok,
					 "period_parse('%s') depends on the err buffer", label);
		free(small);
		if (!ok)
		{
			fuzz_require(err[0] != '\0' && strlen(err) < sizeof(err),
						 "period_parse('%s') failed without a reason", label);
			continue;
		}
		{
			int64_t       span = shape == PERIOD_LENGTH_HOUR ? 3600 : 86400;
			struct period again;
			struct period from;

			fuzz_require(p.length == shape && p.start < p.end && p.end - p.start == span &&
							 p.start % span == 0 && p.start == ref_start,
						 "period '%s': length %d [%lld, %lld), reference start %lld", label,
						 p.length, (long long) p.start, (long long) p.end, (long long) ref_start);
			fuzz_require(strcmp(p.label, label) == 0, "period '%s' has label '%s'", label, p.label);
			fuzz_require(period_parse(p.label, PERIOD_LENGTH_UNSET, &again, err, sizeof(err)) &&
							 same_period(&p, &again),
						 "label '%s' does not parse back", p.label);
			fuzz_require(period_from_start(p.start, p.length, &from) && same_period(&p, &from),
						 "period_from_start(%lld) differs from '%s'", (long long) p.start, label);
			/*
			 * The bounds format as instants; the end of 9999-12-31 (or of its
			 * last hour) is 10000-01-01, which timestamp_format cannot write.
			 */
			check_format_roundtrip(p.start);
			if (p.end < max_t)
				check_format_roundtrip(p.end);
		}
	}

	/* the length names */
	if (period_length_parse(label, &plen))
	{
		fuzz_require(strcmp(label, "1d") == 0 || strcmp(label, "day") == 0 ||
						 strcmp(label, "1h") == 0 || strcmp(label, "hour") == 0,
					 "period_length_parse accepts '%s'", label);
		fuzz_require(period_length_parse(period_length_name(plen), &shape) && shape == plen,
					 "period length '%s' does not round-trip", label);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size > 4096)
		return -1;
	/* NUL-terminated for the regex and period_parse; timestamp_parse gets len */
	s = fuzz_copy(data, size, 1);
	s[size] = '\0';
	fuzz_timestamp(s, size);
	fuzz_period(s, 1 + (size_t) (fuzz_hash(data, size) % 24));

	/* the first 8 bytes as an instant in years 1..9999 */
	if (size >= 8)
	{
		uint64_t u;

		memcpy(&u, data, 8);
		check_format_roundtrip(min_t + (int64_t) (u % (uint64_t) (max_t - min_t)));
	}
	free(s);
	return 0;
}
