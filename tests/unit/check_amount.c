/*
 * check_amount.c: unit tests of amount.h, the 256-bit amounts.
 *
 * The oracle is a reference written here on decimal digit strings:
 * schoolbook addition and subtraction, multiplication by a 64-bit number
 * and long division by one, a digit at a time, and a parser that reads the
 * header's words as "digits M times 10^p".  Nothing of it resembles
 * amount.c's 64-bit limbs.  Amounts become decimal text by Horner's rule
 * on their 32-bit halves and back the same way, without the module: those
 * two converters are the only code here that knows the representation
 * (amount.h's little-endian limbs).
 *
 * The parser has a table worked out by hand (each row is also checked
 * against the reference parser, so a wrong row or a wrong reference
 * shows), a sweep of decimals 0 .. 36 over token amounts, every string of
 * up to 5 characters over a small alphabet, random texts of every shape,
 * and round trips through amount_format.  The arithmetic has carries and
 * borrows across every bit (so every limb boundary), hand-picked mul_div
 * rows computed by gen_amount_vectors.py, and random operands of every
 * magnitude; a failing operation must leave its result unchanged.  Then
 * the payout split's properties and the signed deltas.
 */
#include <check.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payrun/amount.h"

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

/* Decimal text of up to 127 digits: a * num has at most 78 + 20. */
#define DEC_CAP 128

#define Z10 "0000000000"
#define Z18 "000000000000000000"
#define Z36 Z18 Z18
#define Z77 Z10 Z10 Z10 Z10 Z10 Z10 Z10 "0000000"
#define Z90 Z10 Z10 Z10 Z10 Z10 Z10 Z10 Z10 Z10

#define P2_32     "4294967296"
#define P2_64_M1  "18446744073709551615"
#define P2_64     "18446744073709551616"
#define P2_128_M1 "340282366920938463463374607431768211455"
#define P2_128    "340282366920938463463374607431768211456"
#define P2_192_M1 "6277101735386680763835789423207666416102355444464034512895"
#define P2_192    "6277101735386680763835789423207666416102355444464034512896"
#define P2_255_M1 "57896044618658097711785492504343953926634992332820282019728792003956564819967"
#define P2_255    "57896044618658097711785492504343953926634992332820282019728792003956564819968"
#define MAX_DEC   "115792089237316195423570985008687907853269984665640564039457584007913129639935"
#define P2_256    "115792089237316195423570985008687907853269984665640564039457584007913129639936"
#define P10_77    "1" Z77
#define P10_78    "1" Z77 "0"
#define N9_77     "99999999999999999999999999999999999999999999999999999999999999999999999999999"

#define OK          AMOUNT_OK
#define SYNTAX      AMOUNT_SYNTAX
#define TOO_LARGE   AMOUNT_TOO_LARGE
#define TOO_PRECISE AMOUNT_TOO_PRECISE
/* A set of statuses, for the reference parser's answer. */
#define ST(s) (1u << (s))

static const char *
status_name(enum amount_status s)
{
	switch (s)
	{
		case AMOUNT_OK:
			return "OK";
		case AMOUNT_SYNTAX:
			return "SYNTAX";
		case AMOUNT_TOO_LARGE:
			return "TOO_LARGE";
		case AMOUNT_TOO_PRECISE:
			return "TOO_PRECISE";
	}
	return "(not a status)";
}

/* The bytes of s[0..len) made printable for messages: \0, \xNN; a long text's middle elided. */
static const char *
shown(const char *s, size_t len)
{
	static char out[512];
	size_t      o = 0;

	for (size_t i = 0; i < len && o + 5 < sizeof(out); i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (len > 200 && i == 80)
		{
			o += (size_t) snprintf(out + o, sizeof(out) - o, "...(%zu bytes)...", len - 160);
			i = len - 80;
			c = (unsigned char) s[i];
		}

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

/* ---- the representation: the only code here that knows amount.h's limbs ---- */

/* a from eight 32-bit words, the least significant first. */
static void
amount_of_words(struct amount *a, const uint32_t w[8])
{
	for (int i = 0; i < 4; i++)
		a->limb[i] = (uint64_t) w[2 * i] | (uint64_t) w[2 * i + 1] << 32;
}

static void
words_of_amount(const struct amount *a, uint32_t w[8])
{
	for (int i = 0; i < 4; i++)
	{
		w[2 * i] = (uint32_t) a->limb[i];
		w[2 * i + 1] = (uint32_t) (a->limb[i] >> 32);
	}
}

static bool
same_amount(const struct amount *a, const struct amount *b)
{
	uint32_t wa[8], wb[8];

	words_of_amount(a, wa);
	words_of_amount(b, wb);
	return memcmp(wa, wb, sizeof(wa)) == 0;
}

/*
 * The decimal text of a, by Horner's rule over its words from the top:
 * d = d * 2^32 + w, on base-10 digits.  Each carry stays below 2^32, so
 * digit * 2^32 + carry < 10 * 2^32 fits 64 bits.
 */
static void
dec_of_amount(const struct amount *a, char out[DEC_CAP])
{
	uint8_t  digit[DEC_CAP]; /* least significant first */
	size_t   n = 1;
	uint32_t w[8];

	words_of_amount(a, w);
	digit[0] = 0;
	for (int i = 7; i >= 0; i--)
	{
		uint64_t carry = w[i];

		for (size_t k = 0; k < n; k++)
		{
			uint64_t v = (uint64_t) digit[k] * UINT64_C(4294967296) + carry;

			digit[k] = (uint8_t) (v % 10);
			carry = v / 10;
		}
		for (; carry > 0; carry /= 10)
			digit[n++] = (uint8_t) (carry % 10);
	}
	while (n > 1 && digit[n - 1] == 0)
		n--;
	for (size_t k = 0; k < n; k++)
		out[k] = (char) ('0' + digit[n - 1 - k]);
	out[n] = '\0';
}

/* a from decimal digits, by w = w * 10 + digit on 32-bit words; false past 2^256 - 1. */
static bool
amount_of_dec(const char *s, struct amount *a)
{
	uint32_t w[8] = { 0 };

	for (const char *p = s; *p; p++)
	{
		uint64_t carry = (uint64_t) (*p - '0');

		for (int i = 0; i < 8; i++)
		{
			uint64_t v = (uint64_t) w[i] * 10 + carry;

			w[i] = (uint32_t) v;
			carry = v >> 32;
		}
		if (carry)
			return false;
	}
	amount_of_words(a, w);
	return true;
}

static struct amount
amt(const char *dec)
{
	struct amount a;

	require(amount_of_dec(dec, &a), "test constant %s does not fit 256 bits", dec);
	return a;
}

/* ---- the reference: non-negative integers as decimal digit strings ---- */

/* out = rev[n - 1] .. rev[0], without leading zeros ("0" when nothing is left). */
static void
dec_from_rev(const char *rev, size_t n, char out[DEC_CAP])
{
	size_t o = 0;

	while (n > 1 && rev[n - 1] == '0')
		n--;
	require(n < DEC_CAP, "reference: %zu digits", n);
	for (size_t k = n; k > 0; k--)
		out[o++] = rev[k - 1];
	if (o == 0)
		out[o++] = '0';
	out[o] = '\0';
}

/* -1, 0 or 1 as a <, = or > b (both without leading zeros). */
static int
dec_cmp(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int    c;

	if (la != lb)
		return la < lb ? -1 : 1;
	c = strcmp(a, b);
	return c < 0 ? -1 : c > 0;
}

static void
dec_add(const char *a, const char *b, char out[DEC_CAP])
{
	char   rev[DEC_CAP + 1];
	size_t la = strlen(a), lb = strlen(b), n = 0;
	int    carry = 0;

	for (size_t i = 0; i < la || i < lb || carry; i++)
	{
		int s = carry;

		if (i < la)
			s += a[la - 1 - i] - '0';
		if (i < lb)
			s += b[lb - 1 - i] - '0';
		rev[n++] = (char) ('0' + s % 10);
		carry = s / 10;
	}
	dec_from_rev(rev, n, out);
}

/* out = a - b, for a >= b. */
static void
dec_sub(const char *a, const char *b, char out[DEC_CAP])
{
	char   rev[DEC_CAP];
	size_t la = strlen(a), lb = strlen(b);
	int    borrow = 0;

	require(dec_cmp(a, b) >= 0, "reference: %s - %s", a, b);
	for (size_t i = 0; i < la; i++)
	{
		int s = a[la - 1 - i] - '0' - borrow - (i < lb ? b[lb - 1 - i] - '0' : 0);

		borrow = s < 0;
		rev[i] = (char) ('0' + (s < 0 ? s + 10 : s));
	}
	dec_from_rev(rev, la, out);
}

/* out = a * m: each digit times m plus the carry, 9 * (2^64 - 1) + carry < 2^68. */
static void
dec_mul_u64(const char *a, uint64_t m, char out[DEC_CAP])
{
	char   rev[DEC_CAP + 24];
	size_t la = strlen(a), n = 0;
	u128   carry = 0;

	for (size_t i = 0; i < la; i++)
	{
		u128 v = (u128) (unsigned) (a[la - 1 - i] - '0') * m + carry;

		rev[n++] = (char) ('0' + (int) (v % 10));
		carry = v / 10;
	}
	for (; carry > 0; carry /= 10)
		rev[n++] = (char) ('0' + (int) (carry % 10));
	dec_from_rev(rev, n, out);
}

/* q = floor(a / d), returns a mod d: long division, r * 10 + digit < 10 * 2^64. */
static uint64_t
dec_divmod_u64(const char *a, uint64_t d, char q[DEC_CAP])
{
	char   fwd[DEC_CAP];
	char   rev[DEC_CAP];
	size_t la = strlen(a);
	u128   r = 0;

	require(d > 0 && la < DEC_CAP, "reference: %s / %llu", a, (unsigned long long) d);
	for (size_t i = 0; i < la; i++)
	{
		r = r * 10 + (unsigned) (a[i] - '0');
		fwd[i] = (char) ('0' + (int) (r / d));
		r %= d;
	}
	for (size_t i = 0; i < la; i++)
		rev[i] = fwd[la - 1 - i];
	dec_from_rev(rev, la, q);
	return (uint64_t) r;
}

static void
dec_of_u128(u128 v, char out[DEC_CAP])
{
	char   rev[48];
	size_t n = 0;

	do
	{
		rev[n++] = (char) ('0' + (int) (v % 10));
		v /= 10;
	} while (v > 0);
	dec_from_rev(rev, n, out);
}

/* out = 2^k, by doubling. */
static void
dec_pow2(int k, char out[DEC_CAP])
{
	memcpy(out, "1", 2);
	for (int i = 0; i < k; i++)
		dec_add(out, out, out);
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * amount.h's words, read as a value: digits, an optional point with 1+
 * digits, an optional exponent e/E [+-] 1+ digits, and nothing else; the
 * text's digits M (point left out) are worth M * 10^p tokens' base units
 * with p = exponent + decimals - (digits after the point).  With the
 * trailing zeros of M moved into p: p >= 0 is an integer, too large past
 * 2^256 - 1; p < 0 leaves M's last digit, non-zero, past the point, so the
 * text is too precise, and too large as well when its whole part is (then
 * either status will do: the header does not rank them).  Returns the set
 * of acceptable statuses; out is the value when that is ST(OK).
 */
static unsigned
ref_parse(const char *s, size_t len, unsigned decimals, char out[DEC_CAP])
{
	/*
	 * An exponent saturates at 10^12: the texts here are far shorter, so
	 * any exponent past it makes p too large or too negative for M alike.
	 */
	const int64_t exp_cap = INT64_C(1000000000000);
	size_t        i = 0, nint, frac_at = 0, nfrac = 0, mlen, mstart;
	int64_t       e = 0, p;
	bool          e_negative = false;
	char          local[512]; /* the digits of a short text (malloc is slow under ASan) */
	char         *m;
	unsigned      result;

	require(len < 100000, "reference: text of %zu bytes", len);
	if (decimals > 36)
		return ST(SYNTAX);
	while (i < len && is_digit(s[i]))
		i++;
	nint = i;
	if (nint == 0)
		return ST(SYNTAX);
	if (i < len && s[i] == '.')
	{
		frac_at = ++i;
		while (i < len && is_digit(s[i]))
			i++;
		nfrac = i - frac_at;
		if (nfrac == 0)
			return ST(SYNTAX);
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E'))
	{
		size_t at;

		if (++i < len && (s[i] == '+' || s[i] == '-'))
			e_negative = s[i++] == '-';
		for (at = i; i < len && is_digit(s[i]); i++)
			if (e < exp_cap)
				e = e * 10 + (s[i] - '0');
		if (i == at)
			return ST(SYNTAX);
	}
	if (i != len)
		return ST(SYNTAX);

	m = nint + nfrac < sizeof(local) ? local : malloc(nint + nfrac + 1);
	require(m != NULL, "reference: out of memory");
	memcpy(m, s, nint);
	memcpy(m + nint, s + frac_at, nfrac);
	mlen = nint + nfrac;
	m[mlen] = '\0';
	p = (e_negative ? -e : e) + (int64_t) decimals - (int64_t) nfrac;
	for (mstart = 0; mstart < mlen && m[mstart] == '0'; mstart++)
		;
	while (mlen > mstart && m[mlen - 1] == '0')
	{
		m[--mlen] = '\0';
		p++;
	}
	mlen -= mstart;
	if (mlen == 0)
	{
		memcpy(out, "0", 2);
		result = ST(OK);
	}
	else if (p >= 0)
	{
		if ((int64_t) mlen + p > AMOUNT_MAX_DIGITS)
			result = ST(TOO_LARGE);
		else
		{
			memcpy(out, m + mstart, mlen);
			memset(out + mlen, '0', (size_t) p);
			out[mlen + (size_t) p] = '\0';
			result = dec_cmp(out, MAX_DEC) > 0 ? ST(TOO_LARGE) : ST(OK);
		}
	}
	else
	{
		/* the whole part: M without its last -p digits */
		int64_t wlen = (int64_t) mlen + p;
		char    whole[DEC_CAP];

		result = ST(TOO_PRECISE);
		if (wlen > AMOUNT_MAX_DIGITS)
			result |= ST(TOO_LARGE);
		else if (wlen > 0)
		{
			memcpy(whole, m + mstart, (size_t) wlen);
			whole[wlen] = '\0';
			if (dec_cmp(whole, MAX_DEC) > 0)
				result |= ST(TOO_LARGE);
		}
	}
	if (m != local)
		free(m);
	return result;
}

static const char *
statuses_named(unsigned set)
{
	static char out[64];

	out[0] = '\0';
	for (int st = OK; st <= TOO_PRECISE; st++)
		if (set & ST(st))
			snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s", out[0] ? " or " : "",
					 status_name((enum amount_status) st));
	return out;
}

/* The reference itself, on numbers worked out by hand. */
START_TEST(test_reference_self_check)
{
	char          d[DEC_CAP];
	struct amount a;

	dec_pow2(256, d);
	ck_assert_str_eq(d, P2_256);
	dec_sub(d, "1", d);
	ck_assert_str_eq(d, MAX_DEC);
	dec_pow2(64, d);
	ck_assert_str_eq(d, P2_64);
	dec_add("999", "1", d);
	ck_assert_str_eq(d, "1000");
	dec_add("0", "0", d);
	ck_assert_str_eq(d, "0");
	dec_sub("1000", "1", d);
	ck_assert_str_eq(d, "999");
	dec_sub("1000", "1000", d);
	ck_assert_str_eq(d, "0");
	dec_mul_u64("99", UINT64_MAX, d);
	ck_assert_str_eq(d, "1826227663297245609885");
	dec_mul_u64("12345", 0, d);
	ck_assert_str_eq(d, "0");
	/* 10^40 + 7 = 542101086242752217033 * (2^64 - 1) + 2098486950404341712 */
	ck_assert_uint_eq(dec_divmod_u64("1" Z10 Z10 Z10 "0000000007", UINT64_MAX, d),
					  UINT64_C(2098486950404341712));
	ck_assert_str_eq(d, "542101086242752217033");
	ck_assert_int_eq(dec_cmp("10", "9"), 1);
	ck_assert_int_eq(dec_cmp("9", "10"), -1);
	ck_assert_int_eq(dec_cmp("19", "91"), -1);
	ck_assert_int_eq(dec_cmp(MAX_DEC, MAX_DEC), 0);
	dec_of_u128(~(u128) 0, d);
	ck_assert_str_eq(d, P2_128_M1);
	/* the converters */
	ck_assert(amount_of_dec(MAX_DEC, &a));
	ck_assert(a.limb[0] == UINT64_MAX && a.limb[1] == UINT64_MAX && a.limb[2] == UINT64_MAX &&
			  a.limb[3] == UINT64_MAX);
	dec_of_amount(&a, d);
	ck_assert_str_eq(d, MAX_DEC);
	ck_assert(amount_of_dec(P2_192, &a));
	ck_assert(a.limb[0] == 0 && a.limb[1] == 0 && a.limb[2] == 0 && a.limb[3] == 1);
	ck_assert(!amount_of_dec(P2_256, &a));
	ck_assert(amount_of_dec("0", &a) && a.limb[0] == 0 && a.limb[3] == 0);
	dec_of_amount(&a, d);
	ck_assert_str_eq(d, "0");
	/* the reference parser */
	ck_assert_uint_eq(ref_parse(IN("2500000.123456"), 6, d), ST(OK));
	ck_assert_str_eq(d, "2500000123456");
	ck_assert_uint_eq(ref_parse(IN("1.5"), 0, d), ST(TOO_PRECISE));
	ck_assert_uint_eq(ref_parse(IN("1" Z77 Z10 ".5"), 0, d), ST(TOO_PRECISE) | ST(TOO_LARGE));
	ck_assert_uint_eq(ref_parse(IN("5."), 0, d), ST(SYNTAX));
}
END_TEST

/* ---- deterministic random numbers ---- */

static uint64_t
next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t
random_below(uint64_t *rng, uint64_t n)
{
	return next_random(rng) % n;
}

/* A 64-bit number of a random size (0 .. 64 bits), often one of the edges. */
static uint64_t
random_u64(uint64_t *rng)
{
	static const uint64_t edges[] = {
		0,
		1,
		2,
		3,
		7,
		10,
		UINT64_C(1000000000000000000),
		UINT64_C(10000000000000000000),
		UINT32_MAX,
		UINT64_C(1) << 32,
		(UINT64_C(1) << 63) - 1,
		UINT64_C(1) << 63,
		UINT64_MAX - 1,
		UINT64_MAX,
	};
	int bits;

	if (random_below(rng, 4) == 0)
		return edges[random_below(rng, (uint64_t) NROWS(edges))];
	bits = (int) random_below(rng, 65);
	return bits == 0 ? 0 : next_random(rng) >> (64 - bits);
}

/*
 * An amount of a random magnitude and shape: uniform below a random bit
 * length; words of all ones and zeros (long carry and borrow chains);
 * 2^k - 1, 2^k, 2^k + 1; just under 2^256; a 64-bit number.
 */
static void
random_amount(uint64_t *rng, struct amount *a)
{
	static const uint32_t chain[] = { 0, 0, UINT32_MAX, UINT32_MAX, 1, 0x80000000u, 0x7fffffffu };
	uint32_t              w[8] = { 0 };
	int                   bits, k;
	uint64_t              v;

	switch (random_below(rng, 7))
	{
		case 0:
		case 1:
			bits = (int) random_below(rng, 257);
			for (int i = 0; i < 8 && bits > 32 * i; i++)
			{
				w[i] = (uint32_t) next_random(rng);
				if (bits - 32 * i < 32)
					w[i] &= (UINT32_C(1) << (bits - 32 * i)) - 1;
			}
			break;
		case 2:
			k = (int) random_below(rng, 9); /* words above it are zero */
			for (int i = 0; i < k; i++)
				w[i] = random_below(rng, 3) == 0
						   ? (uint32_t) next_random(rng)
						   : chain[random_below(rng, (uint64_t) NROWS(chain))];
			break;
		case 3:
			k = (int) random_below(rng, 256);
			if (random_below(rng, 3) == 0)
				for (int b = 0; b < k; b++)
					w[b / 32] |= UINT32_C(1) << (b % 32);
			else
			{
				w[k / 32] |= UINT32_C(1) << (k % 32);
				w[0] |= (uint32_t) random_below(rng, 2);
			}
			break;
		case 4:
			for (int i = 0; i < 8; i++)
				w[i] = UINT32_MAX;
			w[0] -= (uint32_t) random_below(rng, 1000);
			break;
		default:
			v = random_u64(rng);
			w[0] = (uint32_t) v;
			w[1] = (uint32_t) (v >> 32);
			break;
	}
	amount_of_words(a, w);
}

/* ---- amount_parse: the table ---- */

struct parse_case
{
	const char        *s;
	size_t             len;
	unsigned           decimals;
	enum amount_status status;
	const char        *value; /* base units, when OK */
};

static const struct parse_case parse_cases[] = {
	/* zero, written every way */
	{ IN("0"), 0, OK, "0" },
	{ IN("0"), 18, OK, "0" },
	{ IN("0"), 36, OK, "0" },
	{ IN("00"), 0, OK, "0" },
	{ IN("000000"), 18, OK, "0" },
	{ IN("0.0"), 0, OK, "0" },
	{ IN("0.0"), 18, OK, "0" },
	{ IN("0.000000000000000000"), 18, OK, "0" },
	{ IN("0." Z36 Z10), 18, OK, "0" }, /* 46 zeros past the point, 18 decimals: zeros are fine */
	{ IN("00.00"), 2, OK, "0" },
	{ IN("0e0"), 0, OK, "0" },
	{ IN("0e+0"), 0, OK, "0" },
	{ IN("0e-0"), 0, OK, "0" },
	{ IN("0E5"), 18, OK, "0" },
	{ IN("0.0e-5"), 0, OK, "0" },
	{ IN("0e999999999"), 0, OK, "0" },
	{ IN("0e999999999"), 18, OK, "0" },
	{ IN("0e-999999999"), 0, OK, "0" },
	{ IN("0.000e+99999999999999999999"), 18, OK, "0" }, /* an exponent past 2^64 */
	{ IN("0e-99999999999999999999"), 36, OK, "0" },
	{ IN(Z90), 0, OK, "0" },
	{ IN(Z90 "." Z90), 36, OK, "0" },
	/* leading zeros */
	{ IN("007"), 0, OK, "7" },
	{ IN("0001"), 18, OK, "1" Z18 },
	{ IN("00.5"), 1, OK, "5" },
	{ IN(Z90 Z10 "1"), 0, OK, "1" },
	{ IN(Z90 MAX_DEC), 0, OK, MAX_DEC }, /* 168 characters, the value fits */
	{ IN(Z90 P2_256), 0, TOO_LARGE, NULL },
	{ IN("0000000000000000000000" P2_64), 0, OK, P2_64 },
	{ IN("0000000000000000000000" P2_64 "e0"), 0, OK, P2_64 },
	/* base units (0 decimals) around every limb boundary and the maximum */
	{ IN("1"), 0, OK, "1" },
	{ IN("9"), 0, OK, "9" },
	{ IN("10"), 0, OK, "10" },
	{ IN("4294967295"), 0, OK, "4294967295" },
	{ IN(P2_32), 0, OK, P2_32 },
	{ IN(P2_64_M1), 0, OK, P2_64_M1 },
	{ IN(P2_64), 0, OK, P2_64 },
	{ IN("18446744073709551617"), 0, OK, "18446744073709551617" },
	{ IN("18446744073709551620"), 0, OK, "18446744073709551620" },
	{ IN("99999999999999999999"), 0, OK, "99999999999999999999" },
	{ IN(P2_128_M1), 0, OK, P2_128_M1 },
	{ IN(P2_128), 0, OK, P2_128 },
	{ IN(P2_192_M1), 0, OK, P2_192_M1 },
	{ IN(P2_192), 0, OK, P2_192 },
	{ IN(P2_255_M1), 0, OK, P2_255_M1 },
	{ IN(P2_255), 0, OK, P2_255 },
	{ IN(MAX_DEC), 0, OK, MAX_DEC },
	{ IN(P2_256), 0, TOO_LARGE, NULL },
	{ IN("115792089237316195423570985008687907853269984665640564039457584007913129639937"), 0,
	  TOO_LARGE, NULL },
	{ IN("115792089237316195423570985008687907853269984665640564039457584007913129640000"), 0,
	  TOO_LARGE, NULL },
	{ IN("115792089237316195423570985008687907853269984665640564039457584007913129639934"), 0, OK,
	  "115792089237316195423570985008687907853269984665640564039457584007913129639934" },
	{ IN("115792089237316195423570985008687907853269984665640564039457584007913129639929"), 0, OK,
	  "115792089237316195423570985008687907853269984665640564039457584007913129639929" },
	{ IN("115792089237316195423570985008687907853269984665640564039457584007913129639940"), 0,
	  TOO_LARGE, NULL },
	{ IN("215792089237316195423570985008687907853269984665640564039457584007913129639935"), 0,
	  TOO_LARGE, NULL },
	{ IN(MAX_DEC "0"), 0, TOO_LARGE, NULL }, /* 79 digits */
	{ IN(P10_77), 0, OK, P10_77 },
	{ IN(P10_78), 0, TOO_LARGE, NULL },
	{ IN(N9_77), 0, OK, N9_77 },
	{ IN(N9_77 "9"), 0, TOO_LARGE, NULL },
	{ IN("1" Z90), 0, TOO_LARGE, NULL },
	/* the maximum with a fraction or an exponent */
	{ IN("11579208923731619542357098500868790785326998466564056403945758400791312963993.5"), 1, OK,
	  MAX_DEC },
	{ IN("11579208923731619542357098500868790785326998466564056403945758400791312963993.6"), 1,
	  TOO_LARGE, NULL },
	{ IN("11579208923731619542357098500868790785326998466564056403945758400791312963993.50"), 1, OK,
	  MAX_DEC },
	{ IN("115792089237316195423570985008687907853269.984665640564039457584007913129639935"), 36, OK,
	  MAX_DEC },
	{ IN("115792089237316195423570985008687907853269.984665640564039457584007913129639936"), 36,
	  TOO_LARGE, NULL },
	{ IN("1.15792089237316195423570985008687907853269984665640564039457584007913129639935e77"), 0,
	  OK, MAX_DEC },
	{ IN("1.15792089237316195423570985008687907853269984665640564039457584007913129639936e77"), 0,
	  TOO_LARGE, NULL },
	{ IN(MAX_DEC "e0"), 0, OK, MAX_DEC },
	{ IN(MAX_DEC "e-36"), 36, OK, MAX_DEC },
	{ IN(P2_256 "e-36"), 36, TOO_LARGE, NULL },
	{ IN(MAX_DEC "e-1"), 0, TOO_PRECISE, NULL },
	{ IN(MAX_DEC "0e-1"), 0, OK, MAX_DEC },
	{ IN(MAX_DEC ".0"), 0, OK, MAX_DEC },
	{ IN("1e77"), 0, OK, P10_77 },
	{ IN("1e78"), 0, TOO_LARGE, NULL },
	{ IN("10e76"), 0, OK, P10_77 },
	{ IN("0.1e78"), 0, OK, P10_77 },
	{ IN("0.01e78"), 0, OK, "1" Z10 Z10 Z10 Z10 Z10 Z10 Z10 "000000" },
	{ IN("1e59"), 18, OK, P10_77 },
	{ IN("1e60"), 18, TOO_LARGE, NULL },
	{ IN("1e41"), 36, OK, P10_77 },
	{ IN("1e42"), 36, TOO_LARGE, NULL },
	{ IN("1.1e77"), 0, OK, "11" Z10 Z10 Z10 Z10 Z10 Z10 Z10 "000000" },
	{ IN("1.2e77"), 0, TOO_LARGE, NULL },
	{ IN("2e77"), 0, TOO_LARGE, NULL },
	{ IN("1e1000"), 0, TOO_LARGE, NULL },
	{ IN("1e1001"), 0, TOO_LARGE, NULL },
	{ IN("1e999999999"), 0, TOO_LARGE, NULL },
	{ IN("1e+999999999"), 18, TOO_LARGE, NULL },
	{ IN("1e999999999999999999999999"), 0, TOO_LARGE, NULL },
	{ IN("9.9e99999"), 36, TOO_LARGE, NULL },
	/* 18-decimal token amounts and the way PostgreSQL prints a float8 */
	{ IN("42"), 18, OK, "42" Z18 },
	{ IN("42"), 0, OK, "42" },
	{ IN("42"), 6, OK, "42000000" },
	{ IN("42.0"), 18, OK, "42" Z18 },
	{ IN("42.000000000000000000000"), 18, OK, "42" Z18 },
	{ IN("4.2e+19"), 0, OK, "42" Z18 },
	{ IN("4.2E19"), 0, OK, "42" Z18 },
	{ IN("4.2e19"), 18, OK, "42" Z36 },
	{ IN("4.2e+19"), 36, OK, "42" Z36 Z18 },
	{ IN("1e+21"), 0, OK, "1" Z10 Z10 "0" },
	{ IN("1e+21"), 18, OK, "1" Z36 "000" },
	{ IN("1.5e-05"), 18, OK, "15000000000000" },
	{ IN("1.5e-05"), 6, OK, "15" },
	{ IN("1.5e-05"), 5, TOO_PRECISE, NULL },
	{ IN("1e-05"), 5, OK, "1" },
	{ IN("1e-05"), 4, TOO_PRECISE, NULL },
	{ IN("2500000.123456"), 6, OK, "2500000123456" },
	{ IN("2500000.123456"), 18, OK, "2500000123456000000000000" },
	{ IN("2500000.123456"), 5, TOO_PRECISE, NULL },
	{ IN("2500000.123456"), 0, TOO_PRECISE, NULL },
	{ IN("2500000.1234560"), 6, OK, "2500000123456" },
	{ IN("2500000.123450"), 5, OK, "250000012345" },
	{ IN("1.50"), 1, OK, "15" }, /* amount.h's example */
	{ IN("1.5"), 0, TOO_PRECISE, NULL },
	{ IN("1.0"), 0, OK, "1" },
	{ IN("1.2345678901234568e+17"), 18, OK, "12345678901234568" Z18 "0" },
	{ IN("1.2345678901234568e+17"), 0, OK, "123456789012345680" },
	{ IN("1.2345678901234568e+17"), 15, OK,
	  "123456789012345680"
	  "000000000000000" },
	{ IN("9.999999999999999e+22"), 0, OK, "99999999999999990000000" },
	{ IN("100000000000000"), 18, OK, "1" Z10 Z10 Z10 "00" },
	{ IN("1e+15"), 18, OK, "1" Z10 Z10 Z10 "000" },
	{ IN("0.0001"), 18, OK, "100000000000000" },
	{ IN("1e+308"), 18, TOO_LARGE, NULL },
	{ IN("1.7976931348623157e+308"), 0, TOO_LARGE, NULL },
	{ IN("5e-324"), 18, TOO_PRECISE, NULL },
	{ IN("2.2250738585072014e-308"), 36, TOO_PRECISE, NULL },
	{ IN("Infinity"), 18, SYNTAX, NULL },
	{ IN("-Infinity"), 18, SYNTAX, NULL },
	{ IN("NaN"), 18, SYNTAX, NULL },
	{ IN("inf"), 18, SYNTAX, NULL },
	{ IN("nan"), 18, SYNTAX, NULL },
	/* fractional digits past the token's decimals: only zeros */
	{ IN("0.000000000000000001"), 18, OK, "1" },
	{ IN("0.0000000000000000001"), 18, TOO_PRECISE, NULL },
	{ IN("0.0000000000000000010"), 18, OK, "1" },
	{ IN("0.123456789012345678"), 18, OK, "123456789012345678" },
	{ IN("0.1234567890123456789"), 18, TOO_PRECISE, NULL },
	{ IN("0.1234567890123456780"), 18, OK, "123456789012345678" },
	{ IN("1." Z36 "0"), 18, OK, "1" Z18 },
	{ IN("1." Z36 "1"), 18, TOO_PRECISE, NULL },
	{ IN("1e-18"), 18, OK, "1" },
	{ IN("1e-19"), 18, TOO_PRECISE, NULL },
	{ IN("10e-19"), 18, OK, "1" },
	{ IN("1e-99999"), 18, TOO_PRECISE, NULL },
	{ IN("1e-999999999"), 36, TOO_PRECISE, NULL },
	{ IN("1e-999999999999999999999"), 18, TOO_PRECISE, NULL },
	{ IN("10e-1"), 0, OK, "1" },
	{ IN("15e-1"), 0, TOO_PRECISE, NULL },
	{ IN("1e-1"), 0, TOO_PRECISE, NULL },
	{ IN("100e-2"), 0, OK, "1" },
	{ IN("1000e-2"), 0, OK, "10" },
	{ IN("1001e-2"), 0, TOO_PRECISE, NULL },
	{ IN("0.5"), 0, TOO_PRECISE, NULL },
	{ IN("0.5"), 1, OK, "5" },
	{ IN("0.00000000000000000000000000000000001"), 36, OK, "10" },
	{ IN("0.000000000000000000000000000000000001"), 36, OK, "1" },
	{ IN("0.0000000000000000000000000000000000001"), 36, TOO_PRECISE, NULL },
	{ IN("0.0000000000000000000000000000000000010"), 36, OK, "1" },
	{ IN("1"), 36, OK, "1" Z36 },
	{ IN("1.000000000000000000000000000000000001"), 36, OK, "1" Z18 "000000000000000001" },
	/* decimals: 0 .. 36 */
	{ IN("1"), 37, SYNTAX, NULL },
	{ IN("0"), 37, SYNTAX, NULL },
	{ IN("1"), 38, SYNTAX, NULL },
	{ IN("1"), 1000, SYNTAX, NULL },
	{ IN("1"), UINT_MAX, SYNTAX, NULL },
	{ IN("abc"), 37, SYNTAX, NULL },
	/* exponents */
	{ IN("1e0"), 0, OK, "1" },
	{ IN("1E0"), 0, OK, "1" },
	{ IN("1e+0"), 0, OK, "1" },
	{ IN("1e-0"), 0, OK, "1" },
	{ IN("1e5"), 0, OK, "100000" },
	{ IN("1E+5"), 0, OK, "100000" },
	{ IN("1e00000000000000000000000000005"), 0, OK, "100000" },
	{ IN("1e-0000000000000000000000000018"), 18, OK, "1" },
	{ IN("5e-1"), 1, OK, "5" },
	{ IN("1.5e1"), 0, OK, "15" },
	{ IN("1.55e1"), 0, TOO_PRECISE, NULL },
	{ IN("1.50e1"), 0, OK, "15" },
	{ IN("0.001e3"), 0, OK, "1" },
	{ IN("123.456e-3"), 6, OK, "123456" },
	{ IN("123.456e-3"), 5, TOO_PRECISE, NULL },
	{ IN("123.456e3"), 0, OK, "123456" },
	{ IN("123.456e2"), 0, TOO_PRECISE, NULL },
	{ IN("18446744073709551615e0"), 0, OK, P2_64_M1 },
	{ IN("1.8446744073709551616e19"), 0, OK, P2_64 },
	{ IN("3.40282366920938463463374607431768211456E+38"), 0, OK, P2_128 },
	/* not a decimal number */
	{ IN(""), 0, SYNTAX, NULL },
	{ IN(""), 18, SYNTAX, NULL },
	{ IN("-1"), 18, SYNTAX, NULL },
	{ IN("-0"), 18, SYNTAX, NULL },
	{ IN("+1"), 18, SYNTAX, NULL },
	{ IN("++1"), 18, SYNTAX, NULL },
	{ IN(" 1"), 18, SYNTAX, NULL },
	{ IN("1 "), 18, SYNTAX, NULL },
	{ IN("\t1"), 18, SYNTAX, NULL },
	{ IN("1\n"), 18, SYNTAX, NULL },
	{ IN("1 000"), 18, SYNTAX, NULL },
	{ IN("1,000"), 18, SYNTAX, NULL },
	{ IN("1_000"), 18, SYNTAX, NULL },
	{ IN(".5"), 18, SYNTAX, NULL },
	{ IN("."), 18, SYNTAX, NULL },
	{ IN(".."), 18, SYNTAX, NULL },
	{ IN("5."), 18, SYNTAX, NULL },
	{ IN("0."), 18, SYNTAX, NULL },
	{ IN("1..2"), 18, SYNTAX, NULL },
	{ IN("1.2.3"), 18, SYNTAX, NULL },
	{ IN("1.e5"), 18, SYNTAX, NULL },
	{ IN(".e5"), 18, SYNTAX, NULL },
	{ IN("1e"), 18, SYNTAX, NULL },
	{ IN("1E"), 18, SYNTAX, NULL },
	{ IN("1e+"), 18, SYNTAX, NULL },
	{ IN("1e-"), 18, SYNTAX, NULL },
	{ IN("1.5e"), 18, SYNTAX, NULL },
	{ IN("1.5E+"), 18, SYNTAX, NULL },
	{ IN("e5"), 18, SYNTAX, NULL },
	{ IN("E5"), 18, SYNTAX, NULL },
	{ IN("e"), 18, SYNTAX, NULL },
	{ IN("1e5.5"), 18, SYNTAX, NULL },
	{ IN("1e5e5"), 18, SYNTAX, NULL },
	{ IN("1ee5"), 18, SYNTAX, NULL },
	{ IN("1e++5"), 18, SYNTAX, NULL },
	{ IN("1e+-5"), 18, SYNTAX, NULL },
	{ IN("1e-+5"), 18, SYNTAX, NULL },
	{ IN("1e 5"), 18, SYNTAX, NULL },
	{ IN("1 e5"), 18, SYNTAX, NULL },
	{ IN("1e5 "), 18, SYNTAX, NULL },
	{ IN("1e0x1"), 18, SYNTAX, NULL },
	{ IN("1.-5"), 18, SYNTAX, NULL },
	{ IN("1.+5"), 18, SYNTAX, NULL },
	{ IN("0x10"), 0, SYNTAX, NULL },
	{ IN("0X10"), 0, SYNTAX, NULL },
	{ IN("0b1"), 0, SYNTAX, NULL },
	{ IN("1a"), 0, SYNTAX, NULL },
	{ IN("a1"), 0, SYNTAX, NULL },
	{ IN("abc"), 0, SYNTAX, NULL },
	{ IN("0-"), 0, SYNTAX, NULL },
	{ IN("1d5"), 0, SYNTAX, NULL },
	{ IN("/"), 0, SYNTAX, NULL }, /* '0' - 1 */
	{ IN(":"), 0, SYNTAX, NULL }, /* '9' + 1 */
	{ IN("1/"), 0, SYNTAX, NULL },
	{ IN("1:"), 0, SYNTAX, NULL },
	/* digits of other scripts */
	{ IN("\xd9\xa1\xd9\xa2"), 0, SYNTAX, NULL }, /* ARABIC-INDIC DIGITS ONE, TWO */
	{ IN("1\xd9\xa2"), 0, SYNTAX, NULL },
	{ IN("\xef\xbc\x91"), 0, SYNTAX, NULL }, /* FULLWIDTH DIGIT ONE */
	{ IN("\xc2\xb9"), 0, SYNTAX, NULL },     /* SUPERSCRIPT ONE */
	{ IN("1\xe2\x80\xaf"
		 "000"),
	  0, SYNTAX, NULL }, /* NARROW NO-BREAK SPACE */
	{ IN("1\xff"), 0, SYNTAX, NULL },
	/* the length decides, not a NUL */
	{ IN("1\0"), 0, SYNTAX, NULL },
	{ IN("\0"
		 "1"),
	  0, SYNTAX, NULL },
	{ IN("1\0"
		 "2"),
	  0, SYNTAX, NULL },
	{ IN("1.\0"
		 "5"),
	  1, SYNTAX, NULL },
	{ IN("1e\0"
		 "5"),
	  0, SYNTAX, NULL },
	{ IN("1e5\0"), 0, SYNTAX, NULL },
	{ "12", 1, 0, OK, "1" },
	{ "123x", 3, 0, OK, "123" },
	{ "1", 0, 0, SYNTAX, NULL },
	{ "1e5", 2, 0, SYNTAX, NULL }, /* "1e" */
	{ "1.5", 2, 1, SYNTAX, NULL }, /* "1." */
	{ "1.50", 3, 1, OK, "15" },    /* "1.5" */
	{ "1e21x", 4, 0, OK, "1" Z10 Z10 "0" },
	{ "1.5e-05", 6, 6, OK, "1500000" }, /* "1.5e-0" */
};

START_TEST(test_parse_table)
{
	const struct parse_case *c = &parse_cases[_i];
	struct amount            a;
	enum amount_status       st;
	char                     got[DEC_CAP], want[DEC_CAP];
	unsigned                 ref;

	memset(&a, 0xa5, sizeof(a));
	st = amount_parse(c->s, c->len, c->decimals, &a);
	ck_assert_msg(st == c->status, "row %d '%s' (len %zu, %u decimals): %s, want %s", _i,
				  shown(c->s, c->len), c->len, c->decimals, status_name(st),
				  status_name(c->status));
	if (st == OK)
	{
		dec_of_amount(&a, got);
		ck_assert_msg(strcmp(got, c->value) == 0, "row %d '%s' (%u decimals): %s, want %s", _i,
					  shown(c->s, c->len), c->decimals, got, c->value);
	}
	/* the row and the reference check each other */
	ref = ref_parse(c->s, c->len, c->decimals, want);
	ck_assert_msg((ref & ST(c->status)) && (c->status != OK || strcmp(want, c->value) == 0),
				  "row %d '%s' (%u decimals): the reference says %s %s", _i, shown(c->s, c->len),
				  c->decimals, statuses_named(ref), ref == ST(OK) ? want : "");
}
END_TEST

/* ---- amount_parse: every decimals 0 .. 36 ---- */

/* A text worth m * 10^k tokens; m has no trailing zero (or is "0"). */
struct sweep_form
{
	const char *s;
	const char *m;
	int         k;
};

static const struct sweep_form sweep_forms[] = {
	{ "0", "0", 0 },
	{ "0.0e5", "0", 0 },
	{ "1", "1", 0 },
	{ "42", "42", 0 },
	{ "42.0", "42", 0 },
	{ "0042." Z36 "000000", "42", 0 }, /* 42 zeros past the point */
	{ "2500000.123456", "2500000123456", -6 },
	{ "2500000.1234560", "2500000123456", -6 },
	{ "0.5", "5", -1 },
	{ "0.000000000000000001", "1", -18 },
	{ "1E-36", "1", -36 },
	{ "1e-37", "1", -37 },
	{ "1e+21", "1", 21 },
	{ "4.2e+19", "42", 18 },
	{ "1.5e-05", "15", -6 },
	{ "1.2345678901234568e+17", "12345678901234568", 1 },
	{ "1e41", "1", 41 },
	{ "1e42", "1", 42 },
	{ "1.1e77", "11", 76 },
	{ "1.2e77", "12", 76 },
	{ MAX_DEC "e-36", MAX_DEC, -36 },
	{ "115792089237316195423570985008687907853269.984665640564039457584007913129639935", MAX_DEC,
	  -36 },
	{ "1157920892373161954235709850086879078532.69984665640564039457584007913129639935e2", MAX_DEC,
	  -36 },
	{ MAX_DEC "e-37", MAX_DEC, -37 },
};

/*
 * For each form and decimals d: m * 10^(d + k) base units; TOO_PRECISE
 * when d + k < 0 (m does not end in 0), TOO_LARGE past 2^256 - 1.  And
 * decimals past 36 are a syntax error.
 */
START_TEST(test_parse_decimals_sweep)
{
	static const unsigned    beyond[] = { 37, 38, 100, UINT_MAX };
	const struct sweep_form *f = &sweep_forms[_i];

	for (unsigned d = 0; d <= AMOUNT_DECIMALS_MAX; d++)
	{
		struct amount      a;
		enum amount_status want = OK, st;
		char               value[DEC_CAP] = "0", got[DEC_CAP];
		int                p = (int) d + f->k;

		if (strcmp(f->m, "0") != 0 && p < 0)
			want = TOO_PRECISE;
		else if (strcmp(f->m, "0") != 0 && strlen(f->m) + (size_t) p > AMOUNT_MAX_DIGITS)
			want = TOO_LARGE;
		else if (strcmp(f->m, "0") != 0)
		{
			snprintf(value, sizeof(value), "%s%.*s", f->m, p, Z90);
			if (dec_cmp(value, MAX_DEC) > 0)
				want = TOO_LARGE;
		}
		st = amount_parse(f->s, strlen(f->s), d, &a);
		ck_assert_msg(st == want, "form %d '%s' with %u decimals: %s, want %s", _i, f->s, d,
					  status_name(st), status_name(want));
		if (st != OK)
			continue;
		dec_of_amount(&a, got);
		ck_assert_msg(strcmp(got, value) == 0, "form %d '%s' with %u decimals: %s, want %s", _i,
					  f->s, d, got, value);
	}
	for (int b = 0; b < NROWS(beyond); b++)
	{
		struct amount      a;
		enum amount_status st = amount_parse(f->s, strlen(f->s), beyond[b], &a);

		ck_assert_msg(st == SYNTAX, "form %d '%s' with %u decimals: %s, want SYNTAX", _i, f->s,
					  beyond[b], status_name(st));
	}
}
END_TEST

/* ---- amount_parse against the reference ---- */

static void
check_parse_vs_ref(const char *s, size_t len, unsigned decimals, int counts[4])
{
	struct amount      a;
	char               want[DEC_CAP], got[DEC_CAP];
	unsigned           ref = ref_parse(s, len, decimals, want);
	enum amount_status st = amount_parse(s, len, decimals, &a);

	require(ref & ST(st), "'%s' (len %zu, %u decimals): %s, want %s", shown(s, len), len, decimals,
			status_name(st), statuses_named(ref));
	if (st == OK)
	{
		dec_of_amount(&a, got);
		require(strcmp(got, want) == 0, "'%s' (len %zu, %u decimals): %s, want %s", shown(s, len),
				len, decimals, got, want);
	}
	if (st <= TOO_PRECISE)
		counts[st]++;
}

/*
 * Every string of 0 .. 5 characters over digits, point, e, E and the signs
 * (37,449 strings), with several decimals.
 */
START_TEST(test_parse_short_strings)
{
	static const char     alphabet[] = "019.eE+-";
	static const unsigned decimals[] = { 0, 1, 2, 18, 36, 37 };
	const size_t          na = sizeof(alphabet) - 1;
	char                  s[8];
	int                   counts[4] = { 0 };

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
			for (int d = 0; d < NROWS(decimals); d++)
				check_parse_vs_ref(s, len, decimals[d], counts);
		}
	}
	/* the alphabet reached every outcome */
	ck_assert_int_gt(counts[OK], 5000);
	ck_assert_int_gt(counts[SYNTAX], 10000);
	ck_assert_int_gt(counts[TOO_LARGE], 100);
	ck_assert_int_gt(counts[TOO_PRECISE], 500);
}
END_TEST

/* n random digits at s: all zeros, all nines or any, as chosen once. */
static size_t
put_digits(uint64_t *rng, char *s, size_t n)
{
	uint64_t kind = random_below(rng, 6);

	for (size_t i = 0; i < n; i++)
		s[i] = kind == 0 ? '0' : kind == 1 ? '9' : (char) ('0' + random_below(rng, 10));
	return n;
}

/*
 * A random text of under 200 bytes shaped like a number: leading zeros,
 * 1 .. 80 digits, a fraction of up to 45 digits (often ending in zeros),
 * an exponent of any size with leading zeros; sometimes with one byte
 * replaced, inserted or removed.
 */
static size_t
random_number_text(uint64_t *rng, char *s)
{
	static const char junk[] = "0123456789.eE+- x\0";
	size_t            n = 0;

	if (random_below(rng, 4) == 0)
		n += put_digits(rng, s + n, (size_t) random_below(rng, 6));
	n += put_digits(rng, s + n, 1 + (size_t) random_below(rng, random_below(rng, 2) ? 80 : 25));
	if (random_below(rng, 2))
	{
		s[n++] = '.';
		n += put_digits(rng, s + n, 1 + (size_t) random_below(rng, 45));
		if (random_below(rng, 3) == 0)
			for (uint64_t z = 1 + random_below(rng, 10); z > 0; z--)
				s[n++] = '0';
	}
	if (random_below(rng, 2))
	{
		static const uint64_t scale[] = {
			10, 40, 100, 100000, UINT64_C(10000000000000), UINT64_MAX
		};
		uint64_t e = next_random(rng) % scale[random_below(rng, NROWS(scale))];

		s[n++] = random_below(rng, 2) ? 'e' : 'E';
		if (random_below(rng, 3))
			s[n++] = random_below(rng, 2) ? '+' : '-';
		n += (size_t) snprintf(s + n, 40, "%.*s%llu", (int) random_below(rng, 4), "000",
							   (unsigned long long) e);
	}
	if (random_below(rng, 8) == 0)
	{
		size_t at = (size_t) random_below(rng, n + 1);
		char   c = junk[random_below(rng, sizeof(junk) - 1)];

		switch (random_below(rng, 3))
		{
			case 0:
				if (at < n)
					s[at] = c;
				break;
			case 1:
				memmove(s + at + 1, s + at, n - at);
				s[at] = c;
				n++;
				break;
			default:
				if (at < n)
				{
					memmove(s + at, s + at + 1, n - at - 1);
					n--;
				}
				break;
		}
	}
	return n;
}

START_TEST(test_parse_random_texts)
{
	uint64_t rng = 20260101;
	int      counts[4] = { 0 };
	char     s[400];

	for (int iter = 0; iter < 40000; iter++)
	{
		size_t   len = random_number_text(&rng, s);
		unsigned d = (unsigned) random_below(&rng, 40);

		require(len < sizeof(s), "text of %zu bytes", len);
		check_parse_vs_ref(s, len, d, counts);
	}
	ck_assert_int_gt(counts[OK], 5000);
	ck_assert_int_gt(counts[SYNTAX], 2000);
	ck_assert_int_gt(counts[TOO_LARGE], 2000);
	ck_assert_int_gt(counts[TOO_PRECISE], 2000);
}
END_TEST

/* ---- amount_parse: long texts ---- */

/* The text head, then zeros '0's, then tail: long texts without long literals. */
struct long_case
{
	const char        *head;
	int                zeros;
	const char        *tail;
	unsigned           decimals;
	enum amount_status status;
	const char        *value; /* base units, when OK */
};

static const struct long_case long_cases[] = {
	/* a long mantissa and an exponent past 100 that takes its zeros away again */
	{ "1", 150, "e-150", 0, OK, "1" },
	{ "1", 150, "e-149", 0, OK, "10" },
	{ "1", 150, "e-151", 0, TOO_PRECISE, NULL },
	{ "1", 150, "e-132", 18, OK, "1" Z36 },
	{ "1", 900, "e-900", 0, OK, "1" },
	{ "1", 900, "e-823", 0, OK, P10_77 },
	{ "1", 900, "e-822", 0, TOO_LARGE, NULL },
	{ "42", 900, "e-901", 18, OK,
	  "42"
	  "00000000000000000" }, /* 4.2 tokens */
	{ "0.", 150, "1e151", 0, OK, "1" },
	{ "0.", 150, "1e150", 0, TOO_PRECISE, NULL },
	{ "0.", 899, "1e900", 0, OK, "1" },
	{ "0.", 899, "1e882", 18, OK, "1" },
	{ "0.", 899, "42e901", 18, OK, "42" Z18 }, /* 42 tokens */
	/* leading zeros, trailing zeros past the decimals, both past 900 */
	{ "", 950, "1", 0, OK, "1" },
	{ "", 950, MAX_DEC, 0, OK, MAX_DEC },
	{ "", 950, P2_256, 0, TOO_LARGE, NULL },
	{ "0.", 950, "", 18, OK, "0" },
	{ "1.", 950, "", 18, OK, "1" Z18 },
	{ "1.", 950, "1", 18, TOO_PRECISE, NULL },
	{ "1.", 950, "e+950", 0, TOO_LARGE, NULL },
	{ "1.", 950, "E-0", 0, OK, "1" },
	{ "1", 950, "", 0, TOO_LARGE, NULL },
	{ "0", 950, "e999999999", 0, OK, "0" },
};

START_TEST(test_parse_long_texts)
{
	const struct long_case *c = &long_cases[_i];
	size_t                  nh = strlen(c->head), nt = strlen(c->tail);
	size_t                  len = nh + (size_t) c->zeros + nt;
	char                   *s = malloc(len + 1);
	struct amount           a;
	enum amount_status      st;
	char                    got[DEC_CAP], want[DEC_CAP];
	unsigned                ref;

	ck_assert_ptr_nonnull(s);
	memcpy(s, c->head, nh);
	memset(s + nh, '0', (size_t) c->zeros);
	memcpy(s + nh + (size_t) c->zeros, c->tail, nt + 1);
	st = amount_parse(s, len, c->decimals, &a);
	if (st == OK)
		dec_of_amount(&a, got);
	ref = ref_parse(s, len, c->decimals, want);
	free(s);
	ck_assert_msg(st == c->status && (st != OK || strcmp(got, c->value) == 0),
				  "row %d '%s' + %d zeros + '%s' (%zu bytes, %u decimals): %s %s, want %s %s", _i,
				  c->head, c->zeros, c->tail, len, c->decimals, status_name(st),
				  st == OK ? got : "", status_name(c->status), c->value ? c->value : "");
	ck_assert_msg((ref & ST(c->status)) && (c->status != OK || strcmp(want, c->value) == 0),
				  "row %d: the reference says %s %s", _i, statuses_named(ref),
				  ref == ST(OK) ? want : "");
}
END_TEST

/*
 * Past 1000 digits and an exponent past 1000: amount.c saturates the
 * exponent at 1000 (MAX_EXPONENT), which is only harmless while the
 * mantissa is shorter, so these texts get a wrong value or a wrong refusal.
 */
static const struct long_case long_cases_past_1000[] = {
	{ "1", 1001, "e-1001", 0, OK, "1" },
	{ "1", 1010, "e-1010", 0, OK, "1" },
	{ "42", 1000, "e-1001", 18, OK,
	  "42"
	  "00000000000000000" }, /* 4.2 tokens */
	{ "0.", 1009, "1e1010", 0, OK, "1" },
	{ "0.", 1099, "25e1103", 18, OK, "25" Z18 "00" }, /* 2500 tokens */
};

START_TEST(test_parse_long_texts_past_1000)
{
	const struct long_case *c = &long_cases_past_1000[_i];
	size_t                  nh = strlen(c->head), nt = strlen(c->tail);
	size_t                  len = nh + (size_t) c->zeros + nt;
	char                   *s = malloc(len + 1);
	struct amount           a;
	enum amount_status      st;
	char                    got[DEC_CAP], want[DEC_CAP];
	unsigned                ref;

	ck_assert_ptr_nonnull(s);
	memcpy(s, c->head, nh);
	memset(s + nh, '0', (size_t) c->zeros);
	memcpy(s + nh + (size_t) c->zeros, c->tail, nt + 1);
	st = amount_parse(s, len, c->decimals, &a);
	if (st == OK)
		dec_of_amount(&a, got);
	ref = ref_parse(s, len, c->decimals, want);
	free(s);
	ck_assert_msg((ref & ST(c->status)) && (c->status != OK || strcmp(want, c->value) == 0),
				  "row %d: the reference says %s %s", _i, statuses_named(ref),
				  ref == ST(OK) ? want : "");
	ck_assert_msg(st == c->status && (st != OK || strcmp(got, c->value) == 0),
				  "row %d '%s' + %d zeros + '%s' (%zu bytes, %u decimals): %s %s, want %s %s", _i,
				  c->head, c->zeros, c->tail, len, c->decimals, status_name(st),
				  st == OK ? got : "", status_name(c->status), c->value ? c->value : "");
}
END_TEST

/*
 * Random texts of 900 .. 1300 digits whose exponent takes the zeros away
 * again, mostly to a value that fits: "D000...0e-E" and "0.000...0De+E",
 * against the reference.
 */
START_TEST(test_parse_long_random_texts)
{
	uint64_t rng = 1000;
	int      counts[4] = { 0 };
	char    *s = malloc(1400);

	ck_assert_ptr_nonnull(s);
	for (int iter = 0; iter < 2000; iter++)
	{
		size_t   zeros = 900 + (size_t) random_below(&rng, 400), n = 0;
		size_t   nd = 1 + (size_t) random_below(&rng, 20);
		unsigned d = (unsigned) random_below(&rng, AMOUNT_DECIMALS_MAX + 1);
		long k = (long) random_below(&rng, 90) - 10; /* base units' digits past the mantissa's */
		bool fraction = random_below(&rng, 2);

		if (fraction)
		{
			memcpy(s, "0.", 2);
			n = 2;
		}
		s[n++] = (char) ('1' + random_below(&rng, 9));
		if (fraction)
		{
			memset(s + 1 + 1, '0', zeros);
			n = 2 + zeros;
			s[n++] = (char) ('1' + random_below(&rng, 9));
		}
		else
		{
			memset(s + n, '0', zeros);
			n += zeros;
		}
		for (size_t i = 1; i < nd; i++)
			s[n++] = (char) ('0' + random_below(&rng, 10));
		/* value = digits * 10^(k - d) tokens * 10^d: an exponent of +-(zeros ...) */
		if (fraction)
			n += (size_t) snprintf(s + n, 40, "e%ld", (long) (zeros + nd) + k - (long) d);
		else
			n += (size_t) snprintf(s + n, 40, "e-%ld", (long) zeros - k + (long) d);
		check_parse_vs_ref(s, n, d, counts);
	}
	free(s);
	ck_assert_int_gt(counts[OK], 500);
}
END_TEST

/* ---- round trips through amount_format ---- */

/* The canonical token text of x base units with d decimals: "12.5", "0.000001", "7". */
static void
token_text(const char *x, unsigned d, char *out, size_t cap)
{
	size_t n = strlen(x);
	char   frac[2 * DEC_CAP];
	size_t nf;

	if (n > d)
		snprintf(frac, sizeof(frac), "%s", x + n - d);
	else
		snprintf(frac, sizeof(frac), "%.*s%s", (int) (d - n), Z90, x);
	for (nf = strlen(frac); nf > 0 && frac[nf - 1] == '0'; nf--)
		frac[nf - 1] = '\0';
	snprintf(out, cap, "%.*s%s%s", n > d ? (int) (n - d) : 1, n > d ? x : "0", nf ? "." : "", frac);
}

/* x base units with d decimals as PostgreSQL writes a float: "1.25e+20", "1.5e-05". */
static void
scientific_text(const char *x, unsigned d, char *out, size_t cap)
{
	size_t n = strlen(x);
	int    e = (int) n - 1 - (int) d;
	size_t nf = n - 1;

	while (nf > 0 && x[nf] == '0')
		nf--;
	snprintf(out, cap, "%c%s%.*se%c%02d", x[0], nf ? "." : "", (int) nf, x + 1, e < 0 ? '-' : '+',
			 e < 0 ? -e : e);
}

static void
check_parses_to(const char *s, unsigned d, const struct amount *a, const char *x)
{
	struct amount      b;
	char               buf[AMOUNT_TEXT_LEN];
	enum amount_status st = amount_parse(s, strlen(s), d, &b);

	require(st == OK, "'%s' (%u decimals, from %s): %s", s, d, x, status_name(st));
	amount_format(&b, buf);
	require(same_amount(a, &b) && strcmp(buf, x) == 0, "'%s' (%u decimals): %s, want %s", s, d, buf,
			x);
}

/*
 * For random amounts a of every size, x = format(a) is the reference's
 * decimal text, and x parses back to a in every writing: x, x with leading
 * zeros, x.000, x as a token amount with d decimals, x in exponent form.
 */
START_TEST(test_format_parse_roundtrip)
{
	uint64_t rng = 77;

	for (int iter = 0; iter < 20000; iter++)
	{
		struct amount a;
		char          x[DEC_CAP], buf[AMOUNT_TEXT_LEN], s[200];
		unsigned      d = (unsigned) random_below(&rng, AMOUNT_DECIMALS_MAX + 1);
		size_t        n;

		random_amount(&rng, &a);
		dec_of_amount(&a, x);
		n = amount_format(&a, buf);
		require(strcmp(buf, x) == 0 && n == strlen(x), "format: '%s' (%zu), want %s", buf, n, x);
		check_parses_to(x, 0, &a, x);
		snprintf(s, sizeof(s), "000%s", x);
		check_parses_to(s, 0, &a, x);
		snprintf(s, sizeof(s), "%s.000", x);
		check_parses_to(s, 0, &a, x);
		token_text(x, d, s, sizeof(s));
		check_parses_to(s, d, &a, x);
		scientific_text(x, 0, s, sizeof(s));
		check_parses_to(s, 0, &a, x);
		scientific_text(x, d, s, sizeof(s));
		check_parses_to(s, d, &a, x);
	}
}
END_TEST

/* The helpers above, on hand-made examples. */
START_TEST(test_text_helpers)
{
	char s[200];

	token_text("2500000123456", 6, s, sizeof(s));
	ck_assert_str_eq(s, "2500000.123456");
	token_text("42" Z18, 18, s, sizeof(s));
	ck_assert_str_eq(s, "42");
	token_text("1", 6, s, sizeof(s));
	ck_assert_str_eq(s, "0.000001");
	token_text("0", 6, s, sizeof(s));
	ck_assert_str_eq(s, "0");
	token_text("1500", 3, s, sizeof(s));
	ck_assert_str_eq(s, "1.5");
	scientific_text("42" Z18, 0, s, sizeof(s));
	ck_assert_str_eq(s, "4.2e+19");
	scientific_text("15000000000000", 18, s, sizeof(s));
	ck_assert_str_eq(s, "1.5e-05");
	scientific_text("1" Z18 "000", 0, s, sizeof(s));
	ck_assert_str_eq(s, "1e+21");
	scientific_text("7", 0, s, sizeof(s));
	ck_assert_str_eq(s, "7e+00");
	scientific_text("0", 3, s, sizeof(s));
	ck_assert_str_eq(s, "0e-03");
}
END_TEST

/* ---- amount_format ---- */

static const char *const format_cases[] = {
	"0",
	"1",
	"9",
	"10",
	"99",
	"100",
	"4294967295",
	P2_32,
	"999999999999999999",
	"1" Z18,
	"9999999999999999999",  /* 19 digits: one chunk of 10^19 */
	"1" Z18 "0",            /* 10^19: a chunk of zeros, then 1 */
	"10000000000000000001", /* 10^19 + 1 */
	"10000000000000000010", /* 10^19 + 10 */
	"19999999999999999999", /* 2 * 10^19 - 1 */
	"1" Z36 "00",           /* 10^38 */
	"1" Z36 "01",           /* 10^38 + 1 */
	"1" Z18 "1" Z18,        /* 10^37 + 10^18 */
	"1" Z36 Z18 "000",      /* 10^57 */
	"1" Z36 Z36 "0000",     /* 10^76 */
	"1" Z36 Z36 "0001",     /* 10^76 + 1 */
	P2_64_M1,
	P2_64,
	P2_128_M1,
	P2_128,
	P2_192_M1,
	P2_192,
	P2_255_M1,
	P2_255,
	P10_77,
	N9_77,
	MAX_DEC,
	"115792089237316195423570985008687907853269984665640564039457584007913129639934",
	"100000000000000000000000000000000000000000000000000000000000000000000000000001",
};

/* Every row formats to itself, with the length returned and nothing written past the NUL. */
START_TEST(test_format_table)
{
	const char   *x = format_cases[_i];
	struct amount a = amt(x);
	char          buf[AMOUNT_TEXT_LEN + 16];
	size_t        n;

	memset(buf, '#', sizeof(buf));
	n = amount_format(&a, buf);
	ck_assert_msg(n == strlen(x) && memcmp(buf, x, n + 1) == 0, "row %d: '%.*s' (%zu), want %s", _i,
				  (int) n, buf, n, x);
	for (size_t k = n + 1; k < sizeof(buf); k++)
		ck_assert_msg(buf[k] == '#', "row %d %s: byte %zu past the NUL written", _i, x, k);
}
END_TEST

/* ---- from/to u64, is_zero, cmp, status messages ---- */

START_TEST(test_u64_and_zero)
{
	static const char *const too_big[] = {
		P2_64, "18446744073709551617", P2_128_M1, P2_128, P2_192, P2_255, MAX_DEC
	};
	static const uint64_t fit[] = { 0,         1, 10, UINT32_MAX, UINT64_C(1) << 32, UINT64_MAX - 1,
									UINT64_MAX };

	for (int i = 0; i < NROWS(fit); i++)
	{
		struct amount a;
		uint64_t      v = 7;
		char          want[DEC_CAP], got[DEC_CAP];

		memset(&a, 0xa5, sizeof(a));
		amount_from_u64(&a, fit[i]);
		dec_of_u128(fit[i], want);
		dec_of_amount(&a, got);
		ck_assert_str_eq(got, want);
		ck_assert_msg(amount_to_u64(&a, &v) && v == fit[i], "to_u64(%s): %llu", want,
					  (unsigned long long) v);
		ck_assert_msg(amount_is_zero(&a) == (fit[i] == 0), "is_zero(%s)", want);
	}
	for (int i = 0; i < NROWS(too_big); i++)
	{
		struct amount a = amt(too_big[i]);
		uint64_t      v = 7;

		ck_assert_msg(!amount_to_u64(&a, &v), "to_u64(%s) accepted: %llu", too_big[i],
					  (unsigned long long) v);
		ck_assert_msg(!amount_is_zero(&a), "is_zero(%s)", too_big[i]);
	}
	/* a bit in any limb makes it non-zero; only limb 0 fits 64 bits */
	for (int bit = 0; bit < 256; bit++)
	{
		uint32_t      w[8] = { 0 };
		struct amount a;
		uint64_t      v = 0;

		w[bit / 32] = UINT32_C(1) << (bit % 32);
		amount_of_words(&a, w);
		ck_assert_msg(!amount_is_zero(&a), "is_zero(2^%d)", bit);
		ck_assert_msg(amount_to_u64(&a, &v) == (bit < 64), "to_u64(2^%d)", bit);
		ck_assert_msg(bit >= 64 || v == UINT64_C(1) << bit, "to_u64(2^%d): %llu", bit,
					  (unsigned long long) v);
	}
}
END_TEST

struct cmp_case
{
	const char *a;
	const char *b;
	int         want;
};

static const struct cmp_case cmp_cases[] = {
	{ "0", "0", 0 },
	{ "0", "1", -1 },
	{ "1", "0", 1 },
	{ P2_64, P2_64_M1, 1 }, /* limb 1 decides against a larger limb 0 */
	{ P2_64_M1, P2_64, -1 },
	{ P2_128, P2_128_M1, 1 },
	{ P2_192, P2_192_M1, 1 },
	{ P2_192_M1, P2_192, -1 },
	{ P2_255, P2_255_M1, 1 },
	{ MAX_DEC, MAX_DEC, 0 },
	{ MAX_DEC, "0", 1 },
	{ "0", MAX_DEC, -1 },
	{ MAX_DEC, "115792089237316195423570985008687907853269984665640564039457584007913129639934",
	  1 },
	{ "340282366920938463481821351505477763072", "340282366920938463481821351505477763073",
	  -1 }, /* 2^128 + 2^64 against one more: limb 0 decides */
	{ "340282366920938463481821351505477763072", P2_128, 1 },
};

START_TEST(test_cmp_table)
{
	const struct cmp_case *c = &cmp_cases[_i];
	struct amount          a = amt(c->a), b = amt(c->b);

	ck_assert_msg(amount_cmp(&a, &b) == c->want, "row %d: cmp(%s, %s) = %d, want %d", _i, c->a,
				  c->b, amount_cmp(&a, &b), c->want);
	ck_assert_msg(amount_cmp(&b, &a) == -c->want, "row %d: cmp(%s, %s) = %d, want %d", _i, c->b,
				  c->a, amount_cmp(&b, &a), -c->want);
}
END_TEST

START_TEST(test_status_messages)
{
	const char *m[4];

	for (int st = OK; st <= TOO_PRECISE; st++)
	{
		m[st] = amount_status_message((enum amount_status) st);
		ck_assert_msg(m[st] != NULL && m[st][0] != '\0', "%s has no message",
					  status_name((enum amount_status) st));
		for (int other = OK; other < st; other++)
			ck_assert_msg(strcmp(m[st], m[other]) != 0, "%s and %s: the same message '%s'",
						  status_name((enum amount_status) st),
						  status_name((enum amount_status) other), m[st]);
	}
	ck_assert_str_eq(m[TOO_LARGE], "more than 2^256 - 1 base units");
}
END_TEST

/* ---- add, sub: carries and borrows across every bit ---- */

/* 2^k - 1 as words, for k in 0 .. 256. */
static void
ones_below(int k, struct amount *a)
{
	uint32_t w[8] = { 0 };

	for (int b = 0; b < k; b++)
		w[b / 32] |= UINT32_C(1) << (b % 32);
	amount_of_words(a, w);
}

static void
expect_value(const struct amount *a, const char *want, const char *what)
{
	char got[DEC_CAP];

	dec_of_amount(a, got);
	require(strcmp(got, want) == 0, "%s: %s, want %s", what, got, want);
}

/*
 * For every k: (2^k - 1) + 1 = 2^k (a carry through k bits, across every
 * limb boundary on the way) and 2^k - 1 back (the borrow), 2^k - (2^k - 1)
 * = 1, (2^k - 1) * 2 = 2^(k+1) - 2; at k = 256 the sums fail and leave the
 * accumulator as it was.
 */
START_TEST(test_carries_every_bit)
{
	struct amount one = amt("1");

	for (int k = 1; k <= 256; k++)
	{
		struct amount m1, acc, keep, p;
		char          pk[DEC_CAP], pk1[DEC_CAP], what[64];

		dec_pow2(k, pk);
		dec_sub(pk, "1", pk1);
		ones_below(k, &m1);
		expect_value(&m1, pk1, "2^k - 1 by words");
		snprintf(what, sizeof(what), "(2^%d - 1) + 1", k);
		acc = keep = m1;
		if (k < 256)
		{
			require(amount_add(&acc, &one), "%s refused", what);
			expect_value(&acc, pk, what);
			p = acc;
			require(amount_sub(&acc, &one), "2^%d - 1 refused", k);
			expect_value(&acc, pk1, "2^k - 1 by a borrow");
			acc = p;
			require(amount_sub(&acc, &m1), "2^%d - (2^%d - 1) refused", k, k);
			expect_value(&acc, "1", "2^k - (2^k - 1)");
			require(amount_cmp(&p, &m1) == 1, "cmp(2^%d, 2^%d - 1)", k, k);
			require(amount_cmp(&m1, &p) == -1, "cmp(2^%d - 1, 2^%d)", k, k);
			acc = m1;
			require(amount_add_u64(&acc, 1), "%s by add_u64 refused", what);
			expect_value(&acc, pk, "add_u64");
		}
		else
		{
			require(!amount_add(&acc, &one), "%s accepted", what);
			require(same_amount(&acc, &keep), "%s changed the accumulator", what);
			require(!amount_add_u64(&acc, 1), "%s by add_u64 accepted", what);
			require(same_amount(&acc, &keep), "%s changed the accumulator", what);
		}
		acc = m1;
		if (k < 256)
		{
			char twice[DEC_CAP];

			dec_add(pk1, pk1, twice);
			require(amount_add(&acc, &m1), "(2^%d - 1) * 2 refused", k);
			expect_value(&acc, twice, "(2^k - 1) * 2");
		}
		else
		{
			require(!amount_add(&acc, &m1), "(2^256 - 1) * 2 accepted");
			require(same_amount(&acc, &m1), "(2^256 - 1) * 2 changed the accumulator");
		}
		/* 0 - (2^k - 1) fails, unchanged */
		amount_from_u64(&acc, 0);
		require(!amount_sub(&acc, &m1), "0 - (2^%d - 1) accepted", k);
		require(amount_is_zero(&acc), "0 - (2^%d - 1) changed the accumulator", k);
	}
}
END_TEST

enum arith_op
{
	OP_ADD,
	OP_SUB,
	OP_ADD_U64
};

struct arith_case
{
	enum arith_op op;
	const char   *a;
	const char   *b; /* for OP_ADD_U64 a 64-bit number */
	bool          ok;
	const char   *want;
};

/* The limb boundaries named, both ways, as the brief's examples. */
static const struct arith_case arith_cases[] = {
	{ OP_ADD, P2_64_M1, "1", true, P2_64 },
	{ OP_ADD, P2_128_M1, "1", true, P2_128 },
	{ OP_ADD, P2_192_M1, "1", true, P2_192 },
	{ OP_ADD, MAX_DEC, "1", false, NULL },
	{ OP_ADD, "1", MAX_DEC, false, NULL },
	{ OP_ADD, MAX_DEC, "0", true, MAX_DEC },
	{ OP_ADD, "0", MAX_DEC, true, MAX_DEC },
	{ OP_ADD, P2_255, P2_255_M1, true, MAX_DEC },
	{ OP_ADD, P2_255, P2_255, false, NULL },
	{ OP_ADD, P2_64_M1, P2_64_M1, true, "36893488147419103230" },
	{ OP_ADD, P2_128_M1, P2_128_M1, true, "680564733841876926926749214863536422910" },
	{ OP_ADD, "340282366920938463481821351505477763072", P2_64_M1, true,
	  "340282366920938463500268095579187314687" }, /* 2^128 + 2^64 + 2^64 - 1 */
	{ OP_SUB, P2_64, "1", true, P2_64_M1 },
	{ OP_SUB, P2_128, "1", true, P2_128_M1 },
	{ OP_SUB, P2_192, "1", true, P2_192_M1 },
	{ OP_SUB, P2_192, P2_64, true, "6277101735386680763835789423207666416083908700390324961280" },
	{ OP_SUB, MAX_DEC, MAX_DEC, true, "0" },
	{ OP_SUB, MAX_DEC, "0", true, MAX_DEC },
	{ OP_SUB, "0", "1", false, NULL },
	{ OP_SUB, P2_64_M1, P2_64, false, NULL },
	{ OP_SUB, P2_192_M1, P2_192, false, NULL },
	{ OP_SUB, "340282366920938463481821351505477763072", "340282366920938463481821351505477763073",
	  false, NULL }, /* only limb 0 differs */
	{ OP_ADD_U64, P2_64_M1, "1", true, P2_64 },
	{ OP_ADD_U64, "0", P2_64_M1, true, P2_64_M1 },
	{ OP_ADD_U64, P2_64_M1, P2_64_M1, true, "36893488147419103230" },
	{ OP_ADD_U64, P2_192_M1, "1", true, P2_192 },
	/* 2^256 - 2^64 + (2^64 - 1) is the maximum; one more does not fit */
	{ OP_ADD_U64, "115792089237316195423570985008687907853269984665640564039439137263839420088320",
	  P2_64_M1, true, MAX_DEC },
	{ OP_ADD_U64, "115792089237316195423570985008687907853269984665640564039439137263839420088321",
	  P2_64_M1, false, NULL },
	{ OP_ADD_U64, MAX_DEC, "0", true, MAX_DEC },
	{ OP_ADD_U64, MAX_DEC, "1", false, NULL },
};

START_TEST(test_arith_table)
{
	static const char *const names[] = { "+", "-", "+ (u64)" };
	const struct arith_case *c = &arith_cases[_i];
	struct amount            acc = amt(c->a), keep = acc, b;
	uint64_t                 v = 0;
	bool                     ok;
	char                     got[DEC_CAP];

	if (c->op == OP_ADD_U64)
	{
		b = amt(c->b);
		ck_assert(amount_to_u64(&b, &v));
		ok = amount_add_u64(&acc, v);
	}
	else
	{
		b = amt(c->b);
		ok = c->op == OP_ADD ? amount_add(&acc, &b) : amount_sub(&acc, &b);
	}
	dec_of_amount(&acc, got);
	ck_assert_msg(ok == c->ok, "row %d: %s %s %s %s", _i, c->a, names[c->op], c->b,
				  ok ? "accepted" : "refused");
	if (ok)
		ck_assert_msg(strcmp(got, c->want) == 0, "row %d: %s %s %s = %s, want %s", _i, c->a,
					  names[c->op], c->b, got, c->want);
	else
		ck_assert_msg(same_amount(&acc, &keep), "row %d: a refused %s changed acc to %s", _i,
					  names[c->op], got);
}
END_TEST

/* ---- add, sub, cmp, to_u64 on random operands ---- */

START_TEST(test_arith_random)
{
	uint64_t rng = 31337;
	int      n_add_over = 0, n_sub_under = 0, n_eq = 0, n_u64_over = 0;

	for (int iter = 0; iter < 60000; iter++)
	{
		struct amount a, b, acc;
		char          da[DEC_CAP], db[DEC_CAP], want[DEC_CAP], got[DEC_CAP], dv[DEC_CAP];
		int           c;
		uint64_t      v, w = 0;
		bool          ok;

		random_amount(&rng, &a);
		if (random_below(&rng, 16) == 0)
			b = a;
		else
			random_amount(&rng, &b);
		dec_of_amount(&a, da);
		dec_of_amount(&b, db);

		c = dec_cmp(da, db);
		require(amount_cmp(&a, &b) == c && amount_cmp(&b, &a) == -c && amount_cmp(&a, &a) == 0,
				"cmp(%s, %s) = %d, want %d", da, db, amount_cmp(&a, &b), c);
		n_eq += c == 0;

		dec_add(da, db, want);
		acc = a;
		ok = amount_add(&acc, &b);
		dec_of_amount(&acc, got);
		if (dec_cmp(want, MAX_DEC) > 0)
		{
			require(!ok && same_amount(&acc, &a), "%s + %s: %s, %s, want refused", da, db,
					ok ? "accepted" : "refused", got);
			n_add_over++;
		}
		else
			require(ok && strcmp(got, want) == 0, "%s + %s: %s %s, want %s", da, db,
					ok ? "accepted" : "refused", got, want);

		acc = a;
		ok = amount_sub(&acc, &b);
		dec_of_amount(&acc, got);
		if (c < 0)
		{
			require(!ok && same_amount(&acc, &a), "%s - %s: %s, %s, want refused", da, db,
					ok ? "accepted" : "refused", got);
			n_sub_under++;
		}
		else
		{
			dec_sub(da, db, want);
			require(ok && strcmp(got, want) == 0, "%s - %s: %s %s, want %s", da, db,
					ok ? "accepted" : "refused", got, want);
		}

		v = random_u64(&rng);
		dec_of_u128(v, dv);
		dec_add(da, dv, want);
		acc = a;
		ok = amount_add_u64(&acc, v);
		dec_of_amount(&acc, got);
		if (dec_cmp(want, MAX_DEC) > 0)
			require(!ok && same_amount(&acc, &a), "%s + %s (u64): accepted, %s", da, dv, got);
		else
			require(ok && strcmp(got, want) == 0, "%s + %s (u64): %s %s, want %s", da, dv,
					ok ? "accepted" : "refused", got, want);

		ok = amount_to_u64(&a, &w);
		if (dec_cmp(da, P2_64_M1) > 0)
		{
			require(!ok, "to_u64(%s) accepted", da);
			n_u64_over++;
		}
		else
		{
			dec_of_u128(w, got);
			require(ok && strcmp(got, da) == 0, "to_u64(%s): %s", da, got);
		}
		require(amount_is_zero(&a) == (strcmp(da, "0") == 0), "is_zero(%s)", da);
	}
	ck_assert_int_gt(n_add_over, 5000);
	ck_assert_int_gt(n_sub_under, 10000);
	ck_assert_int_gt(n_eq, 2000);
	ck_assert_int_gt(n_u64_over, 10000);
}
END_TEST

/* ---- amount_mul_div ---- */

struct mul_div_case
{
	const char *a;
	uint64_t    num;
	uint64_t    den;
	bool        ok;
	const char *q;
	uint64_t    rem;
};

/* Generated by tests/unit/gen_amount_vectors.py (Python's integers). */
static const struct mul_div_case mul_div_cases[] = {
	/* zero times zero */
	{ "0", UINT64_C(0), UINT64_C(1), true, "0", UINT64_C(0) },
	/* zero times anything */
	{ "0", UINT64_C(18446744073709551615), UINT64_C(1), true, "0", UINT64_C(0) },
	/* num = 0 */
	{ "115792089237316195423570985008687907853269984665640564039457584007913129639935", UINT64_C(0),
	  UINT64_C(7), true, "0", UINT64_C(0) },
	/* num = 0, den = 2^64 - 1 */
	{ "115792089237316195423570985008687907853269984665640564039457584007913129639935", UINT64_C(0),
	  UINT64_C(18446744073709551615), true, "0", UINT64_C(0) },
	/* den = 1: a itself */
	{ "115792089237316195423570985008687907853269984665640564039457584007913129639935", UINT64_C(1),
	  UINT64_C(1), true,
	  "115792089237316195423570985008687907853269984665640564039457584007913129639935",
	  UINT64_C(0) },
	/* 2 * (2^256 - 1): too large */
	{ "115792089237316195423570985008687907853269984665640564039457584007913129639935", UINT64_C(2),
	  UINT64_C(1), false, "", UINT64_C(0) },
	/* the product needs the fifth limb, the quotient does not */
	{ "115792089237316195423570985008687907853269984665640564039457584007913129639935", UINT64_C(2),
	  UINT64_C(2), true,
	  "115792089237316195423570985008687907853269984665640564039457584007913129639935",
	  UINT64_C(0) },
	/* the largest product: (2^256 - 1)(2^64 - 1), back to a */
	{ "115792089237316195423570985008687907853269984665640564039457584007913129639935",
	  UINT64_C(18446744073709551615), UINT64_C(18446744073709551615), true,
	  "115792089237316195423570985008687907853269984665640564039457584007913129639935",
	  UINT64_C(0) },
	/* num = den + 1 on the largest a: too large */
	{ "115792089237316195423570985008687907853269984665640564039457584007913129639935",
	  UINT64_C(18446744073709551615), UINT64_C(18446744073709551614), false, "", UINT64_C(0) },
	/* num = den - 1 on the largest a */
	{ "115792089237316195423570985008687907853269984665640564039457584007913129639935",
	  UINT64_C(18446744073709551614), UINT64_C(18446744073709551615), true,
	  "115792089237316195417293883273301227089093912875511959159873407211943617363966",
	  UINT64_C(0) },
	/* den = 2^64 - 1: 2^192 + 2^128 + 2^64 + 1 */
	{ "115792089237316195423570985008687907853269984665640564039457584007913129639935", UINT64_C(1),
	  UINT64_C(18446744073709551615), true,
	  "6277101735386680764176071790128604879584176795969512275969", UINT64_C(0) },
	/* den = 2^63 */
	{ "115792089237316195423570985008687907853269984665640564039457584007913129639935", UINT64_C(1),
	  UINT64_C(9223372036854775808), true,
	  "12554203470773361527671578846415332832204710888928069025791",
	  UINT64_C(9223372036854775807) },
	/* den = 10^19, as amount_format divides */
	{ "115792089237316195423570985008687907853269984665640564039457584007913129639935", UINT64_C(1),
	  UINT64_C(10000000000000000000), true,
	  "11579208923731619542357098500868790785326998466564056403945",
	  UINT64_C(7584007913129639935) },
	/* (2^256 - 1) / 2 */
	{ "115792089237316195423570985008687907853269984665640564039457584007913129639935", UINT64_C(1),
	  UINT64_C(2), true,
	  "57896044618658097711785492504343953926634992332820282019728792003956564819967",
	  UINT64_C(1) },
	/* num < den */
	{ "115792089237316195423570985008687907853269984665640564039457584007913129639935", UINT64_C(3),
	  UINT64_C(7), true,
	  "49625181101706940895816136432294817651401421999560241731196107431962769845686",
	  UINT64_C(3) },
	/* (2^256 - 1)(2^64 - 1): too large */
	{ "115792089237316195423570985008687907853269984665640564039457584007913129639935",
	  UINT64_C(18446744073709551615), UINT64_C(1), false, "", UINT64_C(0) },
	/* q = 2^256 - 1 exactly */
	{ "38597363079105398474523661669562635951089994888546854679819194669304376546645", UINT64_C(3),
	  UINT64_C(1), true,
	  "115792089237316195423570985008687907853269984665640564039457584007913129639935",
	  UINT64_C(0) },
	/* one more: 2^256 + 2 */
	{ "38597363079105398474523661669562635951089994888546854679819194669304376546646", UINT64_C(3),
	  UINT64_C(1), false, "", UINT64_C(0) },
	/* q = 2^256 - 1 exactly, num > den */
	{ "69475253542389717254142591005212744711961990799384338423674550404747877783961", UINT64_C(5),
	  UINT64_C(3), true,
	  "115792089237316195423570985008687907853269984665640564039457584007913129639935",
	  UINT64_C(0) },
	/* one more: too large */
	{ "69475253542389717254142591005212744711961990799384338423674550404747877783962", UINT64_C(5),
	  UINT64_C(3), false, "", UINT64_C(0) },
	/* 2^256: too large */
	{ "57896044618658097711785492504343953926634992332820282019728792003956564819968", UINT64_C(2),
	  UINT64_C(1), false, "", UINT64_C(0) },
	/* 2^256 - 2 */
	{ "57896044618658097711785492504343953926634992332820282019728792003956564819967", UINT64_C(2),
	  UINT64_C(1), true,
	  "115792089237316195423570985008687907853269984665640564039457584007913129639934",
	  UINT64_C(0) },
	/* 1.5 * 2^255: too large */
	{ "57896044618658097711785492504343953926634992332820282019728792003956564819968", UINT64_C(3),
	  UINT64_C(2), true,
	  "86844066927987146567678238756515930889952488499230423029593188005934847229952",
	  UINT64_C(0) },
	/* 2^256 / 3 */
	{ "57896044618658097711785492504343953926634992332820282019728792003956564819968", UINT64_C(2),
	  UINT64_C(3), true,
	  "38597363079105398474523661669562635951089994888546854679819194669304376546645",
	  UINT64_C(1) },
	/* 2^256 - 2^192 */
	{ "6277101735386680763835789423207666416102355444464034512896", UINT64_C(18446744073709551615),
	  UINT64_C(1), true,
	  "115792089237316195417293883273301227089434195242432897623355228563449095127040",
	  UINT64_C(0) },
	/* 2^256 - 2^192 + 2^64 - 1 */
	{ "6277101735386680763835789423207666416102355444464034512897", UINT64_C(18446744073709551615),
	  UINT64_C(1), true,
	  "115792089237316195417293883273301227089434195242432897623373675307522804678655",
	  UINT64_C(0) },
	/* 2^256: too large */
	{ "12554203470773361527671578846415332832204710888928069025792", UINT64_C(9223372036854775808),
	  UINT64_C(1), false, "", UINT64_C(0) },
	/* just above 2^192 */
	{ "6277101735386680763835789423207666416102355444464034512896", UINT64_C(18446744073709551615),
	  UINT64_C(18446744073709551614), true,
	  "6277101735386680764176071790128604879602623540043221827588", UINT64_C(8) },
	/* 2^64 */
	{ "18446744073709551616", UINT64_C(18446744073709551615), UINT64_C(18446744073709551615), true,
	  "18446744073709551616", UINT64_C(0) },
	/* (2^64 - 1)^2: a carry into limb 1 */
	{ "18446744073709551615", UINT64_C(18446744073709551615), UINT64_C(1), true,
	  "340282366920938463426481119284349108225", UINT64_C(0) },
	/* a carry into limb 2 */
	{ "340282366920938463463374607431768211455", UINT64_C(18446744073709551615), UINT64_C(1), true,
	  "6277101735386680763495507056286727952620534092958556749825", UINT64_C(0) },
	/* a carry into limb 3 */
	{ "6277101735386680763835789423207666416102355444464034512895", UINT64_C(18446744073709551615),
	  UINT64_C(1), true,
	  "115792089237316195417293883273301227089434195242432897623336781819375385575425",
	  UINT64_C(0) },
	/* limb 0 zero */
	{ "115792089237316195423570985008687907853269984665640564039439137263839420088320", UINT64_C(1),
	  UINT64_C(18446744073709551615), true,
	  "6277101735386680764176071790128604879584176795969512275968", UINT64_C(0) },
	/* 1 */
	{ "1", UINT64_C(18446744073709551615), UINT64_C(18446744073709551615), true, "1", UINT64_C(0) },
	/* 0, rem 2^64 - 2 */
	{ "1", UINT64_C(18446744073709551614), UINT64_C(18446744073709551615), true, "0",
	  UINT64_C(18446744073709551614) },
	/* 0, rem 1 */
	{ "1", UINT64_C(1), UINT64_C(18446744073709551615), true, "0", UINT64_C(1) },
	/* 3 rem 1 */
	{ "10", UINT64_C(1), UINT64_C(3), true, "3", UINT64_C(1) },
	/* 33 rem 1 */
	{ "100", UINT64_C(1), UINT64_C(3), true, "33", UINT64_C(1) },
	/* a 42-token pool in thirds */
	{ "42000000000000000000", UINT64_C(1), UINT64_C(3), true, "14000000000000000000", UINT64_C(0) },
	/* S = 7 of W = 9 */
	{ "42000000000000000000", UINT64_C(7), UINT64_C(9), true, "32666666666666666666", UINT64_C(6) },
	/* S, W near 2^64 */
	{ "42000000000000000000", UINT64_C(9223372036854788153), UINT64_C(18446744073709551615), true,
	  "21000000000000028108", UINT64_C(9917576171923205580) },
	/* a 2.5M-token pool, keep 0.999999 */
	{ "2500000123456000000000000", UINT64_C(999999), UINT64_C(1000000), true,
	  "2499997623455876544000000", UINT64_C(0) },
	/* 10^78: too large */
	{ "100000000000000000000000000000000000000000000000000000000000000000000000000000",
	  UINT64_C(10), UINT64_C(1), false, "", UINT64_C(0) },
	/* 1.1 * 10^77 */
	{ "100000000000000000000000000000000000000000000000000000000000000000000000000000",
	  UINT64_C(11), UINT64_C(10), true,
	  "110000000000000000000000000000000000000000000000000000000000000000000000000000",
	  UINT64_C(0) },
	/* 1.2 * 10^77: too large */
	{ "100000000000000000000000000000000000000000000000000000000000000000000000000000",
	  UINT64_C(12), UINT64_C(10), false, "", UINT64_C(0) },
	/* an arbitrary a, num > den */
	{ "514631507721405312519378913364952599457899916736173488040697764812573303280",
	  UINT64_C(16045690984503098046), UINT64_C(18446744069414584321), true,
	  "447646376656682748696525671577662801938795879312478717401000094798447263436",
	  UINT64_C(12503360982011203924) },
	/* the same, num and den swapped */
	{ "514631507721405312519378913364952599457899916736173488040697764812573303280",
	  UINT64_C(18446744069414584321), UINT64_C(16045690984503098046), true,
	  "591640193131122204226321855582468709179563519596674033984614441005543589170",
	  UINT64_C(1776343363812111060) },
};

/* Prefills a quotient with a pattern a refused call must leave alone. */
static void
poison(struct amount *q)
{
	*q = amt("123456789012345678901234567890");
}

START_TEST(test_mul_div_table)
{
	const struct mul_div_case *c = &mul_div_cases[_i];
	struct amount              a = amt(c->a), q, before;
	uint64_t                   rem = 7;
	bool                       ok;
	char                       got[DEC_CAP], p[DEC_CAP], want[DEC_CAP];
	uint64_t                   want_rem;

	poison(&q);
	before = q;
	ok = amount_mul_div(&a, c->num, c->den, &q, &rem);
	dec_of_amount(&q, got);
	ck_assert_msg(ok == c->ok, "row %d: %s * %llu / %llu %s", _i, c->a, (unsigned long long) c->num,
				  (unsigned long long) c->den, ok ? "accepted" : "refused");
	if (ok)
		ck_assert_msg(strcmp(got, c->q) == 0 && rem == c->rem,
					  "row %d: %s * %llu / %llu = %s rem %llu, want %s rem %llu", _i, c->a,
					  (unsigned long long) c->num, (unsigned long long) c->den, got,
					  (unsigned long long) rem, c->q, (unsigned long long) c->rem);
	else
		ck_assert_msg(same_amount(&q, &before), "row %d: a refused mul_div changed q to %s", _i,
					  got);
	/* the reference agrees with the row */
	dec_mul_u64(c->a, c->num, p);
	want_rem = dec_divmod_u64(p, c->den, want);
	ck_assert_msg((dec_cmp(want, MAX_DEC) <= 0) == c->ok &&
					  (!c->ok || (strcmp(want, c->q) == 0 && want_rem == c->rem)),
				  "row %d: the reference says %s rem %llu", _i, want,
				  (unsigned long long) want_rem);
}
END_TEST

/*
 * Checks amount_mul_div(a, num, den) against the reference, and q * den +
 * rem == a * num with the reference's arithmetic; returns whether it fit.
 */
static bool
check_mul_div(const struct amount *a, uint64_t num, uint64_t den)
{
	struct amount q, before;
	uint64_t      rem = UINT64_MAX, want_rem;
	char da[DEC_CAP], p[DEC_CAP], want[DEC_CAP], got[DEC_CAP], back[DEC_CAP], drem[DEC_CAP];
	bool ok;

	dec_of_amount(a, da);
	dec_mul_u64(da, num, p);
	want_rem = dec_divmod_u64(p, den, want);
	poison(&q);
	before = q;
	ok = amount_mul_div(a, num, den, &q, &rem);
	dec_of_amount(&q, got);
	if (dec_cmp(want, MAX_DEC) > 0)
	{
		require(!ok && same_amount(&q, &before), "%s * %llu / %llu: %s, q %s, want refused", da,
				(unsigned long long) num, (unsigned long long) den, ok ? "accepted" : "refused",
				got);
		return false;
	}
	require(ok && strcmp(got, want) == 0 && rem == want_rem,
			"%s * %llu / %llu: %s %s rem %llu, want %s rem %llu", da, (unsigned long long) num,
			(unsigned long long) den, ok ? "accepted" : "refused", got, (unsigned long long) rem,
			want, (unsigned long long) want_rem);
	/* q * den + rem == a * num, rem < den */
	dec_mul_u64(got, den, back);
	dec_of_u128(rem, drem);
	dec_add(back, drem, back);
	require(strcmp(back, p) == 0 && rem < den, "%s * %llu / %llu: q * den + rem = %s, want %s", da,
			(unsigned long long) num, (unsigned long long) den, back, p);
	return true;
}

START_TEST(test_mul_div_random)
{
	uint64_t rng = 4242;
	int      n_fit = 0, n_over = 0, n_num_gt_den = 0;

	for (int iter = 0; iter < 40000; iter++)
	{
		struct amount a;
		uint64_t      num = random_u64(&rng), den;

		random_amount(&rng, &a);
		do
			den = random_u64(&rng);
		while (den == 0);
		if (check_mul_div(&a, num, den))
			n_fit++;
		else
			n_over++;
		n_num_gt_den += num > den;
	}
	ck_assert_int_gt(n_fit, 10000);
	ck_assert_int_gt(n_over, 3000);
	ck_assert_int_gt(n_num_gt_den, 10000);
}
END_TEST

/*
 * For num > den the largest a whose quotient fits is a* = floor(((2^256) *
 * den - 1) / num): a* fits (with the right q and rem) and a* + 1 does not.
 * For num <= den even 2^256 - 1 fits.
 */
START_TEST(test_mul_div_overflow_edge)
{
	uint64_t      rng = 99;
	struct amount max = amt(MAX_DEC);

	for (int iter = 0; iter < 5000; iter++)
	{
		uint64_t      num = random_u64(&rng), den = random_u64(&rng);
		char          p[DEC_CAP], edge[DEC_CAP], edge1[DEC_CAP];
		struct amount a;

		if (num == den || num == 0 || den == 0)
			continue;
		if (num < den)
		{
			uint64_t t = num;

			num = den;
			den = t;
		}
		require(check_mul_div(&max, den, num), "(2^256 - 1) * %llu / %llu refused",
				(unsigned long long) den, (unsigned long long) num);
		dec_mul_u64(P2_256, den, p);
		dec_sub(p, "1", p);
		(void) dec_divmod_u64(p, num, edge);
		dec_add(edge, "1", edge1);
		a = amt(edge);
		require(check_mul_div(&a, num, den), "%s * %llu / %llu refused, the largest that fits",
				edge, (unsigned long long) num, (unsigned long long) den);
		a = amt(edge1);
		require(!check_mul_div(&a, num, den), "%s * %llu / %llu accepted, past the largest", edge1,
				(unsigned long long) num, (unsigned long long) den);
	}
}
END_TEST

/* amount_format calls amount_mul_div with q == a: the product is taken before q is written. */
START_TEST(test_mul_div_in_place)
{
	struct amount a = amt(MAX_DEC);
	uint64_t      rem = 0;

	ck_assert(amount_mul_div(&a, 1, UINT64_C(10000000000000000000), &a, &rem));
	expect_value(&a, "11579208923731619542357098500868790785326998466564056403945",
				 "(2^256 - 1) / 10^19 in place");
	ck_assert_uint_eq(rem, UINT64_C(7584007913129639935));
	a = amt(P2_255);
	ck_assert(!amount_mul_div(&a, 2, 1, &a, &rem));
	expect_value(&a, P2_255, "a refused 2^255 * 2 in place");
}
END_TEST

/* ---- the payout split ---- */

/*
 * The payout math: a pool split by floor(pool * S_i / W) over nodes with
 * S_i <= W = sum S_i < 2^64.  Every share fits; the shares sum to at most
 * the pool and leave less than one unit per node; and exactly, the
 * remainders sum to (pool - sum) * W.
 */
START_TEST(test_payout_split)
{
	uint64_t rng = 2026;
	int      n_left = 0;

	for (int iter = 0; iter < 3000; iter++)
	{
		struct amount pool, sum, left, nodes;
		uint64_t      s[300], w = 0, budget;
		int           n = 1 + (int) random_below(&rng, random_below(&rng, 4) == 0 ? 300 : 20);
		u128          rems = 0;
		char          dpool[DEC_CAP], dleft[DEC_CAP], want[DEC_CAP], got[DEC_CAP];

		random_amount(&rng, &pool);
		budget = random_u64(&rng);
		for (int i = 0; i < n; i++)
		{
			switch (random_below(&rng, 4))
			{
				case 0:
					s[i] = 0;
					break;
				case 1:
					s[i] = budget - w; /* all that is left */
					break;
				default:
					s[i] = budget - w == UINT64_MAX ? next_random(&rng)
													: random_below(&rng, budget - w + 1);
					break;
			}
			w += s[i];
		}
		if (w == 0)
			w = s[0] = 1;
		dec_of_amount(&pool, dpool);
		amount_from_u64(&sum, 0);
		for (int i = 0; i < n; i++)
		{
			struct amount q;
			uint64_t      rem;

			require(amount_mul_div(&pool, s[i], w, &q, &rem), "%s * %llu / %llu refused", dpool,
					(unsigned long long) s[i], (unsigned long long) w);
			require(amount_cmp(&q, &pool) <= 0, "%s * %llu / %llu > pool", dpool,
					(unsigned long long) s[i], (unsigned long long) w);
			require(amount_add(&sum, &q), "the shares of %s overflow", dpool);
			rems += rem;
			if (iter % 10 == 0)
				(void) check_mul_div(&pool, s[i], w);
		}
		left = pool;
		require(amount_sub(&left, &sum), "the shares of %s sum past it", dpool);
		amount_from_u64(&nodes, (uint64_t) n);
		dec_of_amount(&left, dleft);
		require(amount_cmp(&left, &nodes) < 0, "pool %s, %d nodes, W %llu: %s left", dpool, n,
				(unsigned long long) w, dleft);
		dec_mul_u64(dleft, w, want);
		dec_of_u128(rems, got);
		require(strcmp(got, want) == 0,
				"pool %s, W %llu: remainders %s, want (pool - sum) * W = %s", dpool,
				(unsigned long long) w, got, want);
		n_left += !amount_is_zero(&left);
	}
	ck_assert_int_gt(n_left, 500);
}
END_TEST

/* ---- amount_delta, amount_delta_format ---- */

struct delta_case
{
	const char *now;
	const char *before;
	bool        negative;
	const char *text;      /* without plus */
	const char *text_plus; /* with plus */
};

static const struct delta_case delta_cases[] = {
	{ "5", "0", false, "5", "+5" },
	{ "0", "5", true, "-5", "-5" },
	{ "5", "5", false, "0", "0" },
	{ "0", "0", false, "0", "0" },
	{ "12", "7", false, "5", "+5" },
	{ "7", "12", true, "-5", "-5" },
	{ MAX_DEC, "0", false, MAX_DEC, "+" MAX_DEC },
	{ "0", MAX_DEC, true, "-" MAX_DEC, "-" MAX_DEC }, /* 79 characters */
	{ MAX_DEC, MAX_DEC, false, "0", "0" },
	{ MAX_DEC, "115792089237316195423570985008687907853269984665640564039457584007913129639934",
	  false, "1", "+1" },
	{ P2_64, P2_64_M1, false, "1", "+1" },
	{ P2_64_M1, P2_64, true, "-1", "-1" },
	{ P2_128, P2_128_M1, false, "1", "+1" },
	{ P2_192_M1, P2_192, true, "-1", "-1" },
	{ P2_192, "1", false, P2_192_M1, "+" P2_192_M1 },
	{ "1", P2_192, true, "-" P2_192_M1, "-" P2_192_M1 },
	{ "42" Z18, "40" Z18, false, "2" Z18, "+2" Z18 },
};

static void
check_delta_format(const struct amount_delta *d, bool plus, const char *want, const char *what)
{
	char   buf[AMOUNT_TEXT_LEN + 16];
	size_t n;

	memset(buf, '#', sizeof(buf));
	n = amount_delta_format(d, plus, buf);
	require(n == strlen(want) && memcmp(buf, want, n + 1) == 0, "%s%s: '%.*s' (%zu), want %s", what,
			plus ? " with plus" : "", (int) n, buf, n, want);
	for (size_t k = n + 1; k < sizeof(buf); k++)
		require(buf[k] == '#', "%s: byte %zu past the NUL written", what, k);
}

START_TEST(test_delta_table)
{
	const struct delta_case *c = &delta_cases[_i];
	struct amount            now = amt(c->now), before = amt(c->before);
	struct amount_delta      d;
	char                     what[200];

	memset(&d, 0xa5, sizeof(d));
	amount_delta(&now, &before, &d);
	snprintf(what, sizeof(what), "row %d: %s - %s", _i, c->now, c->before);
	ck_assert_msg(d.negative == c->negative, "%s: negative %d", what, d.negative);
	expect_value(&d.magnitude, c->text + (c->text[0] == '-'), what);
	check_delta_format(&d, false, c->text, what);
	check_delta_format(&d, true, c->text_plus, what);
}
END_TEST

START_TEST(test_delta_random)
{
	uint64_t rng = 555;

	for (int iter = 0; iter < 20000; iter++)
	{
		struct amount       now, before;
		struct amount_delta d;
		char dn[DEC_CAP], db[DEC_CAP], mag[DEC_CAP], want[DEC_CAP + 1], want_plus[DEC_CAP + 1],
			what[2 * DEC_CAP + 8];
		int c;

		random_amount(&rng, &now);
		if (random_below(&rng, 10) == 0)
			before = now;
		else
			random_amount(&rng, &before);
		dec_of_amount(&now, dn);
		dec_of_amount(&before, db);
		c = dec_cmp(dn, db);
		if (c >= 0)
			dec_sub(dn, db, mag);
		else
			dec_sub(db, dn, mag);
		snprintf(want, sizeof(want), "%s%s", c < 0 ? "-" : "", mag);
		snprintf(want_plus, sizeof(want_plus), "%s%s", c < 0 ? "-" : c > 0 ? "+" : "", mag);
		snprintf(what, sizeof(what), "%s - %s", dn, db);
		memset(&d, 0xa5, sizeof(d));
		amount_delta(&now, &before, &d);
		require(d.negative == (c < 0), "%s: negative %d", what, d.negative);
		expect_value(&d.magnitude, mag, what);
		check_delta_format(&d, false, want, what);
		check_delta_format(&d, true, want_plus, what);
	}
}
END_TEST

static Suite *
amount_suite(void)
{
	Suite *s = suite_create("amount");
	TCase *tc;

	tc = tcase_create("reference");
	tcase_add_test(tc, test_reference_self_check);
	tcase_add_test(tc, test_text_helpers);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_parse_table, 0, NROWS(parse_cases));
	tcase_add_loop_test(tc, test_parse_decimals_sweep, 0, NROWS(sweep_forms));
	tcase_add_test(tc, test_parse_short_strings);
	tcase_add_test(tc, test_parse_random_texts);
	tcase_add_loop_test(tc, test_parse_long_texts, 0, NROWS(long_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("long_texts_past_1000");
	tcase_add_loop_test(tc, test_parse_long_texts_past_1000, 0, NROWS(long_cases_past_1000));
	tcase_add_test(tc, test_parse_long_random_texts);
	suite_add_tcase(s, tc);

	tc = tcase_create("format");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_format_table, 0, NROWS(format_cases));
	tcase_add_test(tc, test_format_parse_roundtrip);
	suite_add_tcase(s, tc);

	tc = tcase_create("basics");
	tcase_add_test(tc, test_u64_and_zero);
	tcase_add_loop_test(tc, test_cmp_table, 0, NROWS(cmp_cases));
	tcase_add_test(tc, test_status_messages);
	suite_add_tcase(s, tc);

	tc = tcase_create("add_sub");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_carries_every_bit);
	tcase_add_loop_test(tc, test_arith_table, 0, NROWS(arith_cases));
	tcase_add_test(tc, test_arith_random);
	suite_add_tcase(s, tc);

	tc = tcase_create("mul_div");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_mul_div_table, 0, NROWS(mul_div_cases));
	tcase_add_test(tc, test_mul_div_random);
	tcase_add_test(tc, test_mul_div_overflow_edge);
	tcase_add_test(tc, test_mul_div_in_place);
	suite_add_tcase(s, tc);

	tc = tcase_create("payout");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_payout_split);
	suite_add_tcase(s, tc);

	tc = tcase_create("delta");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_delta_table, 0, NROWS(delta_cases));
	tcase_add_test(tc, test_delta_random);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(amount_suite());
	int      failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
