#!/bin/bash
# make bench, scale-out section (docs/scale-out.md).  Three private clusters
# on this machine (tests/pg/cluster.sh): a coordinator and two shards.  A
# generated day is split between the shards by HASH (node_id), MODULUS 2;
# the coordinator's database 'sharded' has probe_results partitioned the
# same way into two postgres_fdw foreign tables (async_capable), and its
# database 'single' holds the whole day in a plain probe_results.  Timed,
# interleaved round by round (wall seconds, date):
#   payrun-single    payrun settle --source pg on the single node
#   payrun-sharded   payrun settle --source pg on the sharded coordinator
#                    (payrun sets enable_partitionwise_aggregate = on)
#   psql-single      the settle query (sql/settle_read.sql as payrun renders
#                    it, JIT off) through psql on the single node
#   psql-on          the same on the sharded coordinator, partitionwise on
#   psql-off         the same with enable_partitionwise_aggregate = off: the
#                    coordinator groups every row (the no-pushdown baseline)
#   psql-shippable   NOT payrun's query: the same with the coverage slice
#                    written so that postgres_fdw ships it (width_bucket over
#                    the period's 256 slice starts), partitionwise on: what a
#                    pushed-down GROUP BY costs (its rows are checked to be
#                    the query's own)
# and prints medians, ratios, each plan's scans of the shards, and the bytes
# each shard sends for each plan: every shard's Remote SQL, taken from
# EXPLAIN (VERBOSE) on the coordinator, is run on that shard as
# COPY (...) TO STDOUT, and its rows counted, with their bytes as COPY text
# and as the protocol's DataRow messages postgres_fdw receives (text format:
# 7 bytes a row and 4 a field, plus the values; the FETCH round trips'
# other messages are not counted).
# Environment: BENCH_SHARD_ROWS (default 1440000: loading the day three
# times takes a while), BENCH_SHARD_NODES (10000), BENCH_SHARD_STREAMS (100),
# RUNS (5), BENCH_FETCH_SIZE (postgres_fdw's fetch_size on both servers;
# default unset: postgres_fdw's 100).
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
ROWS=${BENCH_SHARD_ROWS:-1440000}
NODES=${BENCH_SHARD_NODES:-10000}
STREAMS=${BENCH_SHARD_STREAMS:-100}
RUNS=${RUNS:-5}
FETCH_SIZE=${BENCH_FETCH_SIZE:-}
PAYRUN=${PAYRUN:-$ROOT/payrun}
DATA=$ROOT/bench-data
mkdir -p "$DATA"
CSV=$DATA/pg-day-$ROWS-$NODES-$STREAMS.csv     # the name tools/bench_pg.sh gives the same day
START=2026-11-01T00:00:00Z
END=2026-11-02T00:00:00Z
COLUMNS='id bigint NOT NULL, stream_id text NOT NULL, node_id text NOT NULL,
	probe_type text NOT NULL, success boolean, response_data text, error_message text,
	probe_timestamp timestamptz NOT NULL'

# shellcheck source-path=SCRIPTDIR/.. source=tests/pg/cluster.sh
. tests/pg/cluster.sh
WORK=$(mktemp -d /tmp/payrun-benchshards.XXXXXX)
cleanup() { pg_cluster_stop; rm -rf "$WORK"; }    # pg_cluster_stop stops the shards too
trap cleanup EXIT    # the only trap (cluster.sh installs none)
trap 'exit 130' INT TERM

# bench_conf DIR: the benchmark's settings (this 2-core, 24 GiB machine runs
# all three servers), then a restart.
bench_conf() {
	cat >>"$1/data/postgresql.conf" <<CONF
shared_buffers = '1GB'
work_mem = '256MB'
max_parallel_workers_per_gather = 2
CONF
	pg_cluster_run "$PG_BIN/pg_ctl" -D "$1/data" -w restart >/dev/null
}

pg_cluster_start
SHARDS=()
pg_cluster_start_extra 'SHARDS[0]'
pg_cluster_start_extra 'SHARDS[1]'
for d in "$PG_CLUSTER_DIR" "${SHARDS[@]}"; do bench_conf "$d"; done
PSQL=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1)

if [ ! -f "$CSV" ]; then
	echo "bench-shards: generating $ROWS rows ($NODES nodes, $STREAMS streams) into $CSV"
	./build/tools/gen_probes -q --rows "$ROWS" --nodes "$NODES" --streams "$STREAMS" \
		--gzip 0 --out "$CSV.tmp" && mv "$CSV.tmp" "$CSV"
fi
HEADER=$(head -n 1 "$CSV")
now() { date +%s.%N; }
t0=$(now)

# Each shard: the rows whose node_id hashes to its remainder, as probe_results.
for r in 0 1; do
	"${PSQL[@]}" -h "${SHARDS[$r]}" -d postgres -c "CREATE DATABASE probes"
	"${PSQL[@]}" -h "${SHARDS[$r]}" -d probes \
		-c "CREATE TABLE day_split ($COLUMNS) PARTITION BY HASH (node_id)" \
		-c "CREATE TABLE probe_results PARTITION OF day_split FOR VALUES WITH (MODULUS 2, REMAINDER $r)" \
		-c "CREATE TABLE day_other PARTITION OF day_split FOR VALUES WITH (MODULUS 2, REMAINDER $((1 - r)))" \
		-c "\\copy day_split ($HEADER) FROM '$CSV' WITH (FORMAT csv, HEADER)" \
		-c "ALTER TABLE day_split DETACH PARTITION probe_results" -c "DROP TABLE day_split" \
		-c "ALTER TABLE probe_results ADD PRIMARY KEY (id)" \
		-c "CREATE STATISTICS probe_results_stream_node (ndistinct) ON stream_id, node_id FROM probe_results" \
		-c "VACUUM (ANALYZE) probe_results"
done

# The coordinator: 'sharded' (the foreign servers and the partitioned
# parent, then payrun's schema) and 'single' (the whole day).
pg_cluster_createdb sharded
fdw=(-c "CREATE EXTENSION postgres_fdw")
for r in 0 1; do
	fetch=
	[ -z "$FETCH_SIZE" ] || fetch=", fetch_size '$FETCH_SIZE'"
	fdw+=(-c "CREATE SERVER shard_$r FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '${SHARDS[$r]}',
		port '5432', dbname 'probes', async_capable 'true'$fetch)"
		-c "CREATE USER MAPPING FOR postgres SERVER shard_$r OPTIONS (user 'postgres')")
done
fdw+=(-c "CREATE TABLE probe_results ($COLUMNS) PARTITION BY HASH (node_id)")
for r in 0 1; do
	fdw+=(-c "CREATE FOREIGN TABLE probe_results_$r PARTITION OF probe_results FOR VALUES WITH (MODULUS 2,
		REMAINDER $r) SERVER shard_$r OPTIONS (schema_name 'public', table_name 'probe_results')")
done
"${PSQL[@]}" -d sharded "${fdw[@]}"
"$PAYRUN" -q db migrate --db dbname=sharded
pg_cluster_createdb single
"$PAYRUN" -q db migrate --create-probe-table --db dbname=single
"${PSQL[@]}" -d single -c "\\copy probe_results ($HEADER) FROM '$CSV' WITH (FORMAT csv, HEADER)" \
	-c "VACUUM (ANALYZE) probe_results"
echo "bench-shards: loaded in $(python3 -c "print('%.1f' % ($(now) - $t0))") s:" \
	"shard 0 $("${PSQL[@]}" -h "${SHARDS[0]}" -d probes -Atc "SELECT count(*) || ' rows, ' || pg_size_pretty(pg_table_size('probe_results')) FROM probe_results")," \
	"shard 1 $("${PSQL[@]}" -h "${SHARDS[1]}" -d probes -Atc "SELECT count(*) || ' rows, ' || pg_size_pretty(pg_table_size('probe_results')) FROM probe_results")," \
	"single $("${PSQL[@]}" -d single -Atc "SELECT count(*) || ' rows, ' || pg_size_pretty(pg_table_size('probe_results')) FROM probe_results")"

# The settle query as payrun renders it for a timestamptz probe_results,
# the bounds as literals (payrun's parameters fold into the same constants).
# shellcheck disable=SC2016 # $1 and $2 are the statement's
sql_settle=$(sed -e 's/{probe_where}/(probe_timestamp >= $1::timestamptz AND probe_timestamp < $2::timestamptz) OR probe_timestamp IS NULL/' \
	-e "s/\\\$1::timestamptz/'$START'::timestamptz/g" -e "s/\\\$2::timestamptz/'$END'::timestamptz/g" \
	-e 's/{probe_table}/public.probe_results/g' -e 's/{tz}//g' sql/settle_read.sql)
# Not payrun's: the slice as width_bucket over the 256 slice starts of the
# day (whole seconds: start + ceil(k * length / 256)), which is the slice of
# the probe's whole second, as the query's floor(date_part(...)) computes it.
sql_shippable=$(printf '%s' "$sql_settle" | python3 -c '
import re, sys
from datetime import datetime, timedelta
start = datetime.strptime(sys.argv[1], "%Y-%m-%dT%H:%M:%SZ")
length = int((datetime.strptime(sys.argv[2], "%Y-%m-%dT%H:%M:%SZ") - start).total_seconds())
starts = [start + timedelta(seconds=-(-k * length // 256)) for k in range(256)]
array = "'"'"'{" + ",".join(s.strftime("%Y-%m-%d %H:%M:%S+00") for s in starts) + "}'"'"'::timestamptz[]"
sql, n = re.subn(r"THEN \(\(floor\(date_part\(.epoch., probe_timestamp\)\).*?\)::int(\s+END AS slice)",
                 lambda m: "THEN width_bucket(probe_timestamp, " + array + ") - 1" + m.group(1),
                 sys.stdin.read(), flags=re.S)
if n != 1:
    sys.exit("bench-shards: the slice of sql/settle_read.sql is not the one this rewrite knows")
print(sql)' "$START" "$END")

# The shippable rewrite gives the settle query's rows (on the sharded coordinator
# against the single node's), else the section stops.
"${PSQL[@]}" -d single -Atc "SET jit = off" -c "$sql_settle" | sort >"$WORK/rows-single"
"${PSQL[@]}" -d sharded -Atc "SET jit = off" -c "$sql_shippable" | sort >"$WORK/rows-shippable"
cmp -s "$WORK/rows-single" "$WORK/rows-shippable" ||
	{ echo "bench-shards: the shippable rewrite's rows differ from the settle query's" >&2; exit 1; }
echo "bench-shards: the shippable rewrite gives the settle query's $(wc -l <"$WORK/rows-single") rows"

# scans SETTING QUERY: one line per Foreign Scan of QUERY's plan on the
# coordinator: "PARTITION ASYNC GROUPED<TAB>REMOTE SQL".
scans() {
	"${PSQL[@]}" -d sharded -Atc "SET jit = off" -c "SET enable_partitionwise_aggregate = $1" \
		-c "EXPLAIN (VERBOSE, FORMAT JSON) $2" | python3 -c '
import json, re, sys
def walk(p):
    if p["Node Type"] == "Foreign Scan":
        rel = p.get("Relation Name") or p.get("Relations", "")
        sql = p["Remote SQL"]
        print("%s %s %s\t%s" % (re.search(r"probe_results_(\d+)", rel).group(1),
              "async" if p.get("Async Capable") else "sync",
              "grouped" if "GROUP BY" in sql else "rows", sql))
    for c in p.get("Plans", []):
        walk(c)
walk(json.load(sys.stdin)[0]["Plan"])'
}

# shard_bytes PARTITION SQL: "ROWS TEXT-BYTES DATAROW-BYTES" of SQL run on that shard.
shard_bytes() {
	"${PSQL[@]}" -h "${SHARDS[$1]}" -d probes -c "COPY ($2) TO STDOUT" | python3 -c '
import re, sys
rows = text = wire = 0
unescape = re.compile(r"\\(.)")
for line in sys.stdin.buffer:
    text += len(line)
    fields = line.rstrip(b"\n").split(b"\t")
    rows += 1
    wire += 7 + 4 * len(fields)
    for f in fields:
        if f != b"\\N":
            wire += len(unescape.sub(lambda m: m.group(1), f.decode()).encode())
print(rows, text, wire)'
}

: >"$WORK/bytes"
for plan in on off shippable; do
	case $plan in
	shippable) scans on "$sql_shippable" ;;
	*) scans "$plan" "$sql_settle" ;;
	esac >"$WORK/scans-$plan"
	while IFS=$'\t' read -r what sql; do
		read -r part mode kind <<<"$what"
		echo "$plan $part $mode $kind $(shard_bytes "$part" "$sql")" >>"$WORK/bytes"
	done <"$WORK/scans-$plan"
done

# warm every cache so each contender reads from memory
"${PSQL[@]}" -d single -Atc "SELECT count(*) FROM probe_results" >/dev/null
"${PSQL[@]}" -d sharded -Atc "SELECT count(*) FROM probe_results" >/dev/null

# timed NAME CMD...: one round of a contender, into WORK/times.
timed() {
	local name=$1 t
	shift
	t=$(now)
	"$@" >/dev/null
	echo "$name $t $(now)" >>"$WORK/times"
}
settle() {
	"${PSQL[@]}" -d "$1" -c "TRUNCATE payout_ledger, payout_stream_totals, payout_runs"
	rm -rf "$WORK/out-$1"
	timed "payrun-$1" "$PAYRUN" -q settle --period 2026-11-01 --source pg --default-pool 1000000 \
		--db "dbname=$1" --out "$WORK/out-$1"
}

: >"$WORK/times"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for r in $(seq 1 "$RUNS"); do
	echo "bench-shards: round $r of $RUNS"
	settle single
	settle sharded
	timed psql-single "${PSQL[@]}" -d single -c "SET jit = off" -c "$sql_settle"
	timed psql-on "${PSQL[@]}" -d sharded -c "SET jit = off" -c "SET enable_partitionwise_aggregate = on" -c "$sql_settle"
	timed psql-off "${PSQL[@]}" -d sharded -c "SET jit = off" -c "SET enable_partitionwise_aggregate = off" -c "$sql_settle"
	timed psql-shippable "${PSQL[@]}" -d sharded -c "SET jit = off" -c "SET enable_partitionwise_aggregate = on" -c "$sql_shippable"
done
for f in ledger.csv streams.csv; do
	cmp -s "$WORK/out-single/2026-11-01/v1/$f" "$WORK/out-sharded/2026-11-01/v1/$f" ||
		{ echo "bench-shards: $f from the sharded coordinator differs from the single node's" >&2; exit 1; }
done

python3 - "$WORK/times" "$WORK/bytes" "$ROWS" "$NODES" "$STREAMS" "$(nproc)" "${FETCH_SIZE:-100 (default)}" \
	"$LOAD_BEFORE" "$(cut -d' ' -f1-3 /proc/loadavg)" "$WORK/out-single" "$WORK/out-sharded" <<'PY'
import json
import statistics, sys
times, rounds = {}, {}
for line in open(sys.argv[1]):
    k, t0, t1 = line.split()
    times.setdefault(k, []).append(float(t1) - float(t0))
rows, nodes, streams, cpus, fetch = sys.argv[3:8]
n = len(times["payrun-single"])
print()
print("Scale-out section: %s rows (%s nodes, %s streams), a coordinator and 2 postgres_fdw shards" % (rows, nodes, streams))
print("(hash by node_id, async_capable, fetch_size %s) and a single node, all on this machine (%s CPUs):" % (fetch, cpus))
print("no parallel speed-up is to be expected.  Medians of %d interleaved rounds, wall seconds;" % n)
print("load average (1, 5, 15 min) before the rounds %s, after %s." % (sys.argv[8], sys.argv[9]))
order = ["payrun-single", "payrun-sharded", "psql-single", "psql-on", "psql-off", "psql-shippable"]
print("%-16s %8s %8s %8s" % ("contender", "median", "min", "max"))
for k in order:
    v = times[k]
    print("%-16s %8.3f %8.3f %8.3f" % (k, statistics.median(v), min(v), max(v)))
print()
print("round " + " ".join("%14s" % k for k in order))
for i in range(n):
    print("%5d " % (i + 1) + " ".join("%14.3f" % times[k][i] for k in order))
def ratio(a, b):
    return statistics.median([x / y for x, y in zip(times[a], times[b])])
print()
print("ratios (median of per-round ratios)")
for a, b, what in [("payrun-sharded", "payrun-single", "payrun, sharded / single node"),
                   ("psql-on", "psql-single", "query, sharded partitionwise on / single node"),
                   ("psql-on", "psql-off", "query, sharded, partitionwise on / off"),
                   ("psql-shippable", "psql-on", "shippable rewrite / payrun's query, sharded, on"),
                   ("psql-shippable", "psql-single", "shippable rewrite sharded / payrun's query single")]:
    print("  %-52s %6.2fx" % (what, ratio(a, b)))
print()
print("payrun's own phases in the last round (manifest.json, wall s): query is until the first group")
for name, out in (("single", sys.argv[10]), ("sharded", sys.argv[11])):
    timing = json.load(open(out + "/2026-11-01/v1/manifest.json"))["timing"]
    ph = {p["name"]: p for p in timing["phases"]}
    print("  %-8s query %.3f  fetch %.3f  (%d groups)  all phases %.3f" % (name, ph["query"]["wall_s"],
          ph["fetch"]["wall_s"], ph["fetch"]["rows"], timing["total_wall_s"]))
print()
print("what the shards send (each shard's Remote SQL from EXPLAIN VERBOSE, run there as COPY ... TO STDOUT)")
print("%-10s %5s %5s %7s %10s %12s %14s" % ("plan", "shard", "scan", "sent", "rows", "text bytes", "DataRow bytes"))
tot = {}
for line in open(sys.argv[2]):
    plan, shard, scan, kind, r, text, wire = line.split()
    t = tot.setdefault(plan, [0, 0, 0])
    t[0] += int(r); t[1] += int(text); t[2] += int(wire)
    print("%-10s %5s %5s %7s %10s %12s %14s" % (plan, shard, scan, kind, r, text, wire))
for plan, (r, text, wire) in tot.items():
    print("%-10s %5s %5s %7s %10d %12d %14d  (%.1f MiB)" % (plan, "both", "", "", r, text, wire, wire / 1048576))
PY
