#!/usr/bin/env python3
"""check-function-length.py: fails when a C function is longer than a limit.

    python3 tools/check-function-length.py [--max N] [--top K] [FILE...]

Reads FILEs (default: src/*.c) in the shape clang-format gives the tree
(.clang-format): a top-level definition is its return type on one line,
the name at column 0 followed by "(" on the next (the parameters may go on
over further lines, the last ending with ")"), then "{" alone at column 0;
the body ends at the first "}" at column 0.  A function's length is the
lines of its whole definition, from the return type to that "}" inclusive.

Prints how many functions were found and their median length, the K
longest (default 15), and, when some are longer than N lines (default
150), names each of them and exits 1.  Exits 2 on a usage error or an
unreadable file, or when no function was found at all (the files are not
in the shape above, so the check would prove nothing).
"""

import argparse
import glob
import re
import statistics
import sys

NAME_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\(")


def functions(path, lines):
    """Yields (name, line of the name, length) for each definition in lines."""
    i = 0
    n = len(lines)
    while i < n:
        m = NAME_LINE.match(lines[i])
        # the line before holds the return type: not blank, not a directive
        if not m or i == 0 or not lines[i - 1].strip() or lines[i - 1].startswith("#"):
            i += 1
            continue
        # the parameters end at the first line ending with ")"; a ";" first
        # means a declaration or a macro call, not a definition
        j = i
        while j < n and not lines[j].rstrip().endswith(")") and ";" not in lines[j]:
            j += 1
        if j + 1 >= n or ";" in lines[j] or lines[j + 1].rstrip() != "{":
            i += 1
            continue
        start = j + 1
        end = start + 1
        while end < n and not lines[end].startswith("}"):
            end += 1
        if end == n:
            raise ValueError("%s:%d: no '}' at column 0 closes %s()" % (path, start + 1, m.group(1)))
        # from the return type (line i - 1) to the "}" (line end)
        yield m.group(1), i + 1, end - (i - 1) + 1
        i = end + 1


def main():
    ap = argparse.ArgumentParser(description="Fails when a C function is longer than --max lines.")
    ap.add_argument("--max", type=int, default=150, metavar="N",
                    help="longest definition allowed, in lines from the return type to '}' (default 150)")
    ap.add_argument("--top", type=int, default=15, metavar="K",
                    help="how many of the longest functions to list (default 15)")
    ap.add_argument("files", nargs="*", metavar="FILE", help="C files (default: src/*.c)")
    args = ap.parse_args()
    if args.max < 1 or args.top < 0:
        ap.error("--max must be positive and --top not negative")
    files = args.files or sorted(glob.glob("src/*.c"))
    if not files:
        print("function-length: no C files (run it from the top of the tree)", file=sys.stderr)
        return 2

    found = []
    for path in files:
        try:
            with open(path, encoding="utf-8") as f:
                lines = f.read().split("\n")
            found.extend((length, path, line, name) for name, line, length in functions(path, lines))
        except (OSError, UnicodeDecodeError, ValueError) as e:
            print("function-length: %s" % e, file=sys.stderr)
            return 2
    if not found:
        print("function-length: no function definitions found in %d file(s)" % len(files), file=sys.stderr)
        return 2

    found.sort(key=lambda f: (-f[0], f[1], f[2]))
    print("function-length: %d functions in %d files, median %g lines, limit %d; the longest:"
          % (len(found), len(files), statistics.median(f[0] for f in found), args.max))
    for length, path, line, name in found[:args.top]:
        print("  %5d  %s:%d %s()%s" % (length, path, line, name, "  OVER" if length > args.max else ""))

    over = [f for f in found if f[0] > args.max]
    if over:
        print("function-length: %d function(s) longer than %d lines:" % (len(over), args.max), file=sys.stderr)
        for length, path, line, name in over:
            print("function-length:   %s:%d: %s() is %d lines" % (path, line, name, length), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
