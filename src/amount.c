/*
 * amount.c: 256-bit amounts (see amount.h).  Four 64-bit limbs, products
 * carried in a fifth, every carry and borrow through unsigned __int128.
 */
#include <string.h>

#include "payrun/amount.h"
#include "payrun/numparse.h"
#include "payrun/banned.h"

typedef unsigned __int128 u128;

#define LIMBS      4
#define TEN_POW_19 10000000000000000000ULL /* the largest power of ten in 64 bits */

void
amount_from_u64(struct amount *a, uint64_t v)
{
	memset(a, 0, sizeof(*a));
	a->limb[0] = v;
}

bool
amount_to_u64(const struct amount *a, uint64_t *v)
{
	if (a->limb[1] | a->limb[2] | a->limb[3])
		return false;
	*v = a->limb[0];
	return true;
}

bool
amount_is_zero(const struct amount *a)
{
	return (a->limb[0] | a->limb[1] | a->limb[2] | a->limb[3]) == 0;
}

int
amount_cmp(const struct amount *a, const struct amount *b)
{
	for (int i = LIMBS - 1; i >= 0; i--)
	{
		if (a->limb[i] != b->limb[i])
			return a->limb[i] < b->limb[i] ? -1 : 1;
	}
	return 0;
}

bool
amount_add(struct amount *acc, const struct amount *b)
{
	struct amount r;
	u128          carry = 0;

	for (int i = 0; i < LIMBS; i++)
	{
		carry += (u128) acc->limb[i] + b->limb[i];
		r.limb[i] = (uint64_t) carry;
		carry >>= 64;
	}
	if (carry)
		return false;
	*acc = r;
	return true;
}

bool
amount_add_u64(struct amount *acc, uint64_t v)
{
	struct amount b;

	amount_from_u64(&b, v);
	return amount_add(acc, &b);
}

bool
amount_sub(struct amount *acc, const struct amount *b)
{
	uint64_t borrow = 0;

	if (amount_cmp(acc, b) < 0)
		return false;
	for (int i = 0; i < LIMBS; i++)
	{
		uint64_t x = acc->limb[i];
		uint64_t y = b->limb[i];
		uint64_t d = x - y - borrow;

		borrow = (x < y || (x == y && borrow)) ? 1 : 0;
		acc->limb[i] = d;
	}
	return true;
}

bool
amount_mul_div(const struct amount *a, uint64_t num, uint64_t den, struct amount *q, uint64_t *rem)
{
	uint64_t p[LIMBS + 1];
	uint64_t quot[LIMBS + 1];
	u128     carry = 0;
	u128     r = 0;

	for (int i = 0; i < LIMBS; i++)
	{
		carry += (u128) a->limb[i] * num;
		p[i] = (uint64_t) carry;
		carry >>= 64;
	}
	p[LIMBS] = (uint64_t) carry;
	for (int i = LIMBS; i >= 0; i--)
	{
		u128 cur = (r << 64) | p[i];

		quot[i] = (uint64_t) (cur / den);
		r = cur % den;
	}
	if (quot[LIMBS] != 0)
		return false;
	memcpy(q->limb, quot, sizeof(q->limb));
	*rem = (uint64_t) r;
	return true;
}

/* a = a * 10 + digit; false on overflow. */
static bool
push_digit(struct amount *a, unsigned digit)
{
	u128          carry = digit;
	struct amount r;

	for (int i = 0; i < LIMBS; i++)
	{
		carry += (u128) a->limb[i] * 10;
		r.limb[i] = (uint64_t) carry;
		carry >>= 64;
	}
	if (carry)
		return false;
	*a = r;
	return true;
}

/* The parts of a decimal number's text. */
struct decimal_text
{
	const char *intpart;
	size_t      intlen;
	const char *frac;
	size_t      fraclen;
	int64_t     exponent;
};

static bool
all_digits(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return false;
	}
	return true;
}

/* Splits "123.45e-6"; false on a syntax error. */
static bool
split_decimal(const char *s, size_t len, struct decimal_text *d)
{
	size_t   i = 0;
	uint64_t e;
	uint64_t saturated = (uint64_t) len + AMOUNT_MAX_DIGITS + AMOUNT_DECIMALS_MAX + 1;

	memset(d, 0, sizeof(*d));
	d->intpart = s;
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++;
	d->intlen = i;
	if (i == 0)
		return false;
	if (i < len && s[i] == '.')
	{
		d->frac = s + ++i;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		d->fraclen = (size_t) (s + i - d->frac);
		if (d->fraclen == 0)
			return false;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E'))
	{
		bool negative = false;

		if (++i < len && (s[i] == '+' || s[i] == '-'))
			negative = s[i++] == '-';
		if (i == len || !all_digits(s + i, len - i))
			return false;
		/*
		 * An exponent past the text's own length (plus the digits of 2^256
		 * and of the decimals) saturates: a non-zero number is then too
		 * large or too precise whatever its digits; zero stays zero.
		 */
		if (!numparse_u64(s + i, len - i, 0, saturated, &e))
			e = saturated;
		d->exponent = negative ? -(int64_t) e : (int64_t) e;
		i = len;
	}
	return i == len;
}

enum amount_status
amount_parse(const char *s, size_t len, unsigned decimals, struct amount *out)
{
	struct decimal_text d;
	struct amount       a;
	int64_t             shift; /* the point moves this many digits to the right */
	size_t              ndigits;
	size_t              keep;

	if (decimals > AMOUNT_DECIMALS_MAX || !split_decimal(s, len, &d))
		return AMOUNT_SYNTAX;
	shift = (int64_t) decimals + d.exponent;
	ndigits = d.intlen + d.fraclen;
	/* digits of int and frac, read in turn; those past the point after the shift must be 0 */
	keep = shift >= (int64_t) d.fraclen ? ndigits : d.intlen + (size_t) (shift > 0 ? shift : 0);
	if (shift < 0 && (size_t) -shift > d.intlen)
		keep = 0;
	else if (shift < 0)
		keep = d.intlen - (size_t) -shift;
	memset(&a, 0, sizeof(a));
	for (size_t k = 0; k < ndigits; k++)
	{
		char c = k < d.intlen ? d.intpart[k] : d.frac[k - d.intlen];

		if (k >= keep)
		{
			if (c != '0')
				return AMOUNT_TOO_PRECISE;
			continue;
		}
		if (!push_digit(&a, (unsigned) (c - '0')))
			return AMOUNT_TOO_LARGE;
	}
	/* the shift past the last digit appends zeros */
	for (int64_t z = shift - (int64_t) d.fraclen; z > 0 && !amount_is_zero(&a); z--)
	{
		if (!push_digit(&a, 0))
			return AMOUNT_TOO_LARGE;
	}
	*out = a;
	return AMOUNT_OK;
}

const char *
amount_status_message(enum amount_status status)
{
	switch (status)
	{
		case AMOUNT_OK:
			return "ok";
		case AMOUNT_SYNTAX:
			return "not a non-negative decimal number";
		case AMOUNT_TOO_LARGE:
			return "more than 2^256 - 1 base units";
		case AMOUNT_TOO_PRECISE:
			return "more fractional digits than the token's decimals";
	}
	return "unknown";
}

size_t
amount_format(const struct amount *a, char buf[AMOUNT_TEXT_LEN])
{
	char          rev[AMOUNT_TEXT_LEN];
	size_t        n = 0;
	struct amount x = *a;

	do
	{
		uint64_t chunk;
		bool     last;

		(void) amount_mul_div(&x, 1, TEN_POW_19, &x, &chunk);
		last = amount_is_zero(&x);
		/* 19 digits of each chunk but the leading one, which has no zeros in front */
		for (int k = 0; k < 19 && (!last || chunk > 0 || k == 0); k++)
		{
			rev[n++] = (char) ('0' + chunk % 10);
			chunk /= 10;
			if (last && chunk == 0)
				break;
		}
	} while (!amount_is_zero(&x));
	for (size_t i = 0; i < n; i++)
		buf[i] = rev[n - 1 - i];
	buf[n] = '\0';
	return n;
}

void
amount_delta(const struct amount *now, const struct amount *before, struct amount_delta *d)
{
	if (amount_cmp(now, before) >= 0)
	{
		d->magnitude = *now;
		(void) amount_sub(&d->magnitude, before);
		d->negative = false;
	}
	else
	{
		d->magnitude = *before;
		(void) amount_sub(&d->magnitude, now);
		d->negative = true;
	}
}

size_t
amount_delta_format(const struct amount_delta *d, bool plus, char buf[AMOUNT_TEXT_LEN])
{
	bool   sign = d->negative || (plus && !amount_is_zero(&d->magnitude));
	char   digits[AMOUNT_TEXT_LEN];
	size_t n = amount_format(&d->magnitude, digits);

	if (sign)
		buf[0] = d->negative ? '-' : '+';
	memcpy(buf + (sign ? 1 : 0), digits, n + 1);
	return n + (sign ? 1 : 0);
}
