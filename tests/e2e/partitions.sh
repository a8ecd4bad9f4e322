#!/bin/bash
# tests/e2e/partitions.sh: a probe table partitioned by day (issue 12,
# docs/partitioning.md), declaratively, in the two shapes payrun reads: a
# timestamptz probe_timestamp with a DEFAULT partition (which also holds the
# rows without a timestamp), and the coordinator's own timestamp without time
# zone holding UTC, without one.  Against a private cluster
# (tests/pg/cluster.sh), stopped at exit even when a test fails.
#
#   bash tests/e2e/partitions.sh [NAME-SUBSTRING...]
#
# Drives ./payrun (or $PAYRUN) at the repository root; the last line is
# `partitions: N passed, N failed` (tests/e2e/lib.sh).  Each test has its own
# database.  Three generated days (build/tools/gen_probes --day) and probes
# at the edges of the middle one go into a private temporary directory,
# removed at exit (PARTITIONS_KEEP=1 keeps it).  JSON is read with python3.

# shellcheck disable=SC2317 # the t_ functions are called by run_suite (lib.sh)
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh" partitions || exit 1

GEN=$ROOT/build/tools/gen_probes
DATA=$W/data
DAYS="2026-11-01 2026-11-02 2026-11-03"
# shellcheck disable=SC2034 # read by lib.sh
CLUSTER_TESTS='*'

# ------------------------------------------------------------------ data
# Three days of 30,000 probes (120 nodes, 6 streams), ids apart; edges.csv:
# probes a microsecond before, at, a microsecond before the end of and at
# the end of 2026-11-02; pools for five of the six streams.
suite_setup() {
	local d i=0
	[ -x "$GEN" ] || { fail "'$GEN' is missing (make tools)"; return 1; }
	mkdir -p "$DATA"
	for d in $DAYS; do
		i=$((i + 1))
		"$GEN" -q --rows 30000 --nodes 120 --streams 6 --day "$d" --seed $((20 + i)) \
			--first-id $((i * 100000)) --gzip 0 --out "$DATA/$d.csv" ||
			{ fail "could not generate $d (gen_probes)"; return 1; }
	done
	cat >"$DATA/edges.csv" <<'CSV'
id,stream_id,node_id,probe_type,success,probe_timestamp,error_message,response_data
900001,stream-000,node-edge,stats_poll,t,2026-11-01 23:59:59.999999+00,,
900002,stream-000,node-edge,stats_poll,t,2026-11-02 00:00:00+00,,
900003,stream-000,node-edge,stats_poll,t,2026-11-02 23:59:59.999999+00,,
900004,stream-000,node-edge,stats_poll,t,2026-11-03 00:00:00+00,,
900005,stream-001,node-edge,spot_check,f,2026-11-02 00:00:00+00,,
900006,stream-001,node-edge,spot_check,f,2026-11-03 00:00:00+00,,
CSV
	printf 'stream_id,pool\nstream-000,1000000\nstream-001,2000003\nstream-002,777\nstream-003,5\nstream-004,123456789\n' \
		>"$DATA/pools.csv"
}

# ------------------------------------------------------------------ helpers

# fresh_db NAME: a new database with pg_stat_statements; PGDATABASE set.
fresh_db() {
	pg_cluster_createdb "$1" && export PGDATABASE="$1" &&
		$PSQL -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" ||
		{ fail "could not create database $1"; return 1; }
}

# columns KIND: the probe table's columns.  tstz: payrun's own table
# without its primary key (one on a partitioned table must hold the
# partition key) and with NULL times allowed; local: the coordinator's
# (tests/e2e/pg.sh, coord_schema), its primary key widened to
# (id, probe_timestamp), which makes the column NOT NULL.
columns() {
	case $1 in
	tstz) echo "id bigint NOT NULL, stream_id text NOT NULL, node_id text NOT NULL,
		probe_type text NOT NULL, success boolean, response_data text, error_message text,
		probe_timestamp timestamptz" ;;
	local) echo "id serial, stream_id varchar NOT NULL, node_id varchar NOT NULL,
		probe_type varchar NOT NULL, success boolean NOT NULL, response_data text,
		error_message text, probe_timestamp timestamp without time zone,
		PRIMARY KEY (id, probe_timestamp)" ;;
	esac
}

# bound KIND DAY: a partition bound for the day DAY in the column's meaning.
bound() {
	case $1 in
	tstz) echo "'$2 00:00:00+00'" ;;
	local) echo "'$2 00:00:00'" ;;
	esac
}

# next_day DAY
next_day() { date -u -d "$1 + 1 day" +%F; }

# day_partition KIND TABLE DAY [EXTRA]: TABLE's partition of DAY,
# TABLE_pYYYYMMDD (EXTRA: e.g. "PARTITION BY HASH (node_id)").
day_partition() {
	$PSQL -c "CREATE TABLE ${2}_p$(echo "$3" | tr -d -) PARTITION OF $2
		FOR VALUES FROM ($(bound "$1" "$3")) TO ($(bound "$1" "$(next_day "$3")")) ${4:-}" ||
		{ fail "could not create the $3 partition of $2"; return 1; }
}

# part_table KIND TABLE: TABLE partitioned by day on probe_timestamp, a
# partition per day of DAYS, and for tstz a DEFAULT partition TABLE_default.
part_table() {
	local d
	$PSQL -c "CREATE TABLE $2 ($(columns "$1")) PARTITION BY RANGE (probe_timestamp)" ||
		{ fail "could not create the partitioned $2"; return 1; }
	for d in $DAYS; do day_partition "$1" "$2" "$d" || return 1; done
	if [ "$1" = tstz ]; then
		$PSQL -c "CREATE TABLE ${2}_default PARTITION OF $2 DEFAULT" ||
			{ fail "could not create $2's default partition"; return 1; }
	fi
}

# plain_table KIND TABLE: the same columns, not partitioned.
plain_table() {
	$PSQL -c "CREATE TABLE $2 ($(columns "$1"))" || { fail "could not create $2"; return 1; }
}

# load KIND TABLE: the three days and the edges into TABLE; for tstz also
# two probes without a time and one long after the days (in the default
# partition); for local the times as UTC local times, as the coordinator
# writes them.
load() {
	local f sql=
	for f in $DAYS edges; do
		sql="$sql\\copy staged ($(head -n 1 "$DATA/$f.csv")) FROM '$DATA/$f.csv' WITH (FORMAT csv, HEADER)
"
	done
	if [ "$1" = tstz ]; then
		sql="$sql INSERT INTO staged (id, stream_id, node_id, probe_type, success, probe_timestamp) VALUES
			(910001, 'stream-002', 'node-000001', 'stats_poll', true, NULL),
			(910002, 'stream-003', 'node-notime', 'spot_check', false, NULL),
			(910003, 'stream-002', 'node-000001', 'stats_poll', true, '2027-01-15 12:00:00+00');"
	fi
	$PSQL >/dev/null <<SQL || { fail "could not load the probes into $2"; return 1; }
CREATE TEMPORARY TABLE staged (id bigint, stream_id text, node_id text, probe_type text,
	success boolean, probe_timestamp timestamptz, error_message text, response_data text);
$sql
INSERT INTO $2 (id, stream_id, node_id, probe_type, success, probe_timestamp, error_message, response_data)
SELECT id, stream_id, node_id, probe_type, success,
       $([ "$1" = local ] && echo "probe_timestamp AT TIME ZONE 'UTC'" || echo probe_timestamp),
       error_message, response_data FROM staged;
SQL
}

# reset_runs: no settled run in the database, so that a period settles again.
reset_runs() {
	$PSQL -c "TRUNCATE payout_stream_totals, payout_ledger, payout_runs" ||
		{ fail "could not empty the payout tables"; return 1; }
}

# csv_ref: the CSV settle of 2026-11-02 from the exports, TD/ref/2026-11-02/v1.
csv_ref() {
	"$PAYRUN" -q settle --period 2026-11-02 --input "$DATA/2026-11-01.csv" --input "$DATA/2026-11-02.csv" \
		--input "$DATA/2026-11-03.csv" --input "$DATA/edges.csv" --pools "$DATA/pools.csv" \
		--out "$TD/ref" 2>"$TD/ref.err" || { fail "the CSV settle: $(oneline "$TD/ref.err")"; return 1; }
}

# settle_pg TAG TABLE ZONE [ENV...]: settle 2026-11-02 from TABLE (KIND's
# zone: UTC) into TD/TAG, under ENV (a session time zone), after reset_runs.
settle_pg() {
	local tag=$1 table=$2
	shift 2
	reset_runs || return 1
	env "$@" "$PAYRUN" -q settle --period 2026-11-02 --source pg --probe-table "$table" \
		--pools "$DATA/pools.csv" --out "$TD/$tag" 2>"$TD/$tag.err" ||
		{ fail "$tag: settle from $table: exit $?: $(oneline "$TD/$tag.err")"; return 1; }
}

# same_files REF GOT FILE...: the versions' files byte-identical.
same_files() {
	local ref=$1 got=$2 f
	shift 2
	for f in "$@"; do same_file "$ref/$f" "$got/$f" || return 1; done
}

# manifest_get V1 EXPR: a value of V1's manifest.json (python, m the manifest).
manifest_get() {
	python3 -c 'import json, sys; m = json.load(open(sys.argv[1] + "/manifest.json")); print(eval(sys.argv[2]))' "$1" "$2" 2>&1
}

# settle_read KIND TABLE: sql/settle_read.sql as payrun renders it for TABLE
# (source_pg.c, probes.c): the period's bounds $1 and $2 stay parameters,
# converted into the column's meaning for local; the rows without a time too.
settle_read() {
	local tz= starts="ARRAY['2026-11-01T00:00:00Z']::timestamptz[]"
	[ "$1" = local ] && tz=" AT TIME ZONE 'UTC'" && starts="ARRAY['2026-11-01 00:00:00']::timestamp[]"
	# (the slices' starts are an array constant; their values do not change the plan)
	sed -e "s/{probe_where}/(probe_timestamp >= \$1::timestamptz$tz AND probe_timestamp < \$2::timestamptz$tz) OR probe_timestamp IS NULL/" \
		-e "s/{slice_starts}/$starts/" \
		-e "s/{probe_table}/public.$2/g" -e "s/{tz}/$tz/g" "$ROOT/sql/settle_read.sql"
}

# plan_relations KIND TABLE ZONE MODE START END: the tables of the settle
# read's plan for [START, END), by EXPLAIN (FORMAT JSON) of the statement
# prepared as payrun sends it, in a session whose TimeZone is ZONE (its
# first line: SHOW TimeZone), with payrun's settings; MODE custom (as
# payrun's PQexecParams plans it) or generic (pruned when the executor
# starts).
plan_relations() {
	local q
	q=$(settle_read "$1" "$2")
	$PSQL -At -c "SET TimeZone = '$3'" -c "SHOW TimeZone" -c "SET jit = off" \
		-c "SET enable_partitionwise_aggregate = on" -c "SET plan_cache_mode = force_$4_plan" \
		-c "PREPARE settle_read AS $q" \
		-c "EXPLAIN (FORMAT JSON) EXECUTE settle_read('$5', '$6')" | python3 -c '
import json, sys
zone = sys.stdin.readline().strip()
def rels(n):
    if "Relation Name" in n:
        yield n["Relation Name"]
    for c in n.get("Plans", []):
        yield from rels(c)
print(zone, " ".join(sorted(set(rels(json.load(sys.stdin)[0]["Plan"])))))'
}

# read_plan_relations LOG OFFSET: the tables of the settle read's plan that
# auto_explain wrote to the server's LOG after byte OFFSET.
read_plan_relations() {
	python3 - "$1" "$2" <<'PY'
import json, re, sys
text = open(sys.argv[1], errors="replace").read()[int(sys.argv[2]):]
entries, cur = [], None
for line in text.split("\n"):
    if re.search(r" LOG:  duration: [0-9.]+ ms  plan:$", line):
        cur = []
        entries.append(cur)
    elif cur is not None and line.startswith("\t"):
        cur.append(line[1:])
    else:
        cur = None
def rels(n):
    if "Relation Name" in n:
        yield n["Relation Name"]
    for c in n.get("Plans", []):
        yield from rels(c)
for e in entries:
    d = json.loads("\n".join(e))
    if "GROUP BY stream_id, node_id" in d["Query Text"]:
        print(" ".join(sorted(set(rels(d["Plan"])))))
PY
}

# index_suffixes: the names of sql/indexes.sql's indexes after the table's.
index_suffixes() {
	sed -n 's/.*"{index_prefix}\([^"]*\)".*/\1/p' "$ROOT/sql/indexes.sql"
}

# indexes_complete TABLE: every index of sql/indexes.sql is on TABLE, valid,
# and its partition tree has a valid index on every table of TABLE's: "true
# true 0" (valid, as many valid indexes in its tree as tables in TABLE's,
# no table without one).
indexes_complete() {
	local s got
	for s in $(index_suffixes); do
		got=$($PSQL -At -c "SELECT coalesce((SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('$1$s'))::text, 'missing')
			|| ' ' || ((SELECT count(*) FROM pg_partition_tree(to_regclass('$1$s')) t
			            JOIN pg_index i ON i.indexrelid = t.relid WHERE i.indisvalid)
			           = (SELECT count(*) FROM pg_partition_tree('$1')))::text
			|| ' ' || (SELECT count(*) FROM pg_partition_tree('$1') t
			           WHERE t.relid NOT IN (SELECT i.indrelid FROM pg_partition_tree(to_regclass('$1$s')) x
			                                 JOIN pg_index i ON i.indexrelid = x.relid))")
		[ "$got" = "true true 0" ] || { fail "index $1$s: valid, one per table, tables without one: $got"; return 1; }
	done
}

# ------------------------------------------------------------------ settle

# settle_shape KIND: a day settled from the partitioned probe_results equals
# the same day from a plain table of the same rows and from the CSV
# exports, whatever the session's time zone.
settle_shape() {
	local kind=$1 got
	fresh_db "t_settle_$kind" && part_table "$kind" probe_results && plain_table "$kind" probe_plain &&
		load "$kind" probe_results && load "$kind" probe_plain || return 1
	"$PAYRUN" db migrate >"$TD/migrate.log" 2>&1 || { fail "db migrate: $(oneline "$TD/migrate.log")"; return 1; }
	# the statistics are on the partitioned table, and ANALYZE gave them the
	# whole tree's rows (stxdinherit)
	got=$($PSQL -At -c "SELECT e.stxname || ' ' || d.stxdinherit FROM pg_statistic_ext e
		JOIN pg_statistic_ext_data d ON d.stxoid = e.oid WHERE e.stxrelid = 'probe_results'::regclass")
	[ "$got" = "probe_results_stream_node true" ] || { fail "statistics on probe_results: '$got'"; return 1; }
	csv_ref && settle_pg utc probe_results X=1 && settle_pg kolkata probe_results PGTZ=Asia/Kolkata &&
		settle_pg kiritimati probe_results "PGOPTIONS=-c timezone=Pacific/Kiritimati" &&
		settle_pg plain probe_plain PGTZ=America/Anchorage || return 1
	for got in utc kolkata kiritimati plain; do
		same_files "$TD/ref/2026-11-02/v1" "$TD/$got/2026-11-02/v1" ledger.csv streams.csv || return 1
	done
	for got in kolkata kiritimati; do
		same_files "$TD/utc/2026-11-02/v1" "$TD/$got/2026-11-02/v1" rejects.csv || return 1
	done
	# the plain table's rejects.csv names its own table; the counts agree
	[ "$(sed 's/^public\.probe_plain,/public.probe_results,/' "$TD/plain/2026-11-02/v1/rejects.csv")" = \
		"$(cat "$TD/utc/2026-11-02/v1/rejects.csv")" ] || { fail "rejects.csv of the plain and partitioned tables differ"; return 1; }
	got=$(manifest_get "$TD/utc/2026-11-02/v1" 'm["counts"]["rows_read"], m["counts"]["rejected"]')
	[ "$got" = "$(manifest_get "$TD/plain/2026-11-02/v1" 'm["counts"]["rows_read"], m["counts"]["rejected"]')" ] ||
		{ fail "counts: partitioned $got, plain $(manifest_get "$TD/plain/2026-11-02/v1" 'm["counts"]')"; return 1; }
	grep -q '^2026-11-02T00:00:00Z,2026-11-03T00:00:00Z,stream-000,node-edge,2,2,0,' "$TD/utc/2026-11-02/v1/ledger.csv" ||
		{ fail "node-edge of stream-000 has not exactly its two in-period polls: $(grep node-edge "$TD/utc/2026-11-02/v1/ledger.csv" | tr '\n' ' ')"; return 1; }
	[ "$(wc -l <"$TD/utc/2026-11-02/v1/ledger.csv")" -gt 200 ] || { fail "ledger.csv has $(wc -l <"$TD/utc/2026-11-02/v1/ledger.csv") lines"; return 1; }
}

# a day from a timestamptz table partitioned by day (with a DEFAULT
# partition holding rows without a time): the plain table's and the CSV
# settle's ledger and streams, in any session time zone
t_settle_a_day_of_timestamptz_partitions() {
	settle_shape tstz || return 1
	# the two rows without a time are counted, as from a plain table
	[ "$(manifest_get "$TD/utc/2026-11-02/v1" 'm["counts"]["rejected_by_reason"]')" = "{'bad_timestamp': 2}" ] ||
		{ fail "rejects: $(manifest_get "$TD/utc/2026-11-02/v1" 'm["counts"]["rejected_by_reason"]')"; return 1; }
}

# the same from the coordinator's own table (timestamp without time zone
# holding UTC) partitioned by day, without a DEFAULT partition
t_settle_a_day_of_coordinator_partitions() {
	settle_shape local || return 1
	[ "$(manifest_get "$TD/kolkata/2026-11-02/v1" 'm["source"]["probe_timestamp"], m["source"]["probe_timestamp_zone"]')" = \
		"('timestamp without time zone', 'UTC')" ] ||
		{ fail "manifest source: $(manifest_get "$TD/kolkata/2026-11-02/v1" 'm["source"]')"; return 1; }
}

# ------------------------------------------------------------------ pruning

# prunes KIND TABLE ZONE START END WANT: in both plan modes the settle read
# of [START, END) under ZONE reads the tables WANT and no other.
prunes() {
	local mode got
	for mode in custom generic; do
		got=$(plan_relations "$1" "$2" "$3" "$mode" "$4" "$5") ||
			{ fail "EXPLAIN of the settle read of $2 ($mode plan, $3): $got"; return 1; }
		[ "$got" = "$3 $6" ] || { fail "settle read of [$4, $5) from $2, $mode plan: got '$got', want '$3 $6'"; return 1; }
	done
}

# The settle read of a day or an hour plans only its day's partition (and
# the DEFAULT partition, which may hold rows without a time), for either
# column type, whatever the session's time zone: in the plan of the
# statement as payrun sends it (custom and generic), and in the plan of a
# real settle (auto_explain).  The group estimate comes from the
# partitioned table's statistics.
t_settle_read_prunes_to_the_periods_partition() {
	local z off got pairs
	fresh_db t_prune && part_table tstz probe_results && part_table local probe_local &&
		load tstz probe_results && load local probe_local || return 1
	"$PAYRUN" -q db migrate 2>"$TD/migrate.err" || { fail "db migrate: $(oneline "$TD/migrate.err")"; return 1; }
	$PSQL -c "ANALYZE probe_local" || { fail "ANALYZE probe_local"; return 1; }
	for z in Asia/Kolkata Pacific/Kiritimati America/Anchorage; do
		prunes tstz probe_results "$z" 2026-11-02T00:00:00Z 2026-11-03T00:00:00Z "probe_results_default probe_results_p20261102" &&
			prunes tstz probe_results "$z" 2026-11-01T23:00:00Z 2026-11-02T00:00:00Z "probe_results_default probe_results_p20261101" &&
			prunes local probe_local "$z" 2026-11-02T00:00:00Z 2026-11-03T00:00:00Z "probe_local_p20261102" &&
			prunes local probe_local "$z" 2026-11-03T00:00:00Z 2026-11-03T01:00:00Z "probe_local_p20261103" || return 1
	done
	# the real settles, in a session of another zone
	for got in "probe_results probe_results_default probe_results_p20261102" "probe_local probe_local_p20261102"; do
		off=$(stat -c %s "$PG_CLUSTER_DIR/server.log")
		settle_pg "real-${got%% *}" "${got%% *}" PGTZ=Pacific/Kiritimati \
			"PGOPTIONS=-c session_preload_libraries=auto_explain -c auto_explain.log_min_duration=0 -c auto_explain.log_format=json" || return 1
		z=$(read_plan_relations "$PG_CLUSTER_DIR/server.log" "$off")
		[ "$z" = "${got#* }" ] || { fail "the settle of 2026-11-02 from ${got%% *} planned '$z', want '${got#* }'"; return 1; }
	done
	# the groups estimated are the day's (stream, node) pairs, not their product
	pairs=$($PSQL -At -c "SELECT count(DISTINCT (stream_id, node_id)) FROM probe_results WHERE probe_timestamp >= '2026-11-02' AND probe_timestamp < '2026-11-03'")
	got=$($PSQL -At -c "SET enable_partitionwise_aggregate = on" -c "PREPARE settle_read AS $(settle_read tstz probe_results)" \
		-c "EXPLAIN (FORMAT JSON) EXECUTE settle_read('2026-11-02T00:00:00Z', '2026-11-03T00:00:00Z')" |
		python3 -c 'import json, sys; print(int(json.load(sys.stdin)[0]["Plan"]["Plan Rows"]))')
	[ -n "$got" ] && [ "$got" -ge $((pairs / 2)) ] && [ "$got" -le $((pairs * 3 / 2)) ] ||
		{ fail "the settle read estimates $got groups, the day has $pairs pairs"; return 1; }
}

# ------------------------------------------------------------------ db indexes

# index_statements: the CREATE INDEX statements payrun sent since the last
# reset of pg_stat_statements: "concurrently N, on-only N, other N".
index_statements() {
	$PSQL -At -c "SELECT 'concurrently ' || count(*) FILTER (WHERE query LIKE '%CREATE INDEX CONCURRENTLY IF NOT EXISTS%')
		|| ', on-only ' || count(*) FILTER (WHERE query LIKE '%CREATE INDEX IF NOT EXISTS%ON ONLY%')
		|| ', other ' || count(*) FILTER (WHERE query LIKE '%CREATE INDEX%' AND query NOT LIKE '%CREATE INDEX CONCURRENTLY IF NOT EXISTS%'
		                                  AND query NOT LIKE '%CREATE INDEX IF NOT EXISTS%ON ONLY%')
		|| ', attach ' || count(*) FILTER (WHERE query LIKE '%ALTER INDEX % ATTACH PARTITION %')
		FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
}

# db_indexes TAG WANT: payrun db indexes exits 0 saying WANT (a regex).
db_indexes() {
	"$PAYRUN" db indexes >"$TD/$1.out" 2>"$TD/$1.err" || { fail "$1: db indexes: exit $?: $(oneline "$TD/$1.err" 600)"; return 1; }
	grep -Eq "$2" "$TD/$1.err" || { fail "$1: db indexes said: $(oneline "$TD/$1.err" 600)"; return 1; }
}

# db indexes on a table partitioned by day, one day itself partitioned by
# node: every index of sql/indexes.sql on the table, valid, and one on every
# partition, each made CONCURRENTLY on a leaf or ON ONLY a partitioned
# table; twice is a no-op; partitions added later have them and the next
# run has nothing to do; an index dropped is made again; an invalid one
# left by a failed build is named.
t_db_indexes_on_a_partitioned_table() {
	local got n
	fresh_db t_indexes && part_table tstz probe_results &&
		day_partition tstz probe_results 2026-11-04 "PARTITION BY HASH (node_id)" || return 1
	$PSQL -c "CREATE TABLE probe_results_p20261104_h0 PARTITION OF probe_results_p20261104 FOR VALUES WITH (MODULUS 2, REMAINDER 0)" \
		-c "CREATE TABLE probe_results_p20261104_h1 PARTITION OF probe_results_p20261104 FOR VALUES WITH (MODULUS 2, REMAINDER 1)" ||
		{ fail "could not partition 2026-11-04 by node"; return 1; }
	load tstz probe_results && "$PAYRUN" -q db migrate || { fail "db migrate"; return 1; }
	n=$(index_suffixes | wc -l)
	[ "$n" = 5 ] || { fail "sql/indexes.sql names $n indexes: $(index_suffixes | tr '\n' ' ')"; return 1; }
	$PSQL -c "SELECT pg_stat_statements_reset()" >/dev/null
	# 6 leaves (3 days, the default, 2 of 2026-11-04), 2 partitioned tables
	db_indexes first "5 indexes of sql/indexes.sql on public.probe_results and its 7 partition\(s\): 30 created concurrently, 10 ON ONLY a partitioned table, 35 attached; all valid" &&
		indexes_complete probe_results || return 1
	got=$(index_statements)
	[ "$got" = "concurrently 30, on-only 10, other 0, attach 35" ] || { fail "statements sent: $got"; return 1; }
	$PSQL -c "SELECT pg_stat_statements_reset()" >/dev/null
	db_indexes second "all in place and valid, nothing to do" || return 1
	[ "$(index_statements)" = "concurrently 0, on-only 0, other 0, attach 0" ] || { fail "the second run sent: $(index_statements)"; return 1; }
	# partitions added afterwards: CREATE TABLE ... PARTITION OF, and a table
	# of probes attached (PostgreSQL gives both the indexes, attached)
	day_partition tstz probe_results 2026-11-05 && $PSQL -c "CREATE TABLE probe_results_p20261106 (LIKE probe_results)" \
		-c "INSERT INTO probe_results_p20261106 (id, stream_id, node_id, probe_type, success, probe_timestamp)
			VALUES (990001, 'stream-000', 'node-new', 'stats_poll', true, '2026-11-06 12:00:00+00')" \
		-c "ALTER TABLE probe_results ATTACH PARTITION probe_results_p20261106 FOR VALUES FROM ('2026-11-06 00:00+00') TO ('2026-11-07 00:00+00')" ||
		{ fail "could not add the 2026-11-05 and 2026-11-06 partitions"; return 1; }
	db_indexes later "5 indexes of sql/indexes.sql on public.probe_results and its 9 partition\(s\): all in place and valid, nothing to do" &&
		indexes_complete probe_results || return 1
	# an index dropped (or one added to sql/indexes.sql): made again everywhere
	$PSQL -c "DROP INDEX probe_results_node_ts" || { fail "DROP INDEX"; return 1; }
	db_indexes again ": 8 created concurrently, 2 ON ONLY a partitioned table, 9 attached; all valid" &&
		indexes_complete probe_results || return 1
	# an invalid index of the name payrun would give, left by a CREATE INDEX
	# CONCURRENTLY that failed (here a unique one on duplicates), on a
	# partition without the index: named, with what to do; once dropped, the
	# next run makes it
	$PSQL -c "DROP INDEX probe_results_ok_polls" || { fail "DROP INDEX"; return 1; }
	$PSQL -c "CREATE UNIQUE INDEX CONCURRENTLY probe_results_p20261102_ok_polls ON probe_results_p20261102 (stream_id)" \
		>"$TD/cic.out" 2>&1 && { fail "the unique index on duplicates was built"; return 1; }
	[ "$($PSQL -At -c "SELECT indisvalid FROM pg_index WHERE indexrelid = 'probe_results_p20261102_ok_polls'::regclass")" = f ] ||
		{ fail "the failed build left no invalid index: $(oneline "$TD/cic.out")"; return 1; }
	"$PAYRUN" db indexes >"$TD/invalid.out" 2>"$TD/invalid.err"; got=$?
	[ "$got" = 4 ] && grep -q "index public.probe_results_p20261102_ok_polls of public.probe_results_p20261102 is not valid" "$TD/invalid.err" &&
		grep -q "DROP INDEX CONCURRENTLY public.probe_results_p20261102_ok_polls" "$TD/invalid.err" ||
		{ fail "db indexes with an invalid index: exit $got: $(oneline "$TD/invalid.err" 600)"; return 1; }
	$PSQL -c "DROP INDEX CONCURRENTLY public.probe_results_p20261102_ok_polls" || { fail "DROP INDEX CONCURRENTLY"; return 1; }
	db_indexes mended "all valid" && indexes_complete probe_results
}

# ------------------------------------------------------------------ retention

# Retention by dropping partitions: an old day's partition dropped, another
# detached then dropped (CONCURRENTLY where there is no DEFAULT partition):
# their rows are gone, no DELETE trigger fired (a row and a statement
# trigger count here), the indexes stay valid, a remaining day settles as
# before, and a dropped day has no probes left to settle.
retention_shape() {
	local kind=$1 t=$2 got
	part_table "$kind" "$t" && load "$kind" "$t" || return 1
	"$PAYRUN" -q db migrate --probe-table "$t" && "$PAYRUN" -q db indexes --probe-table "$t" ||
		{ fail "db migrate and db indexes on $t"; return 1; }
	$PSQL -c "CREATE TABLE deletes (what text)" \
		-c "CREATE FUNCTION count_delete() RETURNS trigger LANGUAGE plpgsql AS \$\$
			BEGIN INSERT INTO deletes VALUES (TG_LEVEL || ' ' || TG_TABLE_NAME); RETURN NULL; END \$\$" \
		-c "CREATE TRIGGER ${t}_rows AFTER DELETE ON $t FOR EACH ROW EXECUTE FUNCTION count_delete()" \
		-c "CREATE TRIGGER ${t}_statements AFTER DELETE OR TRUNCATE ON $t FOR EACH STATEMENT EXECUTE FUNCTION count_delete()" ||
		{ fail "could not create the triggers"; return 1; }
	reset_runs || return 1
	"$PAYRUN" -q settle --period 2026-11-03 --source pg --probe-table "$t" --pools "$DATA/pools.csv" \
		--out "$TD/before" 2>"$TD/before.err" || { fail "settle 2026-11-03: $(oneline "$TD/before.err")"; return 1; }
	$PSQL -c "DROP TABLE ${t}_p20261101" || { fail "DROP TABLE ${t}_p20261101"; return 1; }
	if [ "$kind" = tstz ]; then
		# DETACH ... CONCURRENTLY is refused when there is a DEFAULT partition
		$PSQL -c "ALTER TABLE $t DETACH PARTITION ${t}_p20261102 CONCURRENTLY" >"$TD/detach.out" 2>&1 &&
			{ fail "DETACH CONCURRENTLY with a default partition was accepted"; return 1; }
		grep -q 'default partition' "$TD/detach.out" || { fail "DETACH CONCURRENTLY: $(oneline "$TD/detach.out")"; return 1; }
		$PSQL -c "ALTER TABLE $t DETACH PARTITION ${t}_p20261102" || { fail "DETACH PARTITION"; return 1; }
	else
		$PSQL -c "ALTER TABLE $t DETACH PARTITION ${t}_p20261102 CONCURRENTLY" || { fail "DETACH PARTITION CONCURRENTLY"; return 1; }
	fi
	$PSQL -c "DROP TABLE ${t}_p20261102" || { fail "DROP TABLE ${t}_p20261102"; return 1; }
	got=$($PSQL -At -c "SELECT (SELECT count(*) FROM $t WHERE probe_timestamp < '2026-11-03') || ' '
		|| (SELECT count(*) FROM deletes) || ' ' || (SELECT string_agg(relid::text, ' ' ORDER BY relid::text)
		FROM pg_partition_tree('$t') WHERE level = 1)")
	case $kind in
	tstz) [ "$got" = "0 0 ${t}_default ${t}_p20261103" ] ;;
	local) [ "$got" = "0 0 ${t}_p20261103" ] ;;
	esac || { fail "after the drops: rows before 2026-11-03, deletes counted, partitions: $got"; return 1; }
	indexes_complete "$t" || return 1
	reset_runs || return 1
	"$PAYRUN" -q settle --period 2026-11-03 --source pg --probe-table "$t" --pools "$DATA/pools.csv" \
		--out "$TD/after" 2>"$TD/after.err" || { fail "settle 2026-11-03 after the drops: $(oneline "$TD/after.err")"; return 1; }
	same_files "$TD/before/2026-11-03/v1" "$TD/after/2026-11-03/v1" ledger.csv streams.csv rejects.csv || return 1
	"$PAYRUN" -q settle --period 2026-11-02 --source pg --probe-table "$t" --pools "$DATA/pools.csv" \
		--max-reject-ratio 1 --out "$TD/dropped" 2>"$TD/dropped.err"; got=$?
	[ "$got" = 3 ] && grep -q 'has_probes' "$TD/dropped.err" && [ ! -e "$TD/dropped/2026-11-02/v1" ] ||
		{ fail "settle of the dropped 2026-11-02: exit $got: $(oneline "$TD/dropped.err")"; return 1; }
}

t_retention_drops_day_partitions_of_timestamptz() {
	fresh_db t_retention_tstz && retention_shape tstz probe_results
}

t_retention_drops_day_partitions_of_coordinator_table() {
	fresh_db t_retention_local && retention_shape local probe_results
}

run_suite "$@"
