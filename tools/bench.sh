#!/bin/sh
# bench.sh: `make bench`.  Times `payrun settle` on a generated day of probe
# exports against two baselines on the same files, and prints the ratios.
#
#   inflate_only  zlib alone inflating the files (the yardstick of issue 2)
#   libcsv_only   zlib + libcsv with empty callbacks
#   payrun        payrun settle --period DAY --input FILE... --out TMPDIR -q
#
# The three run in turn, round after round (A B C A B C ...), so a slow spell
# of the machine hits all three alike; each figure is the median over the
# rounds, and each ratio the median of the per-round ratios.  Times and peak
# memory come from /usr/bin/time (wall, user, sys, max RSS) for the whole
# process, start-up included.
#
# Environment:
#   BENCH_ROWS   rows in the generated day (default 14400000, the issue's day)
#   RUNS         rounds (default 5)
#   BENCH_SPLIT  1 (default) also runs the day split into 4 files; 0 skips it
#   BENCH_COMPRESSIBLE  1 (default) also runs a day that compresses 12:1
#                (gen_probes --compressible), nearer the issue's 15.7:1; 0 skips it
#   PAYRUN       the binary to time (default ./payrun)
#
# The data goes to bench-data/ (not in git) and is generated once: it is
# reused while the generator's arguments and source are unchanged.
set -eu

cd "$(dirname "$0")/.."

ROWS=${BENCH_ROWS:-14400000}
RUNS=${RUNS:-5}
SPLIT=${BENCH_SPLIT:-1}
COMPRESSIBLE=${BENCH_COMPRESSIBLE:-1}
PAYRUN=${PAYRUN:-./payrun}
DAY=2026-11-01
TOOLS=build/tools
DATA=bench-data/r$ROWS
TIME=/usr/bin/time
RSS_TARGET_MIB=64
RATIO_TARGET=1.5

die() {
	echo "bench: $*" >&2
	exit 1
}

case $ROWS in '' | *[!0-9]*) die "BENCH_ROWS must be a number of rows, not '$ROWS'" ;; esac
case $RUNS in '' | *[!0-9]* | 0) die "RUNS must be a positive number, not '$RUNS'" ;; esac
[ -x "$TIME" ] || die "$TIME not found (Debian package 'time')"
for t in gen_probes inflate_only libcsv_only; do
	[ -x "$TOOLS/$t" ] || die "$TOOLS/$t not built: run 'make bench'"
done
[ -x "$PAYRUN" ] || die "'$PAYRUN' not found: run 'make bench'"

work=$(mktemp -d "${TMPDIR:-/tmp}/payrun-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

# gen NAME FILES [GEN_OPTION...]: makes $DATA/NAME*.csv.gz unless the same
# arguments and generator source made them already; the stamp is written
# last, so an interrupted run is redone.
gen() {
	name=$1
	files=$2
	shift 2
	args="--rows $ROWS --day $DAY --seed 1 --gzip 6 --files $files --out $DATA/$name.csv.gz${*:+ $*}"
	stamp="$args $(cksum <tools/gen_probes.c)"
	if [ -f "$DATA/$name.params" ] && [ "$(cat "$DATA/$name.params")" = "$stamp" ]; then
		echo "reusing $DATA/$name*.csv.gz"
		return
	fi
	mkdir -p "$DATA"
	rm -f "$DATA/$name.params" "$DATA/$name".*csv.gz
	echo "generating $DATA/$name*.csv.gz ($ROWS rows, $files file(s))"
	start=$(date +%s)
	# shellcheck disable=SC2086
	"$TOOLS/gen_probes" $args
	echo "generated in $(($(date +%s) - start)) s"
	echo "$stamp" >"$DATA/$name.params"
}

# timed NAME ROUND CMD...: runs CMD under /usr/bin/time, appends
# "NAME ROUND wall user sys maxrss_kib" to $work/results.
timed() {
	name=$1
	round=$2
	shift 2
	if ! "$TIME" -f '%e %U %S %M' -o "$work/time" "$@" >"$work/$name.log" 2>&1; then
		echo "bench: $name failed in round $round:" >&2
		tail -n 20 "$work/$name.log" >&2
		exit 1
	fi
	echo "$name $round $(tail -n 1 "$work/time")" >>"$work/results"
}

# median NAME COLUMN: the median of a column of $work/results for NAME.
median() {
	awk -v n="$1" -v c="$2" '$1 == n { print $c }' "$work/results" | sort -n |
		awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ratio A B: the median over rounds of A's wall time over B's.
ratio() {
	awk -v a="$1" -v b="$2" '
		$1 == a { ta[$2] = $3 }
		$1 == b { tb[$2] = $3 }
		END { for (r in ta) if (r in tb && tb[r] > 0) print ta[r] / tb[r] }' "$work/results" | sort -n |
		awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# section TITLE FILE...: the A/B/C rounds over FILEs and their table.  With
# more than one file, payrun also runs with --jobs 1 (files one after
# another) as a fourth contender.
section() {
	title=$1
	shift
	names="inflate_only libcsv_only payrun"
	[ $# -gt 1 ] && names="$names payrun_jobs1"
	: >"$work/results"
	inputs=
	for f in "$@"; do
		inputs="$inputs --input $f"
	done
	# warm the page cache so round 1 does not pay for the disk alone
	cat "$@" >/dev/null

	echo
	echo "== $title =="
	round=1
	while [ "$round" -le "$RUNS" ]; do
		[ -t 2 ] && printf 'round %s/%s\r' "$round" "$RUNS" >&2
		timed inflate_only "$round" "$TOOLS/inflate_only" "$@"
		timed libcsv_only "$round" "$TOOLS/libcsv_only" "$@"
		out=$(mktemp -d "$work/out.XXXXXX")
		# shellcheck disable=SC2086
		timed payrun "$round" "$PAYRUN" settle --period "$DAY" $inputs \
			--out "$out" --default-pool 1000000 -q
		[ -f "$out/$DAY/v1/ledger.csv" ] || die "payrun wrote no $out/$DAY/v1/ledger.csv"
		rm -rf "$out"
		if [ $# -gt 1 ]; then
			out=$(mktemp -d "$work/out.XXXXXX")
			# shellcheck disable=SC2086
			timed payrun_jobs1 "$round" "$PAYRUN" settle --period "$DAY" $inputs \
				--out "$out" --default-pool 1000000 -q --jobs 1
			rm -rf "$out"
		fi
		round=$((round + 1))
	done
	[ -t 2 ] && printf '%24s\r' '' >&2

	# sizes, from the last inflate_only run: "... N bytes in, M bytes out"
	awk '{ for (i = 1; i < NF; i++) { if ($(i + 1) == "bytes" && $(i + 2) == "in,") gz = $i;
		if ($(i + 1) == "bytes" && $(i + 2) == "out") raw = $i } }
		END { printf "input: %d file(s), %.1f MB gzip, %.1f MB CSV\n", n, gz / 1e6, raw / 1e6 }' \
		n=$# "$work/inflate_only.log"
	printf '%-14s %9s %9s %9s %13s\n' command "wall s" "user s" "sys s" "max RSS MiB"
	for n in $names; do
		printf '%-14s %9.2f %9.2f %9.2f %13.1f\n' "$n" \
			"$(median "$n" 3)" "$(median "$n" 4)" "$(median "$n" 5)" \
			"$(awk "BEGIN { print $(median "$n" 6) / 1024 }")"
	done
	echo "(medians of $RUNS rounds; wall is elapsed time, user and sys are summed over threads)"

	if [ $# -gt 1 ]; then
		awk -v r="$(ratio payrun payrun_jobs1)" -v j="$(ratio payrun_jobs1 inflate_only)" 'BEGIN {
			printf "payrun / payrun --jobs 1: %.2fx  (payrun --jobs 1 / inflate_only: %.2fx)\n", r, j }'
	fi
	r1=$(ratio payrun inflate_only)
	r2=$(ratio payrun libcsv_only)
	peak=$(awk '$1 == "payrun" && $6 > m { m = $6 } END { print m / 1024 }' "$work/results")
	awk -v r1="$r1" -v r2="$r2" -v peak="$peak" -v rt="$RATIO_TARGET" -v mt="$RSS_TARGET_MIB" 'BEGIN {
		printf "payrun / inflate_only: %.2fx  (target <= %.1fx: %s)\n", r1, rt, r1 <= rt ? "met" : "NOT met"
		printf "payrun / libcsv_only:  %.2fx\n", r2
		printf "payrun peak RSS:       %.1f MiB, largest of the rounds  (target < %d MiB: %s)\n",
			peak, mt, peak < mt ? "met" : "NOT met"
	}'
}

echo "payrun bench: $ROWS rows on $DAY, $RUNS rounds, $(getconf _NPROCESSORS_ONLN) cores, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "payrun: $("$PAYRUN" --version 2>&1 | head -n 1)"
gen day 1
section "one file" "$DATA/day.csv.gz"
if [ "$SPLIT" = 1 ]; then
	gen split 4
	# shellcheck disable=SC2046
	section "the same day in 4 files" $(ls "$DATA"/split.part*.csv.gz)
fi
if [ "$COMPRESSIBLE" = 1 ]; then
	gen compressible 1 --compressible
	section "a more compressible day, one file (whole-second timestamps, fixed response values)" \
		"$DATA/compressible.csv.gz"
fi
