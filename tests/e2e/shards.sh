#!/bin/bash
# tests/e2e/shards.sh: payrun settling from a coordinator whose probe_results
# is hash-partitioned by node_id over two shards, each partition a
# postgres_fdw foreign table on its own server (docs/scale-out.md).
#
#   bash tests/e2e/shards.sh [NAME-SUBSTRING...]
#
# Three private clusters, Unix sockets only (tests/pg/cluster.sh): the
# coordinator (lib.sh's cluster) and two shards (pg_cluster_start_extra),
# all stopped and removed at exit, even when a test fails.  Each shard holds
# its half of a generated day: the day is copied into a table partitioned by
# HASH (node_id), MODULUS 2, on the shard, and the partition of the shard's
# remainder is kept as its probe_results.  PostgreSQL's hash routing is the
# same on every cluster of one version, so the coordinator's partition of
# remainder R, a foreign table on shard R, routes exactly the rows shard R
# holds (tested).  Each test makes its own coordinator database (the foreign
# servers, the partitioned parent, payrun's schema, the pools), so any of them
# runs alone; a single-node database on the coordinator's cluster holds the
# whole day in a plain probe_results.
#
# Drives ./payrun (or $PAYRUN) at the repository root.  The last line is
# `shards: N passed, N failed`; SHARDS_KEEP=1 keeps the work directory,
# SHARDS_TIMES=1 prints each test's wall time.

# shellcheck disable=SC2317 # the t_ functions are called by run_suite (lib.sh)
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh" shards || exit 1

GEN=$ROOT/build/tools/gen_probes
DATA=$W/data
DAY=$DATA/day.csv
PERIOD=2026-11-01
START=2026-11-01T00:00:00Z
END=2026-11-02T00:00:00Z
POOL=1000000
# the columns of sql/probe_table_create.sql ('payrun db migrate --create-probe-table')
PROBE_COLUMNS='id bigint NOT NULL, stream_id text NOT NULL, node_id text NOT NULL,
	probe_type text NOT NULL, success boolean, response_data text, error_message text,
	probe_timestamp timestamptz NOT NULL'
SHARDS=()                       # the shards' socket directories, by remainder
# shellcheck disable=SC2034 # read by lib.sh
CLUSTER_TESTS='*'

# ------------------------------------------------------------------ helpers
# Helpers return non-zero after recording why (fail, lib.sh); tests chain
# them with ||.

# shard_psql R ARGS...: psql on shard R's database 'probes'.
shard_psql() {
	local r=$1
	shift
	$PSQL -h "${SHARDS[$r]}" -d probes "$@"
}

# load_shard R: shard R's database 'probes', with pg_stat_statements and, as
# probe_results, the rows of the day whose node_id hashes to remainder R of 2
# (with the primary key and the (stream_id, node_id) statistics payrun's
# migrate gives a probe table).
load_shard() {
	local r=$1
	if ! $PSQL -h "${SHARDS[$r]}" -d postgres -c "CREATE DATABASE probes" ||
		! shard_psql "$r" -c "CREATE EXTENSION pg_stat_statements" \
			-c "CREATE TABLE day_split ($PROBE_COLUMNS) PARTITION BY HASH (node_id)" \
			-c "CREATE TABLE probe_results PARTITION OF day_split FOR VALUES WITH (MODULUS 2, REMAINDER $r)" \
			-c "CREATE TABLE day_other PARTITION OF day_split FOR VALUES WITH (MODULUS 2, REMAINDER $((1 - r)))" \
			-c "\\copy day_split ($(head -n 1 "$DAY")) FROM '$DAY' WITH (FORMAT csv, HEADER)" \
			-c "ALTER TABLE day_split DETACH PARTITION probe_results" \
			-c "DROP TABLE day_split" \
			-c "ALTER TABLE probe_results ADD PRIMARY KEY (id)" \
			-c "CREATE STATISTICS probe_results_stream_node (ndistinct) ON stream_id, node_id FROM probe_results" \
			-c "ANALYZE probe_results"; then
		fail "could not load shard $r's half of the day"
		return 1
	fi
}

# pools_in_db: POOL for every stream of probe_results, in payout_pools, for
# the day (as pg.sh's pools_in_db): both databases name the same pools, and
# the pools check stays on.
pools_in_db() {
	$PSQL -c "INSERT INTO payout_pools SELECT DISTINCT stream_id, '$START'::timestamptz,
		'$END'::timestamptz, $POOL FROM probe_results" ||
		{ fail "could not fill payout_pools"; return 1; }
}

# single_db NAME: a new database with payrun's schema and the whole day in a
# plain probe_results; PGDATABASE set.
single_db() {
	export PGDATABASE="$1"
	if ! pg_cluster_createdb "$1" || ! "$PAYRUN" -q db migrate --create-probe-table ||
		! $PSQL -c "\\copy probe_results ($(head -n 1 "$DAY")) FROM '$DAY' WITH (FORMAT csv, HEADER)"; then
		fail "could not make the single-node database $1"
		return 1
	fi
	pools_in_db
}

# sharded_db NAME: a new coordinator database: postgres_fdw, a foreign server
# per shard (async_capable) with a user mapping, probe_results partitioned
# by HASH (node_id) into the shards' tables, then payrun's schema (db
# migrate: its tables, the statistics on probe_results) and the pools;
# PGDATABASE set.  The shards' statement counts are reset last.
sharded_db() {
	local r args=()
	for r in 0 1; do
		args+=(-c "CREATE SERVER shard_$r FOREIGN DATA WRAPPER postgres_fdw
			OPTIONS (host '${SHARDS[$r]}', port '5432', dbname 'probes', async_capable 'true')"
			-c "CREATE USER MAPPING FOR postgres SERVER shard_$r OPTIONS (user 'postgres')")
	done
	args+=(-c "CREATE TABLE probe_results ($PROBE_COLUMNS) PARTITION BY HASH (node_id)")
	for r in 0 1; do
		args+=(-c "CREATE FOREIGN TABLE probe_results_$r PARTITION OF probe_results
			FOR VALUES WITH (MODULUS 2, REMAINDER $r)
			SERVER shard_$r OPTIONS (schema_name 'public', table_name 'probe_results')")
	done
	export PGDATABASE="$1"
	if ! pg_cluster_createdb "$1" || ! $PSQL -c "CREATE EXTENSION postgres_fdw" "${args[@]}"; then
		fail "could not make the coordinator database $1"
		return 1
	fi
	"$PAYRUN" db migrate >"$TD/migrate-$1.log" 2>&1 ||
		{ fail "db migrate on the coordinator: $(oneline "$TD/migrate-$1.log")"; return 1; }
	pools_in_db && reset_shard_statements
}

# reset_shard_statements: empty both shards' pg_stat_statements.
reset_shard_statements() {
	local r
	for r in 0 1; do
		shard_psql "$r" -Atc "SELECT pg_stat_statements_reset()" >/dev/null ||
			{ fail "could not reset shard $r's pg_stat_statements"; return 1; }
	done
}

# shard_statements R: the statements shard R ran that read its probe_results
# (pg_stat_statements; postgres_fdw sends each as DECLARE ... CURSOR FOR
# SELECT ...), one a line, blanks squeezed.
shard_statements() {
	shard_psql "$1" -Atc "SELECT regexp_replace(query, '\\s+', ' ', 'g') FROM pg_stat_statements
		WHERE query ~* 'FROM public\\.probe_results' AND query !~* 'pg_stat_statements'"
}

# settle_sql: sql/settle_read.sql as payrun renders it for a timestamptz
# probe_results (probes.h, source_pg.c), the day's bounds as literals (the
# slices' starts an array constant of one: the plan is the same): payrun
# sends them as parameters of an unnamed statement, which the planner folds
# into the same constants (the shards' statements show them as literals).
settle_sql() {
	# shellcheck disable=SC2016 # $1 and $2 are the statement's, not the shell's
	sed -e 's/{probe_where}/(probe_timestamp >= $1::timestamptz AND probe_timestamp < $2::timestamptz) OR probe_timestamp IS NULL/' \
		-e "s/{slice_starts}/ARRAY['$START']::timestamptz[]/" \
		-e "s/\\\$1::timestamptz/'$START'::timestamptz/g" \
		-e "s/\\\$2::timestamptz/'$END'::timestamptz/g" \
		-e 's/{probe_table}/public.probe_results/g' -e 's/{tz}//g' "$ROOT/sql/settle_read.sql"
}

# explain_verbose ON|OFF QUERY: EXPLAIN (VERBOSE) of QUERY on the coordinator
# with enable_partitionwise_aggregate ON or OFF, into TD/plan-ON|OFF.txt.
explain_verbose() {
	$PSQL -Atc "SET enable_partitionwise_aggregate = $1" -c "SET jit = off" \
		-c "EXPLAIN (VERBOSE) $2" >"$TD/plan-$1.txt" ||
		{ fail "EXPLAIN (VERBOSE) with enable_partitionwise_aggregate = $1 failed"; return 1; }
}

# plan_pushes_grouping PLAN: PLAN has two Async Foreign Scans, one per shard,
# and both Remote SQL statements group (GROUP BY): each shard groups its
# rows and the two are read concurrently.
plan_pushes_grouping() {
	local async remote grouped
	async=$(grep -c 'Async Foreign Scan' "$1")
	remote=$(grep -c 'Remote SQL:' "$1")
	grouped=$(grep 'Remote SQL:' "$1" | grep -c 'GROUP BY')
	[ "$async" = 2 ] && [ "$remote" = 2 ] && [ "$grouped" = 2 ] && return 0
	fail "want 2 Async Foreign Scans and 2 Remote SQL with GROUP BY, the plan has $async Async Foreign Scans and $remote Remote SQL ($grouped with GROUP BY): $(grep -E 'Foreign Scan|Aggregate|Append|Remote SQL' "$1" | cut -c 1-160 | tr -s ' ' | tr '\n' '|' | head -c 600)"
}

# is_row_scan: stdin holds a statement selecting probe_results' columns of
# the period with no GROUP BY (what postgres_fdw sends to scan the rows).
is_row_scan() {
	grep -q 'SELECT stream_id, node_id, probe_type, success, probe_timestamp FROM public\.probe_results WHERE'
}

# ------------------------------------------------------------------ data
suite_setup() {
	[ -x "$GEN" ] || { fail "'$GEN' is missing (make tools)"; return 1; }
	mkdir -p "$DATA"
	"$GEN" -q --rows 20000 --nodes 200 --streams 5 --seed 11 --gzip 0 --out "$DAY" ||
		{ fail "could not generate the day (gen_probes)"; return 1; }
}

# The shards: two more clusters, each with its half of the day, which
# together hold every row of it.
cluster_setup() {
	local r rows n=0 got
	if ! pg_cluster_start_extra 'SHARDS[0]' || ! pg_cluster_start_extra 'SHARDS[1]'; then
		fail "could not start the two shard clusters: $(oneline "$W/cluster.log" 400)"
		return 1
	fi
	for r in 0 1; do
		load_shard "$r" || return 1
		got=$(shard_psql "$r" -Atc "SELECT count(*) FROM probe_results") || return 1
		[ "$got" -gt 0 ] || { fail "shard $r holds no row"; return 1; }
		n=$((n + got))
	done
	rows=$(($(wc -l <"$DAY") - 1))
	[ "$n" = "$rows" ] || { fail "the shards hold $n rows, the day $rows"; return 1; }
}

# ------------------------------------------------------------------ the shards

# every table payrun reads, on the shards and on the coordinator, has the
# columns of the probe table payrun creates
t_shards_and_coordinator_have_payruns_probe_columns() {
	local cols want r got
	cols="SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod) || CASE WHEN attnotnull THEN ' not null' ELSE '' END, ', ' ORDER BY attnum)
		FROM pg_attribute WHERE attrelid = 'public.probe_results'::regclass AND attnum > 0 AND NOT attisdropped"
	single_db t_cols_single || return 1
	want=$($PSQL -Atc "$cols")
	for r in 0 1; do
		got=$(shard_psql "$r" -Atc "$cols")
		[ "$got" = "$want" ] || { fail "shard $r's probe_results has ($got), payrun creates ($want)"; return 1; }
	done
	sharded_db t_cols || return 1
	got=$($PSQL -Atc "$cols")
	[ "$got" = "$want" ] || { fail "the coordinator's probe_results has ($got), payrun creates ($want)"; return 1; }
}

# the coordinator's hash partitions route to each shard exactly the rows it
# holds: a node on one shard only, and every row of shard R hashes to
# remainder R on the coordinator
t_coordinator_hash_routing_matches_the_shards() {
	local r n misrouted both
	sharded_db t_routing || return 1
	for r in 0 1; do
		# (materialized: the hash is computed on the coordinator, not shipped)
		misrouted=$($PSQL -Atc "WITH shard AS MATERIALIZED (SELECT node_id FROM probe_results_$r)
			SELECT count(*) FROM shard WHERE NOT satisfies_hash_partition('probe_results'::regclass, 2, $r, node_id)")
		n=$($PSQL -Atc "SELECT count(*) FROM probe_results_$r")
		if [ "$misrouted" != 0 ] || ! [ "$n" -gt 0 ]; then
			fail "shard $r: $n rows, $misrouted of them hash elsewhere on the coordinator"
			return 1
		fi
	done
	both=$($PSQL -Atc "SELECT count(*) FROM (SELECT node_id FROM probe_results_0 INTERSECT SELECT node_id FROM probe_results_1) x")
	[ "$both" = 0 ] || { fail "$both nodes have rows on both shards"; return 1; }
}

# ------------------------------------------------------------------ the same ledger

# the sharded coordinator settles the day to the single node's ledger, byte
# for byte
t_sharded_settle_gives_the_single_node_ledger() {
	local single=$TD/single/$PERIOD/v1 sharded=$TD/sharded/$PERIOD/v1 rows
	single_db t_same_single || return 1
	prun single settle --period "$PERIOD" --source pg --default-pool "$POOL" --db "dbname=t_same_single" --out "$TD/single"
	[ "$RC" = 0 ] || { fail "settle from the single node: exit $RC: $(oneline "$TD/single.err")"; return 1; }
	sharded_db t_same || return 1
	prun sharded settle --period "$PERIOD" --source pg --default-pool "$POOL" --db "dbname=t_same" --out "$TD/sharded"
	[ "$RC" = 0 ] || { fail "settle from the sharded coordinator: exit $RC: $(oneline "$TD/sharded.err")"; return 1; }
	same_file "$single/ledger.csv" "$sharded/ledger.csv" && same_file "$single/streams.csv" "$sharded/streams.csv" &&
		same_file "$single/rejects.csv" "$sharded/rejects.csv" || return 1
	[ "$(wc -l <"$sharded/ledger.csv")" -gt 300 ] || { fail "ledger.csv has only $(wc -l <"$sharded/ledger.csv") lines"; return 1; }
	rows=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["counts"]["rows_read"])' "$sharded/manifest.json")
	[ "$rows" = $(($(wc -l <"$DAY") - 1)) ] || { fail "the sharded settle read $rows rows, the day has $(($(wc -l <"$DAY") - 1))"; return 1; }
}

# ------------------------------------------------------------------ what the shards are sent

# with enable_partitionwise_aggregate off the coordinator groups every row:
# the shards are sent plain row scans of the period, concurrently (the
# baseline; it also shows that the checks below see what the shards ran)
t_without_partitionwise_aggregate_the_shards_scan_rows() {
	local r
	sharded_db t_off || return 1
	explain_verbose off "$(settle_sql)" || return 1
	if [ "$(grep -c 'Async Foreign Scan' "$TD/plan-off.txt")" != 2 ] ||
		grep 'Remote SQL:' "$TD/plan-off.txt" | grep -q 'GROUP BY'; then
		fail "with the partitionwise aggregate off, want 2 Async Foreign Scans without GROUP BY: $(grep -E 'Scan|Remote' "$TD/plan-off.txt" | cut -c 1-160 | tr '\n' '|')"
		return 1
	fi
	$PSQL -c "SET enable_partitionwise_aggregate = off" -c "$(settle_sql)" >/dev/null ||
		{ fail "the settle query with the partitionwise aggregate off failed"; return 1; }
	for r in 0 1; do
		shard_statements "$r" >"$TD/shard-$r.sql" || { fail "could not read shard $r's statements"; return 1; }
		if ! is_row_scan <"$TD/shard-$r.sql" || grep -q 'GROUP BY' "$TD/shard-$r.sql"; then
			fail "shard $r was not sent a row scan: $(oneline "$TD/shard-$r.sql" 400)"
			return 1
		fi
	done
}

# the setup pushes a grouped query down: a GROUP BY stream_id, node_id with
# shippable aggregates goes to each shard, both read concurrently (so the
# settle query's plan below is payrun's query's doing, not the setup's)
t_a_shippable_grouped_query_is_pushed_to_each_shard() {
	sharded_db t_shippable || return 1
	explain_verbose on "SELECT stream_id, node_id, count(*) FILTER (WHERE probe_type = 'stats_poll' AND success),
		min(probe_timestamp), bit_or(1::bigint << (length(probe_type) % 64)) FROM probe_results
		WHERE probe_timestamp >= '$START' AND probe_timestamp < '$END' GROUP BY stream_id, node_id" || return 1
	plan_pushes_grouping "$TD/plan-on.txt"
}

# a probe inserted through the coordinator goes to the shard its node_id
# hashes to (in a transaction rolled back: the shards keep their day)
t_an_insert_through_the_coordinator_goes_to_its_nodes_shard() {
	local want got r
	sharded_db t_insert || return 1
	want=$($PSQL -Atc "SELECT string_agg(CASE WHEN satisfies_hash_partition('probe_results'::regclass, 2, r,
		'node-inserted'::text) THEN '1' ELSE '0' END, ',' ORDER BY r) FROM generate_series(0, 1) r")
	got=$($PSQL -At -c "BEGIN" -c "INSERT INTO probe_results (id, stream_id, node_id, probe_type, success, probe_timestamp)
		VALUES (990001, 'stream-000', 'node-inserted', 'stats_poll', true, '$START')" \
		-c "SELECT (SELECT count(*) FROM probe_results_0 WHERE id = 990001) || ',' ||
		(SELECT count(*) FROM probe_results_1 WHERE id = 990001)" -c "ROLLBACK")
	if [ -z "$want" ] || [ "$got" != "$want" ]; then
		fail "the row is on the shards as '$got' (shard 0,shard 1), its node hashes to '$want'"
		return 1
	fi
	for r in 0 1; do
		[ "$(shard_psql "$r" -Atc "SELECT count(*) FROM probe_results WHERE id = 990001")" = 0 ] ||
			{ fail "the rolled-back row is on shard $r"; return 1; }
	done
}

# rollups are refused on a sharded probe table (writes to foreign partitions
# cannot feed the triggers' transition tables: every write through the
# coordinator would fail), and writes still work afterwards
t_rollups_are_refused_on_a_sharded_table() {
	local rc
	sharded_db t_norollup || return 1
	prun rollup db rollup --enable --db "dbname=t_norollup"
	rc=$RC
	[ "$rc" = 2 ] && grep -q 'foreign tables' "$TD/rollup.err" ||
		{ fail "db rollup --enable on the sharded table: exit $rc: $(oneline "$TD/rollup.err")"; return 1; }
	[ "$($PSQL -Atc "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'payrun_rollup_%'")" = 0 ] ||
		{ fail "the refused --enable left triggers"; return 1; }
	$PSQL -c "INSERT INTO probe_results (id, stream_id, node_id, probe_type, success, probe_timestamp)
		VALUES (990002, 'stream-000', 'node-after', 'stats_poll', true, '$START')" ||
		{ fail "a write through the coordinator failed after the refused --enable"; return 1; }
}

# grouped without the partition key (by stream_id alone, the table being
# hashed by node_id) a shard's groups are not final: only a partial
# aggregate per shard is possible, which postgres_fdw does not push down, so
# the shards are sent row scans
t_a_grouping_without_the_partition_key_is_not_pushed_down() {
	sharded_db t_partial || return 1
	explain_verbose on "SELECT stream_id, count(*) FROM probe_results GROUP BY stream_id" || return 1
	if [ "$(grep -c 'Remote SQL:' "$TD/plan-on.txt")" != 2 ] || grep 'Remote SQL:' "$TD/plan-on.txt" | grep -q 'GROUP BY'; then
		fail "want 2 Remote SQL without GROUP BY: $(grep -E 'Scan|Aggregate|Remote' "$TD/plan-on.txt" | cut -c 1-160 | tr -s ' ' | tr '\n' '|')"
		return 1
	fi
}

# each shard is sent the settle's grouped query, GROUP BY stream_id, node_id
# over its own probe_results, and no shard a plain row scan of the period:
# postgres_fdw (PostgreSQL 15) ships no expression holding a function that
# is not immutable, nor one whose collatable input (a text constant) is not
# a foreign column's, and sql/settle_read.sql has none on a row (its
# coverage slice is width_bucket over an array constant of the slices'
# starts; docs/scale-out.md)
t_each_shard_is_sent_the_grouped_settle_query() {
	local r
	sharded_db t_pushdown || return 1
	prun settle settle --period "$PERIOD" --source pg --default-pool "$POOL" --db "dbname=t_pushdown" --out "$TD/out"
	[ "$RC" = 0 ] || { fail "settle from the sharded coordinator: exit $RC: $(oneline "$TD/settle.err")"; return 1; }
	for r in 0 1; do
		shard_statements "$r" >"$TD/shard-$r.sql" || { fail "could not read shard $r's statements"; return 1; }
		if is_row_scan <"$TD/shard-$r.sql"; then
			fail "shard $r was sent a row scan of the period, not the grouped query: $(grep -v 'GROUP BY' "$TD/shard-$r.sql" | head -n 1 | cut -c 1-300)"
			return 1
		fi
		grep -q 'SELECT stream_id, node_id, .* FROM public\.probe_results WHERE .* GROUP BY 1, 2' "$TD/shard-$r.sql" ||
			{ fail "shard $r was not sent a GROUP BY stream_id, node_id: $(oneline "$TD/shard-$r.sql" 400)"; return 1; }
	done
}

# the settle query as payrun renders it plans, with payrun's
# enable_partitionwise_aggregate, one Async Foreign Scan per shard whose
# Remote SQL groups: the shards are read concurrently
t_settle_query_plans_async_grouped_scans_of_the_shards() {
	sharded_db t_plan || return 1
	explain_verbose on "$(settle_sql)" || return 1
	plan_pushes_grouping "$TD/plan-on.txt"
}

run_suite "$@"
