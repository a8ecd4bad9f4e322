#!/bin/sh
# bench_duckdb_check.sh: checks that the GROUP BY which `make bench` times
# in DuckDB (tools/duckdb_groupby.cjs) computes what payrun settles, so the
# benchmark compares like with like.  On small generated days it runs
# payrun settle and the DuckDB script (--csv) over the same .csv.gz files
# and compares, per (stream, node), total_polls, successful_polls and
# failed_spot_checks of payrun's ledger.csv with DuckDB's rows:
#
#   day        the day in 3 files of 3 gzip members each, with a day before
#              and a day after it among the inputs (out of the period, for
#              both to leave out)
#   100k       a day of 100,000 nodes in one file (the BENCH_100K shape)
#
# Not part of make bench (run it once after changing either side):
#   sh tools/bench_duckdb_check.sh     CHECK_ROWS (default 400000) rows a day
# Exit status: 0 they agree (or DuckDB is not to be had here: it says why),
# 1 they differ or a run failed.
set -eu

cd "$(dirname "$0")/.."

ROWS=${CHECK_ROWS:-400000}
PAYRUN=${PAYRUN:-./payrun}
GEN=build/tools/gen_probes
DAY=2026-11-01

die() {
	echo "duckdb check: $*" >&2
	exit 1
}

case $ROWS in '' | *[!0-9]* | 0) die "CHECK_ROWS must be a positive number, not '$ROWS'" ;; esac
[ -x "$GEN" ] || die "$GEN not built: run 'make tools'"
[ -x "$PAYRUN" ] || die "'$PAYRUN' not found: run 'make'"

# shellcheck source-path=SCRIPTDIR source=duckdb_env.sh
. tools/duckdb_env.sh
if ! duckdb_env bench-data; then
	echo "duckdb check: skipped: $DUCKDB_WHY"
	exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/payrun-duckcheck.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

# compare NAME FILE...: payrun's ledger and DuckDB's rows over FILEs.
compare() {
	name=$1
	shift
	inputs=
	for f in "$@"; do
		inputs="$inputs --input $f"
	done
	# shellcheck disable=SC2086
	"$PAYRUN" settle --period "$DAY" $inputs --out "$work/out-$name" \
		--default-pool 1000000 -q || die "$name: payrun settle failed"
	# stream_id,node_id,total_polls,successful_polls,failed_spot_checks
	tail -n +2 "$work/out-$name/$DAY/v1/ledger.csv" | cut -d, -f3-7 | LC_ALL=C sort >"$work/$name.payrun"
	NODE_PATH=$DUCKDB_NODE_PATH node tools/duckdb_groupby.cjs --csv "$DAY" "$@" >"$work/$name.duck" ||
		die "$name: the DuckDB script failed"
	tail -n +2 "$work/$name.duck" | LC_ALL=C sort >"$work/$name.duckdb"
	if ! cmp -s "$work/$name.payrun" "$work/$name.duckdb"; then
		echo "duckdb check: $name: payrun's ledger (<) and DuckDB (>) differ:" >&2
		diff "$work/$name.payrun" "$work/$name.duckdb" | head -n 20 >&2
		exit 1
	fi
	awk -F, -v name="$name" '{ p += $3; s += $4; f += $5 } END {
		printf "duckdb check: %s: %d (stream, node) rows agree: %d polls, %d successful, %d failed spot checks\n",
			name, NR, p, s, f }' "$work/$name.payrun"
}

echo "duckdb check: @duckdb/node-api@$DUCKDB_NODE_API, $ROWS rows a day"
"$GEN" -q --rows "$((ROWS / 10))" --day 2026-10-31 --first-id 1 --out "$work/before.csv.gz"
"$GEN" -q --rows "$ROWS" --day "$DAY" --first-id 100000001 --files 3 --members 3 --out "$work/day.csv.gz"
"$GEN" -q --rows "$((ROWS / 10))" --day 2026-11-02 --first-id 200000001 --out "$work/after.csv.gz"
compare day "$work/before.csv.gz" "$work/day.part01.csv.gz" "$work/day.part02.csv.gz" \
	"$work/day.part03.csv.gz" "$work/after.csv.gz"
"$GEN" -q --rows "$ROWS" --nodes 100000 --day "$DAY" --out "$work/100k.csv.gz"
compare 100k "$work/100k.csv.gz"
