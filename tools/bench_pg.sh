#!/bin/bash
# make bench, PostgreSQL section.  Loads a generated day into probe_results
# of a private cluster (tests/pg/cluster.sh), then times, side by side in
# the same session and interleaved round by round:
#   count      bare SELECT count(*) over the period            (the baseline)
#   grouped    sql/settle_read.sql through psql, JIT off
#   payrun     payrun settle --source pg (connect, query, fetch, compute,
#              files, database write, commit)
#   n+1        three counts per node with an index on (node_id, probe_timestamp),
#              the coordinator's first design (once: it is slow)
# and prints medians and the ratios payrun/count, grouped/count, n+1/payrun.
# Then it rolls the day up (payrun db rollup, with an index on probe_timestamp)
# and times, interleaved again, the bare count(*), payrun settle from the
# rollups (and its read alone, from the manifest's timing), and the refresh
# of one hour a late insert invalidated; it prints the ratio to count(*).
# Environment: BENCH_ROWS (default 14400000), BENCH_NODES (10000),
# BENCH_STREAMS (100), RUNS (5), BENCH_NPLUS1 (1 = run it, 0 = skip).
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
ROWS=${BENCH_ROWS:-14400000}
NODES=${BENCH_NODES:-10000}
STREAMS=${BENCH_STREAMS:-100}
RUNS=${RUNS:-5}
NPLUS1=${BENCH_NPLUS1:-1}
DATA=$ROOT/bench-data
mkdir -p "$DATA"
CSV=$DATA/pg-day-$ROWS-$NODES-$STREAMS.csv

. tests/pg/cluster.sh
WORK=$(mktemp -d /tmp/payrun-benchpg.XXXXXX)
cleanup() { pg_cluster_stop; rm -rf "$WORK"; }
trap cleanup EXIT    # the only trap (cluster.sh installs none)
trap 'exit 130' INT TERM
pg_cluster_start
pg_cluster_bench_settings
PSQL="$PG_BIN/psql -X -q -v ON_ERROR_STOP=1"
pg_cluster_createdb bench
export PGDATABASE=bench

if [ ! -f "$CSV" ]; then
	echo "bench-pg: generating $ROWS rows ($NODES nodes, $STREAMS streams) into $CSV"
	./build/tools/gen_probes -q --rows "$ROWS" --nodes "$NODES" --streams "$STREAMS" \
		--gzip 0 --out "$CSV.tmp" && mv "$CSV.tmp" "$CSV"
fi
./payrun -q db migrate --create-probe-table
echo "bench-pg: loading $(du -h "$CSV" | cut -f1) into probe_results"
t0=$(date +%s.%N)
$PSQL -c "\\copy probe_results (id, stream_id, node_id, probe_type, success, probe_timestamp, error_message, response_data) FROM '$CSV' WITH (FORMAT csv, HEADER)"
$PSQL -c "VACUUM (ANALYZE) probe_results"
echo "bench-pg: loaded in $(echo "$(date +%s.%N) - $t0" | bc) s; table $($PSQL -Atc "SELECT pg_size_pretty(pg_table_size('probe_results'))")"
# the index the N+1 pattern relies on (as the coordinator had it)
$PSQL -c "CREATE INDEX probe_results_node_ts ON probe_results (node_id, probe_timestamp)"
# warm the cache so every contender reads from memory
$PSQL -Atc "SELECT count(*) FROM probe_results" >/dev/null

START=2026-11-01T00:00:00Z
END=2026-11-02T00:00:00Z
sql_count="SELECT count(*) FROM probe_results WHERE probe_timestamp >= '$START' AND probe_timestamp < '$END'"
# the coverage slices' starts, as payrun computes them (sql/slice_starts.sql)
starts=$($PSQL -Atc "$(sed -e "s/\\\$1::bigint/$(date -u -d "$START" +%s)/" -e 's/\$2::bigint/86400/' \
	-e 's/\$3::bigint/256/g' -e 's/\$3::int/256/g' -e 's/{tz}//g' sql/slice_starts.sql)")
sql_grouped=$(sed -e "s/{slice_starts}/'$starts'::timestamptz[]/" -e 's/{probe_where}/(probe_timestamp >= $1::timestamptz AND probe_timestamp < $2::timestamptz) OR probe_timestamp IS NULL/' \
	-e "s/\\\$1::timestamptz/'$START'::timestamptz/g" -e "s/\\\$2::timestamptz/'$END'::timestamptz/g" \
	-e 's/{probe_table}/public.probe_results/g' -e 's/{tz}//g' sql/settle_read.sql)

now() { date +%s.%N; }
elapsed() { echo "$(now) - $1" | bc; }

: >"$WORK/times"
for r in $(seq 1 "$RUNS"); do
	t=$(now); $PSQL -Atc "$sql_count" >/dev/null; echo "count $(elapsed "$t")" >>"$WORK/times"
	t=$(now); $PSQL -c "SET jit = off" -c "$sql_grouped" >/dev/null; echo "grouped $(elapsed "$t")" >>"$WORK/times"
	$PSQL -c "TRUNCATE payout_ledger, payout_stream_totals, payout_runs"
	rm -rf "$WORK/out"
	t=$(now); ./payrun -q settle --period 2026-11-01 --source pg --default-pool 1000000 --out "$WORK/out"
	echo "payrun $(elapsed "$t")" >>"$WORK/times"
done

if [ "$NPLUS1" = 1 ]; then
	echo "bench-pg: running the N+1 pattern once (3 queries x $NODES nodes)"
	$PSQL -Atc "SELECT DISTINCT node_id FROM probe_results" | while read -r node; do
		for q in "probe_type = 'stats_poll'" "probe_type = 'stats_poll' AND success" "probe_type = 'spot_check' AND NOT success"; do
			echo "SELECT count(*) FROM probe_results WHERE node_id = '$node' AND $q AND probe_timestamp >= '$START' AND probe_timestamp < '$END';"
		done
	done >"$WORK/nplus1.sql"
	t=$(now); $PSQL -f "$WORK/nplus1.sql" >/dev/null; echo "n+1 $(elapsed "$t")" >>"$WORK/times"
fi

# Rollups: the same day rolled up ('payrun db rollup', with the index on
# probe_timestamp that makes each hour's refresh a range read), then, round
# by round again: the bare count(*) (it now uses that index), payrun settle
# from the rollups (--rollups auto: the day's daily rollups), and the refresh
# of one hour a late insert invalidated.
echo "bench-pg: rolling up the day (index on probe_timestamp first)"
$PSQL -c "CREATE INDEX probe_results_ts ON probe_results (probe_timestamp)" -c "ANALYZE probe_results"
./payrun -q db rollup --enable
t0=$(now)
./payrun -q db rollup --until "$END"
echo "bench-pg: first refresh (24 hours and the day) in $(elapsed "$t0") s"
: >"$WORK/rtimes"
for r in $(seq 1 "$RUNS"); do
	t=$(now); $PSQL -Atc "$sql_count" >/dev/null; echo "count $(elapsed "$t")" >>"$WORK/rtimes"
	$PSQL -c "TRUNCATE payout_ledger, payout_stream_totals, payout_runs"
	rm -rf "$WORK/out"
	t=$(now); ./payrun -q settle --period 2026-11-01 --source pg --default-pool 1000000 --out "$WORK/out"
	echo "rollups $(elapsed "$t")" >>"$WORK/rtimes"
	python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); p={x["name"]: x["wall_s"] for x in m["timing"]["phases"]}; r=m["source"]["rollups"]; assert r["hours_from_daily_rollups"] == 24, r; print("read", p["query"] + p["fetch"])' \
		"$WORK/out/2026-11-01/v1/manifest.json" >>"$WORK/rtimes"
	# a late probe in hour 12: that hour is read from the probes until refreshed
	$PSQL -c "INSERT INTO probe_results (id, stream_id, node_id, probe_type, success, probe_timestamp)
		VALUES ($((ROWS + 1000 + r)), 'stream-000', 'node-late', 'stats_poll', true, '2026-11-01T12:30:00Z')"
	t=$(now); ./payrun -q db rollup --until "$END"; echo "refresh $(elapsed "$t")" >>"$WORK/rtimes"
	$PSQL -Atc "SELECT 'hour_ms ' || roll_ms / 1000 FROM probe_rollup_hours WHERE hour = '2026-11-01T12:00:00Z'" >>"$WORK/rtimes"
done

python3 - "$WORK/times" "$ROWS" <<'PY'
import statistics, sys
t = {}
for line in open(sys.argv[1]):
    k, v = line.split()
    t.setdefault(k, []).append(float(v))
med = {k: statistics.median(v) for k, v in t.items()}
print()
print("PostgreSQL section: %s rows, medians of %d rounds (wall seconds, same cluster, interleaved)" % (sys.argv[2], len(t["count"])))
print("%-10s %9s %9s %9s" % ("contender", "median", "min", "max"))
for k in ("count", "grouped", "payrun", "n+1"):
    if k in t:
        print("%-10s %9.3f %9.3f %9.3f" % (k, med[k], min(t[k]), max(t[k])))
rc = [p / c for p, c in zip(t["payrun"], t["count"])]
rg = [g / c for g, c in zip(t["grouped"], t["count"])]
print()
print("round  count  grouped  payrun  payrun/count")
for i, (c, g, p) in enumerate(zip(t["count"], t["grouped"], t["payrun"]), 1):
    print("%5d %6.3f %8.3f %7.3f %12.2fx" % (i, c, g, p, p / c))
print()
print("payrun / bare count(*)       %.2fx (median of per-round ratios; target <= 1.5x: %s)" %
      (statistics.median(rc), "met" if statistics.median(rc) <= 1.5 else "NOT met"))
print("grouped query via psql / count(*) %.2fx" % statistics.median(rg))
if "n+1" in med:
    print("N+1 pattern / payrun         %.1fx (payrun is that many times faster)" % (med["n+1"] / med["payrun"]))
PY

python3 - "$WORK/rtimes" <<'PY'
import statistics, sys
t = {}
for line in open(sys.argv[1]):
    k, v = line.split()
    t.setdefault(k, []).append(float(v))
med = {k: statistics.median(v) for k, v in t.items()}
print()
print("Rollups: medians of %d rounds (wall seconds, the same cluster, interleaved)" % len(t["count"]))
print("%-10s %9s %9s %9s" % ("contender", "median", "min", "max"))
for k, what in (("count", "bare count(*) over the day"), ("rollups", "payrun settle, 24 hours from daily rollups"),
                ("read", "  of which the read (query + fetch)"), ("refresh", "payrun db rollup: one invalidated hour and its day"),
                ("hour_ms", "  of which the hour's statements")):
    print("%-10s %9.3f %9.3f %9.3f  %s" % (k, med[k], min(t[k]), max(t[k]), what))
rr = [p / c for p, c in zip(t["rollups"], t["count"])]
rd = [p / c for p, c in zip(t["read"], t["count"])]
print()
print("payrun settle from rollups / bare count(*)  %.3fx (median of per-round ratios; target <= 0.1x: %s)" %
      (statistics.median(rr), "met" if statistics.median(rr) <= 0.1 else "NOT met"))
print("the read from rollups / bare count(*)       %.3fx" % statistics.median(rd))
PY
