#!/bin/sh
# run-unit.sh: runs the Check unit test binaries given as arguments, shows
# their output as it comes, and ends with one line:
#
#   unit: N passed, N failed
#
# counted from each binary's "Checks: X, Failures: Y, Errors: Z" summary
# (passed = X - Y - Z, failed = Y + Z).  A binary that cannot be run, or
# ends without a summary, or exits non-zero with no failed check (a crash
# outside the tests, a sanitizer report at exit) counts as one failure.
# Exits non-zero if anything failed or no test ran at all.
#
# Usage: sh tests/run-unit.sh build/tests/check_a build/tests/check_b ...

set -u

# The summary line is what we count: never let Check be silent.
case "${CK_VERBOSITY:-}" in
	minimal|normal|verbose) ;;
	*) CK_VERBOSITY=normal ;;
esac
export CK_VERBOSITY

tmp=$(mktemp -d "${TMPDIR:-/tmp}/run-unit.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' 0
trap 'exit 130' INT TERM

passed=0
failed=0

for bin in "$@"; do
	case "$bin" in
		*/*) ;;
		*) bin=./$bin ;;
	esac
	if [ ! -x "$bin" ]; then
		echo "unit: $bin: not found or not executable" >&2
		failed=$((failed + 1))
		continue
	fi

	# stream the output and keep a copy; the exit status comes back in a file
	{ "$bin" 2>&1; echo $? >"$tmp/rc"; } | tee "$tmp/out"
	rc=$(cat "$tmp/rc")

	summary=$(sed -n 's/.*Checks: \([0-9][0-9]*\), Failures: \([0-9][0-9]*\), Errors: \([0-9][0-9]*\).*/\1 \2 \3/p' "$tmp/out" | tail -n 1)
	if [ -z "$summary" ]; then
		echo "unit: $bin: no Check summary (exit status $rc)" >&2
		failed=$((failed + 1))
		continue
	fi
	checks=${summary%% *}
	rest=${summary#* }
	failures=${rest%% *}
	errors=${rest#* }
	passed=$((passed + checks - failures - errors))
	failed=$((failed + failures + errors))
	if [ "$rc" -ne 0 ] && [ $((failures + errors)) -eq 0 ]; then
		echo "unit: $bin: exit status $rc although every check passed" >&2
		failed=$((failed + 1))
	fi
done

echo "unit: $passed passed, $failed failed"
if [ "$failed" -ne 0 ]; then
	exit 1
fi
if [ "$passed" -eq 0 ]; then
	echo "unit: no tests ran" >&2
	exit 1
fi
exit 0
