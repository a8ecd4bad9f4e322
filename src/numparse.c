/*
 * numparse.c: checked number parsing (see numparse.h).
 */
#include "payrun/numparse.h"
#include "payrun/banned.h"

static inline bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

bool
numparse_u64(const char *s, size_t len, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0)
		return false;
	/* up to 19 digits cannot pass 2^64 - 1: no overflow checks (ids are ~8 digits) */
	if (len <= 19)
	{
		for (size_t i = 0; i < len; i++)
		{
			unsigned d = (unsigned char) s[i] - '0';

			if (d > 9)
				return false;
			v = v * 10 + d;
		}
		if (v < min || v > max)
			return false;
		*out = v;
		return true;
	}
	for (size_t i = 0; i < len; i++)
	{
		if (!is_digit(s[i]) || __builtin_mul_overflow(v, 10, &v) ||
			__builtin_add_overflow(v, (uint64_t) (s[i] - '0'), &v))
			return false;
	}
	if (v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool
numparse_fraction(const char *s, size_t len, int max_digits, uint64_t *num, uint64_t *den)
{
	size_t   dot = 0;
	uint64_t whole;
	uint64_t frac = 0;
	uint64_t scale = 1;

	if (max_digits < 1 || max_digits > 18)
		return false;
	while (dot < len && s[dot] != '.')
		dot++;
	if (!numparse_u64(s, dot, 0, 1, &whole))
		return false;
	if (dot < len)
	{
		size_t digits = len - dot - 1;

		if (digits == 0 || digits > (size_t) max_digits ||
			!numparse_u64(s + dot + 1, digits, 0, UINT64_MAX, &frac))
			return false;
		for (size_t i = 0; i < digits; i++)
			scale *= 10;
	}
	if (whole == 1 && frac != 0)
		return false;
	*num = whole * scale + frac;
	*den = scale;
	return true;
}

bool
numparse_duration(const char *s, size_t len, int64_t max_s, int64_t *out_s)
{
	uint64_t unit = 1;
	uint64_t v;

	if (len > 0 && !is_digit(s[len - 1]))
	{
		switch (s[len - 1])
		{
			case 's':
				unit = 1;
				break;
			case 'm':
				unit = 60;
				break;
			case 'h':
				unit = 3600;
				break;
			case 'd':
				unit = 86400;
				break;
			default:
				return false;
		}
		len--;
	}
	if (max_s < 0 || !numparse_u64(s, len, 0, (uint64_t) max_s / unit, &v))
		return false;
	*out_s = (int64_t) (v * unit);
	return true;
}

bool
numparse_i64(const char *s, size_t len, int64_t *out)
{
	uint64_t u;
	bool     negative = len > 0 && s[0] == '-';

	if (!numparse_u64(s + negative, len - negative, 0, (uint64_t) INT64_MAX + negative, &u))
		return false;
	*out = negative ? (int64_t) (0 - u) : (int64_t) u;
	return true;
}
