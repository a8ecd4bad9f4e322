#!/bin/sh
# bench.sh: `make bench`.  Times `payrun settle` on a generated day of probe
# exports against baselines on the same files, and prints the ratios.
#
#   inflate_only  zlib alone inflating the files (the yardstick of issue 2)
#   inflate_isal  ISA-L alone inflating the files (the floor of issue 11)
#   libcsv_only   zlib + libcsv with empty callbacks
#   payrun        payrun settle --period DAY --input FILE... --out TMPDIR -q
#                 (with --inflater isal when payrun has the option)
#   payrun_zlib   the same with --inflater zlib (only when payrun has it)
#   payrun_jobs1  the same with --jobs 1 (sections of several files)
#   duckdb        DuckDB (npm @duckdb/node-api, 2 threads) running the same
#                 GROUP BY over the same files (tools/duckdb_groupby.cjs),
#                 where it installs
#
# They run in turn, round after round (A B C D ... A B C D ...), so a slow
# spell of the machine hits all of them alike; each figure is the median
# over the rounds, and each ratio the median of the per-round ratios.  Times
# and peak memory come from /usr/bin/time (wall, user, sys, max RSS) for the
# whole process, start-up included.
#
# Environment:
#   BENCH_ROWS   rows in the generated day (default 14400000, the issue's day)
#   RUNS         rounds (default 5)
#   BENCH_SPLIT  1 (default) also runs the day split into 4 files; 0 skips it
#   BENCH_COMPRESSIBLE  1 (default) also runs a day that compresses 12:1
#                (gen_probes --compressible), nearer the issue's 15.7:1; 0 skips it
#   BENCH_DUCKDB 1 (default) times DuckDB where node, npm and the package are
#                to be had (installed once under bench-data/); 0 skips it
#   BENCH_100K   1 also runs a day of 100,000 nodes in one file (issue 11:
#                under 15 s, under 64 MiB); 0 (default) skips it
#   BENCH_100K_ROWS  its rows (default 146000000: slow to generate, kept)
#   BENCH_100K_RUNS  its rounds (default RUNS)
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
DUCKDB=${BENCH_DUCKDB:-1}
B100K=${BENCH_100K:-0}
ROWS_100K=${BENCH_100K_ROWS:-146000000}
RUNS_100K=${BENCH_100K_RUNS:-$RUNS}
PAYRUN=${PAYRUN:-./payrun}
DAY=2026-11-01
TOOLS=build/tools
TIME=/usr/bin/time
RSS_TARGET_MIB=64
RATIO_TARGET=1.5        # payrun / inflate_only (issue 2)
ISAL_TARGET_ONE=2.0     # payrun / inflate_isal, the day in one file (issue 11)
ISAL_TARGET_SPLIT=1.5   # payrun / inflate_isal, the day in 4 files (issue 11)
DUCKDB_TARGET=5         # duckdb / payrun at least, the day in one file (issue 11)
WALL_TARGET_100K=15     # seconds, the 100k-node day (issue 11)

die() {
	echo "bench: $*" >&2
	exit 1
}

case $ROWS in '' | *[!0-9]*) die "BENCH_ROWS must be a number of rows, not '$ROWS'" ;; esac
case $ROWS_100K in '' | *[!0-9]*) die "BENCH_100K_ROWS must be a number of rows, not '$ROWS_100K'" ;; esac
case $RUNS in '' | *[!0-9]* | 0) die "RUNS must be a positive number, not '$RUNS'" ;; esac
case $RUNS_100K in '' | *[!0-9]* | 0) die "BENCH_100K_RUNS must be a positive number, not '$RUNS_100K'" ;; esac
[ -x "$TIME" ] || die "$TIME not found (Debian package 'time')"
for t in gen_probes inflate_only inflate_isal libcsv_only; do
	[ -x "$TOOLS/$t" ] || die "$TOOLS/$t not built: run 'make bench'"
done
[ -x "$PAYRUN" ] || die "'$PAYRUN' not found: run 'make bench'"

work=$(mktemp -d "${TMPDIR:-/tmp}/payrun-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

# gen DIR NAME ROWS FILES [GEN_OPTION...]: makes DIR/NAME*.csv.gz unless the
# same arguments and generator source made them already; the stamp is
# written last, so an interrupted run is redone.
gen() {
	dir=$1
	name=$2
	rows=$3
	files=$4
	shift 4
	args="--rows $rows --day $DAY --seed 1 --gzip 6 --files $files --out $dir/$name.csv.gz${*:+ $*}"
	stamp="$args $(cksum <tools/gen_probes.c)"
	if [ -f "$dir/$name.params" ] && [ "$(cat "$dir/$name.params")" = "$stamp" ]; then
		echo "reusing $dir/$name*.csv.gz"
		return
	fi
	mkdir -p "$dir"
	rm -f "$dir/$name.params" "$dir/$name".*csv.gz
	echo "generating $dir/$name*.csv.gz ($rows rows, $files file(s)${*:+, $*})"
	start=$(date +%s)
	# shellcheck disable=SC2086
	"$TOOLS/gen_probes" $args
	echo "generated in $(($(date +%s) - start)) s"
	echo "$stamp" >"$dir/$name.params"
}

# timed NAME ROUND CMD...: runs CMD under /usr/bin/time, appends
# "NAME ROUND wall user sys maxrss_kib" to $work/results.  A failure ends
# the bench, but DuckDB's: that one is noted and DuckDB left out from then on.
timed() {
	name=$1
	round=$2
	shift 2
	if ! "$TIME" -f '%e %U %S %M' -o "$work/time" "$@" >"$work/$name.log" 2>&1; then
		if [ "$name" = duckdb ]; then
			echo "duckdb: left out, it failed in round $round: $(grep -v '^Command exited' "$work/$name.log" | tail -n 1)"
			DUCKDB=0
			awk '$1 != "duckdb"' "$work/results" >"$work/results.tmp"
			mv "$work/results.tmp" "$work/results"
			return
		fi
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

# has NAME: NAME was timed in this section.
has() {
	awk -v n="$1" '$1 == n { found = 1 } END { exit !found }' "$work/results"
}

# verdict LABEL VALUE OP TARGET: "LABEL VALUEx  (target OP TARGETx: met)"; an
# empty TARGET prints the ratio alone.
verdict() {
	awk -v l="$1" -v v="$2" -v op="$3" -v t="$4" 'BEGIN {
		if (t == "") { printf "%-32s %.2fx\n", l ":", v; exit }
		ok = op == "<=" ? v <= t : v >= t
		printf "%-32s %.2fx  (target %s %.1fx: %s)\n", l ":", v, op, t, ok ? "met" : "NOT met" }'
}

# The payrun runs, by contender name: settle into a fresh directory each time.
run_payrun() {
	name=$1
	round=$2
	shift 2
	out=$(mktemp -d "$work/out.XXXXXX")
	case $name in
		payrun) opts=$INFLATER_ISAL ;;
		payrun_zlib) opts="--inflater zlib" ;;
		payrun_jobs1) opts="--jobs 1" ;;
	esac
	# shellcheck disable=SC2086
	timed "$name" "$round" "$PAYRUN" settle --period "$DAY" $inputs \
		--out "$out" --default-pool 1000000 -q $opts
	[ -f "$out/$DAY/v1/ledger.csv" ] || die "$name wrote no $out/$DAY/v1/ledger.csv"
	rm -rf "$out"
}

# section KIND TITLE FILE...: the rounds over FILEs and their table.  KIND
# (one, split, compressible, 100k) says who runs and against which targets.
section() {
	kind=$1
	title=$2
	shift 2
	case $kind in
		100k) names="inflate_isal payrun" ;;
		*)
			names="inflate_only inflate_isal libcsv_only payrun"
			if [ -n "$INFLATER_ISAL" ]; then names="$names payrun_zlib"; fi
			if [ "$kind" = split ]; then names="$names payrun_jobs1"; fi
			if [ "$DUCKDB" = 1 ]; then names="$names duckdb"; fi
			;;
	esac
	rounds=$RUNS
	if [ "$kind" = 100k ]; then rounds=$RUNS_100K; fi
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
	while [ "$round" -le "$rounds" ]; do
		[ -t 2 ] && printf 'round %s/%s\r' "$round" "$rounds" >&2
		for n in $names; do
			case $n in
				inflate_only | inflate_isal | libcsv_only) timed "$n" "$round" "$TOOLS/$n" "$@" ;;
				payrun*) run_payrun "$n" "$round" ;;
				duckdb)
					# (left out from here on if it failed in an earlier round)
					if [ "$DUCKDB" = 1 ]; then
						timed duckdb "$round" env NODE_PATH="$DUCKDB_NODE_PATH" \
							node tools/duckdb_groupby.cjs "$DAY" "$@"
					fi
					;;
			esac
		done
		round=$((round + 1))
	done
	[ -t 2 ] && printf '%24s\r' '' >&2

	# sizes, from the last inflate_isal run: "... N bytes in, M bytes out"
	awk '{ for (i = 1; i < NF; i++) { if ($(i + 1) == "bytes" && $(i + 2) == "in,") gz = $i;
		if ($(i + 1) == "bytes" && $(i + 2) == "out") raw = $i } }
		END { printf "input: %d file(s), %.1f MB gzip, %.1f MB CSV\n", n, gz / 1e6, raw / 1e6 }' \
		n=$# "$work/inflate_isal.log"
	printf '%-14s %9s %9s %9s %13s\n' command "wall s" "user s" "sys s" "max RSS MiB"
	for n in $names; do
		has "$n" || continue
		printf '%-14s %9.2f %9.2f %9.2f %13.1f\n' "$n" \
			"$(median "$n" 3)" "$(median "$n" 4)" "$(median "$n" 5)" \
			"$(awk "BEGIN { print $(median "$n" 6) / 1024 }")"
	done
	echo "(medians of $rounds rounds; wall is elapsed time, user and sys are summed over threads)"
	per_round "$names"

	case $kind in
		one) isal_target=$ISAL_TARGET_ONE duck_target=$DUCKDB_TARGET ;;
		split) isal_target=$ISAL_TARGET_SPLIT duck_target= ;;
		*) isal_target="" duck_target="" ;;
	esac
	if [ "$kind" = 100k ]; then
		verdict "payrun / inflate_isal" "$(ratio payrun inflate_isal)" "<=" ""
		awk -v w="$(median payrun 3)" -v t="$WALL_TARGET_100K" 'BEGIN {
			printf "%-32s %.2f s  (target < %d s: %s)\n", "payrun wall, median:", w, t, w < t ? "met" : "NOT met" }'
	else
		if [ "$kind" = split ]; then
			verdict "payrun / payrun --jobs 1" "$(ratio payrun payrun_jobs1)" "<=" ""
			verdict "payrun --jobs 1 / inflate_only" "$(ratio payrun_jobs1 inflate_only)" "<=" ""
		fi
		verdict "payrun / inflate_only" "$(ratio payrun inflate_only)" "<=" "$RATIO_TARGET"
		verdict "payrun / inflate_isal" "$(ratio payrun inflate_isal)" "<=" "$isal_target"
		verdict "payrun / libcsv_only" "$(ratio payrun libcsv_only)" "<=" ""
		if has payrun_zlib; then
			verdict "payrun_zlib / inflate_only" "$(ratio payrun_zlib inflate_only)" "<=" "$RATIO_TARGET"
			verdict "payrun_zlib / payrun" "$(ratio payrun_zlib payrun)" "<=" ""
		fi
		verdict "inflate_only / inflate_isal" "$(ratio inflate_only inflate_isal)" "<=" ""
		if has duckdb; then
			verdict "duckdb / payrun" "$(ratio duckdb payrun)" ">=" "$duck_target"
		fi
	fi
	peak=$(awk '$1 == "payrun" && $6 > m { m = $6 } END { print m / 1024 }' "$work/results")
	awk -v peak="$peak" -v mt="$RSS_TARGET_MIB" 'BEGIN {
		printf "%-32s %.1f MiB, largest of the rounds  (target < %d MiB: %s)\n", "payrun peak RSS:",
			peak, mt, peak < mt ? "met" : "NOT met" }'
}

# per_round NAME...: each round's wall times, and payrun / inflate_isal.
per_round() {
	awk -v names="$*" '
		BEGIN { n = split(names, col, " ") }
		{ t[$1, $2] = $3; if ($2 > last) last = $2 }
		END {
			printf "round"
			for (i = 1; i <= n; i++) if ((col[i], 1) in t) printf " %13s", col[i]
			printf " %13s\n", "payrun/isal"
			for (r = 1; r <= last; r++) {
				printf "%5d", r
				for (i = 1; i <= n; i++) if ((col[i], 1) in t) printf " %13.2f", t[col[i], r]
				printf " %12.2fx\n", t["payrun", r] / t["inflate_isal", r]
			}
		}' "$work/results"
}

echo "payrun bench: $ROWS rows on $DAY, $RUNS rounds, $(getconf _NPROCESSORS_ONLN) cores, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(uptime)"
echo "payrun: $("$PAYRUN" --version 2>&1 | head -n 1)"
if "$PAYRUN" settle --help 2>&1 | grep -q -- --inflater; then
	INFLATER_ISAL="--inflater isal"
	echo "payrun has --inflater: payrun runs with --inflater isal, payrun_zlib with --inflater zlib"
else
	INFLATER_ISAL=
	echo "payrun has no --inflater option yet: payrun is timed as it is (zlib), and there is no payrun_zlib row"
fi
if [ "$DUCKDB" = 1 ]; then
	# shellcheck source-path=SCRIPTDIR source=duckdb_env.sh
	. tools/duckdb_env.sh
	if duckdb_env bench-data; then
		echo "duckdb: @duckdb/node-api@$DUCKDB_NODE_API, 2 threads (tools/duckdb_groupby.cjs)"
	else
		echo "duckdb: skipped: $DUCKDB_WHY"
		DUCKDB=0
	fi
fi

DATA=bench-data/r$ROWS
gen "$DATA" day "$ROWS" 1
section one "one file" "$DATA/day.csv.gz"
if [ "$SPLIT" = 1 ]; then
	gen "$DATA" split "$ROWS" 4
	# shellcheck disable=SC2046
	section split "the same day in 4 files" $(ls "$DATA"/split.part*.csv.gz)
fi
if [ "$COMPRESSIBLE" = 1 ]; then
	gen "$DATA" compressible "$ROWS" 1 --compressible
	section compressible "a more compressible day, one file (whole-second timestamps, fixed response values)" \
		"$DATA/compressible.csv.gz"
fi
if [ "$B100K" = 1 ]; then
	gen "bench-data/n100k-r$ROWS_100K" day "$ROWS_100K" 1 --nodes 100000
	section 100k "a day of 100,000 nodes, $ROWS_100K rows, one file" "bench-data/n100k-r$ROWS_100K/day.csv.gz"
fi
