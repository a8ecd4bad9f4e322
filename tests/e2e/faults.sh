#!/bin/bash
# tests/e2e/faults.sh: reliability tests of payrun (issue 5): crashes at the
# named fault points and at random moments, a database restarted or its
# backend terminated mid-run, a full or unwritable output file system, racing
# runs, hostile inputs, money invariants, secrets and file modes.
#
#   bash tests/e2e/faults.sh [NAME-SUBSTRING...]
#
# Drives ./payrun (or $PAYRUN), which must be a test build with fault points
# (make FAULTS=1: build-faults/payrun).  Each test prints `ok - name` or
# `not ok - name: reason` (a test that cannot run here prints
# `ok - name # SKIP why` and is counted as skipped, not passed); the last line
# is `faults: N passed, N failed, N skipped` and the exit status is non-zero
# on any failure or when nothing passed.  Tests are the t_NAME functions
# below, run in the order they are defined (tests/e2e/lib.sh).  Tests named
# pg_* use a private PostgreSQL cluster (tests/pg/cluster.sh), started before
# the first of them is run.  Tests that mount a tmpfs or switch to the nobody
# user need root and skip without.
#
#   FAULTS_SEED=N       seed of the random kill moments (printed on each run)
#   FAULTS_ROUNDS=N     rounds of the racing-runs tests (30; pg: a third)
#   FAULTS_KILLS=N      random kills of the kill -9 tests (6)
#   FAULTS_KEEP=1       keep the temporary directory for inspection
#   FAULTS_TIMES=1      print each test's wall time
#   FAULTS_TIMEOUT=S    seconds any one payrun run may take (120)
#   FAULTS_MEM_SCALE=N  multiply the peak-RSS bounds (use 4 with SANITIZE=address)

# shellcheck disable=SC2317 # the t_ functions are called by run_suite (lib.sh)
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh" faults || exit 1

GEN=$ROOT/build/tools/gen_probes
PY=${PYTHON:-python3}
ORACLE=$ROOT/tests/oracle/settle_ref.py
CHECK=$ROOT/tests/e2e/check.py
LIMIT=${FAULTS_TIMEOUT:-120}
ROUNDS=${FAULTS_ROUNDS:-30}
KILLS=${FAULTS_KILLS:-6}
MEMX=${FAULTS_MEM_SCALE:-1}    # memory bounds are multiplied by this (4 for an ASan build)
SEED=${FAULTS_SEED:-$(( $(date +%s) % 100000 ))}
LABEL=2026-11-01
# shellcheck disable=SC2034 # read by lib.sh
CLUSTER_TESTS='pg_*'
# shellcheck disable=SC2034 # read by lib.sh
SUMMARY_SKIPS=1

FX=$W/fx        # shared inputs, generated on first use
REF=$W/ref      # uninterrupted runs, the expected results
mkdir -p "$FX" "$REF"

# ------------------------------------------------------------------ helpers
# Every test runs in a subshell with TD, its own directory.  Helpers return
# non-zero after recording why (fail, lib.sh); tests chain them with ||; a
# test that cannot run here says so with skip (lib.sh) and returns 0.
# prun TAG ARGS... (lib.sh) runs payrun ARGS under the hang limit: RC,
# $TD/TAG.out, $TD/TAG.err; PAYRUN_FAULT=... prun ... injects a fault, and
# 124 means it hung.

expect_rc() {     # expect_rc WANT TAG [WHAT]
	[ "$RC" = "$1" ] && return 0
	[ "$RC" = 124 ] && { fail "${3:-$2}: payrun hung (killed after ${LIMIT}s)"; return 1; }
	fail "${3:-$2}: exit $RC, want $1; stderr: $(oneline "$TD/$2.err")"
}

err_says() {      # err_says TAG TEXT: TAG's stderr contains TEXT
	grep -qF -- "$2" "$TD/$1.err" && return 0
	fail "$1: stderr does not say '$2': $(oneline "$TD/$1.err")"
}

no_version() {    # no_version OUT: nothing published for LABEL
	local v
	for v in "$1/$LABEL"/v*; do
		[ -e "$v" ] || [ -L "$v" ] || continue
		fail "'${v#"$TD"/}' exists after a failed or killed run"
		return 1
	done
	return 0
}

no_tmp() {        # no_tmp OUT: no temporary directory left over
	local t
	for t in "$1"/.tmp-*; do
		[ -e "$t" ] || [ -L "$t" ] || continue
		fail "leftover temporary directory '${t#"$TD"/}'"
		return 1
	done
	return 0
}

has_tmp() {       # has_tmp OUT: a crashed run left its temporary directory
	compgen -G "$1/.tmp-*" >/dev/null
}

same_as() {       # same_as REF_V1 V1 [FILES]: byte-identical files (ledger.csv streams.csv)
	local f
	for f in ${3:-ledger.csv streams.csv}; do
		same_file "$1/$f" "$2/$f" || return 1
	done
}

complete_version() {   # complete_version V1: the files are exactly those the manifest lists, digests agree
	local out
	out=$("$PY" - "$1" 2>&1 <<'EOF'
import hashlib, json, os, sys
v = sys.argv[1]
errs = []
try:
    m = json.load(open(os.path.join(v, "manifest.json")))
    listed = {o["name"]: o for o in m["outputs"]}
    present = set(os.listdir(v)) - {"manifest.json"}
    if "v%d" % m["version"] != os.path.basename(os.path.normpath(v)):
        errs.append("manifest says version %r" % m["version"])
    if set(listed) != present:
        errs.append("files %s, manifest lists %s" % (sorted(present), sorted(listed)))
    for name, o in listed.items():
        p = os.path.join(v, name)
        if os.path.exists(p):
            d = open(p, "rb").read()
            if hashlib.sha256(d).hexdigest() != o["sha256"] or len(d) != o["bytes"]:
                errs.append("%s does not match its manifest digest" % name)
except Exception as e:
    errs.append("manifest unreadable: %s" % e)
print("; ".join(errs))
sys.exit(1 if errs else 0)
EOF
) && return 0
	fail "'${1#"$TD"/}' is not a complete version: $out"
}

ms_now() { date +%s%3N; }

# ------------------------------------------------------------------ fixtures
# mid: 200,000 rows (32 MB decoded, many 1 MiB chunks), plain and gzip.
# big: 2,000,000 rows gzip (about 320 MB decoded), for kills at random moments.

write_pools() {   # pools with streams absent from the data and a zero pool
	{
		echo stream_id,pool
		local s
		for s in 0 1 2 3 4 5 6 7 8 9; do printf 'stream-%03d,%d\n' "$s" $((1000003 + s * 7919)); done
		echo stream-unseen,777
		echo stream-zero,0
	} >"$1"
}

fx_mid() {
	[ -f "$FX/mid.csv.gz" ] && return 0
	write_pools "$FX/pools.csv"
	"$GEN" -q --rows 200000 --nodes 2000 --streams 20 --seed 5 --gzip 0 --out "$FX/mid.csv" &&
		"$GEN" -q --rows 200000 --nodes 2000 --streams 20 --seed 5 --gzip 1 --out "$FX/mid.tmp.gz" &&
		mv "$FX/mid.tmp.gz" "$FX/mid.csv.gz" || { fail "gen_probes failed"; return 1; }
}

fx_big() {
	[ -f "$FX/big.csv.gz" ] && return 0
	fx_mid || return 1
	"$GEN" -q --rows 2000000 --nodes 10000 --streams 20 --seed 9 --gzip 1 --out "$FX/big.tmp.gz" &&
		mv "$FX/big.tmp.gz" "$FX/big.csv.gz" || { fail "gen_probes failed"; return 1; }
}

mid_opts() {      # MID=( settle options for the mid day, without --input/--out )
	MID=(--period "$LABEL" --pools "$FX/pools.csv" --default-pool 100000 --penalty-factor 0.25)
}

ref_mid() {       # $REF/mid/LABEL/v1: the mid day settled without interruption
	fx_mid || return 1
	mid_opts
	[ -d "$REF/mid/$LABEL/v1" ] && return 0
	prun ref settle "${MID[@]}" --input "$FX/mid.csv.gz" --out "$REF/mid" || true
	expect_rc 0 ref "reference run" || return 1
}

ref_big() {       # $REF/big/LABEL/v1 and $REF/big.ms, its wall time
	fx_big || return 1
	mid_opts
	[ -d "$REF/big/$LABEL/v1" ] && return 0
	local t0
	t0=$(ms_now)
	prun ref settle "${MID[@]}" --input "$FX/big.csv.gz" --out "$REF/big"
	echo $(($(ms_now) - t0)) >"$REF/big.ms"
	expect_rc 0 ref "reference run" || return 1
}

# ------------------------------------------------------------------ PostgreSQL
# One cluster (lib.sh starts it before the first pg_ test); database "tmpl"
# has the schema and the mid day, and each test clones it (CREATE DATABASE
# ... TEMPLATE) into its own database.

cluster_setup() {
	fx_mid || return 1
	$PSQL -d postgres -c "CREATE DATABASE tmpl" &&
		PGDATABASE=tmpl "$PAYRUN" -q db migrate --create-probe-table &&
		$PSQL -d tmpl -c "\\copy probe_results ($(head -n 1 "$FX/mid.csv")) FROM '$FX/mid.csv' WITH (FORMAT csv, HEADER)" &&
		$PSQL -d tmpl -c "VACUUM ANALYZE probe_results" ||
		{ fail "could not create the template database tmpl"; return 1; }
}

fresh_db() {      # fresh_db [NAME]: a clone of tmpl as PGDATABASE
	local name=${1:-t_${TNAME}}
	name=${name:0:63}
	$PSQL -d postgres -c "DROP DATABASE IF EXISTS \"$name\"" -c "CREATE DATABASE \"$name\" TEMPLATE tmpl" \
		>/dev/null 2>"$TD/createdb.err" || { fail "could not create database $name: $(oneline "$TD/createdb.err")"; return 1; }
	export PGDATABASE=$name
}

pg_opts() {       # PGO=( settle options for the mid day from PostgreSQL )
	mid_opts
	PGO=("${MID[@]}" --source pg)
}

ref_pg() {        # $REF/pg/LABEL/v1 and $REF/pg.ms
	pg_opts
	[ -d "$REF/pg/$LABEL/v1" ] && return 0
	local t0
	(fresh_db ref_pg || exit 1
		t0=$(ms_now)
		prun ref settle "${PGO[@]}" --out "$REF/pg"
		echo $(($(ms_now) - t0)) >"$REF/pg.ms"
		expect_rc 0 ref "PostgreSQL reference run") || return 1
}

db_counts() {     # runs,ledger rows,stream totals
	$PSQL -Atc "SELECT (SELECT count(*) FROM payout_runs) || ',' || (SELECT count(*) FROM payout_ledger) || ',' || (SELECT count(*) FROM payout_stream_totals)"
}

ref_counts() {    # what db_counts says after one run of the mid day
	echo "1,$(($(wc -l <"$REF/pg/$LABEL/v1/ledger.csv") - 1)),$(($(wc -l <"$REF/pg/$LABEL/v1/streams.csv") - 1))"
}

backends_gone() { # wait (up to 10 s) until no payrun session is left in this database
	local i n
	for i in $(seq 1 100); do
		n=$($PSQL -Atc "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'payrun%'")
		[ "$n" = 0 ] && return 0
		sleep 0.1
	done
	fail "a payrun session is still open in the database 10 s after the client died"
}

# lock_table TABLE: a background session holds an ACCESS EXCLUSIVE lock on
# TABLE, so that payrun blocks at the step that touches it.
lock_table() {
	PGAPPNAME=faults-locker $PSQL -c "BEGIN" -c "LOCK TABLE $1 IN ACCESS EXCLUSIVE MODE" \
		-c "SELECT pg_sleep(120)" >/dev/null 2>&1 &
	LOCKER=$!
	local i
	for i in $(seq 1 100); do
		[ "$($PSQL -Atc "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'faults-locker' AND query LIKE '%pg_sleep%'")" = 1 ] && return 0
		sleep 0.05
	done
	fail "the locking session did not start"
}

release_lock() {
	$PSQL -Atc "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'faults-locker'" >/dev/null 2>&1
	wait "$LOCKER" 2>/dev/null
	return 0
}

blocked_pid() {   # blocked_pid APP: backend pid of APP once it waits on a lock (10 s)
	local i p
	for i in $(seq 1 200); do
		p=$($PSQL -Atc "SELECT pid FROM pg_stat_activity WHERE application_name = '$1' AND wait_event_type = 'Lock' LIMIT 1")
		[ -n "$p" ] && { echo "$p"; return 0; }
		sleep 0.05
	done
	return 1
}

pg_restart() {
	pg_cluster_run "$PG_BIN/pg_ctl" -D "$PG_CLUSTER_DIR/data" -l "$PG_CLUSTER_DIR/server.log" \
		-m fast -w -t 60 restart >/dev/null 2>&1
}

# ------------------------------------------------------------------ A. crash at each fault point

crash_csv() {     # crash_csv FAULT INPUT
	local out=$TD/out
	ref_mid || return 1
	[ "$(zcat -f "$2" | wc -c)" -gt $((3 * 1024 * 1024)) ] || { fail "input is not multi-chunk"; return 1; }
	PAYRUN_FAULT=$1 prun crash settle "${MID[@]}" --input "$2" --out "$out"
	expect_rc 137 crash "PAYRUN_FAULT=$1 (killed at the fault point)" || return 1
	no_version "$out" || return 1
	has_tmp "$out" || { fail "no temporary directory after the crash: the fault fired before any output"; return 1; }
	prun again -v settle "${MID[@]}" --input "$2" --out "$out"
	expect_rc 0 again "the run after the crash" || return 1
	err_says again "removing leftover temporary directory" || return 1
	same_as "$REF/mid/$LABEL/v1" "$out/$LABEL/v1" "ledger.csv streams.csv rejects.csv" || return 1
	complete_version "$out/$LABEL/v1" || return 1
	no_tmp "$out"
}

t_crash_read_chunk() { fx_mid && crash_csv read_chunk:2 "$FX/mid.csv.gz"; }
t_crash_read_chunk_plain() { fx_mid && crash_csv read_chunk:5 "$FX/mid.csv"; }
t_crash_after_read() { fx_mid && crash_csv after_read "$FX/mid.csv.gz"; }
t_crash_after_files() { fx_mid && crash_csv after_files "$FX/mid.csv.gz"; }
t_crash_before_rename() { fx_mid && crash_csv before_rename "$FX/mid.csv.gz"; }

# The database is committed after the files are written and before they are
# renamed into place: a crash before COMMIT leaves nothing anywhere, a crash
# after it leaves the run in the database and no files, which 'payrun
# export' rebuilds (docs/operations.md, "Catching up after an outage").
# run_hint TAG FROM: runs the 'payrun export' that FROM's stderr says to run,
# exactly as printed, without the PG* environment the tests found the
# database with: the hint must carry its own --db.  Sets RC like prun.
run_hint() {
	local cmd real=$PAYRUN
	cmd=$(sed -n 's/.*rebuild them with: payrun \(export .*\)$/\1/p' "$TD/$2.err" | head -n 1)
	[ -n "$cmd" ] || { fail "$2: no 'rebuild them with: payrun export' hint: $(oneline "$TD/$2.err")"; return 1; }
	case $cmd in *"--out '$TD/out' --db "*) ;; *) fail "$2: the hint names no --db or the wrong --out: $cmd"; return 1 ;; esac
	eval "set -- $cmd"
	printf '#!/bin/sh\nexec env -u PGHOST -u PGHOSTADDR -u PGPORT -u PGDATABASE -u PGUSER -u PGSERVICE "%s" "$@"\n' "$real" >"$TD/no-pg-env"
	chmod +x "$TD/no-pg-env"
	PAYRUN=$TD/no-pg-env
	prun "$1" "$@"
	PAYRUN=$real
}

crash_pg() {      # crash_pg FAULT committed|rolled-back
	local out=$TD/out state
	ref_pg || return 1
	fresh_db || return 1
	PAYRUN_FAULT=$1 prun crash settle "${PGO[@]}" --out "$out"
	expect_rc 137 crash "PAYRUN_FAULT=$1 (killed at the fault point)" || return 1
	no_version "$out" || return 1
	backends_gone || return 1
	state=$(db_counts)
	if [ "$2" = rolled-back ]; then
		[ "$state" = 0,0,0 ] || { fail "after a crash before COMMIT the database has runs,ledger,totals = $state, want 0,0,0"; return 1; }
		prun again settle "${PGO[@]}" --out "$out"
		expect_rc 0 again "the run after the crash" || return 1
	else
		[ "$state" = "$(ref_counts)" ] || { fail "after a crash past COMMIT the database has $state, want $(ref_counts)"; return 1; }
		# what the documented recovery says: the next settle exits 5 ...
		prun again settle "${PGO[@]}" --out "$out"
		expect_rc 5 again "settle after a crash past COMMIT" || return 1
		err_says again "already settled in the database" || return 1
		no_version "$out" || return 1
		no_tmp "$out" || return 1
		grep -q 'already settled in the database' "$ROOT/docs/operations.md" &&
			grep -q 'payrun export --period LABEL --out OUT' "$ROOT/docs/operations.md" ||
			{ fail "docs/operations.md does not describe this recovery"; return 1; }
		# ... and the export it prints, run as printed, rebuilds the files
		run_hint export again || return 1
		expect_rc 0 export "payrun export after a crash past COMMIT, as the hint gives it" || return 1
		prun again2 settle "${PGO[@]}" --out "$out"
		expect_rc 5 again2 "settle after the export" || return 1
	fi
	same_as "$REF/pg/$LABEL/v1" "$out/$LABEL/v1" || return 1
	complete_version "$out/$LABEL/v1" || return 1
	[ "$(db_counts)" = "$(ref_counts)" ] || { fail "database has $(db_counts) at the end, want $(ref_counts)"; return 1; }
	no_tmp "$out"
}

t_pg_crash_after_read() { crash_pg after_read rolled-back; }
t_pg_crash_db_after_copy() { crash_pg db_after_copy rolled-back; }
t_pg_crash_after_files() { crash_pg after_files rolled-back; }
t_pg_crash_after_commit() { crash_pg after_commit committed; }
t_pg_crash_before_rename() { crash_pg before_rename committed; }

# The nightly job after a crash past COMMIT: it stops at that period with
# exit 5, pointing at 'payrun export', every night until the files are
# rebuilt; then it carries on.
t_pg_crash_after_commit_nightly_job() {
	local out=$TD/out
	ref_pg || return 1
	fresh_db || return 1
	PAYRUN_FAULT=after_commit prun crash settle "${PGO[@]}" --out "$out"
	expect_rc 137 crash "PAYRUN_FAULT=after_commit" || return 1
	backends_gone || return 1
	cat >"$TD/nightly.conf" <<EOF
job = "faults-nightly"
command = "settle"
source = "pg"
db = "dbname=$PGDATABASE"
period_length = "1d"
start_period = "$LABEL"
max_periods = 1
require_complete = false
out = "$out"
pools = "$FX/pools.csv"
default_pool = "100000"
penalty_factor = "0.25"
# the day after the mid day has no probe: settle it anyway (has_probes), as
# the job carrying on to it is what is tested
allow_empty = true
EOF
	prun job1 run "$TD/nightly.conf"
	expect_rc 5 job1 "the nightly job after a crash past COMMIT" || return 1
	prun job2 run "$TD/nightly.conf"
	expect_rc 5 job2 "the nightly job the next night" || return 1
	no_version "$out" && no_tmp "$out" || return 1
	run_hint export job2 || return 1
	expect_rc 0 export "payrun export, as the job's hint gives it" || return 1
	prun job3 run "$TD/nightly.conf"
	expect_rc 0 job3 "the nightly job after the export" || return 1
	same_as "$REF/pg/$LABEL/v1" "$out/$LABEL/v1" || return 1
	[ -d "$out/2026-11-02/v1" ] || { fail "the job did not carry on to 2026-11-02"; return 1; }
}

# A rerun killed before its rename: v1 untouched, no v2; the next rerun
# publishes v2 with the same ledger (unchanged inputs).
t_crash_rerun_before_rename() {
	local out=$TD/out
	ref_mid || return 1
	cp -a "$REF/mid" "$out"
	PAYRUN_FAULT=before_rename prun crash rerun "${MID[@]}" --input "$FX/mid.csv.gz" --reason "fault test" --out "$out"
	expect_rc 137 crash "rerun with PAYRUN_FAULT=before_rename" || return 1
	[ ! -e "$out/$LABEL/v2" ] || { fail "v2 exists after the crash"; return 1; }
	same_as "$REF/mid/$LABEL/v1" "$out/$LABEL/v1" "ledger.csv streams.csv rejects.csv manifest.json" || return 1
	prun again rerun "${MID[@]}" --input "$FX/mid.csv.gz" --reason "fault test" --out "$out"
	expect_rc 0 again "the rerun after the crash" || return 1
	same_as "$REF/mid/$LABEL/v1" "$out/$LABEL/v2" && complete_version "$out/$LABEL/v2" && no_tmp "$out"
}

# A rerun killed after its COMMIT: the database has v2, the files stop at v1;
# a rerun is refused (exit 5) and export publishes v2.
t_pg_crash_rerun_after_commit() {
	local out=$TD/out
	ref_pg || return 1
	fresh_db || return 1
	prun first settle "${PGO[@]}" --out "$out"
	expect_rc 0 first "settle v1" || return 1
	PAYRUN_FAULT=after_commit prun crash rerun "${PGO[@]}" --reason "fault test" --out "$out"
	expect_rc 137 crash "rerun with PAYRUN_FAULT=after_commit" || return 1
	backends_gone || return 1
	[ "$($PSQL -Atc "SELECT count(*) FROM payout_runs WHERE version = 2 AND supersedes IS NOT NULL")" = 1 ] ||
		{ fail "the rerun's COMMIT is not in the database"; return 1; }
	[ ! -e "$out/$LABEL/v2" ] || { fail "v2 files exist after the crash"; return 1; }
	prun again rerun "${PGO[@]}" --reason "fault test" --out "$out"
	expect_rc 5 again "rerun while the files lag the database" && err_says again "payrun export" || return 1
	prun export export --period "$LABEL" --out "$out"
	expect_rc 0 export "export of v2" || return 1
	same_as "$REF/pg/$LABEL/v1" "$out/$LABEL/v2" && complete_version "$out/$LABEL/v2" && no_tmp "$out" || return 1
	same_as "$REF/pg/$LABEL/v1" "$out/$LABEL/v1"
}

# Every file of a version lost (v1 and v2): export rebuilds them in order,
# each in its own directory (v2 is not published as v1).
t_pg_export_in_order() {
	local out=$TD/out
	ref_pg || return 1
	fresh_db || return 1
	prun s settle "${PGO[@]}" --out "$TD/orig"
	expect_rc 0 s "settle" || return 1
	prun r rerun "${PGO[@]}" --default-pool 200000 --reason "pool change" --out "$TD/orig"
	expect_rc 0 r "rerun with another default pool" || return 1
	prun e1 export --period "$LABEL" --out "$out"
	expect_rc 5 e1 "export of v2 into an empty directory" || return 1
	no_version "$out" || return 1
	prun e2 export --period "$LABEL" --version 1 --out "$out"
	expect_rc 0 e2 "export of v1" || return 1
	prun e3 export --period "$LABEL" --out "$out"
	expect_rc 0 e3 "export of v2 next to v1" || return 1
	same_as "$TD/orig/$LABEL/v1" "$out/$LABEL/v1" && same_as "$TD/orig/$LABEL/v2" "$out/$LABEL/v2" &&
		complete_version "$out/$LABEL/v1" && complete_version "$out/$LABEL/v2" || return 1
	prun e4 export --period "$LABEL" --version 1 --out "$out"
	expect_rc 5 e4 "export of v1 again" || return 1
	no_tmp "$out"
}

# ------------------------------------------------------------------ B. kill -9 at random moments

t_kill9_random() {
	local i t delay out pid rc outcome log=""
	ref_big || return 1
	t=$(cat "$REF/big.ms")
	RANDOM=$SEED
	for i in $(seq 1 "$KILLS"); do
		out=$TD/out$i
		# odd kills anywhere in the run, even ones in its last sixth (write, publish)
		if [ $((i % 2)) = 1 ]; then delay=$((RANDOM * t / 32768)); else delay=$((t * 5 / 6 + RANDOM * t / 6 / 32768)); fi
		"$PAYRUN" -q settle "${MID[@]}" --input "$FX/big.csv.gz" --out "$out" >/dev/null 2>"$TD/k$i.err" &
		pid=$!
		sleep "$((delay / 1000)).$(printf '%03d' $((delay % 1000)))"
		kill -9 "$pid" 2>/dev/null
		{ wait "$pid"; } 2>/dev/null
		rc=$?
		if [ -e "$out/$LABEL/v1" ]; then
			outcome=published
			complete_version "$out/$LABEL/v1" || return 1
			same_as "$REF/big/$LABEL/v1" "$out/$LABEL/v1" || return 1
			prun again settle "${MID[@]}" --input "$FX/big.csv.gz" --out "$out"
			expect_rc 5 again "kill $i at ${delay}ms (published): the next run" || return 1
		else
			outcome=nothing
			no_version "$out" || return 1
			prun again settle "${MID[@]}" --input "$FX/big.csv.gz" --out "$out"
			expect_rc 0 again "kill $i at ${delay}ms: the next run" || return 1
			same_as "$REF/big/$LABEL/v1" "$out/$LABEL/v1" || return 1
			complete_version "$out/$LABEL/v1" || return 1
		fi
		no_tmp "$out" || return 1
		log="$log ${delay}ms:$outcome(rc $rc)"
		rm -rf "$out"
	done
	note "kill9_random (run ${t}ms, FAULTS_SEED=$SEED):$log"
}

t_pg_kill9_random() {
	local i t delay out pid rc state outcome log=""
	ref_pg || return 1
	fresh_db || return 1
	t=$(cat "$REF/pg.ms")
	RANDOM=$((SEED + 1))
	for i in $(seq 1 "$KILLS"); do
		out=$TD/out$i
		$PSQL -c "TRUNCATE payout_stream_totals, payout_ledger, payout_runs" >/dev/null
		if [ $((i % 2)) = 1 ]; then delay=$((RANDOM * t / 32768)); else delay=$((t * 2 / 3 + RANDOM * t / 3 / 32768)); fi
		"$PAYRUN" -q settle "${PGO[@]}" --out "$out" >/dev/null 2>"$TD/k$i.err" &
		pid=$!
		sleep "$((delay / 1000)).$(printf '%03d' $((delay % 1000)))"
		kill -9 "$pid" 2>/dev/null
		{ wait "$pid"; } 2>/dev/null
		rc=$?
		backends_gone || return 1
		state=$(db_counts)
		if [ -e "$out/$LABEL/v1" ]; then
			outcome=published
			[ "$state" = "$(ref_counts)" ] || { fail "kill $i at ${delay}ms: files published but the database has $state"; return 1; }
			complete_version "$out/$LABEL/v1" || return 1
		elif [ "$state" = "$(ref_counts)" ]; then
			outcome=committed
			prun export export --period "$LABEL" --out "$out"
			expect_rc 0 export "kill $i at ${delay}ms (committed, no files): export" || return 1
		elif [ "$state" = 0,0,0 ]; then
			outcome=nothing
			no_version "$out" || return 1
			prun again settle "${PGO[@]}" --out "$out"
			expect_rc 0 again "kill $i at ${delay}ms: the next run" || return 1
		else
			fail "kill $i at ${delay}ms: database has runs,ledger,totals = $state"
			return 1
		fi
		same_as "$REF/pg/$LABEL/v1" "$out/$LABEL/v1" || return 1
		prun last settle "${PGO[@]}" --out "$out"
		expect_rc 5 last "kill $i: settle once more" || return 1
		no_tmp "$out" || return 1
		log="$log ${delay}ms:$outcome(rc $rc)"
		rm -rf "$out"
	done
	note "pg_kill9_random (run ${t}ms, FAULTS_SEED=$SEED):$log"
}

# ------------------------------------------------------------------ C. database restarted or backend terminated

# db_interrupt TABLE ACTION: payrun blocks on TABLE (probe_results: the read;
# payout_ledger: the COPY inside the write transaction); then ACTION
# (restart | terminate).  Exit 4, nothing published or committed, and the
# next run succeeds.
db_interrupt() {
	local out=$TD/out pid bpid rc
	ref_pg || return 1
	fresh_db || return 1
	lock_table "$1" || return 1
	"$PAYRUN" settle "${PGO[@]}" --out "$out" >"$TD/run.out" 2>"$TD/run.err" &
	pid=$!
	if ! bpid=$(blocked_pid "payrun settle"); then
		release_lock
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		fail "payrun never blocked on $1"
		return 1
	fi
	case $2 in
	restart) pg_restart || { fail "pg_ctl restart failed"; release_lock; return 1; } ;;
	terminate) $PSQL -Atc "SELECT pg_terminate_backend($bpid)" >/dev/null ;;
	esac
	{ wait "$pid"; } 2>/dev/null
	RC=$?
	release_lock
	expect_rc 4 run "payrun while the database was ${2}ed" || return 1
	# the server's reason and the step (during COPY libpq has no SQLSTATE for it)
	err_says run "terminating connection due to administrator command" || return 1
	grep -q "database step '[a-z ]*' failed" "$TD/run.err" || { fail "the failed step is not named: $(oneline "$TD/run.err" 500)"; return 1; }
	grep -q 'statement ROLLBACK' "$TD/run.err" &&
		{ fail "tried a ROLLBACK on a lost connection: $(oneline "$TD/run.err" 500)"; return 1; }
	no_version "$out" || return 1
	no_tmp "$out" || return 1
	[ "$(db_counts)" = 0,0,0 ] || { fail "database has runs,ledger,totals = $(db_counts) after the failed run"; return 1; }
	prun again settle "${PGO[@]}" --out "$out"
	expect_rc 0 again "the next run" || return 1
	same_as "$REF/pg/$LABEL/v1" "$out/$LABEL/v1" || return 1
	[ "$(db_counts)" = "$(ref_counts)" ] || { fail "database has $(db_counts) after the next run"; return 1; }
}

t_pg_restart_during_read() { db_interrupt probe_results restart; }
t_pg_restart_during_write() { db_interrupt payout_ledger restart; }
t_pg_terminate_during_read() { db_interrupt probe_results terminate; }
t_pg_terminate_during_write() { db_interrupt payout_ledger terminate; }

# ------------------------------------------------------------------ D. full or unwritable output

can_mount() {     # can_mount DIR OPTIONS: mount a tmpfs at DIR, or skip
	mkdir -p "$1"
	[ "$(id -u)" = 0 ] && mount -t tmpfs -o "$2" tmpfs "$1" 2>/dev/null
}

pages() { echo $((($1 + 4095) / 4096)); }

t_disk_full_tmpfs() {
	local mnt=$TD/mnt out size sizes l s r where=""
	ref_mid || return 1
	can_mount "$mnt" size=8k || { skip "cannot mount a tmpfs here (not root, or not permitted)"; return 0; }
	out=$mnt/out
	l=$(stat -c %s "$REF/mid/$LABEL/v1/ledger.csv")
	s=$(stat -c %s "$REF/mid/$LABEL/v1/streams.csv")
	r=$(stat -c %s "$REF/mid/$LABEL/v1/rejects.csv")
	# full at once, in the middle of ledger.csv, and with room for all but the manifest
	sizes="8k $(( $(pages "$l") * 2 ))k $(( ($(pages "$l") + $(pages "$s") + $(pages "$r")) * 4 ))k"
	for size in $sizes; do
		rm -rf "$out"
		mount -o "remount,size=$size" "$mnt" || { umount "$mnt"; fail "remount size=$size failed"; return 1; }
		prun full settle "${MID[@]}" --input "$FX/mid.csv.gz" --out "$out"
		[ "$RC" = 1 ] || { umount "$mnt"; expect_rc 1 full "tmpfs of $size"; return 1; }
		grep -q 'No space left on device' "$TD/full.err" ||
			{ umount "$mnt"; fail "tmpfs of $size: stderr does not say 'No space left on device': $(oneline "$TD/full.err")"; return 1; }
		no_version "$out" && no_tmp "$out" || { umount "$mnt"; return 1; }
		where="$where $size: $(grep -m1 -o "could not [a-z]* '[^']*'" "$TD/full.err");"
	done
	mount -o remount,size=64m "$mnt"
	prun again settle "${MID[@]}" --input "$FX/mid.csv.gz" --out "$out"
	expect_rc 0 again "after freeing space" && same_as "$REF/mid/$LABEL/v1" "$out/$LABEL/v1" &&
		complete_version "$out/$LABEL/v1" && no_tmp "$out"
	rc=$?
	umount "$mnt"
	note "disk_full_tmpfs:$where"
	return $rc
}

t_file_size_limit_efbig() {   # ulimit -f with SIGXFSZ ignored: write() fails with EFBIG
	local out=$TD/out
	ref_mid || return 1
	( ulimit -f 256; trap '' XFSZ; prun full settle "${MID[@]}" --input "$FX/mid.csv.gz" --out "$out"; exit $RC )
	RC=$?
	expect_rc 1 full "ledger.csv larger than ulimit -f 256 (SIGXFSZ ignored)" || return 1
	err_says full "could not write 'ledger.csv': File too large" || return 1
	no_version "$out" && no_tmp "$out" || return 1
	prun again settle "${MID[@]}" --input "$FX/mid.csv.gz" --out "$out"
	expect_rc 0 again "without the limit" && same_as "$REF/mid/$LABEL/v1" "$out/$LABEL/v1" && no_tmp "$out"
}

t_file_size_limit_sigxfsz() { # ulimit -f with the default SIGXFSZ: killed, like a crash
	local out=$TD/out
	ref_mid || return 1
	( ulimit -f 256; prun full settle "${MID[@]}" --input "$FX/mid.csv.gz" --out "$out"; exit $RC )
	RC=$?
	expect_rc 153 full "ledger.csv larger than ulimit -f 256 (killed by SIGXFSZ)" || return 1
	no_version "$out" || return 1
	prun again settle "${MID[@]}" --input "$FX/mid.csv.gz" --out "$out"
	expect_rc 0 again "without the limit" && same_as "$REF/mid/$LABEL/v1" "$out/$LABEL/v1" && no_tmp "$out"
}

# Root bypasses modes: the run is made as nobody, with a copy of the binary
# and of its inputs in TD/nb (0755), as nobody may not reach the checkout
# (in a 0700 home, say).
t_unwritable_out_nobody() {
	local d=$TD/nb
	fx_mid || return 1
	mid_opts
	if [ "$(id -u)" != 0 ] || ! id nobody >/dev/null 2>&1; then skip "needs root and a nobody user"; return 0; fi
	when_finished chmod 700 "$W" "$W/t"
	chmod 711 "$W" "$W/t" "$TD"
	mkdir -p "$d/out" "$d/ro"
	cp "$PAYRUN" "$d/payrun" && cp "$FX/mid.csv.gz" "$FX/pools.csv" "$d/" ||
		{ fail "could not copy payrun and its inputs to $(rel "$d")"; return 1; }
	chmod 755 "$d" "$d/payrun"
	chmod 644 "$d/mid.csv.gz" "$d/pools.csv"
	# the copy runs as nobody, so that 'Permission denied' below is the output's
	runuser -u nobody -- "$d/payrun" --version >"$TD/nbv.out" 2>&1 ||
		{ fail "nobody cannot run '$d/payrun' (is ${TMPDIR:-/tmp} searchable by all?): $(oneline "$TD/nbv.out")"; return 1; }
	chown nobody "$d/out"
	chmod 500 "$d/out" "$d/ro"
	local args=(--period "$LABEL" --pools "$d/pools.csv" --default-pool 100000 --input "$d/mid.csv.gz")
	{ timeout -k 5 "$LIMIT" runuser -u nobody -- "$d/payrun" settle "${args[@]}" --out "$d/out" >"$TD/ro1.out" 2>"$TD/ro1.err"; } 2>/dev/null
	RC=$?
	expect_rc 1 ro1 "output directory of mode 0500 owned by the user" || return 1
	err_says ro1 "Permission denied" || return 1
	[ -z "$(ls -A "$d/out")" ] || { fail "files appeared in the read-only directory: $(ls -A "$d/out" | tr '\n' ' ')"; return 1; }
	{ timeout -k 5 "$LIMIT" runuser -u nobody -- "$d/payrun" settle "${args[@]}" --out "$d/ro/sub" >"$TD/ro2.out" 2>"$TD/ro2.err"; } 2>/dev/null
	RC=$?
	expect_rc 1 ro2 "output directory to be created in a read-only directory" || return 1
	err_says ro2 "could not create output directory" || return 1
	[ -z "$(ls -A "$d/ro")" ] || { fail "files appeared in the read-only directory"; return 1; }
}

t_readonly_mount() {
	local mnt=$TD/mnt
	fx_mid || return 1
	mid_opts
	can_mount "$mnt" ro,size=1m || { skip "cannot mount a tmpfs here (not root, or not permitted)"; return 0; }
	prun ro1 settle "${MID[@]}" --input "$FX/mid.csv.gz" --out "$mnt"
	expect_rc 1 ro1 "output directory on a read-only mount" && err_says ro1 "Read-only file system" &&
		prun ro2 settle "${MID[@]}" --input "$FX/mid.csv.gz" --out "$mnt/sub" &&
		expect_rc 1 ro2 "output directory to be created on a read-only mount" && err_says ro2 "Read-only file system"
	local rc=$?
	umount "$mnt"
	return $rc
}

# ------------------------------------------------------------------ E. racing runs of one period

t_concurrent_same_period() {
	local i out a b ra rb lock=0 settled=0
	ref_mid || return 1
	for i in $(seq 1 "$ROUNDS"); do
		out=$TD/r$i
		"$PAYRUN" -q settle "${MID[@]}" --input "$FX/mid.csv.gz" --out "$out" >/dev/null 2>"$TD/a.err" &
		a=$!
		"$PAYRUN" -q settle "${MID[@]}" --input "$FX/mid.csv.gz" --out "$out" >/dev/null 2>"$TD/b.err" &
		b=$!
		wait $a; ra=$?
		wait $b; rb=$?
		case "$ra $rb" in
		"0 5") cp "$TD/b.err" "$TD/loser.err" ;;
		"5 0") cp "$TD/a.err" "$TD/loser.err" ;;
		*) fail "round $i: exits $ra and $rb, want 0 and 5; stderr: $(oneline "$TD/a.err" 150) / $(oneline "$TD/b.err" 150)"; return 1 ;;
		esac
		if grep -q 'holds the lock' "$TD/loser.err"; then lock=$((lock + 1))
		elif grep -q 'already settled' "$TD/loser.err"; then settled=$((settled + 1))
		else fail "round $i: the loser does not say why: $(oneline "$TD/loser.err")"; return 1
		fi
		[ "$(ls "$out/$LABEL")" = v1 ] || { fail "round $i: $LABEL/ holds '$(ls "$out/$LABEL" | tr '\n' ' ')', want v1 only"; return 1; }
		complete_version "$out/$LABEL/v1" && same_as "$REF/mid/$LABEL/v1" "$out/$LABEL/v1" && no_tmp "$out" || return 1
		rm -rf "$out"
	done
	note "concurrent_same_period: $ROUNDS rounds, loser stopped by the lock $lock times, by the published v1 $settled times"
}

# Two runs with different output directories: only the database keeps them apart.
t_pg_concurrent_same_period() {
	local i a b ra rb n rounds=$(((ROUNDS + 2) / 3)) winner
	ref_pg || return 1
	fresh_db || return 1
	for i in $(seq 1 "$rounds"); do
		$PSQL -c "TRUNCATE payout_stream_totals, payout_ledger, payout_runs" >/dev/null
		rm -rf "$TD/a" "$TD/b"
		"$PAYRUN" -q settle "${PGO[@]}" --out "$TD/a" >/dev/null 2>"$TD/a.err" &
		a=$!
		"$PAYRUN" -q settle "${PGO[@]}" --out "$TD/b" >/dev/null 2>"$TD/b.err" &
		b=$!
		wait $a; ra=$?
		wait $b; rb=$?
		case "$ra $rb" in
		"0 5") winner=a ;;
		"5 0") winner=b ;;
		*) fail "round $i: exits $ra and $rb, want 0 and 5; stderr: $(oneline "$TD/a.err" 150) / $(oneline "$TD/b.err" 150)"; return 1 ;;
		esac
		[ "$(db_counts)" = "$(ref_counts)" ] || { fail "round $i: database has $(db_counts), want $(ref_counts)"; return 1; }
		n=$(ls -d "$TD"/[ab]/"$LABEL"/v* 2>/dev/null | wc -l)
		[ "$n" = 1 ] && [ -d "$TD/$winner/$LABEL/v1" ] || { fail "round $i: $n published versions, want one in the winner's directory"; return 1; }
		same_as "$REF/pg/$LABEL/v1" "$TD/$winner/$LABEL/v1" && no_tmp "$TD/a" && no_tmp "$TD/b" || return 1
	done
	note "pg_concurrent_same_period: $rounds rounds, one winner each"
}

# ------------------------------------------------------------------ F. hostile input

# oracle_case ARGS...: payrun and the oracle settle ARGS; ledger and streams
# byte-identical, the same rejects.  The oracle takes the refusal checks'
# overrides as payrun does.
oracle_case() {
	prun run settle "$@" --out "$TD/out"
	expect_rc 0 run || return 1
	"$PY" "$ORACLE" "$@" --out "$TD/ref" --rejects "$TD/ref-rejects.csv" >"$TD/ref.json" 2>"$TD/ref.err" ||
		{ fail "oracle failed: $(oneline "$TD/ref.err")"; return 1; }
	same_as "$TD/ref" "$TD/out/$LABEL/v1" || return 1
	local out
	out=$("$PY" "$CHECK" rejects "$TD/out/$LABEL/v1/rejects.csv" "$TD/ref-rejects.csv" 2>&1) ||
		{ fail "rejects differ from the oracle's: $(printf '%s' "$out" | tr '\n' ';' | head -c 300)"; return 1; }
}

mark() { touch "$TD/.mark"; sleep 0.01; }

no_writes_outside() {   # no_writes_outside OUT...: nothing under $W changed since mark but OUT and the logs
	local f ok=0
	while IFS= read -r f; do
		lib_file "$f" && continue      # the test's own bookkeeping (lib.sh)
		case $f in
		"$TD"/.reason | "$TD"/.mark | "$TD"/*.err | "$TD"/*.out | "$TD"/*.mem | "$TD"/ref | "$TD"/ref/* | "$TD"/ref*.csv | "$TD"/ref.json) continue ;;
		esac
		local o hit=0
		for o in "$@"; do case $f in "$o" | "$o"/*) hit=1 ;; esac; done
		[ $hit = 1 ] && continue
		[ "$f" = "$TD" ] && continue
		fail "payrun wrote outside its output directory: '${f#"$W"/}'"
		return 1
	done < <(find "$W" -newer "$TD/.mark" 2>/dev/null)
	return $ok
}

# hostile_file KIND FILE: a day whose ids are hostile in one way (python writes it)
hostile_file() {
	"$PY" - "$1" "$2" <<'EOF'
import sys
kind, path = sys.argv[1], sys.argv[2]
ids = {
    "sql": [b"'; DROP TABLE probe_results; --", b"x' OR '1'='1", b"$$; SELECT pg_sleep(10); $$",
            b"Robert'); DROP TABLE payout_runs;--", b"\\'; COPY x TO PROGRAM 'id'; --", b"%s%n%x%p"],
    "quotes": [b'"', b'""', b'"a"b"', b"'", b"''", b'a,"b",c', b'`id`', b'\\"\\'],
    "nul": [b"a\x00b", b"\x00", b"\x00\x00node", b"tail\x00"],
    "utf8": [b"bad\xff\xfe", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf", b"caf\xc3\xa9", b"\xef\xbb\xbfbom"],
}[kind]
ids += [b"plain-a", b"plain-b"]
def q(b):
    return b'"' + b.replace(b'"', b'""') + b'"' if any(c in b for c in b',"\r\n') else b
rows, n = [], 1
for si, s in enumerate(ids[:4]):
    for ni, node in enumerate(ids):
        for k in range(2 + ni % 3):
            rows.append(b",".join([b"%d" % n, q(s), q(node), b"stats_poll", b"t" if (k + si) % 3 else b"f",
                                   b"2026-11-01 %02d:00:00" % k, q(b"err '; --" + node), q(b'{"x": "' + node + b'"}')]) + b"\n")
            n += 1
        rows.append(b",".join([b"%d" % n, q(s), q(node), b"spot_check", b"f" if ni % 4 == 0 else b"t",
                               b"2026-11-01 12:00:00", b"", b""]) + b"\n")
        n += 1
open(path, "wb").write(b"id,stream_id,node_id,probe_type,success,probe_timestamp,error_message,response_data\n" + b"".join(rows))
EOF
}

hostile_case() {  # hostile_case KIND: settle like the oracle, write nowhere else
	hostile_file "$1" "$TD/in.csv" || { fail "could not write the input"; return 1; }
	mark
	# the hostile days have probes from 00:00 to 12:00 only (edge_gap)
	oracle_case --period "$LABEL" --input "$TD/in.csv" --default-pool 100000 --penalty-factor 0.5 --max-edge-gap 0 || return 1
	no_writes_outside "$TD/out" || return 1
	[ "$(wc -l <"$TD/out/$LABEL/v1/ledger.csv")" -gt 10 ] || { fail "ledger nearly empty"; return 1; }
}

t_hostile_sql_ids() { hostile_case sql; }
t_hostile_quotes() { hostile_case quotes; }
t_hostile_nul_bytes() { hostile_case nul; }
t_hostile_invalid_utf8() { hostile_case utf8; }

# SQL metacharacters through PostgreSQL: ids in probe_results, a reason with
# SQL in it; the tables survive and the results equal the CSV path's.
t_pg_hostile_sql() {
	local reason="'); DROP TABLE payout_runs; -- \$\$ \\' \""
	fresh_db || return 1
	hostile_file sql "$TD/sql.csv"
	hostile_file quotes "$TD/quotes.csv"
	# the two files share ids; renumber the second so both load
	"$PY" -c '
import sys
lines = open(sys.argv[1], "rb").read().split(b"\n")
out = [lines[0]] + [b"9000000" + l if l else l for l in lines[1:]]
open(sys.argv[1], "wb").write(b"\n".join(out))' "$TD/quotes.csv"
	$PSQL -c "TRUNCATE probe_results" \
		-c "\\copy probe_results ($(head -n 1 "$TD/sql.csv")) FROM '$TD/sql.csv' WITH (FORMAT csv, HEADER)" \
		-c "\\copy probe_results ($(head -n 1 "$TD/quotes.csv")) FROM '$TD/quotes.csv' WITH (FORMAT csv, HEADER)" ||
		{ fail "could not load the hostile ids"; return 1; }
	# the days have probes from 00:00 to 12:00 only: --max-edge-gap 0.  The
	# hostile streams' pools go into payout_pools (100000 each, as the CSV
	# settle's default pool): a PostgreSQL settle with a default pool and an
	# empty payout_pools is refused, a payrun bug (pg.sh's DO NOT MERGE test
	# default_pool_with_empty_payout_pools); so the pools, and the copy of
	# them the version keeps, hold the hostile ids too.
	$PSQL -c "DELETE FROM payout_pools" -c "INSERT INTO payout_pools SELECT DISTINCT stream_id,
		'${LABEL}T00:00:00Z'::timestamptz, '${LABEL}T00:00:00Z'::timestamptz + interval '1 day', 100000 FROM probe_results" ||
		{ fail "could not fill payout_pools"; return 1; }
	prun csv settle --period "$LABEL" --input "$TD/sql.csv" --input "$TD/quotes.csv" --default-pool 100000 \
		--max-edge-gap 0 --out "$TD/csv"
	expect_rc 0 csv "CSV settle" || return 1
	prun pg settle --period "$LABEL" --source pg --default-pool 100000 --max-edge-gap 0 --out "$TD/pg"
	expect_rc 0 pg "PostgreSQL settle" || return 1
	same_as "$TD/csv/$LABEL/v1" "$TD/pg/$LABEL/v1" || return 1
	prun rerun rerun --period "$LABEL" --source pg --default-pool 100000 --max-edge-gap 0 --reason "$reason" --out "$TD/pg"
	expect_rc 0 rerun "rerun with SQL in --reason" || return 1
	[ "$($PSQL -Atc "SELECT reason FROM payout_runs WHERE version = 2")" = "$reason" ] ||
		{ fail "the reason was not stored verbatim: $($PSQL -Atc "SELECT reason FROM payout_runs WHERE version = 2")"; return 1; }
	[ "$($PSQL -Atc "SELECT count(*) FROM probe_results")" = "$(($(wc -l <"$TD/sql.csv") + $(wc -l <"$TD/quotes.csv") - 2))" ] ||
		{ fail "probe_results changed"; return 1; }
	rm -rf "$TD/exp"
	prun exp export --period "$LABEL" --version 1 --out "$TD/exp"
	expect_rc 0 exp "export" && same_as "$TD/pg/$LABEL/v1" "$TD/exp/$LABEL/v1" "ledger.csv streams.csv pools.csv"
}

# A 1 MB field in a column payrun does not use: accepted, settled like the
# oracle settles the same rows with that field short (the oracle's csv
# cross-check stops at Python's 128 KiB field limit).
t_hostile_1mb_ignored_field() {
	"$PY" - "$TD" <<'EOF'
import sys
big = b'{"blob": "' + b'x,"\n' * 262144 + b'"}'
for name, blob in (("in.csv", big), ("short.csv", b"{}")):
    rows = [b"id,stream_id,node_id,probe_type,success,probe_timestamp,error_message,response_data\n"]
    for i in range(300):
        rb = b'"' + blob.replace(b'"', b'""') + b'"' if i % 50 == 0 else b"{}"
        rows.append(b"%d,s%d,n%d,stats_poll,%s,2026-11-01 03:00:00,,%s\n" % (i, i % 3, i % 17, b"t" if i % 7 else b"f", rb))
    open(sys.argv[1] + "/" + name, "wb").write(b"".join(rows))
EOF
	mark
	# (all the probes at 03:00: --max-edge-gap 0)
	prun run settle --period "$LABEL" --input "$TD/in.csv" --default-pool 1000 --max-edge-gap 0 --out "$TD/out"
	expect_rc 0 run "six 1.3 MB response_data fields" || return 1
	"$PY" "$ORACLE" --period "$LABEL" --input "$TD/short.csv" --default-pool 1000 --max-edge-gap 0 --out "$TD/ref" >/dev/null 2>"$TD/ref.err" ||
		{ fail "oracle failed: $(oneline "$TD/ref.err")"; return 1; }
	same_as "$TD/ref" "$TD/out/$LABEL/v1" && no_writes_outside "$TD/out"
}

# A 1 MB id: rejected (stream_id_too_long / node_id_too_long), its record cut
# at 1 KiB in rejects.csv; the rest settled like the oracle without them.
t_hostile_1mb_id() {
	"$PY" - "$TD" <<'EOF'
import sys
rows = [b"stream_id,node_id,probe_type,success,probe_timestamp\n"]
for i in range(3000):
    rows.append(b"s%d,n%d,stats_poll,t,2026-11-01 04:00:00\n" % (i % 3, i % 17))
open(sys.argv[1] + "/short.csv", "wb").write(b"".join(rows))
rows.insert(100, b"s1," + b"N" * 1048576 + b",stats_poll,t,2026-11-01 04:00:00\n")
rows.insert(200, b'"' + b"S" * 1048576 + b'",n1,stats_poll,t,2026-11-01 04:00:00\n')
open(sys.argv[1] + "/in.csv", "wb").write(b"".join(rows))
EOF
	mark
	# (all the probes at 04:00: --max-edge-gap 0)
	prun run settle --period "$LABEL" --input "$TD/in.csv" --default-pool 1000 --max-edge-gap 0 --out "$TD/out"
	expect_rc 0 run "two 1 MiB ids in 3002 rows" || return 1
	"$PY" "$ORACLE" --period "$LABEL" --input "$TD/short.csv" --default-pool 1000 --max-edge-gap 0 --out "$TD/ref" >/dev/null 2>"$TD/ref.err" ||
		{ fail "oracle failed: $(oneline "$TD/ref.err")"; return 1; }
	same_as "$TD/ref" "$TD/out/$LABEL/v1" || return 1
	local out
	out=$("$PY" "$CHECK" reasons "$TD/out/$LABEL/v1" '{"stream_id_too_long": 1, "node_id_too_long": 1}' 2>&1) ||
		{ fail "$out"; return 1; }
	[ "$(awk 'length > 1100' "$TD/out/$LABEL/v1/rejects.csv" | wc -l)" = 0 ] || { fail "a rejects.csv line is longer than the 1 KiB cut"; return 1; }
	no_writes_outside "$TD/out"
}

# 10 million columns: a record is rejected as field_count, a header refused;
# memory stays small.
t_hostile_10m_columns() {
	local mem
	"$PY" - "$TD" <<'EOF'
import sys
d = sys.argv[1]
hdr = b"stream_id,node_id,probe_type,success,probe_timestamp\n"
rows = [b"s%d,n%d,stats_poll,t,2026-11-01 05:00:00\n" % (i % 3, i % 11) for i in range(2000)]
open(d + "/narrow.csv", "wb").write(hdr + b"".join(rows))
wide = b"s1,nX,stats_poll,t,2026-11-01 05:00:00" + b",x" * 10000000 + b"\n"
open(d + "/wide.csv", "wb").write(hdr + b"".join(rows[:1000]) + wide + b"".join(rows[1000:]))
open(d + "/widehdr.csv", "wb").write(hdr.rstrip(b"\n") + b",c" * 10000000 + b"\n" + b"".join(rows))
EOF
	mark
	# (all the probes at 05:00: --max-edge-gap 0)
	{ /usr/bin/time -f %M -o "$TD/wide.mem" timeout -k 5 "$LIMIT" "$PAYRUN" settle --period "$LABEL" --input "$TD/wide.csv" \
		--default-pool 1000 --max-edge-gap 0 --out "$TD/out" >"$TD/wide.out" 2>"$TD/wide.err"; } 2>/dev/null
	RC=$?
	expect_rc 0 wide "a record of 10,000,005 fields" || return 1
	mem=$(tail -n 1 "$TD/wide.mem")
	[ "$mem" -lt $((131072 * MEMX)) ] || { fail "peak RSS ${mem} KiB on a 20 MB record"; return 1; }
	local out
	out=$("$PY" "$CHECK" reasons "$TD/out/$LABEL/v1" '{"field_count": 1}' 2>&1) || { fail "$out"; return 1; }
	"$PY" "$ORACLE" --period "$LABEL" --input "$TD/narrow.csv" --default-pool 1000 --max-edge-gap 0 --out "$TD/ref" >/dev/null 2>&1
	same_as "$TD/ref" "$TD/out/$LABEL/v1" || return 1
	{ /usr/bin/time -f %M -o "$TD/hdr.mem" timeout -k 5 "$LIMIT" "$PAYRUN" settle --period "$LABEL" --input "$TD/widehdr.csv" \
		--default-pool 1000 --out "$TD/out2" >"$TD/hdr.out" 2>"$TD/hdr.err"; } 2>/dev/null
	RC=$?
	expect_rc 3 hdr "a header of 10,000,005 columns" && err_says hdr "columns, more than payrun accepts" && no_version "$TD/out2" || return 1
	mem=$(tail -n 1 "$TD/hdr.mem")
	[ "$mem" -lt $((131072 * MEMX)) ] || { fail "peak RSS ${mem} KiB on a 20 MB header"; return 1; }
	no_writes_outside "$TD/out" "$TD/out2"
}

# A record longer than the scanner's 64 MiB limit: a clear error.
t_hostile_huge_record() {
	"$PY" - "$TD/in.csv" <<'EOF'
import sys
with open(sys.argv[1], "wb") as f:
    f.write(b"stream_id,node_id,probe_type,success,probe_timestamp,response_data\n")
    f.write(b's,n,stats_poll,t,2026-11-01 05:00:00,"' + b"y" * (80 << 20) + b'"\n')
EOF
	{ /usr/bin/time -f %M -o "$TD/run.mem" timeout -k 5 "$LIMIT" "$PAYRUN" settle --period "$LABEL" --input "$TD/in.csv" \
		--out "$TD/out" >"$TD/run.out" 2>"$TD/run.err"; } 2>/dev/null
	RC=$?
	expect_rc 3 run "an 80 MiB record" && err_says run "longer than" && no_version "$TD/out" || return 1
	[ "$(tail -n 1 "$TD/run.mem")" -lt $((262144 * MEMX)) ] || { fail "peak RSS $(tail -n 1 "$TD/run.mem") KiB"; return 1; }
}

fx_bombs() {      # zeros.gz: 1 GiB of NUL bytes; rows.gz: a header and 1 GiB of valid rows (16 members each)
	[ -f "$FX/rows.gz" ] && return 0
	local i row
	head -c 64M /dev/zero | gzip -9 >"$FX/z64.gz"
	# 64 bytes a row with its newline, so that 64 MiB members end on a line end
	row="stream-bomb,node-,stats_poll,t,2026-11-01 06:00:00"
	row="stream-bomb,node-$(printf 'b%.0s' $(seq 1 $((63 - ${#row})))),stats_poll,t,2026-11-01 06:00:00"
	[ ${#row} = 63 ] || { fail "bomb row is ${#row} bytes"; return 1; }
	yes "$row" | head -c 64M | gzip -9 >"$FX/r64.gz"
	for i in $(seq 1 16); do cat "$FX/z64.gz"; done >"$FX/zeros.gz"
	{ printf 'stream_id,node_id,probe_type,success,probe_timestamp\n' | gzip; for i in $(seq 1 16); do cat "$FX/r64.gz"; done; } >"$FX/rows.tmp"
	mv "$FX/rows.tmp" "$FX/rows.gz"
	rm -f "$FX/z64.gz" "$FX/r64.gz"
}

bomb_run() {      # bomb_run TAG FILE [OPTIONS]: settle with memory and time measured
	local tag=$1 f=$2 t0
	shift 2
	t0=$(ms_now)
	{ /usr/bin/time -f %M -o "$TD/$tag.mem" timeout -k 5 "$LIMIT" "$PAYRUN" settle --period "$LABEL" --input "$f" \
		--default-pool 1000 "$@" --out "$TD/$tag" >"$TD/$tag.out" 2>"$TD/$tag.err"; } 2>/dev/null
	RC=$?
	MS=$(($(ms_now) - t0))
	MEM=$(tail -n 1 "$TD/$tag.mem")
}

t_gzip_bomb_zeros() {
	fx_bombs || return 1
	mark
	bomb_run def "$FX/zeros.gz"
	expect_rc 3 def "1 GiB of zeros in $(stat -c %s "$FX/zeros.gz") bytes, default ratio" || return 1
	err_says def "decompression ratio exceeds 1000:1" && no_version "$TD/def" || return 1
	[ "$MS" -lt 5000 ] && [ "$MEM" -lt $((65536 * MEMX)) ] || { fail "refused after ${MS}ms with ${MEM} KiB peak RSS"; return 1; }
	local refused="${MS}ms, ${MEM} KiB peak RSS"
	bomb_run off "$FX/zeros.gz" --max-inflate-ratio 0
	expect_rc 3 off "the zeros with --max-inflate-ratio 0" && err_says off "longer than 64 MiB" && no_version "$TD/off" || return 1
	[ "$MEM" -lt $((262144 * MEMX)) ] || { fail "zeros without a ratio limit: ${MEM} KiB peak RSS"; return 1; }
	note "gzip_bomb_zeros: refused at the default ratio in $refused; without a limit the 64 MiB record limit stops it in ${MS}ms, ${MEM} KiB"
	no_writes_outside "$TD/def" "$TD/off"
}

t_gzip_bomb_rows() {
	local ratio out
	fx_bombs || return 1
	ratio=$(( (16 << 26) / $(stat -c %s "$FX/rows.gz") ))
	bomb_run low "$FX/rows.gz" --max-inflate-ratio 100
	expect_rc 3 low "1 GiB of rows (ratio ${ratio}:1) with --max-inflate-ratio 100" || return 1
	err_says low "decompression ratio exceeds 100:1" && no_version "$TD/low" || return 1
	[ "$MS" -lt 5000 ] || { fail "refused only after ${MS}ms"; return 1; }
	# (every row at 06:00: --max-edge-gap 0)
	bomb_run ok "$FX/rows.gz" --max-inflate-ratio 0 --max-edge-gap 0
	expect_rc 0 ok "1 GiB of rows (ratio ${ratio}:1) with --max-inflate-ratio 0" || return 1
	[ "$MEM" -lt $((131072 * MEMX)) ] || { fail "accepted bomb: ${MEM} KiB peak RSS"; return 1; }
	out=$("$PY" -c '
import json, sys
m = json.load(open(sys.argv[1] + "/manifest.json"))
led = open(sys.argv[1] + "/ledger.csv").read().splitlines()
ok = m["counts"]["rows_read"] == 16 << 20 and m["counts"]["rejected"] == 0 and len(led) == 2 and led[1].split(",")[4] == str(16 << 20)
print("" if ok else "counts %r, ledger %r" % (m["counts"], led[1:]))
sys.exit(0 if ok else 1)' "$TD/ok/$LABEL/v1" 2>&1) || { fail "accepted bomb settled wrong: $out"; return 1; }
	note "gzip_bomb_rows: ratio ${ratio}:1; 16,777,216 rows settled in ${MS}ms, ${MEM} KiB peak RSS"
}

# Symlinks planted where payrun will create something: it must not follow them.
elsewhere() {     # an empty directory outside the output directory, and a file in it
	mkdir -p "$TD/elsewhere"
	echo precious >"$TD/elsewhere/file"
}

elsewhere_untouched() {
	[ "$(ls -A "$TD/elsewhere")" = file ] && [ "$(cat "$TD/elsewhere/file")" = precious ] && return 0
	fail "payrun wrote through a symlink: elsewhere/ holds $(ls -A "$TD/elsewhere" | tr '\n' ' ')"
}

t_symlink_label_dir() {   # DIR/LABEL -> elsewhere
	fx_mid && mid_opts && elsewhere
	mkdir -p "$TD/out"
	ln -s "$TD/elsewhere" "$TD/out/$LABEL"
	prun run settle "${MID[@]}" --input "$FX/mid.csv.gz" --out "$TD/out"
	expect_rc 1 run "DIR/$LABEL a symlink" && err_says run "$LABEL" && elsewhere_untouched && no_tmp "$TD/out"
}

t_symlink_version_dir() { # DIR/LABEL/v1 -> elsewhere: taken as settled, never written
	fx_mid && mid_opts && elsewhere
	mkdir -p "$TD/out/$LABEL"
	ln -s "$TD/elsewhere" "$TD/out/$LABEL/v1"
	prun run settle "${MID[@]}" --input "$FX/mid.csv.gz" --out "$TD/out"
	expect_rc 5 run "DIR/$LABEL/v1 a symlink" && elsewhere_untouched || return 1
	prun rr rerun "${MID[@]}" --input "$FX/mid.csv.gz" --reason test --out "$TD/out"
	[ "$RC" != 0 ] || { fail "rerun over a symlinked v1 succeeded"; return 1; }
	elsewhere_untouched && no_tmp "$TD/out"
}

t_symlink_lock_file() {   # DIR/.payrun.lock -> elsewhere/lock
	fx_mid && mid_opts && elsewhere
	mkdir -p "$TD/out"
	ln -s "$TD/elsewhere/lock" "$TD/out/.payrun.lock"
	prun run settle "${MID[@]}" --input "$FX/mid.csv.gz" --out "$TD/out"
	expect_rc 1 run "DIR/.payrun.lock a symlink" && err_says run ".payrun.lock" && elsewhere_untouched
}

t_symlink_runs_log() {    # DIR/runs.log -> elsewhere/file: settles, never appends through it
	fx_mid && mid_opts && elsewhere
	mkdir -p "$TD/out"
	ln -s "$TD/elsewhere/file" "$TD/out/runs.log"
	prun run settle "${MID[@]}" --input "$FX/mid.csv.gz" --out "$TD/out"
	expect_rc 0 run "DIR/runs.log a symlink" && err_says run "runs.log': it is a symlink" && elsewhere_untouched
}

t_symlink_failed_dir() {  # DIR/LABEL/failed -> elsewhere, with too many rejects
	elsewhere
	mkdir -p "$TD/out/$LABEL"
	ln -s "$TD/elsewhere" "$TD/out/$LABEL/failed"
	printf '%s\n' stream_id,node_id,probe_type,success,probe_timestamp 's,n,stats_poll,t,2026-11-01 01:00:00' \
		's,n,bogus,t,2026-11-01 01:00:00' >"$TD/bad.csv"
	prun run settle --period "$LABEL" --input "$TD/bad.csv" --out "$TD/out"
	expect_rc 3 run "rejects over the ratio with DIR/LABEL/failed a symlink" && err_says run "could not be kept" &&
		elsewhere_untouched && no_version "$TD/out" && no_tmp "$TD/out"
}

# DIR/.tmp-LABEL-v1-PID planted for the next few hundred pids, as symlinks,
# and an old temporary directory holding a symlink to a file elsewhere.
t_symlink_tmp_dir() {
	local pid hit=no
	fx_mid && mid_opts && elsewhere
	mkdir -p "$TD/out/.tmp-$LABEL-v1-1" "$TD/out/$LABEL"
	ln -s "$TD/elsewhere/file" "$TD/out/.tmp-$LABEL-v1-1/ledger.csv"
	# one process plants them all, so that the pids stay close to payrun's
	"$PY" -c '
import os, sys
try:
    last = int(open("/proc/sys/kernel/ns_last_pid").read())
except OSError:
    last = 1
for p in range(last + 1, last + 500):
    os.symlink(sys.argv[1], "%s/.tmp-%s-v1-%d" % (sys.argv[2], sys.argv[3], p))' "$TD/elsewhere" "$TD/out" "$LABEL"
	"$PAYRUN" settle "${MID[@]}" --input "$FX/mid.csv.gz" --out "$TD/out" >"$TD/run.out" 2>"$TD/run.err" &
	pid=$!
	{ wait $pid; } 2>/dev/null
	RC=$?
	[ -L "$TD/out/.tmp-$LABEL-v1-$pid" ] && hit=yes
	elsewhere_untouched || return 1
	[ ! -e "$TD/out/.tmp-$LABEL-v1-1" ] || { fail "the old temporary directory was not removed"; return 1; }
	if [ $hit = yes ]; then
		expect_rc 1 run "its own temporary directory name planted as a symlink" && err_says run "could not create temporary directory" || return 1
	else
		expect_rc 0 run "planted temporary names (pid $pid not among them)" || return 1
	fi
	note "symlink_tmp_dir: payrun's pid $pid was among the planted names: $hit (exit $RC)"
}

t_period_label_traversal() {
	local l
	fx_mid && mid_opts
	mkdir -p "$TD/a/b"
	mark
	for l in '../../etc' '2026-11-01/../../x' '../2026-11-01' '2026-11-01/' '/etc/passwd' '2026-11-01/..' \
		'..' '.' '2026-11-01T05/../..' $'2026-11-01\n' '2026-11-01 ' '2026-11-01%2f..'; do
		prun run settle --period "$l" --input "$FX/mid.csv.gz" --out "$TD/a/b/out"
		expect_rc 2 run "settle --period '$l'" || return 1
		prun rr rerun --period "$l" --reason x --input "$FX/mid.csv.gz" --out "$TD/a/b/out"
		expect_rc 2 rr "rerun --period '$l'" || return 1
		prun ex export --period "$l" --out "$TD/a/b/out" --db "host=$TD/nosocket"
		expect_rc 2 ex "export --period '$l'" || return 1
		printf 'period = "%s"\n' "$l" >"$TD/p.conf"
		prun cf settle --config "$TD/p.conf" --input "$FX/mid.csv.gz" --out "$TD/a/b/out"
		expect_rc 2 cf "period '$l' from a config file" || return 1
	done
	[ ! -e "$TD/a/b/out" ] || [ -z "$(find "$TD/a/b/out" -mindepth 1 -not -name .payrun.lock -not -name runs.log)" ] ||
		{ fail "something was written for a rejected label: $(find "$TD/a/b/out" | head -3 | tr '\n' ' ')"; return 1; }
	no_writes_outside "$TD/a/b/out" "$TD/p.conf"
}

# --out with a symlink in its path: followed (the operator chose the path);
# only what payrun creates inside it is protected.  Documented in
# docs/reliability.md.
t_out_symlink_component() {
	fx_mid && mid_opts
	mkdir -p "$TD/real"
	ln -s "$TD/real" "$TD/link"
	prun run settle "${MID[@]}" --input "$FX/mid.csv.gz" --out "$TD/link/out"
	expect_rc 0 run "--out through a symlinked parent" || return 1
	[ -f "$TD/real/out/$LABEL/v1/ledger.csv" ] || { fail "not published in the symlink's target"; return 1; }
	# (the same day into another directory: the mid day's export is not
	# 2026-11-02's, which has_probes now refuses)
	mkdir -p "$TD/real2/out"
	ln -s "$TD/real2/out" "$TD/outlink"
	prun run2 settle "${MID[@]}" --input "$FX/mid.csv.gz" --out "$TD/outlink"
	expect_rc 0 run2 "--out itself a symlink" || return 1
	[ -d "$TD/real2/out/$LABEL/v1" ] || { fail "not published in the symlink's target"; return 1; }
}

# ------------------------------------------------------------------ G. money invariants

invariants() {    # invariants V1: per stream paid + forfeited + unallocated = pool, nothing negative
	local out
	out=$("$PY" - "$1" 2>&1 <<'EOF'
import csv, io, json, sys
v = sys.argv[1]
def rows(name):
    return list(csv.DictReader(io.StringIO(open(v + "/" + name, "rb").read().decode("latin-1"), newline="")))
errs = []
led, st = rows("ledger.csv"), rows("streams.csv")
num_l = ["total_polls", "successful_polls", "failed_spot_checks", "uptime_ppm", "contribution_ppm",
         "base_amount", "forfeited_amount", "payout_amount"]
num_s = ["pool", "nodes", "total_successful_polls", "paid", "forfeited", "unallocated"]
per = {}
for r in led:
    n = {k: int(r[k]) for k in num_l}
    if min(n.values()) < 0: errs.append("negative amount in ledger row %r" % r)
    if n["base_amount"] != n["payout_amount"] + n["forfeited_amount"]: errs.append("base != payout + forfeited: %r" % r)
    if n["successful_polls"] > n["total_polls"] or n["uptime_ppm"] > 10**6 or n["contribution_ppm"] > 10**6:
        errs.append("impossible counts: %r" % r)
    p = per.setdefault(r["stream_id"], [0, 0, 0])
    p[0] += n["payout_amount"]; p[1] += n["forfeited_amount"]; p[2] += 1
tot = [0, 0, 0, 0]
for r in st:
    n = {k: int(r[k]) for k in num_s}
    if min(n.values()) < 0: errs.append("negative amount in streams row %r" % r)
    if n["paid"] + n["forfeited"] + n["unallocated"] != n["pool"]:
        errs.append("stream %r: paid %d + forfeited %d + unallocated %d != pool %d" % (r["stream_id"], n["paid"], n["forfeited"], n["unallocated"], n["pool"]))
    p = per.pop(r["stream_id"], [0, 0, 0])
    if p != [n["paid"], n["forfeited"], n["nodes"]]:
        errs.append("stream %r: ledger sums %r, streams.csv %r" % (r["stream_id"], p, [n["paid"], n["forfeited"], n["nodes"]]))
    for i, k in enumerate(["pool", "paid", "forfeited", "unallocated"]): tot[i] += n[k]
if per: errs.append("ledger streams missing from streams.csv: %r" % sorted(per))
t = json.load(open(v + "/manifest.json"))["totals"]
if [t["pool"], t["paid"], t["forfeited"], t["unallocated"]] != [str(x) for x in tot]: errs.append("manifest totals %r, streams.csv sums %r" % (t, tot))
print("; ".join(errs[:3]))
sys.exit(1 if errs else 0)
EOF
) && return 0
	fail "invariant broken in '${1#"$TD"/}': $out"
}

t_invariants_random() {
	local seed pf i=0 args summary=""
	for seed in 11 12 13 14 15 16; do
		i=$((i + 1))
		pf=$(echo "0 0.25 0.5 0.999999 1 0.333333" | cut -d' ' -f"$i")
		"$GEN" -q --rows 30000 --nodes $((50 + seed * 37)) --streams $((3 + seed % 5)) --seed "$seed" --gzip 0 \
			--fail-ratio "0.$((seed * 7 % 10))" --spot-ratio 0.2 --spot-fail-ratio "0.$((seed * 3 % 10))" \
			--out "$TD/d$seed.csv" || { fail "gen_probes failed"; return 1; }
		{
			echo stream_id,pool
			echo "stream-000,$(( (seed * 7919) % 100000 + 1 ))"
			echo "stream-001,4611686018427387904"
			echo "stream-002,1"
			echo "stream-003,0"
			echo "stream-never,$((seed * 1000))"
		} >"$TD/p$seed.csv"
		args=(--period "$LABEL" --input "$TD/d$seed.csv" --pools "$TD/p$seed.csv" --default-pool $((seed * 99991)) --penalty-factor "$pf")
		prun s$seed settle "${args[@]}" --out "$TD/o$seed"
		expect_rc 0 s$seed "seed $seed, penalty $pf" || return 1
		invariants "$TD/o$seed/$LABEL/v1" || { fail "seed $seed: $(cat "$TD/.reason")"; return 1; }
		"$PY" "$ORACLE" "${args[@]}" --out "$TD/ref$seed" >/dev/null 2>&1
		same_as "$TD/ref$seed" "$TD/o$seed/$LABEL/v1" || { fail "seed $seed against the oracle: $(cat "$TD/.reason")"; return 1; }
		# the same inputs again: byte-identical, as a new settle and as a rerun
		prun t$seed settle "${args[@]}" --out "$TD/again$seed"
		expect_rc 0 t$seed && same_as "$TD/o$seed/$LABEL/v1" "$TD/again$seed/$LABEL/v1" "ledger.csv streams.csv rejects.csv" || return 1
		prun r$seed rerun "${args[@]}" --reason "unchanged inputs" --out "$TD/o$seed"
		expect_rc 0 r$seed "rerun, seed $seed" || return 1
		same_as "$TD/o$seed/$LABEL/v1" "$TD/o$seed/$LABEL/v2" "ledger.csv streams.csv" || return 1
		[ "$(wc -l <"$TD/o$seed/$LABEL/v2/adjustments.csv")" = 1 ] || { fail "rerun with unchanged inputs has adjustments"; return 1; }
		grep -q "no change" "$TD/r$seed.out" "$TD/r$seed.err" || { fail "rerun does not say 'no change'"; return 1; }
		summary="$summary $seed:$(wc -l <"$TD/o$seed/$LABEL/v1/ledger.csv")rows/pf$pf"
	done
	note "invariants_random:$summary"
}

# ------------------------------------------------------------------ H. secrets

PW=Zq7xS3cr3tPw9
PW2='Zq7 quoted S3cr3t'

scram_role() {    # payrun_pw (PW) and payrun_pw2 (PW2), scram-sha-256 on the socket
	[ -f "$W/.scram" ] && return 0
	$PSQL -d postgres -c "SET password_encryption = 'scram-sha-256'" \
		-c "CREATE ROLE payrun_pw LOGIN SUPERUSER PASSWORD '$PW'" \
		-c "CREATE ROLE payrun_pw2 LOGIN SUPERUSER PASSWORD '$PW2'" >/dev/null || { fail "could not create the roles"; return 1; }
	local hba=$PG_CLUSTER_DIR/data/pg_hba.conf
	pg_cluster_run sh -c "{ printf 'local all payrun_pw,payrun_pw2 scram-sha-256\n'; cat '$hba'; } >'$hba.new' && mv '$hba.new' '$hba'"
	$PSQL -d postgres -Atc "SELECT pg_reload_conf()" >/dev/null
	sleep 0.2
	# the password is really required
	if PGPASSWORD= PGPASSFILE=/nonexistent "$PG_BIN/psql" -X -w -U payrun_pw -d postgres -c "SELECT 1" >/dev/null 2>&1; then
		fail "payrun_pw connects without a password: pg_hba.conf not in effect"
		return 1
	fi
	touch "$W/.scram"
}

leaks() {         # leaks SECRET FILES...: the files that contain SECRET
	grep -rlaF -- "$@" 2>/dev/null
}

db_leaks() {      # rows of payout_runs mentioning SECRET (settings, counts, timing, ...)
	$PSQL -Atc "SELECT count(*) FROM payout_runs r WHERE row_to_json(r)::text LIKE '%' || \$\$$1\$\$ || '%'"
}

# secret_run TAG SECRET ARGS...: settle while a lock holds the read, check the
# process title then, and the logs, files and database after.
secret_run() {
	local tag=$1 secret=$2 pid args
	shift 2
	lock_table probe_results || return 1
	"$PAYRUN" -v -v settle "${PGO[@]}" "$@" --out "$TD/$tag" >"$TD/$tag.out" 2>"$TD/$tag.err" &
	pid=$!
	if ! blocked_pid "payrun settle" >/dev/null; then
		release_lock; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
		fail "$tag: payrun did not reach the read: $(oneline "$TD/$tag.err")"
		return 1
	fi
	args=$(ps -o args= -p $pid)
	tr '\0' ' ' </proc/$pid/cmdline >"$TD/$tag.cmdline"
	echo "$args" >>"$TD/$tag.cmdline"
	release_lock
	{ wait $pid; } 2>/dev/null
	RC=$?
	expect_rc 0 "$tag" "settle with the password ($tag)" || return 1
	[ -z "$(leaks "$secret" "$TD/$tag.cmdline")" ] || { fail "$tag: the password shows in the process title: $args"; return 1; }
	[ -z "$(leaks "$secret" "$TD/$tag.out" "$TD/$tag.err" "$TD/$tag")" ] ||
		{ fail "$tag: the password is in $(leaks "$secret" "$TD/$tag.out" "$TD/$tag.err" "$TD/$tag" | tr '\n' ' ')"; return 1; }
	[ "$(db_leaks "$secret")" = 0 ] || { fail "$tag: the password is in payout_runs"; return 1; }
	grep -q '"timing"' "$TD/$tag/$LABEL/v1/manifest.json" && [ -f "$TD/$tag/runs.log" ] ||
		{ fail "$tag: no manifest timing or run log to check"; return 1; }
}

t_pg_secret_db_argument() {
	local sock=$PGHOST
	pg_opts
	scram_role || return 1
	fresh_db || return 1
	secret_run kv "$PW" --db "host=$sock dbname=$PGDATABASE user=payrun_pw password=$PW" || return 1
	$PSQL -c "TRUNCATE payout_stream_totals, payout_ledger, payout_runs" >/dev/null
	secret_run eq "$PW" "--db=host=$sock dbname=$PGDATABASE user=payrun_pw password=$PW" || return 1
	$PSQL -c "TRUNCATE payout_stream_totals, payout_ledger, payout_runs" >/dev/null
	secret_run uri "$PW" --db "postgresql://payrun_pw:$PW@/$PGDATABASE?host=$sock" || return 1
	$PSQL -c "TRUNCATE payout_stream_totals, payout_ledger, payout_runs" >/dev/null
	secret_run quoted "quoted S3cr3t" --db "host=$sock dbname=$PGDATABASE user=payrun_pw2 password='$PW2'" || return 1
	$PSQL -c "TRUNCATE payout_stream_totals, payout_ledger, payout_runs" >/dev/null
	secret_run tabs "$PW" --db "host=$sock dbname=$PGDATABASE password"$'\t'"="$'\t'"$PW"$'\t'"user=payrun_pw" || return 1
	# export blocked on payout_runs: its title too
	local pid
	lock_table payout_runs || return 1
	"$PAYRUN" -v -v export --period "$LABEL" --db "host=$sock dbname=$PGDATABASE user=payrun_pw password=$PW" \
		--out "$TD/exp" >"$TD/exp.out" 2>"$TD/exp.err" &
	pid=$!
	blocked_pid "payrun export" >/dev/null || blocked_pid "payrun" >/dev/null
	tr '\0' ' ' </proc/$pid/cmdline >"$TD/exp.cmdline" 2>/dev/null
	release_lock
	{ wait $pid; } 2>/dev/null
	RC=$?
	expect_rc 0 exp "export with the password" || return 1
	[ -z "$(leaks "$PW" "$TD/exp.cmdline" "$TD/exp.out" "$TD/exp.err" "$TD/exp")" ] ||
		{ fail "export: the password shows in $(leaks "$PW" "$TD/exp.cmdline" "$TD/exp.out" "$TD/exp.err" "$TD/exp" | tr '\n' ' ')"; return 1; }
	# a wrong password: an error that does not repeat it
	prun bad -v -v settle "${PGO[@]}" --db "host=$sock dbname=$PGDATABASE user=payrun_pw password=WrongPw4711" --out "$TD/bad"
	expect_rc 4 bad "a wrong password" && err_says bad "password authentication failed" || return 1
	[ -z "$(leaks WrongPw4711 "$TD/bad.err" "$TD/bad.out" "$TD/bad")" ] || { fail "a wrong password is repeated in the output"; return 1; }
}

t_pg_secret_pgpassword() {
	pg_opts
	scram_role || return 1
	fresh_db || return 1
	PGPASSWORD=$PW PGUSER=payrun_pw secret_run env "$PW"
}

t_pg_secret_pgpass() {
	pg_opts
	scram_role || return 1
	fresh_db || return 1
	printf '*:*:*:payrun_pw:%s\n' "$PW" >"$TD/pgpass.conf"
	chmod 600 "$TD/pgpass.conf"
	PGPASSFILE=$TD/pgpass.conf PGUSER=payrun_pw secret_run pgpass "$PW"
}

# ------------------------------------------------------------------ I. file modes

modes_case() {    # modes_case UMASK FILEMODE DIRMODE
	local bad
	fx_mid && mid_opts
	printf '%s\n' stream_id,node_id,probe_type,success,probe_timestamp 's,n,stats_poll,t,2026-11-02 01:00:00' \
		's,n,bogus,t,2026-11-02 01:00:00' >"$TD/bad.csv"
	(umask "$1"
		prun run settle "${MID[@]}" --input "$FX/mid.csv.gz" --out "$TD/out"
		expect_rc 0 run "umask $1" || exit 1
		prun fl settle --period 2026-11-02 --input "$TD/bad.csv" --out "$TD/out"
		expect_rc 3 fl "umask $1, rejects kept" || exit 1) || return 1
	[ -f "$(echo "$TD"/out/2026-11-02/failed/*/rejects.csv)" ] || { fail "no kept rejects to check"; return 1; }
	bad=$(find "$TD/out" \( -type f -not -perm "$2" -printf 'file %m %P; ' \) -o \( -type d -not -perm "$3" -printf 'dir %m %P; ' \))
	[ -z "$bad" ] || { fail "umask $1: want files $2 and directories $3: $bad"; return 1; }
}

t_modes_umask_022() { modes_case 022 640 750; }
t_modes_umask_077() { modes_case 077 600 700; }
t_modes_umask_000() { modes_case 000 640 750; }
t_modes_umask_027() { modes_case 027 640 750; }

# ------------------------------------------------------------------ main

suite_setup() {
	local version
	[ -x "$GEN" ] || { fail "'$GEN' is missing (make tools)"; return 1; }
	version=$("$PAYRUN" --version 2>&1)
	case $version in
	*"fault points"*) ;;
	*) fail "'$PAYRUN' is not a build with fault points ('$version'); build with make FAULTS=1 and run build-faults/payrun"; return 1 ;;
	esac
	note "payrun: $PAYRUN; FAULTS_SEED=$SEED"
}

run_suite "$@"
