#!/bin/bash
# tests/e2e/rollups.sh: 'payrun db rollup', settle --rollups and 'payrun
# preview' against a private cluster (tests/pg/cluster.sh), stopped at exit
# even when a test fails.
#
#   bash tests/e2e/rollups.sh [NAME-SUBSTRING...]
#
# The claim under test: a settle that reads rolled-up hours from the rollups
# gives byte for byte the ledger, streams and rejects of one that reads every
# probe (--rollups off), whatever was inserted, updated, deleted or
# truncated since the hours were rolled up, in any session time zone.  Each
# test has its own database; data comes from build/tools/gen_probes.

# shellcheck disable=SC2317 # the t_ functions are called by run_suite (lib.sh)
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh" rollups || exit 1

GEN=$ROOT/build/tools/gen_probes
DATA=$W/data
# shellcheck disable=SC2034 # read by lib.sh
CLUSTER_TESTS='*'
DAY=2026-11-01

suite_setup() {
	[ -x "$GEN" ] || { fail "'$GEN' is missing (make tools)"; return 1; }
	mkdir -p "$DATA"
	"$GEN" -q --rows 48000 --nodes 120 --streams 4 --seed 11 --day "$DAY" --gzip 0 \
		--out "$DATA/day.csv" || { fail "could not generate the day (gen_probes)"; return 1; }
}

# ------------------------------------------------------------------ helpers

# db NAME: a new database with payrun's schema and the generated day in
# probe_results (timestamptz, the test table of --create-probe-table).
db() {
	pg_cluster_createdb "$1" && export PGDATABASE="$1" &&
		"$PAYRUN" -q db migrate --create-probe-table &&
		$PSQL -c "\\copy probe_results ($(head -n 1 "$DATA/day.csv")) FROM '$DATA/day.csv' WITH (FORMAT csv, HEADER)" ||
		{ fail "could not create database $1 with the day in it"; return 1; }
}

# coord_db NAME: the coordinator's own table (integer id, varchar ids, a
# probe_timestamp without time zone holding UTC, NULL allowed) with the day.
coord_db() {
	pg_cluster_createdb "$1" && export PGDATABASE="$1" &&
		$PSQL -c "CREATE TABLE probe_results (id serial PRIMARY KEY, stream_id varchar NOT NULL,
			node_id varchar NOT NULL, probe_type varchar NOT NULL, success boolean,
			response_data text, error_message text, probe_timestamp timestamp without time zone)" &&
		"$PAYRUN" -q db migrate &&
		$PSQL -c "SET TimeZone = 'UTC'" -c "\\copy probe_results ($(head -n 1 "$DATA/day.csv")) FROM '$DATA/day.csv' WITH (FORMAT csv, HEADER)" \
			-c "SELECT setval('probe_results_id_seq', (SELECT max(id) FROM probe_results))" ||
		{ fail "could not create database $1 with the coordinator's table"; return 1; }
}

# rollup ARGS...: payrun db rollup, which must succeed.
rollup() {
	"$PAYRUN" -q db rollup "$@" 2>"$TD/rollup.err" ||
		{ fail "db rollup $*: $(oneline "$TD/rollup.err")"; return 1; }
}

# settle_pair TAG [ARGS...]: settles the day with --rollups auto into
# TD/TAG-auto and with --rollups off into TD/TAG-off (the runs recorded in
# between are removed: the same period twice), and checks that ledger.csv,
# streams.csv and rejects.csv are the same bytes.
settle_pair() {
	local tag=$1 mode f
	shift
	for mode in auto off; do
		$PSQL -c "TRUNCATE payout_ledger, payout_stream_totals, payout_runs" ||
			{ fail "$tag: could not empty the runs"; return 1; }
		"$PAYRUN" -q settle --period "$DAY" --source pg --default-pool 1000000 --rollups "$mode" \
			--max-reject-ratio 0.1 "$@" --out "$TD/$tag-$mode" 2>"$TD/$tag-$mode.err" ||
			{ fail "$tag: settle --rollups $mode: $(oneline "$TD/$tag-$mode.err")"; return 1; }
	done
	for f in ledger.csv streams.csv rejects.csv; do
		same_file "$TD/$tag-off/$DAY/v1/$f" "$TD/$tag-auto/$DAY/v1/$f" ||
			{ fail "$tag: $f differs between --rollups auto and off: $(cat "$TD/.reason")"; return 1; }
	done
	[ "$(wc -l <"$TD/$tag-off/$DAY/v1/ledger.csv")" -gt 100 ] ||
		{ fail "$tag: ledger.csv has only $(wc -l <"$TD/$tag-off/$DAY/v1/ledger.csv") lines"; return 1; }
}

# hours TAG: the auto settle's rollup use, "daily hourly probes untimed".
hours() {
	python3 - "$TD/$1-auto/$DAY/v1/manifest.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["source"]["rollups"]
print(r["hours_from_daily_rollups"], r["hours_from_hourly_rollups"], r["hours_from_probes"],
      r["untimed_rows_from"])
PY
}

# want_hours TAG "D H P U": the auto settle read that many hours from each.
want_hours() {
	local got
	got=$(hours "$1")
	[ "$got" = "$2" ] || { fail "$1: hours from daily, hourly, probes, untimed: '$got', want '$2'"; return 1; }
}

# sql STATEMENT: one value.
sql() { $PSQL -Atc "$1"; }

# ------------------------------------------------------------------ tests

# a day rolled up whole is read from its daily rollups: the probes' ledger
t_whole_day_from_daily_rollups_is_the_probes_ledger() {
	db t_whole && rollup --enable && rollup --until 2026-11-02T00:00:00Z || return 1
	[ "$(sql "SELECT count(*) FROM probe_rollup_hours WHERE hour <> '-infinity'")" = 24 ] &&
		[ "$(sql "SELECT count(*) FROM probe_rollup_days")" = 1 ] ||
		{ fail "after the refresh: $(sql "SELECT count(*) FROM probe_rollup_hours") hours, $(sql "SELECT count(*) FROM probe_rollup_days") days"; return 1; }
	settle_pair whole && want_hours whole "24 0 0 rollups"
}

# the rows of a settle from rollups: the probe table is not scanned at all
t_settle_from_rollups_reads_no_probe() {
	local before after
	db t_noscan && rollup --enable && rollup --until 2026-11-02T00:00:00Z || return 1
	before=$(sql "SELECT pg_stat_clear_snapshot(); SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_user_tables WHERE relname = 'probe_results'" | tail -n 1)
	"$PAYRUN" -q settle --period "$DAY" --source pg --default-pool 1000 --out "$TD/out" 2>"$TD/s.err" ||
		{ fail "settle: $(oneline "$TD/s.err")"; return 1; }
	sleep 1
	after=$(sql "SELECT pg_stat_clear_snapshot(); SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_user_tables WHERE relname = 'probe_results'" | tail -n 1)
	[ -n "$before" ] && [ "$before" = "$after" ] ||
		{ fail "scans of probe_results before and after the settle: $before, $after"; return 1; }
}

# half the day rolled up: those hours from the hourly rollups, the rest read
t_half_a_day_mixes_rollups_and_probes() {
	db t_half && rollup --enable && rollup --until 2026-11-01T12:30:00Z || return 1
	settle_pair half && want_hours half "0 12 12 rollups"
}

# late inserts, updates (one moving a probe to another hour), deletes and a
# row the read rejects, after the refresh: the ledger follows them at once,
# and again after the next refresh, which rolls up those hours only
t_changes_after_the_refresh_are_seen() {
	local n
	db t_changes && rollup --enable && rollup --until 2026-11-02T00:00:00Z || return 1
	$PSQL -c "INSERT INTO probe_results (id, stream_id, node_id, probe_type, success, probe_timestamp)
			VALUES (900000001, 'stream-000', 'node-late', 'stats_poll', true, '2026-11-01T03:15:00Z'),
			       (900000002, 'stream-001', 'node-late', 'spot_check', NULL, '2026-11-01T04:15:00Z'),
			       (900000003, 'stream-001', 'node-late', 'bogus', true, '2026-11-01T04:16:00Z')" \
		-c "UPDATE probe_results SET success = NOT success WHERE probe_timestamp >= '2026-11-01T05:00:00Z'
			AND probe_timestamp < '2026-11-01T05:10:00Z'" \
		-c "UPDATE probe_results SET probe_timestamp = probe_timestamp + interval '1 hour'
			WHERE id = (SELECT min(id) FROM probe_results WHERE probe_timestamp >= '2026-11-01T10:00:00Z')" \
		-c "DELETE FROM probe_results WHERE probe_timestamp >= '2026-11-01T07:00:00Z'
			AND probe_timestamp < '2026-11-01T07:30:00Z'" ||
		{ fail "could not change the probes"; return 1; }
	n=$(sql "SELECT count(DISTINCT hour) FROM probe_rollup_invalidations")
	[ "$n" = 6 ] || { fail "hours logged: $n ($(sql "SELECT string_agg(DISTINCT hour::text, ' ') FROM probe_rollup_invalidations")), want 6"; return 1; }
	settle_pair before-refresh && want_hours before-refresh "0 18 6 rollups" || return 1
	grep -q 'bad_probe_type' "$TD/before-refresh-auto/$DAY/v1/rejects.csv" ||
		{ fail "the late bogus probe is not in rejects.csv"; return 1; }
	rollup || return 1
	[ "$(sql "SELECT count(*) FROM probe_rollup_invalidations")" = 0 ] ||
		{ fail "the log is not empty after the refresh"; return 1; }
	settle_pair after-refresh && want_hours after-refresh "24 0 0 rollups" || return 1
	same_file "$TD/before-refresh-off/$DAY/v1/ledger.csv" "$TD/after-refresh-auto/$DAY/v1/ledger.csv" ||
		{ fail "the ledger changed across the refresh: $(cat "$TD/.reason")"; return 1; }
}

# a writer in a REPEATABLE READ transaction that began before the refresh
# moved the watermark, and writes into an hour that refresh rolled up: the
# change is logged all the same (the triggers read the watermark from a
# sequence, which the writer's snapshot does not hold back)
t_writer_with_an_older_snapshot_is_logged() {
	local pid
	db t_snapshot && rollup --enable && rollup --until 2026-11-01T06:00:00Z || return 1
	mkfifo "$TD/writer"
	$PSQL -v ON_ERROR_STOP=1 <"$TD/writer" >"$TD/writer.log" 2>&1 &
	pid=$!
	exec 3>"$TD/writer"
	echo "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM payrun_rollup_state;" >&3
	sleep 0.5
	rollup --until 2026-11-01T12:00:00Z || { exec 3>&-; wait "$pid"; return 1; }
	echo "INSERT INTO probe_results (id, stream_id, node_id, probe_type, success, probe_timestamp)
		VALUES (900000001, 'stream-000', 'node-late', 'stats_poll', true, '2026-11-01T08:20:00Z'); COMMIT;" >&3
	exec 3>&-
	wait "$pid" || { fail "the writer failed: $(oneline "$TD/writer.log")"; return 1; }
	[ "$(sql "SELECT string_agg(DISTINCT hour::text, ' ') FROM probe_rollup_invalidations")" = "2026-11-01 08:00:00+00" ] ||
		{ fail "logged: '$(sql "SELECT string_agg(hour::text, ' ') FROM probe_rollup_invalidations")', want hour 8"; return 1; }
	settle_pair snapshot && want_hours snapshot "0 11 13 rollups"
}

# a probe table partitioned by day: writes to a partition by name (which
# fire its triggers, not the parent's) are logged too, also in a partition
# made after --enable (the refresh puts the triggers on it)
t_partitioned_table_and_writes_to_its_partitions() {
	pg_cluster_createdb t_parts && export PGDATABASE=t_parts && "$PAYRUN" -q db migrate ||
		{ fail "could not create database t_parts"; return 1; }
	$PSQL -c "CREATE TABLE probe_results (id bigint, stream_id text NOT NULL, node_id text NOT NULL,
			probe_type text NOT NULL, success boolean, response_data text, error_message text,
			probe_timestamp timestamptz NOT NULL) PARTITION BY RANGE (probe_timestamp)" \
		-c "CREATE TABLE probes_1101 PARTITION OF probe_results FOR VALUES FROM ('2026-11-01') TO ('2026-11-02')" \
		-c "\\copy probe_results ($(head -n 1 "$DATA/day.csv")) FROM '$DATA/day.csv' WITH (FORMAT csv, HEADER)" ||
		{ fail "could not make the partitioned table"; return 1; }
	rollup --enable && rollup --until 2026-11-02T00:00:00Z || return 1
	$PSQL -c "CREATE TABLE probes_1031 PARTITION OF probe_results FOR VALUES FROM ('2026-10-31') TO ('2026-11-01')" || return 1
	rollup --until 2026-11-02T00:00:00Z || return 1
	[ "$(sql "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'payrun_rollup_%' AND tgrelid = 'probes_1031'::regclass")" = 4 ] ||
		{ fail "the partition made after --enable has no rollup triggers after a refresh"; return 1; }
	$PSQL -c "INSERT INTO probes_1101 (id, stream_id, node_id, probe_type, success, probe_timestamp)
			VALUES (900000001, 'stream-000', 'node-direct', 'stats_poll', true, '2026-11-01T02:30:00Z')" \
		-c "DELETE FROM probes_1101 WHERE probe_timestamp >= '2026-11-01T09:00:00Z' AND probe_timestamp < '2026-11-01T09:05:00Z'" \
		-c "INSERT INTO probes_1031 (id, stream_id, node_id, probe_type, success, probe_timestamp)
			VALUES (900000002, 'stream-000', 'node-direct', 'stats_poll', true, '2026-10-31T23:30:00Z')" || return 1
	[ "$(sql "SELECT string_agg(hour::text, ' ' ORDER BY hour) FROM (SELECT DISTINCT hour FROM probe_rollup_invalidations) h")" = "2026-10-31 23:00:00+00 2026-11-01 02:00:00+00 2026-11-01 09:00:00+00" ] ||
		{ fail "logged: $(sql "SELECT string_agg(hour::text, ' ') FROM probe_rollup_invalidations")"; return 1; }
	settle_pair parts && want_hours parts "0 22 2 rollups" || return 1
	rollup --disable && [ "$(sql "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'payrun_rollup_%'")" = 0 ] ||
		{ fail "--disable left triggers on the partitions"; return 1; }
}

# the coordinator's table: local UTC times, written and settled from
# sessions in other time zones, and rows without a timestamp (every settle
# counts them: rolled up in their own bucket, re-read once one changes)
t_coordinator_table_in_other_time_zones() {
	coord_db t_coord || return 1
	$PSQL -c "INSERT INTO probe_results (stream_id, node_id, probe_type, success, probe_timestamp)
			VALUES ('stream-000', 'node-untimed', 'stats_poll', true, NULL)" || { fail "untimed row"; return 1; }
	PGTZ=Asia/Kolkata rollup --enable && PGTZ=America/Anchorage rollup --until 2026-11-02T00:00:00Z || return 1
	PGTZ=Pacific/Kiritimati settle_pair coord && want_hours coord "24 0 0 rollups" || return 1
	grep -q 'node-untimed' "$TD/coord-auto/$DAY/v1/rejects.csv" ||
		{ fail "the row without a timestamp is not in rejects.csv"; return 1; }
	# a late probe written at 23:30 UTC by a session in Kolkata (05:00 the next day there)
	PGTZ=Asia/Kolkata $PSQL -c "INSERT INTO probe_results (stream_id, node_id, probe_type, success, probe_timestamp)
			VALUES ('stream-002', 'node-late', 'stats_poll', true, '2026-11-01 23:30:00'),
			       ('stream-002', 'node-late', 'stats_poll', true, NULL)" || { fail "late rows"; return 1; }
	[ "$(sql "SELECT string_agg(hour::text, ' ' ORDER BY hour) FROM (SELECT DISTINCT hour FROM probe_rollup_invalidations) h")" = "-infinity 2026-11-01 23:00:00+00" ] ||
		{ fail "logged: $(sql "SELECT string_agg(hour::text, ' ') FROM probe_rollup_invalidations")"; return 1; }
	PGOPTIONS="-c timezone=America/New_York" settle_pair coord-late && want_hours coord-late "0 23 1 probes"
}

# a timestamp without time zone holding local times of a zone with a
# half-hour offset (probe_timestamp_zone): hours are UTC hours all the same
t_local_times_of_another_zone() {
	local z=Asia/Kolkata
	db t_zone || return 1
	$PSQL -c "CREATE TABLE probes_local (LIKE probe_results)" \
		-c "ALTER TABLE probes_local ALTER COLUMN probe_timestamp TYPE timestamp without time zone" \
		-c "INSERT INTO probes_local SELECT id, stream_id, node_id, probe_type, success, response_data,
			error_message, probe_timestamp AT TIME ZONE '$z' FROM probe_results" ||
		{ fail "could not make the local-time table"; return 1; }
	rollup --enable --probe-table probes_local --probe-timestamp-zone "$z" &&
		rollup --probe-table probes_local --probe-timestamp-zone "$z" --until 2026-11-02T00:00:00Z || return 1
	[ "$(sql "SELECT count(*) FROM probe_rollup_hours WHERE hour >= '2026-11-01' AND hour < '2026-11-02'")" = 24 ] ||
		{ fail "hours of the UTC day rolled up: $(sql "SELECT string_agg(hour::text, ' ') FROM probe_rollup_hours")"; return 1; }
	PGTZ=America/Anchorage $PSQL -c "INSERT INTO probes_local (id, stream_id, node_id, probe_type, success, probe_timestamp)
			VALUES (900000001, 'stream-000', 'node-late', 'stats_poll', true, '2026-11-01 20:45:00')" || return 1
	[ "$(sql "SELECT string_agg(hour::text, ' ') FROM probe_rollup_invalidations")" = "2026-11-01 15:00:00+00" ] ||
		{ fail "logged: $(sql "SELECT string_agg(hour::text, ' ') FROM probe_rollup_invalidations"), want 15:00 UTC (20:45 in Kolkata)"; return 1; }
	settle_pair zone --probe-table probes_local --probe-timestamp-zone "$z" && want_hours zone "0 23 1 rollups" || return 1
	"$PAYRUN" -q db rollup --probe-table probes_local 2>"$TD/utc.err"
	[ $? -eq 2 ] && grep -q 'in zone' "$TD/utc.err" || { fail "refresh read as UTC: $(oneline "$TD/utc.err")"; return 1; }
}

# a refresh with nothing new does nothing; one at a time; the current
# hour is never rolled up
t_refresh_is_idempotent_and_one_at_a_time() {
	local rc pid
	db t_lock && rollup --enable && rollup --until 2026-11-01T06:00:00Z || return 1
	"$PAYRUN" db rollup --until 2026-11-01T06:00:00Z >"$TD/again.log" 2>&1 &&
		grep -q 'nothing to roll up' "$TD/again.log" || { fail "second refresh: $(oneline "$TD/again.log")"; return 1; }
	$PSQL -c "SELECT pg_advisory_lock(hashtext('payrun.rollup'), 1), pg_sleep(30)" >/dev/null 2>&1 &
	pid=$!
	when_finished sh -c "kill $pid 2>/dev/null; true"
	for _ in $(seq 50); do
		[ "$(sql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")" -gt 0 ] && break
		sleep 0.1
	done
	"$PAYRUN" -q db rollup --until 2026-11-01T12:00:00Z 2>"$TD/locked.err"; rc=$?
	[ "$rc" -eq 5 ] && grep -q 'another' "$TD/locked.err" ||
		{ fail "refresh while another holds the lock: rc=$rc $(oneline "$TD/locked.err"), want 5"; return 1; }
	[ "$(sql "SELECT count(*) FROM probe_rollup_hours WHERE hour <> '-infinity'")" = 6 ] ||
		{ fail "the refused refresh rolled up hours"; return 1; }
	# far in the future: only the closed hours, not the current one
	$PSQL -c "INSERT INTO probe_results (id, stream_id, node_id, probe_type, success, probe_timestamp)
			VALUES (900000001, 'stream-000', 'node-now', 'stats_poll', true, now())" || return 1
	$PSQL -c "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND pid <> pg_backend_pid()" >/dev/null
	wait "$pid" 2>/dev/null
	rollup --until 2999-01-01T00:00:00Z || return 1
	[ "$(sql "SELECT count(*) FROM probe_rollup_hours WHERE hour >= date_trunc('hour', now(), 'UTC')")" = 0 ] ||
		{ fail "the current hour was rolled up"; return 1; }
}

# TRUNCATE empties the rollups with the probes; they start over
t_truncate_starts_the_rollups_over() {
	db t_trunc && rollup --enable && rollup --until 2026-11-02T00:00:00Z || return 1
	$PSQL -c "TRUNCATE probe_results" || { fail "truncate"; return 1; }
	[ "$(sql "SELECT (SELECT count(*) FROM probe_rollups_hourly) + (SELECT count(*) FROM probe_rollup_hours) + (SELECT count(*) FROM probe_rollups_daily)")" = 0 ] &&
		[ "$(sql "SELECT watermark IS NULL FROM payrun_rollup_state")" = t ] ||
		{ fail "rollups left after TRUNCATE"; return 1; }
	"$GEN" -q --rows 24000 --nodes 100 --streams 4 --seed 5 --day "$DAY" --gzip 0 --out "$TD/other.csv" &&
		$PSQL -c "\\copy probe_results ($(head -n 1 "$TD/other.csv")) FROM '$TD/other.csv' WITH (FORMAT csv, HEADER)" ||
		{ fail "reload"; return 1; }
	rollup --until 2026-11-02T00:00:00Z && settle_pair trunc && want_hours trunc "24 0 0 rollups"
}

# --disable: no trigger, no rollup, no state; settles read the probes and say why
t_disable_removes_the_triggers_and_rollups() {
	local why
	db t_disable && rollup --enable && rollup --until 2026-11-02T00:00:00Z && rollup --disable || return 1
	[ "$(sql "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'payrun_rollup_%'")" = 0 ] &&
		[ "$(sql "SELECT (SELECT count(*) FROM probe_rollups_hourly) + (SELECT count(*) FROM probe_rollup_hours) + (SELECT count(*) FROM payrun_rollup_state)")" = 0 ] ||
		{ fail "after --disable: triggers or rollups left"; return 1; }
	settle_pair disabled && want_hours disabled "0 0 24 probes" || return 1
	why=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["source"]["rollups"]["none_used"])' "$TD/disabled-auto/$DAY/v1/manifest.json")
	[ "$why" = "rollups are not enabled (payrun db rollup --enable)" ] || { fail "none_used: $why"; return 1; }
	"$PAYRUN" -q db rollup 2>"$TD/off.err"
	[ $? -eq 2 ] && grep -q 'not enabled' "$TD/off.err" || { fail "refresh when disabled: $(oneline "$TD/off.err")"; return 1; }
}

# rollups of another table are not read for this one, nor refreshed with it
t_rollups_of_another_table_are_left_alone() {
	db t_other && rollup --enable && rollup --until 2026-11-02T00:00:00Z || return 1
	$PSQL -c "CREATE TABLE probe_copy (LIKE probe_results INCLUDING ALL)" -c "INSERT INTO probe_copy SELECT * FROM probe_results" || return 1
	settle_pair other --probe-table probe_copy && want_hours other "0 0 24 probes" || return 1
	"$PAYRUN" -q db rollup --probe-table probe_copy 2>"$TD/r.err"
	[ $? -eq 2 ] && grep -q 'rollups are of' "$TD/r.err" || { fail "refresh of another table: $(oneline "$TD/r.err")"; return 1; }
}

# preview: an open period from rollups and the raw tail; the settle's
# payouts for what is there now; nothing written
t_preview_of_an_open_day() {
	local today rolled
	today=$(date -u +%F)
	pg_cluster_createdb t_preview && export PGDATABASE=t_preview && "$PAYRUN" -q db migrate --create-probe-table || return 1
	"$GEN" -q --rows 24000 --nodes 60 --streams 3 --seed 3 --day "$today" --gzip 0 --out "$TD/today.csv" &&
		$PSQL -c "\\copy probe_results ($(head -n 1 "$TD/today.csv")) FROM '$TD/today.csv' WITH (FORMAT csv, HEADER)" ||
		{ fail "load today"; return 1; }
	rollup --enable && rollup || return 1
	"$PAYRUN" -q preview --period "$today" --default-pool 1000000 --json >"$TD/preview.json" 2>"$TD/p.err" ||
		{ fail "preview: $(oneline "$TD/p.err")"; return 1; }
	"$PAYRUN" -q preview --period "$today" --default-pool 1000000 >"$TD/preview.txt" 2>"$TD/p.err" ||
		{ fail "preview: $(oneline "$TD/p.err")"; return 1; }
	[ "$(sql "SELECT count(*) FROM payout_runs")" = 0 ] || { fail "preview wrote a run"; return 1; }
	grep -q "^period $today, as of .*: open" "$TD/preview.txt" || { fail "preview text: $(head -n 1 "$TD/preview.txt")"; return 1; }
	"$PAYRUN" -q settle --period "$today" --source pg --rollups off --default-pool 1000000 --max-edge-gap 0 \
		--out "$TD/settled" 2>"$TD/s.err" || { fail "settle today: $(oneline "$TD/s.err")"; return 1; }
	rolled=$(sql "SELECT count(*) FROM probe_rollup_hours WHERE hour >= '$today' AND hour < '$today'::date + 1")
	python3 - "$TD/preview.json" "$TD/settled/$today/v1/ledger.csv" "$rolled" <<'PY' 2>"$TD/py.err" ||
import csv, json, sys
p = json.load(open(sys.argv[1]))
led = {(r["stream_id"], r["node_id"]): r for r in csv.DictReader(open(sys.argv[2]))}
got = {(n["stream_id"], n["node_id"]): n for n in p["nodes"]}
err = []
if set(got) != set(led):
    err.append("nodes differ: %d in the preview, %d in the ledger" % (len(got), len(led)))
for k, n in got.items():
    if k in led and (n["payout"] != led[k]["payout_amount"] or n["successful_polls"] != int(led[k]["successful_polls"])):
        err.append("%s: preview %s, ledger %s" % (k, n["payout"], led[k]["payout_amount"]))
r, rolled = p["rollups"], int(sys.argv[3])
if not p["open"] or r["hours_from_hourly_rollups"] != rolled or r["hours_from_probes"] != 24 - rolled:
    err.append("open %s, rollups %s with %d hours rolled up" % (p["open"], r, rolled))
if len(got) < 30:
    err.append("only %d nodes" % len(got))
if err:
    sys.stderr.write("; ".join(err[:5]) + "\n")
    sys.exit(1)
PY
		{ fail "$(cat "$TD/py.err")"; return 1; }
}

run_suite "$@"
