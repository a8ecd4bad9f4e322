/*
 * numparse.h: checked parsing of numbers written as text (options, config
 * and job files, CSV fields, query results).  One parser per kind, each
 * pure and exact: digits only (no sign, no white space, no base prefix),
 * leading zeros allowed, every overflow and range error refused.
 */
#ifndef PAYRUN_NUMPARSE_H
#define PAYRUN_NUMPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A decimal integer of 1..n digits in [min, max]. */
bool numparse_u64(const char *s, size_t len, uint64_t min, uint64_t max, uint64_t *out);

/* A signed decimal, as PostgreSQL prints a bigint: an optional '-', then digits (no '+'). */
bool numparse_i64(const char *s, size_t len, int64_t *out);

/*
 * A decimal fraction in [0, 1]: "0", "1", "0.25", "1.000"; at most
 * max_digits digits after the point (1..18).  Gives it as num / den with
 * den = 10^(digits after the point), unreduced.
 */
bool numparse_fraction(const char *s, size_t len, int max_digits, uint64_t *num, uint64_t *den);

/*
 * A duration: a whole number with an optional unit s, m, h or d ("45s",
 * "30m", "2h", "1d", "0"; no unit means seconds), at most max_s seconds.
 */
bool numparse_duration(const char *s, size_t len, int64_t max_s, int64_t *out_s);

#endif
