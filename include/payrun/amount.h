/*
 * amount.h: exact amounts of token base units, 0 .. 2^256 - 1 (ERC-20's
 * uint256), and the few operations the payout math needs.  Tokens usually
 * have 18 decimals, so a 42-token pool is 4.2 x 10^19 base units, past
 * int64; every amount of payrun (pools, base, forfeited, payout, totals)
 * is one of these, and no other module touches its representation.
 *
 * Pure and exact: no floating point, every overflow reported.  Sums past
 * 2^256 - 1 are refused, not wrapped; a product is carried in 320 bits
 * before its division, so floor(a * n / d) is exact for any 64-bit n, d.
 */
#ifndef PAYRUN_AMOUNT_H
#define PAYRUN_AMOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AMOUNT_MAX_DIGITS   78 /* decimal digits of 2^256 - 1 */
#define AMOUNT_TEXT_LEN     80 /* a sign, 78 digits and the NUL */
#define AMOUNT_DECIMALS_MAX 36 /* fractional digits a token may have */

/* Treat as opaque: use the functions below. */
struct amount
{
	uint64_t limb[4]; /* little-endian 64-bit limbs */
};

enum amount_status
{
	AMOUNT_OK = 0,
	AMOUNT_SYNTAX,     /* not a non-negative decimal number */
	AMOUNT_TOO_LARGE,  /* more than 2^256 - 1 base units */
	AMOUNT_TOO_PRECISE /* more fractional digits than the token has (and not zeros) */
};

/*
 * Parses an amount given in tokens with up to decimals (0 ..
 * AMOUNT_DECIMALS_MAX) fractional digits and returns it in base units:
 * "2500000.123456" with 6 decimals is 2500000123456.  Digits, an optional
 * point and fraction, an optional exponent ("1e+21", "4.2E19", as
 * PostgreSQL prints a large float); no sign, no white space.  Extra
 * fractional digits that are zeros change nothing and are accepted
 * ("1.50" with 1 decimal is 15); others are AMOUNT_TOO_PRECISE.  With 0
 * decimals the text is in base units.  Pure.
 */
enum amount_status amount_parse(const char *s, size_t len, unsigned decimals, struct amount *out);

/* Says what a status means ("more than 2^256 - 1 base units"). */
const char *amount_status_message(enum amount_status status);

/* The decimal text of a (base units) into buf; returns its length. */
size_t amount_format(const struct amount *a, char buf[AMOUNT_TEXT_LEN]);

void amount_from_u64(struct amount *a, uint64_t v);
/* False if a > 2^64 - 1. */
bool amount_to_u64(const struct amount *a, uint64_t *v);
bool amount_is_zero(const struct amount *a);
/* -1, 0 or 1 as a <, = or > b. */
int amount_cmp(const struct amount *a, const struct amount *b);

/* acc += b; false (acc unchanged) if the sum passes 2^256 - 1. */
bool amount_add(struct amount *acc, const struct amount *b);
bool amount_add_u64(struct amount *acc, uint64_t v);
/* acc -= b; false (acc unchanged) if b > acc. */
bool amount_sub(struct amount *acc, const struct amount *b);

/*
 * q = floor(a * num / den) and *rem = (a * num) mod den, exactly; den > 0.
 * False (q unchanged) if q passes 2^256 - 1 (only possible when num > den).
 */
bool amount_mul_div(const struct amount *a, uint64_t num, uint64_t den, struct amount *q,
					uint64_t *rem);

/* A signed difference of amounts, for rerun adjustments. */
struct amount_delta
{
	struct amount magnitude;
	bool          negative; /* never for zero */
};

/* d = now - before. */
void amount_delta(const struct amount *now, const struct amount *before, struct amount_delta *d);
/* "-5", "5" (with plus: "+5"), "0". */
size_t amount_delta_format(const struct amount_delta *d, bool plus, char buf[AMOUNT_TEXT_LEN]);

#endif
