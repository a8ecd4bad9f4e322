#!/bin/bash
# End-to-end tests of the PostgreSQL source and sink against a private
# cluster started for this run (tests/pg/cluster.sh), stopped at exit even
# when a test fails.  Prints "ok - NAME" or "not ok - NAME: why" per test and
# ends with "pg: N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
PAYRUN=${PAYRUN:-$ROOT/payrun}
GEN=$ROOT/build/tools/gen_probes
. tests/pg/cluster.sh

passed=0
failed=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $1: $2"; failed=$((failed + 1)); }

WORK=$(mktemp -d /tmp/payrun-pgtest.XXXXXX)
cleanup() { pg_cluster_stop; rm -rf "$WORK"; }
if ! pg_cluster_start; then
	echo "not ok - start a private PostgreSQL cluster"
	echo "pg: 0 passed, 1 failed"
	exit 1
fi
trap cleanup EXIT
PSQL="$PG_BIN/psql -X -q -v ON_ERROR_STOP=1"

# A fresh database with the schema, for each test that needs one.
fresh_db() {
	pg_cluster_createdb "$1" && export PGDATABASE="$1" &&
		$PSQL -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" &&
		"$PAYRUN" -q db migrate
}

# Loads a CSV export (header with probe_results' column names) into probe_results.
load_csv() {
	local cols
	cols=$(head -n 1 "$1")
	$PSQL -c "\\copy probe_results ($cols) FROM '$1' WITH (FORMAT csv, HEADER)"
}

# --- data: a generated day and a file of awkward ids -------------------------
"$GEN" -q --rows 200000 --nodes 400 --streams 12 --seed 7 --gzip 0 \
	--out "$WORK/day.csv" || { echo "not ok - generate data"; exit 1; }
printf 'stream_id,pool\n' >"$WORK/pools.csv"
for s in $(seq -w 0 5); do printf 'stream-%03d,%d\n' "$s" $((1000000 + s * 7919)) >>"$WORK/pools.csv"; done

python3 - "$WORK/ids.csv" <<'PY'
import csv, sys
ids = ['plain', 'with,comma', 'with "quote"', 'multi\nline', 'crlf\r\nline',
       'ünïcødé-节点', 'x' * 255, ' spaced ', "single'quote", 'semi;colon']
rows = []
n = 1
for si, s in enumerate(ids[:5]):
    for ni, node in enumerate(ids):
        for k in range(3 + ni):
            ok = 't' if (k + si) % 4 else 'f'
            rows.append([n, s, node, 'stats_poll', ok, '2026-11-01 %02d:%02d:00+00' % (k % 24, ni), '', '{"a": 1}'])
            n += 1
        rows.append([n, s, node, 'spot_check', 'f' if ni % 3 == 0 else 't', '2026-11-01 12:00:00+00', 'err, x', ''])
        n += 1
with open(sys.argv[1], 'w', newline='', encoding='utf-8') as f:
    w = csv.writer(f, lineterminator='\n')
    w.writerow(['id', 'stream_id', 'node_id', 'probe_type', 'success', 'probe_timestamp', 'error_message', 'response_data'])
    w.writerows(rows)
PY

# --- migrations ---------------------------------------------------------------
t="migrate twice is a no-op"
pg_cluster_createdb t_migrate && export PGDATABASE=t_migrate
"$PAYRUN" db migrate >"$WORK/m1.log" 2>&1; rc1=$?
"$PAYRUN" db migrate >"$WORK/m2.log" 2>&1; rc2=$?
n=$($PSQL -Atc "SELECT count(*) FROM payrun_schema_migrations")
if [ $rc1 -eq 0 ] && [ $rc2 -eq 0 ] && [ "$n" = "$(ls sql/migrations/*.sql | wc -l)" ] &&
	grep -q 'applied migration' "$WORK/m1.log" && grep -q 'nothing applied' "$WORK/m2.log" &&
	! grep -q 'applied migration' "$WORK/m2.log"; then
	ok "$t"
else
	not_ok "$t" "rc=$rc1/$rc2 migrations=$n"
fi

# The settle query's estimate of its groups, from EXPLAIN, after ANALYZE.
settle_groups_estimate() {
	local q
	q=$(sed -e "s/\\\$1::timestamptz/'2026-11-01T00:00:00Z'::timestamptz/" \
		-e "s/\\\$2::timestamptz/'2026-11-02T00:00:00Z'::timestamptz/" sql/settle_read.sql)
	$PSQL -c "ANALYZE probe_results" &&
		$PSQL -Atc "EXPLAIN (FORMAT JSON) $q" |
		python3 -c 'import json, sys; print(int(json.load(sys.stdin)[0]["Plan"]["Plan Rows"]))'
}

t="migrate gives the planner the (stream, node) pair count for the settle query"
# Without the statistics object the planner multiplies the two columns'
# distinct counts (12 streams x 400 nodes = 4,800 here); with it, it knows
# the real number of pairs, and then plans a parallel aggregate on big days.
fresh_db t_stats && load_csv "$WORK/day.csv"
pairs=$($PSQL -Atc "SELECT count(*) FROM (SELECT DISTINCT stream_id, node_id FROM probe_results) p")
with=$(settle_groups_estimate)
$PSQL -c "DROP STATISTICS probe_results_stream_node"
without=$(settle_groups_estimate)
if [ -n "$with" ] && [ -n "$without" ] && [ "$with" -le $((pairs * 3 / 2)) ] &&
	[ "$with" -ge $((pairs / 2)) ] && [ "$without" -gt $((pairs * 3)) ]; then
	ok "$t"
else
	not_ok "$t" "pairs=$pairs estimate with statistics=$with without=$without"
fi

t="migrate by a role that does not own probe_results warns and applies the rest"
pg_cluster_createdb t_notowner && export PGDATABASE=t_notowner
$PSQL -c "CREATE TABLE probe_results (id bigint PRIMARY KEY, stream_id text NOT NULL,
	node_id text NOT NULL, probe_type text NOT NULL, success boolean, response_data text,
	error_message text, probe_timestamp timestamptz NOT NULL)" \
	-c "SET client_min_messages = warning" -c "DROP ROLE IF EXISTS payrun_app" \
	-c "CREATE ROLE payrun_app LOGIN" \
	-c "GRANT CREATE ON SCHEMA public TO payrun_app" -c "GRANT SELECT ON probe_results TO payrun_app"
PGUSER=payrun_app "$PAYRUN" db migrate >"$WORK/m3.log" 2>&1; rc=$?
n=$($PSQL -Atc "SELECT count(*) FROM payrun_schema_migrations")
st=$($PSQL -Atc "SELECT count(*) FROM pg_statistic_ext WHERE stxname = 'probe_results_stream_node'")
if [ $rc -eq 0 ] && [ "$n" = "$(ls sql/migrations/*.sql | wc -l)" ] && [ "$st" = 0 ] &&
	grep -q 'warning: server: payrun: not the owner of probe_results, or no CREATE on schema public; ask its owner to run: CREATE STATISTICS IF NOT EXISTS public.probe_results_stream_node' "$WORK/m3.log"; then
	ok "$t"
else
	not_ok "$t" "rc=$rc migrations=$n statistics=$st: $(tr '\n' ' ' <"$WORK/m3.log")"
fi

t="db indexes creates the documented indexes"
export PGDATABASE=t_migrate
if "$PAYRUN" -q db indexes && "$PAYRUN" -q db indexes &&
	[ "$($PSQL -Atc "SELECT count(*) FROM pg_indexes WHERE tablename = 'probe_results' AND indexname LIKE 'probe_results_%' AND indexname <> 'probe_results_pkey'")" = 5 ]; then
	ok "$t"
else
	not_ok "$t" "index count $($PSQL -Atc "SELECT count(*) FROM pg_indexes WHERE tablename = 'probe_results'")"
fi

# --- CSV and PostgreSQL agree byte for byte --------------------------------
t="same day through CSV and PostgreSQL gives identical ledger and streams"
fresh_db t_same && load_csv "$WORK/day.csv"
"$PAYRUN" -q settle --period 2026-11-01 --input "$WORK/day.csv" --pools "$WORK/pools.csv" \
	--default-pool 5000 --penalty-factor 0.25 --out "$WORK/same-csv"; rc1=$?
"$PAYRUN" -q settle --period 2026-11-01 --source pg --pools "$WORK/pools.csv" \
	--default-pool 5000 --penalty-factor 0.25 --out "$WORK/same-pg"; rc2=$?
if [ $rc1 -eq 0 ] && [ $rc2 -eq 0 ] &&
	cmp -s "$WORK/same-csv/2026-11-01/v1/ledger.csv" "$WORK/same-pg/2026-11-01/v1/ledger.csv" &&
	cmp -s "$WORK/same-csv/2026-11-01/v1/streams.csv" "$WORK/same-pg/2026-11-01/v1/streams.csv" &&
	[ "$(wc -l <"$WORK/same-pg/2026-11-01/v1/ledger.csv")" -gt 400 ]; then
	ok "$t"
else
	not_ok "$t" "rc=$rc1/$rc2, or files differ"
fi

t="database ledger matches the published files"
dbsum=$($PSQL -Atc "SELECT sum(payout_amount) || ',' || sum(forfeited_amount) || ',' || count(*) FROM payout_ledger")
filesum=$(python3 -c '
import csv,sys
r=list(csv.DictReader(open(sys.argv[1],newline="")))
print("%d,%d,%d"%(sum(int(x["payout_amount"]) for x in r),sum(int(x["forfeited_amount"]) for x in r),len(r)))' \
	"$WORK/same-pg/2026-11-01/v1/ledger.csv")
if [ "$dbsum" = "$filesum" ]; then ok "$t"; else not_ok "$t" "db $dbsum files $filesum"; fi

t="exactly one query reads probe_results per settle"
fresh_db t_onequery && load_csv "$WORK/day.csv"
$PSQL -c "SELECT pg_stat_statements_reset()" >/dev/null
"$PAYRUN" -q settle --period 2026-11-01 --source pg --out "$WORK/onequery"; rc=$?
calls=$($PSQL -Atc "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query ILIKE '%FROM probe_results%' AND query NOT ILIKE '%pg_stat_statements%'")
if [ $rc -eq 0 ] && [ "$calls" = 1 ]; then ok "$t"; else not_ok "$t" "rc=$rc, probe_results read $calls times"; fi

t="ids with quotes, commas, newlines and non-ASCII round-trip through PostgreSQL"
fresh_db t_ids && load_csv "$WORK/ids.csv"
"$PAYRUN" -q settle --period 2026-11-01 --input "$WORK/ids.csv" --default-pool 1000 --out "$WORK/ids-csv"; rc1=$?
"$PAYRUN" -q settle --period 2026-11-01 --source pg --default-pool 1000 --out "$WORK/ids-pg"; rc2=$?
rm -rf "$WORK/ids-exp"
"$PAYRUN" -q export --period 2026-11-01 --out "$WORK/ids-exp"; rc3=$?
if [ $rc1 -eq 0 ] && [ $rc2 -eq 0 ] && [ $rc3 -eq 0 ] &&
	cmp -s "$WORK/ids-csv/2026-11-01/v1/ledger.csv" "$WORK/ids-pg/2026-11-01/v1/ledger.csv" &&
	cmp -s "$WORK/ids-pg/2026-11-01/v1/ledger.csv" "$WORK/ids-exp/2026-11-01/v1/ledger.csv" &&
	cmp -s "$WORK/ids-pg/2026-11-01/v1/streams.csv" "$WORK/ids-exp/2026-11-01/v1/streams.csv" &&
	[ "$($PSQL -Atc "SELECT count(*) FROM payout_ledger WHERE node_id = E'multi\\nline' OR node_id = 'ünïcødé-节点' OR node_id = 'with \"quote\"'")" = 15 ]; then
	ok "$t"
else
	not_ok "$t" "rc=$rc1/$rc2/$rc3, or files differ"
fi

t="settle twice: exit 5 and one run row"
"$PAYRUN" -q settle --period 2026-11-01 --source pg --default-pool 1000 --out "$WORK/ids-pg2" 2>"$WORK/twice.log"; rc=$?
runs=$($PSQL -Atc "SELECT count(*) FROM payout_runs")
if [ $rc -eq 5 ] && [ "$runs" = 1 ] && grep -q 'already settled' "$WORK/twice.log" &&
	[ ! -e "$WORK/ids-pg2/2026-11-01/v1" ]; then
	ok "$t"
else
	not_ok "$t" "rc=$rc runs=$runs"
fi

t="pools from payout_pools when no --pools file is given"
fresh_db t_pools && load_csv "$WORK/day.csv"
$PSQL -c "INSERT INTO payout_pools SELECT 'stream-00' || i, '2026-11-01T00:00:00Z', '2026-11-02T00:00:00Z', 700000 + i FROM generate_series(0, 5) i"
"$PAYRUN" -q settle --period 2026-11-01 --source pg --out "$WORK/pools-db"; rc=$?
line=$(grep '^2026-11-01T00:00:00Z,2026-11-02T00:00:00Z,stream-003,' "$WORK/pools-db/2026-11-01/v1/streams.csv" | cut -d, -f4)
if [ $rc -eq 0 ] && [ "$line" = 700003 ]; then ok "$t"; else not_ok "$t" "rc=$rc pool=$line"; fi

t="invalid probe rows in the table are counted as rejects, not dropped"
fresh_db t_invalid && load_csv "$WORK/ids.csv"
$PSQL -c "INSERT INTO probe_results VALUES (900001, 'plain', 'n1', 'bandwidth', true, NULL, NULL, '2026-11-01 01:00:00+00'),
                                           (900002, 'plain', 'n1', 'stats_poll', NULL, NULL, NULL, '2026-11-01 01:00:00+00')"
"$PAYRUN" -q settle --period 2026-11-01 --source pg --max-reject-ratio 0.1 --out "$WORK/invalid"; rc=$?
counts=$(python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["counts"]; print(c["rejected"], c["rejected_by_reason"].get("bad_probe_type"), c["rejected_by_reason"].get("bad_success"), c["rows_read"]-c["in_period"]-c["out_of_period"])' "$WORK/invalid/2026-11-01/v1/manifest.json" 2>/dev/null)
if [ $rc -eq 0 ] && [ "$counts" = "2 1 1 2" ] && grep -q '^probe_results,0,bad_probe_type,' "$WORK/invalid/2026-11-01/v1/rejects.csv" &&
	! grep -q ',n1,' "$WORK/invalid/2026-11-01/v1/ledger.csv"; then
	ok "$t"
else
	not_ok "$t" "rc=$rc counts=$counts"
fi

# --- failures roll back -------------------------------------------------------
t="connection killed mid-COPY: exit 4, no run, no rows, nothing published; the next run succeeds"
fresh_db t_kill && load_csv "$WORK/day.csv"
# a test-only trigger makes the COPY wait so the test can kill it at that point
$PSQL -c "CREATE FUNCTION t_wait() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN PERFORM pg_sleep(30); RETURN NEW; END \$\$" \
	-c "CREATE TRIGGER t_wait BEFORE INSERT ON payout_ledger FOR EACH ROW EXECUTE FUNCTION t_wait()"
"$PAYRUN" -q settle --period 2026-11-01 --source pg --out "$WORK/kill" 2>"$WORK/kill.log" &
pid=$!
killed=0
for _ in $(seq 1 100); do
	n=$($PSQL -Atc "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'payrun settle' AND query ILIKE 'COPY payout_ledger%' AND state = 'active'")
	if [ "$n" = 1 ]; then killed=1; break; fi
	sleep 0.1
done
wait $pid; rc=$?
state=$($PSQL -Atc "SELECT (SELECT count(*) FROM payout_runs) || ',' || (SELECT count(*) FROM payout_ledger) || ',' || (SELECT count(*) FROM payout_stream_totals)")
$PSQL -c "DROP TRIGGER t_wait ON payout_ledger"
"$PAYRUN" -q settle --period 2026-11-01 --source pg --out "$WORK/kill"; rc2=$?
if [ $killed = 1 ] && [ $rc -eq 4 ] && [ "$state" = "0,0,0" ] && grep -q 'SQLSTATE' "$WORK/kill.log" &&
	grep -q "write ledger" "$WORK/kill.log" && [ $rc2 -eq 0 ] &&
	[ "$($PSQL -Atc "SELECT count(*) FROM payout_runs")" = 1 ] &&
	[ -f "$WORK/kill/2026-11-01/v1/ledger.csv" ] && [ -z "$(ls -A "$WORK/kill" | grep -v '^2026-11-01$' | grep -v '^.payrun.lock$' | grep -v '^runs.log$')" ]; then
	ok "$t"
else
	not_ok "$t" "killed=$killed rc=$rc state=$state rc2=$rc2; log: $(tr '\n' '|' <"$WORK/kill.log")"
fi

t="database unreachable: exit 4 naming the step, nothing published"
"$PAYRUN" -q settle --period 2026-11-01 --source pg --db "host=$WORK/nosocket dbname=x" \
	--out "$WORK/down" 2>"$WORK/down.log"; rc=$?
if [ $rc -eq 4 ] && grep -q "step 'connect'" "$WORK/down.log" && [ ! -e "$WORK/down/2026-11-01" ]; then
	ok "$t"
else
	not_ok "$t" "rc=$rc"
fi

t="a password in --db appears in no log, manifest or run record"
fresh_db t_secret && load_csv "$WORK/ids.csv"
"$PAYRUN" -v settle --period 2026-11-01 --source pg \
	--db "dbname=t_secret password=Sup3rSecretPw" --out "$WORK/secret" >"$WORK/secret.out" 2>"$WORK/secret.log"; rc=$?
"$PAYRUN" -v settle --period 2026-11-02 --source pg \
	--db "host=$WORK/nosocket password=Sup3rSecretPw" --out "$WORK/secret" >>"$WORK/secret.out" 2>>"$WORK/secret.log"
if [ $rc -eq 0 ] && ! grep -rq Sup3rSecretPw "$WORK/secret.out" "$WORK/secret.log" "$WORK/secret" &&
	[ "$($PSQL -d t_secret -Atc "SELECT count(*) FROM payout_runs WHERE settings::text || counts::text || timing::text LIKE '%Sup3rSecretPw%'")" = 0 ]; then
	ok "$t"
else
	not_ok "$t" "rc=$rc or the password leaked"
fi

t="export rebuilds a lost publication byte for byte"
rm -rf "$WORK/same-pg-exp"
export PGDATABASE=t_same
"$PAYRUN" -q export --period 2026-11-01 --out "$WORK/same-pg-exp"; rc=$?
if [ $rc -eq 0 ] && cmp -s "$WORK/same-pg/2026-11-01/v1/ledger.csv" "$WORK/same-pg-exp/2026-11-01/v1/ledger.csv" &&
	cmp -s "$WORK/same-pg/2026-11-01/v1/streams.csv" "$WORK/same-pg-exp/2026-11-01/v1/streams.csv"; then
	ok "$t"
else
	not_ok "$t" "rc=$rc or files differ"
fi

echo "pg: $passed passed, $failed failed"
[ $failed -eq 0 ] && [ $passed -gt 0 ]
