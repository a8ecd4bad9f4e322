#!/usr/bin/env python3
"""gen_amount_vectors.py: prints the hand-picked amount_mul_div rows of
check_amount.c (mul_div_cases[]), computed with Python's integers.

Run by hand when the rows change, paste the output into the table and run
clang-format -i on the file; the test does not need Python.  Each row is
    { a, num, den, ok, q, rem }
with q = floor(a * num / den), rem = (a * num) mod den, ok = q <= 2^256 - 1.
"""

MAX = 2**256 - 1
U64 = 2**64 - 1

# (a, num, den, why), a as an int
rows = [
    (0, 0, 1, "zero times zero"),
    (0, U64, 1, "zero times anything"),
    (MAX, 0, 7, "num = 0"),
    (MAX, 0, U64, "num = 0, den = 2^64 - 1"),
    (MAX, 1, 1, "den = 1: a itself"),
    (MAX, 2, 1, "2 * (2^256 - 1): too large"),
    (MAX, 2, 2, "the product needs the fifth limb, the quotient does not"),
    (MAX, U64, U64, "the largest product: (2^256 - 1)(2^64 - 1), back to a"),
    (MAX, U64, U64 - 1, "num = den + 1 on the largest a: too large"),
    (MAX, U64 - 1, U64, "num = den - 1 on the largest a"),
    (MAX, 1, U64, "den = 2^64 - 1: 2^192 + 2^128 + 2^64 + 1"),
    (MAX, 1, 2**63, "den = 2^63"),
    (MAX, 1, 10**19, "den = 10^19, as amount_format divides"),
    (MAX, 1, 2, "(2^256 - 1) / 2"),
    (MAX, 3, 7, "num < den"),
    (MAX, U64, 1, "(2^256 - 1)(2^64 - 1): too large"),
    (MAX // 3, 3, 1, "q = 2^256 - 1 exactly"),
    (MAX // 3 + 1, 3, 1, "one more: 2^256 + 2"),
    (MAX // 5 * 3, 5, 3, "q = 2^256 - 1 exactly, num > den"),
    (MAX // 5 * 3 + 1, 5, 3, "one more: too large"),
    (2**255, 2, 1, "2^256: too large"),
    (2**255 - 1, 2, 1, "2^256 - 2"),
    (2**255, 3, 2, "1.5 * 2^255: too large"),
    (2**255, 2, 3, "2^256 / 3"),
    (2**192, U64, 1, "2^256 - 2^192"),
    (2**192 + 1, U64, 1, "2^256 - 2^192 + 2^64 - 1"),
    (2**193, 2**63, 1, "2^256: too large"),
    (2**192, 2**64 - 1, 2**64 - 2, "just above 2^192"),
    (2**64, U64, U64, "2^64"),
    (2**64 - 1, U64, 1, "(2^64 - 1)^2: a carry into limb 1"),
    (2**128 - 1, U64, 1, "a carry into limb 2"),
    (2**192 - 1, U64, 1, "a carry into limb 3"),
    (2**256 - 2**64, 1, U64, "limb 0 zero"),
    (1, U64, U64, "1"),
    (1, U64 - 1, U64, "0, rem 2^64 - 2"),
    (1, 1, U64, "0, rem 1"),
    (10, 1, 3, "3 rem 1"),
    (100, 1, 3, "33 rem 1"),
    (42 * 10**18, 1, 3, "a 42-token pool in thirds"),
    (42 * 10**18, 7, 9, "S = 7 of W = 9"),
    (42 * 10**18, 2**63 + 12345, U64, "S, W near 2^64"),
    (2500000123456 * 10**12, 999999, 1000000, "a 2.5M-token pool, keep 0.999999"),
    (10**77, 10, 1, "10^78: too large"),
    (10**77, 11, 10, "1.1 * 10^77"),
    (10**77, 12, 10, "1.2 * 10^77: too large"),
    (0x0123456789ABCDEF_FEDCBA9876543210_0F1E2D3C4B5A6978_8796A5B4C3D2E1F0,
     0xDEADBEEFCAFEBABE, 0xFFFFFFFF00000001, "an arbitrary a, num > den"),
    (0x0123456789ABCDEF_FEDCBA9876543210_0F1E2D3C4B5A6978_8796A5B4C3D2E1F0,
     0xFFFFFFFF00000001, 0xDEADBEEFCAFEBABE, "the same, num and den swapped"),
]


def main():
    for a, num, den, why in rows:
        p = a * num
        q, rem = divmod(p, den)
        ok = q <= MAX
        print("\t/* %s */" % why)
        print('\t{ "%d", UINT64_C(%d), UINT64_C(%d), %s, "%s", UINT64_C(%d) },'
              % (a, num, den, "true" if ok else "false", q if ok else "", rem if ok else 0))


if __name__ == "__main__":
    main()
