#!/bin/bash
# make bench, scale-out section (docs/scale-out.md).  Three private clusters
# on this machine (tests/pg/cluster.sh): a coordinator and two shards.  A
# generated day is split between the shards by HASH (node_id), MODULUS 2;
# the coordinator's database 'sharded' has probe_results partitioned the
# same way into two postgres_fdw foreign tables (async_capable), and its
# database 'single' holds the whole day in a plain probe_results.  Timed,
# interleaved round by round (wall seconds of the whole client process,
# from date: connection and output included):
#   payrun-single    payrun settle --source pg on the single node
#   payrun-sharded   payrun settle --source pg on the sharded coordinator
#                    (payrun's default: enable_partitionwise_aggregate = on,
#                    each shard is sent the grouped query, read async)
#   psql-off         the settle query (sql/settle_read.sql rendered as payrun
#                    sends it, JIT off) through psql on the sharded
#                    coordinator with enable_partitionwise_aggregate = off:
#                    the shards send every row, the coordinator groups them
#                    (the no-pushdown baseline)
#   psql-on          the same with it on (the grouping pushed to the shards)
# Before the rounds it stops unless: both plans are the expected ones (on:
# two Async Foreign Scans whose Remote SQL groups, nothing aggregated on the
# coordinator; off: two Async Foreign Scans of rows under one aggregate),
# both give the single node's rows, and payrun's own read sent each shard a
# GROUP BY and no row scan (the shards' pg_stat_statements).  It prints
# medians, the ratios sharded / single (payrun) and on / off (psql), the
# load average at each round, payrun's phases, and the rows and bytes each
# shard sends for each plan: every shard's Remote SQL, taken from EXPLAIN
# (VERBOSE) on the coordinator, is run on that shard as COPY (...) TO
# STDOUT, and its rows counted, with their bytes as COPY text and as the
# protocol's DataRow messages postgres_fdw receives (text format: 7 bytes a
# row and 4 a field, plus the values; the FETCH round trips' other messages
# are not counted).
# Environment: BENCH_SHARD_ROWS (default 1440000: loading the day three
# times takes a while), BENCH_SHARD_NODES (10000), BENCH_SHARD_STREAMS (100),
# RUNS (5), BENCH_FETCH_SIZE (postgres_fdw's fetch_size on both servers;
# default unset: postgres_fdw's 100).
set -euo pipefail
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
		-c "CREATE EXTENSION pg_stat_statements" \
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

# The settle query as payrun sends it for a timestamptz probe_results
# (source_pg.c): its rows' filter, the slices' starts as the array constant
# payrun computes (sql/slice_starts.sql, $1 the period's start in epoch
# seconds, $2 its length, $3 the slices, {tz} empty), and the period's
# bounds as literals (payrun sends them as parameters of an unnamed
# statement, which the planner folds into the same constants).
# shellcheck disable=SC2016 # $1 .. $3 are the statements'
starts=$("${PSQL[@]}" -d single -At -c "SET TimeZone = 'UTC'" -c "$(sed -e "s/\\\$1::bigint/$(date -u -d "$START" +%s)/g" \
	-e 's/\$2::bigint/86400/g' -e 's/\$3::bigint/256/g' -e 's/\$3::int/256/g' -e 's/{tz}//g' sql/slice_starts.sql)")
if [[ $starts != "{\"${START%T*} 00:00:00+00\","* ]] || [ "$(tr -cd , <<<"$starts" | wc -c)" != 255 ]; then
	echo "bench-shards: sql/slice_starts.sql did not give 256 starts from $START: '${starts:0:80}...'" >&2
	exit 1
fi
# shellcheck disable=SC2016
sql_settle=$(sed -e "s/{slice_starts}/'$starts'::timestamptz[]/" \
	-e 's/{probe_where}/(probe_timestamp >= $1::timestamptz AND probe_timestamp < $2::timestamptz) OR probe_timestamp IS NULL/' \
	-e "s/\\\$1::timestamptz/'$START'::timestamptz/g" -e "s/\\\$2::timestamptz/'$END'::timestamptz/g" \
	-e 's/{probe_table}/public.probe_results/g' -e 's/{tz}//g' sql/settle_read.sql)
# (the comments name the parameters too)
left=$(grep -v '^ *--' <<<"$sql_settle" | grep -Eo '\{[a-z_]+\}|\$[0-9]' | sort -u | tr '\n' ' ' || true)
if [ -n "$left" ]; then
	echo "bench-shards: sql/settle_read.sql has a placeholder this renderer does not fill: $left" >&2
	exit 1
fi
# query_psql DB SETTING QUERY: QUERY through psql on DB, as payrun's read sets the session.
query_psql() {
	"${PSQL[@]}" -d "$1" -At -c "SET TimeZone = 'UTC'" -c "SET jit = off" \
		-c "SET enable_partitionwise_aggregate = $2" -c "$3"
}

# scans SETTING: one line per Foreign Scan of the settle query's plan on the
# coordinator with enable_partitionwise_aggregate = SETTING, "PARTITION
# ASYNC GROUPED<TAB>REMOTE SQL"; it fails unless the plan is, with the
# setting on, two async scans whose Remote SQL groups, one per shard, and no
# aggregate on the coordinator, and with it off two async row scans under
# one aggregate.
scans() {
	query_psql sharded "$1" "EXPLAIN (VERBOSE, FORMAT JSON) $sql_settle" | python3 -c '
import json, re, sys
setting = sys.argv[1]
scans, aggs = [], 0
def walk(p):
    global aggs
    if p["Node Type"] == "Aggregate":
        aggs += 1
    if p["Node Type"] == "Foreign Scan":
        rel = p.get("Relation Name") or p.get("Relations", "")
        sql = p["Remote SQL"]
        m = re.search(r"probe_results_(\d+)", rel)
        scans.append((m.group(1) if m else "?", "async" if p.get("Async Capable") else "sync",
                      "grouped" if re.search(r"GROUP BY 1, 2$", sql) else "rows", sql))
    for c in p.get("Plans", []):
        walk(c)
walk(json.load(sys.stdin)[0]["Plan"])
want = ("grouped", 0) if setting == "on" else ("rows", 1)
got = sorted((s[0], s[1], s[2]) for s in scans)
if got != [("0", "async", want[0]), ("1", "async", want[0])] or aggs != want[1]:
    sys.exit("bench-shards: with enable_partitionwise_aggregate = %s the plan has scans %s and %d aggregates "
             "on the coordinator; want async %s scans of shards 0 and 1 and %d" % (setting, got, aggs, *want))
for s in scans:
    print("%s %s %s\t%s" % s)' "$1"
}

# shard_bytes PARTITION SQL: "ROWS TEXT-BYTES DATAROW-BYTES" of SQL run on that shard.
shard_bytes() {
	"${PSQL[@]}" -h "${SHARDS[$1]}" -d probes -c "SET TimeZone = 'UTC'" -c "COPY ($2) TO STDOUT" | python3 -c '
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
for plan in on off; do
	scans "$plan" >"$WORK/scans-$plan"
	while IFS=$'\t' read -r what sql; do
		read -r part mode kind <<<"$what"
		sent=$(shard_bytes "$part" "$sql")
		echo "$plan $part $mode $kind $sent" >>"$WORK/bytes"
	done <"$WORK/scans-$plan"
done
# both plans give the single node's rows (this also warms every cache)
query_psql single on "$sql_settle" | sort >"$WORK/rows-single"
for plan in on off; do
	query_psql sharded "$plan" "$sql_settle" | sort >"$WORK/rows-$plan"
	cmp -s "$WORK/rows-single" "$WORK/rows-$plan" ||
		{ echo "bench-shards: the settle query on the sharded coordinator ($plan) does not give the single node's rows" >&2; exit 1; }
done
echo "bench-shards: both plans give the single node's $(wc -l <"$WORK/rows-single") groups"
WORKERS=$(query_psql single on "EXPLAIN (FORMAT JSON) $sql_settle" | python3 -c '
import json, sys
def walk(p):
    return max([p.get("Workers Planned", 0)] + [walk(c) for c in p.get("Plans", [])])
print(walk(json.load(sys.stdin)[0]["Plan"]))')

# timed NAME CMD...: one round of a contender, into WORK/times.
timed() {
	local name=$1 t
	shift
	t=$(now)
	"$@" >/dev/null
	echo "$name $t $(now)" >>"$WORK/times"
}
# settle DB [WRAPPER...]: payrun settle of the day from DB, run by WRAPPER
# (timed NAME) if given.
settle() {
	local db=$1
	shift
	"${PSQL[@]}" -d "$db" -c "TRUNCATE payout_ledger, payout_stream_totals, payout_runs"
	rm -rf "$WORK/out-$db"
	"$@" "$PAYRUN" -q settle --period 2026-11-01 --source pg --default-pool 1000000 \
		--db "dbname=$db" --out "$WORK/out-$db"
}

# payrun's own read of the sharded coordinator sends each shard the grouped
# query and no row scan (the shards' pg_stat_statements; postgres_fdw sends
# it as DECLARE ... CURSOR FOR SELECT ...)
for r in 0 1; do
	"${PSQL[@]}" -h "${SHARDS[$r]}" -d probes -Atc "SELECT pg_stat_statements_reset()" >/dev/null
done
settle sharded
for r in 0 1; do
	"${PSQL[@]}" -h "${SHARDS[$r]}" -d probes -Atc "SELECT regexp_replace(query, '\\s+', ' ', 'g')
		FROM pg_stat_statements WHERE query ~* 'FROM public\\.probe_results' AND query !~* 'pg_stat_statements'" \
		>"$WORK/shard-$r.sql"
	if ! grep -q 'SELECT stream_id, node_id, .* FROM public\.probe_results WHERE .* GROUP BY 1, 2' "$WORK/shard-$r.sql" ||
		grep -v 'GROUP BY' "$WORK/shard-$r.sql" | grep -q 'SELECT stream_id, node_id, probe_type, success, probe_timestamp FROM'; then
		echo "bench-shards: payrun's read did not send shard $r the grouped query alone: $(cut -c 1-300 "$WORK/shard-$r.sql")" >&2
		exit 1
	fi
done
echo "bench-shards: payrun's read sent each shard its GROUP BY stream_id, node_id (pg_stat_statements)"

: >"$WORK/times"
: >"$WORK/load"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for r in $(seq 1 "$RUNS"); do
	echo "bench-shards: round $r of $RUNS"
	cut -d' ' -f1 /proc/loadavg >>"$WORK/load"
	settle single timed payrun-single
	settle sharded timed payrun-sharded
	timed psql-off query_psql sharded off "$sql_settle"
	timed psql-on query_psql sharded on "$sql_settle"
done
for f in ledger.csv streams.csv rejects.csv; do
	cmp -s "$WORK/out-single/2026-11-01/v1/$f" "$WORK/out-sharded/2026-11-01/v1/$f" ||
		{ echo "bench-shards: $f from the sharded coordinator differs from the single node's" >&2; exit 1; }
done

python3 - "$WORK/times" "$WORK/bytes" "$ROWS" "$NODES" "$STREAMS" "$(nproc)" "${FETCH_SIZE:-100 (default)}" \
	"$LOAD_BEFORE" "$(cut -d' ' -f1-3 /proc/loadavg)" "$WORK/out-single" "$WORK/out-sharded" \
	"$WORK/load" "$WORKERS" "$(wc -l <"$WORK/rows-single")" <<'PY'
import json
import statistics, sys
times = {}
for line in open(sys.argv[1]):
    k, t0, t1 = line.split()
    times.setdefault(k, []).append(float(t1) - float(t0))
rows, nodes, streams, cpus, fetch = sys.argv[3:8]
loads = [float(x) for x in open(sys.argv[12]).read().split()]
n = len(times["payrun-single"])
print()
print("Scale-out section: %s rows (%s nodes, %s streams, %s groups), a coordinator and 2 postgres_fdw shards"
      % (rows, nodes, streams, sys.argv[14]))
print("(hash by node_id, async_capable, fetch_size %s) and a single node (plain table), all three" % fetch)
print("servers on this machine's %s CPUs: no parallel speed-up from sharding is to be expected." % cpus)
print("Wall seconds of each client process (date before and after: connect, query, output), medians")
print("of %d interleaved rounds; the single node's plan has %s parallel workers planned, a shard's" % (n, sys.argv[13]))
print("query (a cursor) none.  Load average (1, 5, 15 min) before the rounds %s, after %s;" % (sys.argv[8], sys.argv[9]))
print("1-min load at each round's start %s (this bench's own processes included)." % " ".join("%.2f" % x for x in loads))
what = {"payrun-single": "payrun settle --source pg, single node",
        "payrun-sharded": "payrun settle --source pg, sharded (partitionwise on: grouped, async)",
        "psql-off": "settle query via psql, sharded, partitionwise off (rows cross)",
        "psql-on": "settle query via psql, sharded, partitionwise on (groups cross)"}
order = list(what)
print("%-15s %8s %8s %8s  %s" % ("contender", "median", "min", "max", "what"))
for k in order:
    v = times[k]
    print("%-15s %8.3f %8.3f %8.3f  %s" % (k, statistics.median(v), min(v), max(v), what[k]))
print()
print("round " + " ".join("%14s" % k for k in order))
for i in range(n):
    print("%5d " % (i + 1) + " ".join("%14.3f" % times[k][i] for k in order))
def ratio(a, b):
    return statistics.median([x / y for x, y in zip(times[a], times[b])])
print()
print("ratios (median of per-round ratios)")
for a, b, label in [("payrun-sharded", "payrun-single", "payrun, sharded / single node"),
                    ("psql-on", "psql-off", "settle query, sharded, partitionwise on / off")]:
    print("  %-48s %6.2fx" % (label, ratio(a, b)))
print()
print("payrun's own phases in the last round (manifest.json, wall s): query is until the first group")
for name, out in (("single", sys.argv[10]), ("sharded", sys.argv[11])):
    timing = json.load(open(out + "/2026-11-01/v1/manifest.json"))["timing"]
    ph = {p["name"]: p for p in timing["phases"]}
    print("  %-8s query %.3f  fetch %.3f  (%d groups)  all phases %.3f" % (name, ph["query"]["wall_s"],
          ph["fetch"]["wall_s"], ph["fetch"]["rows"], timing["total_wall_s"]))
print()
print("what the shards send (each shard's Remote SQL from EXPLAIN VERBOSE, run there as COPY ... TO STDOUT)")
print("%-4s %5s %5s %7s %10s %12s %14s" % ("plan", "shard", "scan", "sent", "rows", "text bytes", "DataRow bytes"))
tot = {}
for line in open(sys.argv[2]):
    plan, shard, scan, kind, r, text, wire = line.split()
    t = tot.setdefault(plan, [0, 0, 0])
    t[0] += int(r); t[1] += int(text); t[2] += int(wire)
    print("%-4s %5s %5s %7s %10s %12s %14s" % (plan, shard, scan, kind, r, text, wire))
for plan, (r, text, wire) in tot.items():
    print("%-4s %5s %5s %7s %10d %12d %14d  (%.1f MiB)" % (plan, "both", "", "", r, text, wire, wire / 1048576))
PY
