#!/bin/bash
# A probe table partitioned by day against the same rows in a plain table
# (docs/partitioning.md).  Loads BENCH_DAYS generated days into a private
# cluster (tests/pg/cluster.sh), twice: probe_results partitioned by day on
# probe_timestamp (timestamptz, one partition per day and a DEFAULT
# partition) and probe_plain, not partitioned, each with the settle query's
# statistics (sql/probe_statistics.sql) and VACUUM ANALYZE; then times
# interleaved round by round, payrun settle --source pg of the middle day
# from each; then payrun db indexes on each (timed, once; BENCH_INDEXES=0
# skips it and what follows) and the same rounds again.  Prints the plan of
# each read (its scans and aggregates), the medians and each round.
# Environment: BENCH_DAYS (5), BENCH_ROWS per day (2000000), BENCH_NODES
# (10000), BENCH_STREAMS (100), RUNS (5), BENCH_INDEXES (1).
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
DAYS=${BENCH_DAYS:-5}
ROWS=${BENCH_ROWS:-2000000}
NODES=${BENCH_NODES:-10000}
STREAMS=${BENCH_STREAMS:-100}
RUNS=${RUNS:-5}
INDEXES=${BENCH_INDEXES:-1}
DATA=$ROOT/bench-data
PAYRUN=$ROOT/build/payrun
mkdir -p "$DATA"

. tests/pg/cluster.sh
WORK=$(mktemp -d /tmp/payrun-benchparts.XXXXXX)
cleanup() { pg_cluster_stop; rm -rf "$WORK"; }
trap cleanup EXIT    # the only trap (cluster.sh installs none)
trap 'exit 130' INT TERM
pg_cluster_start
pg_cluster_bench_settings
PSQL="$PG_BIN/psql -X -q -v ON_ERROR_STOP=1"
pg_cluster_createdb bench
export PGDATABASE=bench

day() { date -u -d "2026-11-01 + $1 day" +%F; }
MID=$(day $((DAYS / 2)))
COLS="id bigint NOT NULL, stream_id text NOT NULL, node_id text NOT NULL, probe_type text NOT NULL,
	success boolean, response_data text, error_message text, probe_timestamp timestamptz"
$PSQL -c "CREATE TABLE probe_results ($COLS) PARTITION BY RANGE (probe_timestamp)" \
	-c "CREATE TABLE probe_results_default PARTITION OF probe_results DEFAULT" \
	-c "CREATE TABLE probe_plain ($COLS)"
for i in $(seq 0 $((DAYS - 1))); do
	d=$(day "$i")
	csv=$DATA/parts-$d-$ROWS-$NODES-$STREAMS.csv
	if [ ! -f "$csv" ]; then
		./build/tools/gen_probes -q --rows "$ROWS" --nodes "$NODES" --streams "$STREAMS" --day "$d" \
			--seed $((i + 1)) --first-id $((i * ROWS + 1)) --gzip 0 --out "$csv.tmp" && mv "$csv.tmp" "$csv"
	fi
	$PSQL -c "CREATE TABLE probe_results_p$(echo "$d" | tr -d -) PARTITION OF probe_results
		FOR VALUES FROM ('$d 00:00:00+00') TO ('$(day $((i + 1))) 00:00:00+00')"
	for t in probe_results probe_plain; do
		$PSQL -c "\\copy $t (id, stream_id, node_id, probe_type, success, probe_timestamp, error_message, response_data) FROM '$csv' WITH (FORMAT csv, HEADER)"
	done
done
"$PAYRUN" -q db migrate
"$PAYRUN" -q db migrate --probe-table probe_plain
$PSQL -c "VACUUM (ANALYZE) probe_results" -c "VACUUM (ANALYZE) probe_plain"
echo "bench-partitions: $DAYS days of $ROWS rows ($NODES nodes, $STREAMS streams); settling $MID"
echo "bench-partitions: probe_results $($PSQL -Atc "SELECT pg_size_pretty(sum(pg_table_size(relid))) FROM pg_partition_tree('probe_results')") in $DAYS partitions, probe_plain $($PSQL -Atc "SELECT pg_size_pretty(pg_table_size('probe_plain'))")"

now() { date +%s.%N; }
elapsed() { echo "$(now) - $1" | bc; }

# plans TAG: the plan of each read (as payrun sends it: parameters, its settings)
plans() {
	local t q
	for t in probe_results probe_plain; do
		q=$(sed -e 's/{probe_where}/(probe_timestamp >= $1::timestamptz AND probe_timestamp < $2::timestamptz) OR probe_timestamp IS NULL/' \
			-e "s/{slice_starts}/ARRAY['${MID}T00:00:00Z']::timestamptz[]/" \
			-e "s/{probe_table}/public.$t/g" -e 's/{tz}//g' sql/settle_read.sql)
		echo "bench-partitions: $1: the plan of the read of $t:"
		$PSQL -At -c "SET jit = off" -c "SET enable_partitionwise_aggregate = on" -c "PREPARE r AS $q" \
			-c "EXPLAIN EXECUTE r('${MID}T00:00:00Z', '$(day $((DAYS / 2 + 1)))T00:00:00Z')" |
			grep -E 'Scan|Aggregate|Append' | sed -e 's/  (cost=[^)]*rows=\([0-9]*\) [^)]*)/ (rows=\1)/' -e 's/^/    /'
	done
}

# rounds TAG: settle the middle day from each table, interleaved, RUNS times
rounds() {
	local t s
	$PSQL -Atc "SELECT count(*) FROM probe_results" -c "SELECT count(*) FROM probe_plain" >/dev/null
	for _ in $(seq 1 "$RUNS"); do
		for t in probe_results probe_plain; do
			$PSQL -c "TRUNCATE payout_ledger, payout_stream_totals, payout_runs"
			rm -rf "$WORK/out"
			s=$(now)
			"$PAYRUN" -q settle --period "$MID" --source pg --probe-table "$t" --default-pool 1000000 --out "$WORK/out"
			echo "$1 settle-$t $(elapsed "$s")" >>"$WORK/times"
		done
	done
}

: >"$WORK/times"
plans "no indexes"
rounds no-indexes
if [ "$INDEXES" = 1 ]; then
	for t in probe_results probe_plain; do
		s=$(now)
		"$PAYRUN" -q db indexes --probe-table "$t"
		echo "once indexes-$t $(elapsed "$s")" >>"$WORK/times"
	done
	$PSQL -c "ANALYZE probe_results" -c "ANALYZE probe_plain"
	plans "with the indexes"
	rounds indexes
fi

python3 - "$WORK/times" <<'PY'
import statistics, sys
t = {}
for line in open(sys.argv[1]):
    phase, k, v = line.split()
    t.setdefault(phase, {}).setdefault(k, []).append(float(v))
print()
print("%-12s %-22s %8s %8s %8s  (wall seconds)" % ("", "", "median", "min", "max"))
for phase, d in t.items():
    for k, v in d.items():
        print("%-12s %-22s %8.2f %8.2f %8.2f" % (phase, k, statistics.median(v), min(v), max(v)))
for phase, d in t.items():
    if "settle-probe_results" not in d:
        continue
    p, q = d["settle-probe_results"], d["settle-probe_plain"]
    print()
    print("%s: round, partitioned, plain, plain/partitioned" % phase)
    for i, (a, b) in enumerate(zip(p, q), 1):
        print("%5d %8.2f %8.2f %8.2fx" % (i, a, b, b / a))
    print("%s: median of per-round ratios, plain / partitioned: %.2fx" %
          (phase, statistics.median(b / a for a, b in zip(p, q))))
PY
