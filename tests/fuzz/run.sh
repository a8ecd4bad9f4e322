#!/bin/sh
# tests/fuzz/run.sh: builds the libFuzzer targets in tests/fuzz/ and runs
# each for a set time.
#
#   sh tests/fuzz/run.sh [TARGET...]        (targets: csvscan timestamp pools config inflate)
#
# The library modules (src/*.c but main and the CLI files) are compiled with
# clang -fsanitize=fuzzer-no-link,address,undefined -g -O1 into one archive
# in build/fuzz/, so each target links only the modules it calls.  Each
# target then runs for FUZZ_SECONDS (default 15) on a working copy of its
# seed corpus in build/fuzz/corpus/<target>/ (kept between runs, so local
# runs build on earlier ones; tests/fuzz/corpus/ is never written unless
# FUZZ_MERGE=1, which merges the inputs that add coverage back into it).
# A crash, leak, UB report, timeout or failed property saves the input as
# tests/fuzz/crashers/<target>-crash-<sha1> (or -leak-, -timeout-, -oom-);
# crashers left there are replayed at the start of every run, so the run
# fails until they are fixed (then move them into the seed corpus).  Replay
# one with build/fuzz/fuzz_<target> FILE (FUZZ_VERBOSE=1 shows the modules'
# log lines).
#
# Prints a line per target with executions, time and coverage (libFuzzer's
# edges and features over the instrumented payrun modules), the report
# of any failure, and ends with `fuzz: N passed, N failed`; the exit status
# is non-zero if any target failed to build or found something.
#
# Environment: FUZZ_SECONDS, FUZZ_MERGE=1, FUZZ_CC (default clang, else
# clang-14), FUZZ_ARGS (extra libFuzzer flags, e.g. -seed=1), FUZZ_COVERAGE=1
# (afterwards, replay each working corpus through a source-coverage build
# and print the line and branch coverage of the modules under test).

# Flag lists ($CFLAGS, $PKG_LIBS, ...) are split into words on purpose, and
# -DPAYRUN_VERSION="x" keeps its quotes as characters: that is the C string.
# shellcheck disable=SC2012,SC2046,SC2086,SC2089,SC2090

set -u

cd "$(dirname "$0")/../.." || exit 1

SECONDS_EACH=${FUZZ_SECONDS:-15}
B=build/fuzz
SEEDS=tests/fuzz/corpus
CRASHERS=tests/fuzz/crashers
ALL_TARGETS="csvscan timestamp pools config inflate"
TARGETS=${*:-$ALL_TARGETS}

case "$SECONDS_EACH" in
	''|*[!0-9]*) echo "fuzz: FUZZ_SECONDS must be a whole number of seconds" >&2; exit 2 ;;
esac

# Longest input per target: a few 64-byte scanner blocks of CSV, a
# timestamp with room to spare, a small pools or config file.
max_len() {
	case $1 in
		csvscan) echo 4096 ;;
		timestamp) echo 64 ;;
		pools) echo 4096 ;;
		config) echo 4096 ;;
		inflate) echo 65536 ;;
		*) echo 4096 ;;
	esac
}

# The libraries a target links besides the modules' own: libcsv for the
# targets that hold payrun to it (fuzz_libcsv.h), none for the others.
target_libs() {
	case $1 in
		csvscan|pools) echo -lcsv ;;
	esac
}

# The modules a target is about, for FUZZ_COVERAGE=1.
cov_files() {
	case $1 in
		csvscan) echo src/csvscan.c ;;
		timestamp) echo src/timestamp.c src/period.c ;;
		pools) echo src/pools.c src/csvscan.c ;;
		config) echo src/config.c src/options.c src/settings.c ;;
		inflate) echo src/inflater.c src/input.c ;;
	esac
}

PASS=0
FAIL=0

fail_all() {
	echo "fuzz: $1" >&2
	for t in $TARGETS; do echo "fuzz: $t FAILED (not built)"; done
	echo "fuzz: 0 passed, $(echo "$TARGETS" | wc -w) failed"
	exit 1
}

# ---- the compiler ----

CC=${FUZZ_CC:-}
if [ -z "$CC" ]; then
	for c in clang clang-14; do
		if command -v "$c" >/dev/null 2>&1; then CC=$c; break; fi
	done
fi
[ -n "$CC" ] || fail_all "clang not found (Debian: apt-get install clang libclang-rt-14-dev)"

for t in $TARGETS; do
	[ -f "tests/fuzz/fuzz_$t.c" ] || { echo "fuzz: no target '$t' (have: $ALL_TARGETS)" >&2; exit 2; }
done

mkdir -p "$B" "$CRASHERS" || exit 1

PKGS="zlib libisal libconfuse jansson libcrypto libpq"
PKG_CFLAGS=$(pkg-config --cflags $PKGS 2>/dev/null) ||
	fail_all "pkg-config cannot find all of: $PKGS (run make deps)"
PKG_LIBS=$(pkg-config --libs $PKGS 2>/dev/null)
VERSION=$(sed -n 's/^VERSION *:= *//p' Makefile 2>/dev/null)

SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
CFLAGS="-g -O1 -std=c11 -D_GNU_SOURCE -Iinclude -I$B $PKG_CFLAGS $SAN -DPAYRUN_VERSION=\"${VERSION:-fuzz}\""

# libFuzzer itself must be there (libclang-rt-14-dev on Debian)
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void) d; (void) n; return 0; }\n' \
	> "$B/probe.c"
"$CC" -fsanitize=fuzzer -o "$B/probe" "$B/probe.c" >"$B/probe.log" 2>&1 ||
	fail_all "$CC cannot link -fsanitize=fuzzer (Debian: apt-get install libclang-rt-14-dev); see $B/probe.log"

# ---- the library archive ----

start_build=$(date +%s)
sh tools/embed-sql.sh "$B/sql_embed.c" || fail_all "could not generate $B/sql_embed.c"
LIB_SRC=""
for f in src/*.c; do
	case $f in src/payrun.c|src/cli_*) ;; *) LIB_SRC="$LIB_SRC $f" ;; esac
done
JOBS=$(nproc 2>/dev/null || echo 2)
# build_lib DIR ARCHIVE FLAGS: compiles the library modules into DIR with
# CFLAGS and FLAGS (one word list), and archives them
build_lib() {
	dir=$1
	archive=$2
	extra=$3
	rm -rf "$dir" "$archive"
	mkdir -p "$dir" || return 1
	export CC CFLAGS dir extra
	# shellcheck disable=SC2016
	printf '%s\n' $LIB_SRC "$B/sql_embed.c" | xargs -P "$JOBS" -n 1 sh -c '
		o="$dir/$(basename "$1" .c).o"
		$CC $CFLAGS $extra -c -o "$o" "$1" 2>"$o.log" ||
			{ cat "$o.log" >&2; echo "fuzz: could not compile $1" >&2; exit 1; }
	' sh || return 1
	ar rcs "$archive" "$dir/"*.o
}
build_lib "$B/obj" "$B/libpayrun-fuzz.a" "-fsanitize=fuzzer-no-link" ||
	fail_all "the library did not build"

# ---- the targets ----

BUILT=""
for t in $TARGETS; do
	if $CC $CFLAGS -fsanitize=fuzzer -Wall -Wextra -o "$B/fuzz_$t" "tests/fuzz/fuzz_$t.c" \
		"$B/libpayrun-fuzz.a" $(target_libs "$t") $PKG_LIBS -lpthread 2>"$B/fuzz_$t.build.log"; then
		BUILT="$BUILT $t"
	else
		cat "$B/fuzz_$t.build.log" >&2
		echo "fuzz: $t FAILED (did not build)"
		FAIL=$((FAIL + 1))
	fi
done
echo "fuzz: built$BUILT in $(($(date +%s) - start_build)) s"

# ---- running ----

for t in $BUILT; do
	work="$B/corpus/$t"
	log="$B/fuzz_$t.log"
	dict=""
	mkdir -p "$work"
	# the seeds, and any crasher still in tests/fuzz/crashers/ (replayed first thing)
	for f in "$SEEDS/$t/"* "$CRASHERS/$t-"*; do
		[ -f "$f" ] && cp "$f" "$work/"
	done
	[ -f "tests/fuzz/$t.dict" ] && dict="-dict=tests/fuzz/$t.dict"

	t0=$(date +%s)
	# the hard limit only catches a target that hangs outside libFuzzer's own timers
	timeout -k 10 $((SECONDS_EACH + 120)) "$B/fuzz_$t" \
		-max_total_time="$SECONDS_EACH" -max_len="$(max_len "$t")" \
		-timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
		-artifact_prefix="$CRASHERS/$t-" $dict ${FUZZ_ARGS:-} \
		"$work" >"$log" 2>&1
	rc=$?
	secs=$(($(date +%s) - t0))

	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -n 1 |
		sed 's/cov: \([0-9]*\) ft: \([0-9]*\)/cov \1 edges, \2 features/')
	corp=$(ls "$work" | wc -l)
	summary="${execs:-?} execs in $secs s, ${cov:-cov ?}, corpus $corp"

	if [ "$rc" -eq 0 ] && [ -n "$execs" ]; then
		echo "fuzz: $t ok: $summary"
		PASS=$((PASS + 1))
	else
		echo "fuzz: $t FAILED (exit $rc): $summary"
		# the report: from the first sanitizer, libFuzzer or property line
		awk '/^==[0-9]+==|fuzz property failed|runtime error|ERROR: libFuzzer/ { on = 1 }
			on && !/^(#[0-9]|stat::|MS: |0x|Base64: |artifact_prefix=)/ { print "  " $0 }' "$log" |
			head -n 60
		saved=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
		[ -n "$saved" ] && echo "  input saved as $saved (replay: $B/fuzz_$t $saved)"
		echo "  full log: $log"
		FAIL=$((FAIL + 1))
	fi

	if [ "${FUZZ_MERGE:-0}" = 1 ] && [ "$rc" -eq 0 ]; then
		mkdir -p "$SEEDS/$t"
		"$B/fuzz_$t" -merge=1 -max_len="$(max_len "$t")" "$SEEDS/$t" "$work" \
			>"$B/fuzz_$t.merge.log" 2>&1 &&
			echo "fuzz: $t merged into $SEEDS/$t: $(ls "$SEEDS/$t" | wc -l) files, $(cat "$SEEDS/$t/"* | wc -c) bytes"
	fi
done

# ---- coverage of the modules under test, from the working corpora ----

if [ "${FUZZ_COVERAGE:-0}" = 1 ]; then
	ver=$($CC --version | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -n 1)
	PROFDATA=llvm-profdata-$ver
	COV=llvm-cov-$ver
	command -v "$PROFDATA" >/dev/null 2>&1 || PROFDATA=llvm-profdata
	command -v "$COV" >/dev/null 2>&1 || COV=llvm-cov
	CFLAGS="-g -O1 -std=c11 -D_GNU_SOURCE -Iinclude -I$B $PKG_CFLAGS -DPAYRUN_VERSION=\"${VERSION:-fuzz}\""
	COVFLAGS="-fprofile-instr-generate -fcoverage-mapping"
	if build_lib "$B/cov" "$B/libpayrun-cov.a" "-fsanitize=fuzzer-no-link $COVFLAGS"; then
		for t in $BUILT; do
			bin="$B/cov/fuzz_$t"
			$CC $CFLAGS $COVFLAGS -fsanitize=fuzzer -o "$bin" "tests/fuzz/fuzz_$t.c" \
				"$B/libpayrun-cov.a" $(target_libs "$t") $PKG_LIBS -lpthread 2>"$bin.build.log" || continue
			rm -f "$B/cov/$t.profraw"
			if ! LLVM_PROFILE_FILE="$B/cov/$t.profraw" "$bin" -runs=0 \
				-max_len="$(max_len "$t")" "$B/corpus/$t" >"$B/cov/$t.log" 2>&1 ||
				! "$PROFDATA" merge -sparse -o "$B/cov/$t.profdata" "$B/cov/$t.profraw"; then
				echo "fuzz: $t coverage: replay failed, see $B/cov/$t.log"
				continue
			fi
			"$COV" report "$bin" -instr-profile="$B/cov/$t.profdata" $(cov_files "$t") |
				awk -v t="$t" '$1 ~ /\.c$/ {
					n = split($1, p, "/")
					printf "fuzz: %s coverage: %s lines %s (%d of %d), branches %s\n",
						t, "src/" p[n], $10, $8 - $9, $8, $13 }'
		done
	else
		echo "fuzz: the coverage build failed" >&2
	fi
fi

echo "fuzz: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
