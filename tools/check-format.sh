#!/bin/sh
# check-format.sh: holds the C tree to .clang-format.
#
#   sh tools/check-format.sh       names the files clang-format would change
#                                  (make format-check); exits 1 if any
#   sh tools/check-format.sh -i    reformats them in place (make format)
#
# The files are every .c and .h under src/, include/, tests/unit/, tools/
# and tests/fuzz/ (not its corpus).  The tree is formatted with
# clang-format 14 (Debian 12's), and other versions format some constructs
# differently, so clang-format is $CLANG_FORMAT if set, else clang-format-14,
# else clang-format (a note is printed when that is not version 14).
# Exits 2 when clang-format is missing or fails on a file for another reason
# than its format (the message is shown).
set -eu

cd "$(dirname "$0")/.."

mode=check
case "${1:-}" in
	'') ;;
	-i) mode=fix ;;
	*) echo "usage: sh tools/check-format.sh [-i]" >&2; exit 2 ;;
esac

CF=${CLANG_FORMAT:-}
if [ -z "$CF" ]; then
	for c in clang-format-14 clang-format; do
		if command -v "$c" >/dev/null 2>&1; then CF=$c; break; fi
	done
fi
if [ -z "$CF" ] || ! command -v "$CF" >/dev/null 2>&1; then
	echo "format: clang-format not found (Debian: apt-get install clang-format, or make deps)" >&2
	exit 2
fi
major=$("$CF" --version | sed -n 's/.*clang-format version \([0-9]*\).*/\1/p' | head -n 1)
if [ "$major" != 14 ]; then
	echo "format: note: $CF is version ${major:-unknown}; the tree is formatted with 14, results may differ" >&2
fi

files=$({ find src include tests/unit tools -type f -name '*.[ch]'
	find tests/fuzz -maxdepth 1 -type f -name '*.[ch]'; } | LC_ALL=C sort)
[ -n "$files" ] || { echo "format: no C files found" >&2; exit 2; }
count=$(echo "$files" | wc -l)

if [ "$mode" = fix ]; then
	# shellcheck disable=SC2086
	"$CF" -i $files
	echo "format: $count files formatted with $CF"
	exit 0
fi

tmp=$(mktemp "${TMPDIR:-/tmp}/check-format.XXXXXX")
trap 'rm -f "$tmp"' EXIT
bad=0
for f in $files; do
	if "$CF" --dry-run -Werror "$f" >/dev/null 2>"$tmp"; then
		continue
	fi
	places=$(grep -c 'clang-format-violations' "$tmp" || true)
	if [ "$places" -eq 0 ]; then
		cat "$tmp" >&2
		echo "format: $CF failed on $f" >&2
		exit 2
	fi
	echo "format: $f: $places place(s) differ from .clang-format"
	bad=$((bad + 1))
done

if [ "$bad" -ne 0 ]; then
	echo "format: $bad of $count files need formatting: make format (or $CF -i FILE), then review the diff" >&2
	exit 1
fi
echo "format: $count files match .clang-format ($CF)"
