#!/bin/bash
# tests/e2e/jobs.sh: end-to-end tests of issue 4: job files and the nightly
# catch-up ('payrun run'), backfill ('payrun backfill --settle / --into-db'),
# reruns ('payrun rerun') and the run log ('payrun history').
#
#   bash tests/e2e/jobs.sh [NAME-SUBSTRING...]
#
# Drives ./payrun (or $PAYRUN) at the repository root.  Each test prints
# `ok - name` or `not ok - name: reason`; the last line is
# `jobs: N passed, N failed` and the exit status is non-zero on any failure
# or when nothing ran.  Tests are the t_NAME functions below, run in the
# order they are defined (tests/e2e/lib.sh).  Data is generated at run time
# by build/tools/gen_probes into a private temporary directory, removed at
# exit (JOBS_KEEP=1 keeps it; JOBS_TIMEOUT=S is the seconds any one payrun
# run may take, 120).
# The tests whose name starts with 'pg_' need a private PostgreSQL cluster
# (tests/pg/cluster.sh); it is started only when one of them is selected,
# after the file-only tests, and stopped at exit.  Expected payouts come from
# plain 'payrun settle' runs and from the independent reference
# tests/oracle/settle_ref.py.

# shellcheck disable=SC2317 # the t_ functions are called by run_suite (lib.sh)
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh" jobs || exit 1

GENP=$ROOT/build/tools/gen_probes
PY=${PYTHON:-python3}
ORACLE=$ROOT/tests/oracle/settle_ref.py
LIMIT=${JOBS_TIMEOUT:-120}          # seconds any one payrun run may take
# shellcheck disable=SC2034 # read by lib.sh
CLUSTER_TESTS='pg_*'

# ------------------------------------------------------------------ helpers
# Every test runs in a subshell in TD, its own directory.  Helpers return
# non-zero after recording why (fail, lib.sh); tests chain them with ||.
# prun NAME ARGS... (lib.sh) runs payrun ARGS: RC, $TD/NAME.out, $TD/NAME.err.

# rc_is WANT: the last prun exited WANT.
rc_is() {
	[ "$RC" = "$1" ] && return 0
	fail "$LAST: exit $RC, want $1; stderr: $(oneline "$TD/$LAST.err" 500)"
}

# says PATTERN: the last prun's stdout or stderr matches the extended regex.
says() {
	cat "$TD/$LAST.out" "$TD/$LAST.err" | grep -Eq -- "$1" && return 0
	fail "$LAST: no message matching '$1'; got: $(cat "$TD/$LAST.out" "$TD/$LAST.err" | head -c 500 | tr '\n' '|')"
}

# versions OUT: "LABEL/vN" of every published version under OUT, sorted, on one line.
versions() {
	(cd "$1" 2>/dev/null && ls -d [0-9]*/v[0-9]* 2>/dev/null | sort | tr '\n' ' ')
}

# versions_are OUT WANT...: exactly these versions are published.
versions_are() {
	local out=$1 got want
	shift
	got=$(versions "$out")
	want=$(printf '%s ' "$@")
	[ "$got" = "$want" ] && return 0
	fail "published versions in $(basename "$out"): got '$got', want '$want'"
}

# logged_periods OUT STATUS: the periods of runs.log lines with this status, in order.
logged_periods() {
	"$PY" - "$1/runs.log" "$2" <<'PY'
import json, sys
try:
    lines = open(sys.argv[1]).read().splitlines()
except FileNotFoundError:
    lines = []
print(" ".join(json.loads(l)["period"] for l in lines
               if l.strip() and json.loads(l).get("status") == sys.argv[2]))
PY
}

# ref_settle OUT LABEL INPUT...: a plain 'payrun settle' of one period, for comparison.
ref_settle() {
	local out=$1 label=$2 args=() f
	shift 2
	for f in "$@"; do args+=(--input "$f"); done
	{ timeout "$LIMIT" "$PAYRUN" -q settle --period "$label" "${args[@]}" \
		--default-pool 1000000 --out "$out" >/dev/null 2>"$TD/ref.err"; } 2>/dev/null ||
		{ fail "reference settle of $label failed: $(oneline "$TD/ref.err")"; return 1; }
}

# same_as_ref OUT REF LABEL...: ledger.csv and streams.csv of each LABEL's v1 identical.
same_as_ref() {
	local out=$1 ref=$2 l
	shift 2
	for l in "$@"; do
		same_file "$ref/$l/v1/ledger.csv" "$out/$l/v1/ledger.csv" || return 1
		same_file "$ref/$l/v1/streams.csv" "$out/$l/v1/streams.csv" || return 1
	done
}

# day N: the label of 2026-10-0N.  exp N: the shared export of that day.
day() { printf '2026-10-%02d' "$1"; }
exp() { printf '%s/data/p-%s.csv.gz' "$W" "$(day "$1")"; }

# exports DIR N...: DIR/p-LABEL.csv.gz for these days (links to the shared data).
exports() {
	local dir=$1 n
	shift
	mkdir -p "$dir"
	for n in "$@"; do ln -sf "$(exp "$n")" "$dir/p-$(day "$n").csv.gz"; done
}

# csv_job FILE OUT INDIR [EXTRA LINE...]: a nightly csv job file.
csv_job() {
	local file=$1 out=$2 indir=$3
	shift 3
	{
		printf 'job = "test-nightly"\ncommand = "settle"\nsource = "csv"\n'
		printf 'input = {"%s/p-{period}.csv.gz"}\n' "$indir"
		printf 'period_length = "1d"\nstart_period = "2026-10-01"\n'
		printf 'out = "%s"\ndefault_pool = "1000000"\n' "$out"
		printf '%s\n' "$@"
	} >"$file"
}

# pg_job FILE OUT DB [EXTRA LINE...]: a nightly pg job file.
pg_job() {
	local file=$1 out=$2 db=$3
	shift 3
	{
		printf 'job = "test-nightly-pg"\ncommand = "settle"\nsource = "pg"\n'
		printf 'db = "dbname=%s"\n' "$db"
		printf 'period_length = "1d"\nstart_period = "2026-10-01"\n'
		printf 'out = "%s"\ndefault_pool = "1000000"\n' "$out"
		printf '%s\n' "$@"
	} >"$file"
}

# sha_tree DIR: sha256 of every file under DIR, one line each.
sha_tree() {
	(cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
}

# adj_check OLD_LEDGER NEW_LEDGER VDIR: VDIR/adjustments.csv lists exactly the
# nodes whose payout_amount differs between the two (independently computed)
# ledgers, or that are in only one of them, with the right numbers, and
# VDIR/manifest.json's rerun totals agree.  Prints the number of rows.
adj_check() {
	local out
	out=$("$PY" - "$@" 2>&1 <<'PY'
import csv, json, sys
def payouts(p):
    with open(p, newline="", encoding="utf-8") as f:
        return {(r["stream_id"], r["node_id"]): int(r["payout_amount"]) for r in csv.DictReader(f)}
old, new = payouts(sys.argv[1]), payouts(sys.argv[2])
want = {}
for k in set(old) | set(new):
    if k not in old or k not in new or old[k] != new[k]:
        p, n = old.get(k, 0), new.get(k, 0)
        want[k] = (p, n, n - p)
vdir = sys.argv[3]
with open(vdir + "/adjustments.csv", newline="", encoding="utf-8") as f:
    rows = list(csv.reader(f))
if rows[0] != ["stream_id", "node_id", "previously_paid", "now_due", "delta"]:
    sys.exit("adjustments.csv header is %r" % rows[0])
got = {}
totals = []
for r in rows[1:]:
    if r[1] == "":
        totals.append((r[0],) + tuple(int(x) for x in r[2:5]))
        continue
    if (r[0], r[1]) in got:
        sys.exit("node %s/%s listed twice" % (r[0], r[1]))
    got[(r[0], r[1])] = tuple(int(x) for x in r[2:5])
# totals rows: each adjusted stream over all its nodes, then the period
want_totals = []
for s in sorted({k[0] for k in want}, key=lambda x: x.encode()):
    p = sum(v for k, v in old.items() if k[0] == s)
    n = sum(v for k, v in new.items() if k[0] == s)
    want_totals.append((s, p, n, n - p))
if want:
    po, no = sum(old.values()), sum(new.values())
    want_totals.append(("", po, no, no - po))
if totals != want_totals:
    sys.exit("totals rows %r, want %r" % (totals[:4], want_totals[:4]))
if got != want:
    missing = sorted(set(want) - set(got))[:3]
    extra = sorted(set(got) - set(want))[:3]
    wrong = sorted(k for k in set(got) & set(want) if got[k] != want[k])[:3]
    sys.exit("adjustments differ: missing %r, extra %r, wrong %r" %
             (missing, extra, [(k, got[k], want[k]) for k in wrong]))
m = json.load(open(vdir + "/manifest.json"))
r = m.get("rerun") or {}
tot = (sum(old.values()), sum(new.values()))
if (r.get("previously_paid"), r.get("now_due"), r.get("delta")) != (str(tot[0]), str(tot[1]), str(tot[1] - tot[0])):
    sys.exit("manifest rerun totals %r, want previously_paid %d now_due %d" % (r, tot[0], tot[1]))
if r.get("adjusted_nodes") != len(want):
    sys.exit("manifest adjusted_nodes %r, want %d" % (r.get("adjusted_nodes"), len(want)))
print(len(want))
PY
) || { fail "$out"; return 1; }
	ADJ_ROWS=$out
}

# oracle LABEL OUTDIR INPUT...: the reference ledger of one period.
oracle() {
	local label=$1 out=$2 args=() f
	shift 2
	for f in "$@"; do args+=(--input "$f"); done
	"$PY" "$ORACLE" --period "$label" "${args[@]}" --default-pool 1000000 --out "$out" \
		>"$TD/oracle.json" 2>"$TD/oracle.err" ||
		{ fail "oracle failed on $label: $(oneline "$TD/oracle.err")"; return 1; }
}

# edit_day IN OUT: a changed copy of a day's export (plain CSV): every row of
# node-000007 dropped, every other row of node-000011 dropped, and a new node
# 'node-new' with polls in stream-001 added.
edit_day() {
	"$PY" - "$1" "$2" <<'PY'
import csv, gzip, sys
with gzip.open(sys.argv[1], "rt", newline="", encoding="utf-8") as f:
    rows = list(csv.reader(f))
head, body = rows[0], rows[1:]
out, k11 = [], 0
for r in body:
    if r[2] == "node-000007":
        continue
    if r[2] == "node-000011":
        k11 += 1
        if k11 % 2:
            continue
    out.append(r)
day = body[0][5][:10]
for i in range(40):
    out.append([str(990000000 + i), "stream-001", "node-new", "stats_poll", "t" if i % 5 else "f",
                "%s %02d:%02d:00+00" % (day, i % 24, i), "", ""])
with open(sys.argv[2], "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(head)
    w.writerows(out)
PY
}

# ------------------------------------------------------------------ data
# Days 2026-10-01 .. 2026-10-06, 30000 probes each, a different seed per day
# (so that days differ) and disjoint ids.
suite_setup() {
	local n
	[ -x "$GENP" ] || { fail "'$GENP' is missing (make tools)"; return 1; }
	mkdir -p "$W/data"
	for n in 1 2 3 4 5 6; do
		"$GENP" -q --rows 30000 --nodes 50 --streams 3 --day "$(day $n)" --seed $n \
			--first-id $((n * 100000)) --gzip 1 --out "$(exp $n)" ||
			{ fail "could not generate the data (gen_probes)"; return 1; }
	done
}

# ------------------------------------------------------------------ file tests

# 1. Three missed nights: the next run settles all three, oldest first, each
# as v1, byte-identical to a plain settle of that day.
t_catch_up_three_missed_nights_csv() {
	exports "$TD/in" 1 2 3 4
	csv_job "$TD/job.conf" "$TD/out" "$TD/in"
	prun dry run "$TD/job.conf" --dry-run --now "2026-10-05 02:00:00"
	rc_is 0 || return 1
	[ "$(grep -c '^would settle period' "$TD/dry.out")" = 3 ] &&
		[ "$(grep '^would settle period' "$TD/dry.out" | awk '{print $4}' | tr '\n' ' ')" = "2026-10-01 2026-10-02 2026-10-03 " ] ||
		{ fail "--dry-run: want 'would settle period' for 01, 02, 03; got $(oneline "$TD/dry.out")"; return 1; }
	[ -z "$(versions "$TD/out")" ] || { fail "--dry-run published $(versions "$TD/out")"; return 1; }
	prun run run "$TD/job.conf" --now "2026-10-05 02:00:00"
	rc_is 0 || return 1
	versions_are "$TD/out" 2026-10-01/v1 2026-10-02/v1 2026-10-03/v1 || return 1
	[ "$(logged_periods "$TD/out" settled)" = "2026-10-01 2026-10-02 2026-10-03" ] ||
		{ fail "runs.log order: '$(logged_periods "$TD/out" settled)'"; return 1; }
	[ "$(grep -o 'settling period [0-9-]*' "$TD/run.err" | awk '{print $3}' | tr '\n' ' ')" = "2026-10-01 2026-10-02 2026-10-03 " ] ||
		{ fail "notice order: $(grep -o 'settling period [0-9-]*' "$TD/run.err" | tr '\n' ' ')"; return 1; }
	says 'stopping at period 2026-10-04' || return 1
	for n in 1 2 3; do ref_settle "$TD/ref" "$(day $n)" "$(exp $n)" || return 1; done
	same_as_ref "$TD/out" "$TD/ref" 2026-10-01 2026-10-02 2026-10-03
}

# 2b. A night missed before the latest settled one (a failed night, a later
# day settled by hand) is settled by the next run, not skipped for good; so is
# a gap with no start_period, counted from the earliest settled period.
t_missed_night_before_latest_is_settled() {
	local n
	exports "$TD/in" 1 2 3 4 5
	for n in 1 3; do
		prun "settle$n" -q settle --period "$(day $n)" --input "$(exp $n)" \
			--default-pool 1000000 --out "$TD/out"
		rc_is 0 || return 1
	done
	csv_job "$TD/job.conf" "$TD/out" "$TD/in"
	prun run run "$TD/job.conf" --now "2026-10-06 02:00:00"
	rc_is 0 || return 1
	versions_are "$TD/out" 2026-10-01/v1 2026-10-02/v1 2026-10-03/v1 2026-10-04/v1 || return 1
	[ "$(grep -o 'settling period [0-9-]*' "$TD/run.err" | awk '{print $3}' | tr '\n' ' ')" = "2026-10-02 2026-10-04 " ] ||
		{ fail "settled in this order: $(grep -o 'settling period [0-9-]*' "$TD/run.err" | tr '\n' ' ')"; return 1; }
	ref_settle "$TD/ref" "$(day 2)" "$(exp 2)" || return 1
	same_as_ref "$TD/out" "$TD/ref" 2026-10-02 || return 1
	# without start_period: from the earliest settled period
	for n in 1 3; do
		prun "settle2$n" -q settle --period "$(day $n)" --input "$(exp $n)" \
			--default-pool 1000000 --out "$TD/out2"
		rc_is 0 || return 1
	done
	csv_job "$TD/job2.conf" "$TD/out2" "$TD/in"
	sed -i '/^start_period/d' "$TD/job2.conf"
	prun run2 run "$TD/job2.conf" --now "2026-10-06 02:00:00"
	rc_is 0 || return 1
	versions_are "$TD/out2" 2026-10-01/v1 2026-10-02/v1 2026-10-03/v1 2026-10-04/v1
}

# 3. All closed periods settled: exit 0, says so, publishes nothing new.
t_nothing_to_do_csv() {
	exports "$TD/in" 1 2 3
	csv_job "$TD/job.conf" "$TD/out" "$TD/in"
	prun run1 run "$TD/job.conf" --now "2026-10-03 02:00:00"
	rc_is 0 || return 1
	versions_are "$TD/out" 2026-10-01/v1 2026-10-02/v1 || return 1
	sha_tree "$TD/out" | grep -v ' ./runs.log$' >"$TD/before"
	prun run2 run "$TD/job.conf" --now "2026-10-03 02:00:00"
	rc_is 0 || return 1
	says 'nothing to do' || return 1
	! grep -q 'settling period' "$TD/run2.err" || { fail "second run settles: $(oneline "$TD/run2.err")"; return 1; }
	sha_tree "$TD/out" | grep -v ' ./runs.log$' >"$TD/after"
	cmp -s "$TD/before" "$TD/after" || { fail "second run changed files: $(diff "$TD/before" "$TD/after" | head -3 | tr '\n' '|')"; return 1; }
	# also with -q: silent and exit 0 (cron's mail stays empty)
	prun run3 -q run "$TD/job.conf" --now "2026-10-03 02:00:00"
	rc_is 0 || return 1
	[ ! -s "$TD/run3.out" ] && [ ! -s "$TD/run3.err" ] || { fail "-q run with nothing to do printed: $(cat "$TD/run3.out" "$TD/run3.err" | oneline /dev/stdin)"; return 1; }
	versions_are "$TD/out" 2026-10-01/v1 2026-10-02/v1
}

# 4. A missing next-day export stops the catch-up at that period: it and the
# later ones are not settled; a later run picks them up once the data is there.
t_incomplete_data_stops_csv() {
	exports "$TD/in" 1 2 3 5
	csv_job "$TD/job.conf" "$TD/out" "$TD/in"
	# 2026-10-03 closed at 2026-10-04 00:30, more than max_wait (24h) ago: exit 3
	prun run1 run "$TD/job.conf" --now "2026-10-06 02:00:00"
	rc_is 3 || return 1
	says 'period 2026-10-03 is overdue.*longer than max_wait 1d' || return 1
	versions_are "$TD/out" 2026-10-01/v1 2026-10-02/v1 || return 1
	exports "$TD/in" 4
	prun run2 run "$TD/job.conf" --now "2026-10-06 02:00:00"
	rc_is 0 || return 1
	says 'stopping at period 2026-10-05' || return 1
	versions_are "$TD/out" 2026-10-01/v1 2026-10-02/v1 2026-10-03/v1 2026-10-04/v1 || return 1
	[ "$(logged_periods "$TD/out" settled)" = "2026-10-01 2026-10-02 2026-10-03 2026-10-04" ] ||
		{ fail "runs.log order: '$(logged_periods "$TD/out" settled)'"; return 1; }
	for n in 3 4; do ref_settle "$TD/ref" "$(day $n)" "$(exp $n)" || return 1; done
	same_as_ref "$TD/out" "$TD/ref" 2026-10-03 2026-10-04
}

# 5a. max_periods caps one run; the next run goes on where it stopped.
t_max_periods_limits_a_run() {
	exports "$TD/in" 1 2 3 4 5 6
	csv_job "$TD/job.conf" "$TD/out" "$TD/in" "max_periods = 2"
	prun run1 run "$TD/job.conf" --now "2026-10-06 12:00:00"
	rc_is 0 || return 1
	says 'max_periods' || return 1
	versions_are "$TD/out" 2026-10-01/v1 2026-10-02/v1 || return 1
	prun run2 run "$TD/job.conf" --now "2026-10-06 12:00:00"
	rc_is 0 || return 1
	versions_are "$TD/out" 2026-10-01/v1 2026-10-02/v1 2026-10-03/v1 2026-10-04/v1 || return 1
	prun run3 run "$TD/job.conf" --now "2026-10-06 12:00:00"
	rc_is 0 || return 1
	versions_are "$TD/out" 2026-10-01/v1 2026-10-02/v1 2026-10-03/v1 2026-10-04/v1 2026-10-05/v1 || return 1
	[ "$(logged_periods "$TD/out" settled)" = "2026-10-01 2026-10-02 2026-10-03 2026-10-04 2026-10-05" ] ||
		{ fail "runs.log order: '$(logged_periods "$TD/out" settled)'"; return 1; }
}

# 5b. grace: a period closes at its end plus grace (default 30 minutes), even
# when the next day's export is already there.
t_grace_keeps_just_closed_period_out() {
	exports "$TD/in" 1 2 3 4
	csv_job "$TD/job.conf" "$TD/out" "$TD/in" 'grace = "2h"'
	prun run1 run "$TD/job.conf" --now "2026-10-04 01:59:59"
	rc_is 0 || return 1
	versions_are "$TD/out" 2026-10-01/v1 2026-10-02/v1 || return 1
	prun run2 run "$TD/job.conf" --now "2026-10-04 01:59:59"
	rc_is 0 || return 1
	says 'nothing to do' || return 1
	versions_are "$TD/out" 2026-10-01/v1 2026-10-02/v1 || return 1
	prun run3 run "$TD/job.conf" --now "2026-10-04 02:00:00"
	rc_is 0 || return 1
	versions_are "$TD/out" 2026-10-01/v1 2026-10-02/v1 2026-10-03/v1 || return 1
	# default grace, 30 minutes
	csv_job "$TD/job2.conf" "$TD/out2" "$TD/in"
	prun run4 run "$TD/job2.conf" --now "2026-10-03 00:29:59"
	rc_is 0 || return 1
	versions_are "$TD/out2" 2026-10-01/v1 || return 1
	prun run5 run "$TD/job2.conf" --now "2026-10-03 00:30:00"
	rc_is 0 || return 1
	versions_are "$TD/out2" 2026-10-01/v1 2026-10-02/v1
}

# 6. A job that finds another run holding the output lock (flock(2) on
# DIR/.payrun.lock, see src/publish.c) exits 5 at once and says why.
t_lock_held_exits_5_at_once() {
	local fpid t0 t1 child
	exports "$TD/in" 1 2 3 4
	csv_job "$TD/job.conf" "$TD/out" "$TD/in"
	mkdir -p "$TD/out"
	flock "$TD/out/.payrun.lock" sleep 5 &
	fpid=$!
	for _ in $(seq 1 50); do
		flock -n "$TD/out/.payrun.lock" true 2>/dev/null || break
		sleep 0.05
	done
	t0=$(date +%s%N)
	prun run1 run "$TD/job.conf" --now "2026-10-04 02:00:00"
	t1=$(date +%s%N)
	child=$(ps -o pid= --ppid "$fpid" 2>/dev/null)
	kill $child "$fpid" 2>/dev/null
	wait "$fpid" 2>/dev/null
	rc_is 5 || return 1
	[ $(((t1 - t0) / 1000000)) -lt 2000 ] || { fail "took $(((t1 - t0) / 1000000)) ms with the lock held"; return 1; }
	says 'lock' || return 1
	[ -z "$(versions "$TD/out")" ] || { fail "published $(versions "$TD/out") while locked"; return 1; }
	# the lock gone, the same run settles
	prun run2 run "$TD/job.conf" --now "2026-10-04 02:00:00"
	rc_is 0 || return 1
	versions_are "$TD/out" 2026-10-01/v1 2026-10-02/v1 2026-10-03/v1
}

# 8. backfill --settle over a range, from files spanning several periods (one
# file holds two days): each period once, identical to per-day settles;
# again: nothing to do; a period without data: reported, exit 3.
t_backfill_settle_range() {
	local p
	mkdir -p "$TD/in"
	# one file with all of 2026-10-02, then all of 2026-10-03 (its header dropped)
	{ zcat "$(exp 2)"; zcat "$(exp 3)" | tail -n +2; } | gzip -1 >"$TD/in/p-2026-10-02+03.csv.gz"
	cp "$(exp 1)" "$TD/in/p-2026-10-01.csv.gz"
	cp "$(exp 4)" "$TD/in/p-2026-10-04.csv.gz"
	prun bf1 backfill --input "$TD/in/p-*.csv.gz" --settle --from 2026-10-01 --to 2026-10-04 \
		--default-pool 1000000 --out "$TD/out"
	rc_is 0 || return 1
	versions_are "$TD/out" 2026-10-01/v1 2026-10-02/v1 2026-10-03/v1 2026-10-04/v1 || return 1
	for n in 1 2 3 4; do ref_settle "$TD/ref" "$(day $n)" "$(exp $n)" || return 1; done
	same_as_ref "$TD/out" "$TD/ref" 2026-10-01 2026-10-02 2026-10-03 2026-10-04 || return 1
	# each period's manifest: its own rows only
	for n in 1 2 3 4; do
		p=$("$PY" -c 'import json,sys; c=json.load(open(sys.argv[1]))["counts"]; print(c["in_period"])' \
			"$TD/out/$(day $n)/v1/manifest.json")
		[ "$p" = 30000 ] || { fail "$(day $n): manifest in_period $p, want 30000"; return 1; }
	done
	sha_tree "$TD/out" | grep -v ' ./runs.log$' >"$TD/before"
	prun bf2 backfill --input "$TD/in/p-*.csv.gz" --settle --from 2026-10-01 --to 2026-10-04 \
		--default-pool 1000000 --out "$TD/out"
	rc_is 0 || return 1
	says 'nothing to do' || return 1
	sha_tree "$TD/out" | grep -v ' ./runs.log$' >"$TD/after"
	cmp -s "$TD/before" "$TD/after" || { fail "second backfill changed files"; return 1; }
	# 2026-10-05 has no export: reported, not settled, exit 3; 2026-10-06 is settled
	cp "$(exp 6)" "$TD/in/p-2026-10-06.csv.gz"
	prun bf3 backfill --input "$TD/in/p-*.csv.gz" --settle --from 2026-10-01 --to 2026-10-06 \
		--default-pool 1000000 --out "$TD/out"
	rc_is 3 || return 1
	says '2026-10-05' || return 1
	versions_are "$TD/out" 2026-10-01/v1 2026-10-02/v1 2026-10-03/v1 2026-10-04/v1 2026-10-06/v1 || return 1
	ref_settle "$TD/ref" 2026-10-06 "$(exp 6)" || return 1
	same_as_ref "$TD/out" "$TD/ref" 2026-10-06
}

# 9 (files). A truncated gzip among the files: exit 3 naming it, nothing
# published, no period directory.
t_backfill_settle_corrupt_gzip() {
	mkdir -p "$TD/in"
	cp "$(exp 1)" "$TD/in/p-2026-10-01.csv.gz"
	cp "$(exp 3)" "$TD/in/p-2026-10-03.csv.gz"
	head -c $(($(stat -c %s "$(exp 2)") / 2)) "$(exp 2)" >"$TD/in/p-2026-10-02.csv.gz"
	prun bf backfill --input "$TD/in/p-*.csv.gz" --settle --from 2026-10-01 --to 2026-10-03 \
		--default-pool 1000000 --out "$TD/out"
	rc_is 3 || return 1
	says "p-2026-10-02\.csv\.gz" || return 1
	[ -z "$(versions "$TD/out")" ] || { fail "published $(versions "$TD/out")"; return 1; }
	for n in 1 2 3; do
		[ ! -e "$TD/out/$(day $n)" ] || { fail "period directory $(day $n) exists"; return 1; }
	done
	[ -z "$(ls -A "$TD/out" | grep '^\.tmp')" ] || { fail "temporary directory left: $(ls -A "$TD/out")"; return 1; }
}

# 10 (csv). Rerun after the day's export changed (rows removed, a node added):
# v2 with adjustments matching the reference ledgers; v1 untouched.
t_rerun_changed_data_csv() {
	local v2
	exports "$TD/in" 2
	ref_settle "$TD/out" 2026-10-02 "$TD/in/p-2026-10-02.csv.gz" || return 1
	sha_tree "$TD/out/2026-10-02/v1" >"$TD/v1.before"
	edit_day "$(exp 2)" "$TD/new.csv"
	prun rerun rerun --period 2026-10-02 --reason "re-export after fix (T-10)" --input "$TD/new.csv" \
		--default-pool 1000000 --out "$TD/out"
	rc_is 0 || return 1
	versions_are "$TD/out" 2026-10-02/v1 2026-10-02/v2 || return 1
	v2=$TD/out/2026-10-02/v2
	oracle 2026-10-02 "$TD/ref-old" "$(exp 2)" || return 1
	oracle 2026-10-02 "$TD/ref-new" "$TD/new.csv" || return 1
	same_file "$TD/ref-new/ledger.csv" "$v2/ledger.csv" || return 1
	adj_check "$TD/ref-old/ledger.csv" "$TD/ref-new/ledger.csv" "$v2" || return 1
	[ "$ADJ_ROWS" -gt 3 ] || { fail "only $ADJ_ROWS adjustments: the edit should change more"; return 1; }
	grep -q '^stream-001,node-new,0,[1-9][0-9]*,[1-9]' "$v2/adjustments.csv" ||
		{ fail "no appearing row for node-new"; return 1; }
	grep -q '^stream-[0-9]*,node-000007,[1-9][0-9]*,0,-[1-9]' "$v2/adjustments.csv" ||
		{ fail "no disappearing row for node-000007"; return 1; }
	grep -q 're-export after fix (T-10)' "$v2/manifest.json" || { fail "reason not in the manifest"; return 1; }
	sha_tree "$TD/out/2026-10-02/v1" >"$TD/v1.after"
	cmp -s "$TD/v1.before" "$TD/v1.after" || { fail "v1 changed by the rerun"; return 1; }
}

# 11. Rerun with nothing changed: "no change", header-only adjustments, and a
# byte-identical ledger.
t_rerun_no_change() {
	exports "$TD/in" 3
	ref_settle "$TD/out" 2026-10-03 "$TD/in/p-2026-10-03.csv.gz" || return 1
	prun rerun rerun --period 2026-10-03 --reason "check" --input "$TD/in/p-2026-10-03.csv.gz" \
		--default-pool 1000000 --out "$TD/out"
	rc_is 0 || return 1
	says 'no change' || return 1
	versions_are "$TD/out" 2026-10-03/v1 2026-10-03/v2 || return 1
	[ "$(cat "$TD/out/2026-10-03/v2/adjustments.csv")" = "stream_id,node_id,previously_paid,now_due,delta" ] ||
		{ fail "adjustments.csv not header only: $(oneline "$TD/out/2026-10-03/v2/adjustments.csv")"; return 1; }
	same_file "$TD/out/2026-10-03/v1/ledger.csv" "$TD/out/2026-10-03/v2/ledger.csv" || return 1
	same_file "$TD/out/2026-10-03/v1/streams.csv" "$TD/out/2026-10-03/v2/streams.csv"
}

# 11b. A rerun takes the settings it is not given from the version it
# recomputes: forgetting --default-pool must not claw back every payout.
t_rerun_inherits_settings() {
	prun settle -q settle --period "$(day 2)" --input "$(exp 2)" --default-pool 777777 \
		--penalty-factor 0.25 --out "$TD/out"
	rc_is 0 || return 1
	prun rerun rerun --period "$(day 2)" --input "$(exp 2)" --reason "same" --out "$TD/out"
	rc_is 0 || return 1
	says 'default_pool 777777, as in the previous version' || return 1
	says 'penalty_factor 0.25, as in the previous version' || return 1
	same_file "$TD/out/2026-10-02/v1/ledger.csv" "$TD/out/2026-10-02/v2/ledger.csv" || return 1
	# a setting given again wins over the inherited one
	prun rerun2 -q rerun --period "$(day 2)" --input "$(exp 2)" --reason "pool" --default-pool 1 --out "$TD/out"
	rc_is 0 || return 1
	grep -q '^,,[0-9]*,[0-9]*,-[1-9]' "$TD/out/2026-10-02/v3/adjustments.csv" ||
		{ fail "--default-pool 1 did not lower the total: $(tail -1 "$TD/out/2026-10-02/v3/adjustments.csv")"; return 1; }
}

# 12. rerun --dry-run publishes nothing and prints the adjustments, the same
# rows the real rerun then writes.
t_rerun_dry_run() {
	exports "$TD/in" 2
	ref_settle "$TD/out" 2026-10-02 "$TD/in/p-2026-10-02.csv.gz" || return 1
	sha_tree "$TD/out" | grep -v ' ./runs.log$' >"$TD/before"
	edit_day "$(exp 2)" "$TD/new.csv"
	prun dry rerun --period 2026-10-02 --reason "try" --input "$TD/new.csv" --dry-run \
		--default-pool 1000000 --out "$TD/out"
	rc_is 0 || return 1
	versions_are "$TD/out" 2026-10-02/v1 || return 1
	sha_tree "$TD/out" | grep -v ' ./runs.log$' >"$TD/after"
	cmp -s "$TD/before" "$TD/after" || { fail "--dry-run changed files: $(diff "$TD/before" "$TD/after" | head -3 | tr '\n' '|')"; return 1; }
	[ -z "$(ls -A "$TD/out" | grep '^\.tmp')" ] || { fail "temporary directory left"; return 1; }
	grep -q '^stream_id,node_id,previously_paid,now_due,delta$' "$TD/dry.out" ||
		{ fail "--dry-run prints no adjustments header: $(oneline "$TD/dry.out")"; return 1; }
	prun real rerun --period 2026-10-02 --reason "do" --input "$TD/new.csv" \
		--default-pool 1000000 --out "$TD/out"
	rc_is 0 || return 1
	sed -n '/^stream_id,node_id,previously_paid,now_due,delta$/,$p' "$TD/dry.out" >"$TD/dry.csv"
	same_file "$TD/out/2026-10-02/v2/adjustments.csv" "$TD/dry.csv"
}

# 13. Two reruns of one period at once: each round exactly one new version,
# the other exits 5; no version is ever overwritten.
t_concurrent_reruns() {
	local round a b ra rb before after ok5
	"$GENP" -q --rows 1500000 --nodes 200 --streams 4 --day 2026-10-02 --seed 9 \
		--first-id 50000000 --gzip 1 --out "$TD/big.csv.gz" || { fail "generate"; return 1; }
	ref_settle "$TD/out" 2026-10-02 "$TD/big.csv.gz" || return 1
	for round in 1 2 3 4; do
		before=$(versions "$TD/out")
		sha_tree "$TD/out/2026-10-02" | grep -v ' ./failed/' >"$TD/sha.$round"
		{ timeout "$LIMIT" "$PAYRUN" -q rerun --period 2026-10-02 --reason "race $round a" \
			--input "$TD/big.csv.gz" --default-pool 1000000 --out "$TD/out" \
			>"$TD/a.$round.out" 2>"$TD/a.$round.err"; } 2>/dev/null &
		a=$!
		{ timeout "$LIMIT" "$PAYRUN" -q rerun --period 2026-10-02 --reason "race $round b" \
			--input "$TD/big.csv.gz" --default-pool 1000000 --out "$TD/out" \
			>"$TD/b.$round.out" 2>"$TD/b.$round.err"; } 2>/dev/null &
		b=$!
		wait $a; ra=$?
		wait $b; rb=$?
		after=$(versions "$TD/out")
		[ "$after" = "${before}2026-10-02/v$((round + 1)) " ] ||
			{ fail "round $round: versions '$before' -> '$after' (exits $ra, $rb)"; return 1; }
		ok5="$ra $rb"
		[ "$ok5" = "0 5" ] || [ "$ok5" = "5 0" ] ||
			{ fail "round $round: exits $ra and $rb, want 0 and 5; $(oneline "$TD/a.$round.err") $(oneline "$TD/b.$round.err")"; return 1; }
		if [ "$ra" = 5 ]; then LAST=a.$round; else LAST=b.$round; fi
		says 'holds the lock' || return 1
		# earlier versions untouched
		sha_tree "$TD/out/2026-10-02" | grep -v " ./v$((round + 1))/" | grep -v ' ./failed/' >"$TD/sha.after.$round"
		cmp -s "$TD/sha.$round" "$TD/sha.after.$round" || { fail "round $round changed an older version"; return 1; }
	done
}

# 14. history lists the runs (all, and by period); a rerun job file
# (command = rerun) does what the CLI does.
t_history_and_rerun_job() {
	local hist
	exports "$TD/in" 1 2 3
	csv_job "$TD/job.conf" "$TD/out" "$TD/in"
	prun run run "$TD/job.conf" --now "2026-10-04 02:00:00"
	rc_is 0 || return 1
	versions_are "$TD/out" 2026-10-01/v1 2026-10-02/v1 || return 1
	# the same state in a second directory, for the CLI rerun
	cp -a "$TD/out" "$TD/out-cli"
	edit_day "$(exp 2)" "$TD/in2.csv"
	mkdir -p "$TD/in-new"
	gzip -c "$TD/in2.csv" >"$TD/in-new/p-2026-10-02.csv.gz"
	cat >"$TD/rerun.conf" <<EOF
# a rerun job, as in jobs/rerun-example.conf
job     = "rerun-2026-10-02"
command = "rerun"
period  = "2026-10-02"
reason  = "re-imported probes (OPS-1)"
source  = "csv"
input   = {"$TD/in-new/p-{period}.csv.gz"}
out     = "$TD/out"
default_pool = "1000000"
EOF
	prun jdry run "$TD/rerun.conf" --dry-run
	rc_is 0 || return 1
	grep -q '^stream_id,node_id,previously_paid,now_due,delta$' "$TD/jdry.out" ||
		{ fail "rerun job --dry-run prints no adjustments: $(oneline "$TD/jdry.out")"; return 1; }
	versions_are "$TD/out" 2026-10-01/v1 2026-10-02/v1 || return 1
	prun job run "$TD/rerun.conf"
	rc_is 0 || return 1
	prun cli rerun --period 2026-10-02 --reason "re-imported probes (OPS-1)" \
		--input "$TD/in-new/p-2026-10-02.csv.gz" --default-pool 1000000 --out "$TD/out-cli"
	rc_is 0 || return 1
	versions_are "$TD/out" 2026-10-01/v1 2026-10-02/v1 2026-10-02/v2 || return 1
	for f in ledger.csv streams.csv adjustments.csv rejects.csv; do
		same_file "$TD/out-cli/2026-10-02/v2/$f" "$TD/out/2026-10-02/v2/$f" || return 1
	done
	[ "$(wc -l <"$TD/out/2026-10-02/v2/adjustments.csv")" -gt 3 ] || { fail "rerun job: no adjustments"; return 1; }
	grep -q 're-imported probes (OPS-1)' "$TD/out/2026-10-02/v2/manifest.json" || { fail "job reason not in the manifest"; return 1; }

	prun hist history --out "$TD/out"
	rc_is 0 || return 1
	hist=$TD/hist.out
	[ "$(grep -cE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' "$hist")" -ge 3 ] || { fail "history lists $(grep -cE '^[0-9]{4}-' "$hist") runs, want >= 3: $(oneline "$hist" 600)"; return 1; }
	grep -Eq 'settle +2026-10-01 +1 +settled' "$hist" && grep -Eq 'settle +2026-10-02 +1 +settled' "$hist" &&
		grep -Eq 'rerun +2026-10-02 +2 +settled .*re-imported probes \(OPS-1\)' "$hist" ||
		{ fail "history misses a run: $(oneline "$hist" 800)"; return 1; }
	prun histp history --out "$TD/out" --period 2026-10-02
	rc_is 0 || return 1
	! grep -q '2026-10-01' "$TD/histp.out" && grep -Eq 'settle +2026-10-02 +1' "$TD/histp.out" &&
		grep -Eq 'rerun +2026-10-02 +2' "$TD/histp.out" ||
		{ fail "history --period 2026-10-02: $(oneline "$TD/histp.out" 800)"; return 1; }
	prun histn history --out "$TD/out" --period 2026-09-30
	rc_is 0 || return 1
	says 'no runs' || return 1
}

# Issue 4 / cron/README.md: "Every run appends a line to DIR/runs.log", so a
# night that settled nothing (nothing to do, or data not complete) is visible
# in 'payrun history' too.
t_every_job_run_is_logged() {
	local n0 n1 n2
	exports "$TD/in" 1 2
	csv_job "$TD/job.conf" "$TD/out" "$TD/in"
	prun run1 run "$TD/job.conf" --now "2026-10-03 02:00:00"
	rc_is 0 || return 1
	versions_are "$TD/out" 2026-10-01/v1 || return 1
	n0=$(wc -l <"$TD/out/runs.log")
	# stops at 2026-10-02 (no 2026-10-03 export)
	prun run2 run "$TD/job.conf" --now "2026-10-03 02:00:00"
	rc_is 0 || return 1
	n1=$(wc -l <"$TD/out/runs.log")
	# nothing to do (2026-10-02 not closed yet)
	prun run3 run "$TD/job.conf" --now "2026-10-02 23:00:00"
	rc_is 0 || return 1
	n2=$(wc -l <"$TD/out/runs.log")
	[ "$n1" = $((n0 + 1)) ] && [ "$n2" = $((n1 + 1)) ] ||
		{ fail "runs.log lines: $n0 after the first run, $n1 after a run stopped by incomplete data, $n2 after a run with nothing to do; want one more line per run"; return 1; }
}

# ------------------------------------------------------------------ refusal checks in the nightly job (issue 9)

# overrides_of OUT LABEL: the overrides of LABEL's settled line in runs.log.
overrides_of() {
	"$PY" - "$1/runs.log" "$2" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e.get("command") != "nightly" and e.get("period") == sys.argv[2] and e.get("status") == "settled":
        print(" ".join(e.get("overrides", [])))
PY
}

# 15. OUT/LABEL a symlink to a directory holding a v1 (settled elsewhere, or
# a trap) is not taken as settled: the job fails loudly at that period,
# every night, writes nothing through it, and does not go on past it.
t_symlinked_label_dir_is_not_settled() {
	local r
	exports "$TD/in" 1 2 3
	ref_settle "$TD/elsewhere" "$(day 1)" "$(exp 1)" || return 1
	sha_tree "$TD/elsewhere" >"$TD/before"
	mkdir -p "$TD/out"
	ln -s "$TD/elsewhere/$(day 1)" "$TD/out/$(day 1)"
	csv_job "$TD/job.conf" "$TD/out" "$TD/in"
	# the dry run makes the real run's checks: it refuses the period as the real run does
	prun dry run "$TD/job.conf" --dry-run --now "2026-10-03 02:00:00"
	[ "$RC" != 0 ] && [ "$RC" != 5 ] || { fail "dry run: exit $RC, want the real run's refusal: $(oneline "$TD/dry.err")"; return 1; }
	says "$(day 1)" || return 1
	! grep -q "would settle period $(day 1)" "$TD/dry.out" || { fail "the dry run says it would settle $(day 1)"; return 1; }
	for r in 1 2; do
		prun "run$r" run "$TD/job.conf" --now "2026-10-03 02:00:00"
		[ "$RC" != 0 ] || { fail "night $r: the job exited 0 with $(day 1) a symlink: $(oneline "$TD/run$r.err")"; return 1; }
		[ "$RC" != 5 ] || { fail "night $r: exit 5, as if $(day 1) were settled: $(oneline "$TD/run$r.err")"; return 1; }
		says "$(day 1)" && says 'stopped at period' || return 1
	done
	sha_tree "$TD/elsewhere" >"$TD/after"
	cmp -s "$TD/before" "$TD/after" || { fail "the job wrote through the symlink: $(diff "$TD/before" "$TD/after" | head -3 | tr '\n' '|')"; return 1; }
	[ -L "$TD/out/$(day 1)" ] && [ ! -e "$TD/out/$(day 2)" ] || { fail "the job went on past $(day 1): $(ls "$TD/out" | tr '\n' ' ')"; return 1; }
	[ "$(logged_periods "$TD/out" failed)" = "$(day 1) $(day 1) $(day 1) $(day 1)" ] ||
		{ fail "runs.log failed lines: '$(logged_periods "$TD/out" failed)', want a settle and a nightly line per night"; return 1; }
}

# 16. The wrong day's export (or an empty one) stops the job at that period
# with exit 3, naming the check; once the right export is there, the next
# run settles it and goes on.
t_wrong_day_export_stops_the_job() {
	exports "$TD/in" 1 3 4
	ln -sf "$(exp 3)" "$TD/in/p-$(day 2).csv.gz"
	csv_job "$TD/job.conf" "$TD/out" "$TD/in"
	prun run1 run "$TD/job.conf" --now "2026-10-04 02:00:00"
	rc_is 3 || return 1
	says 'check has_probes' && says "stopped at period $(day 2)" || return 1
	versions_are "$TD/out" 2026-10-01/v1 || return 1
	compgen -G "$TD/out/$(day 2)/failed/*/rejects.csv" >/dev/null || { fail "no rejects kept for $(day 2)"; return 1; }
	# a header-only export of that day: the same
	zcat "$(exp 2)" | head -n 1 | gzip >"$TD/empty.csv.gz"
	ln -sf "$TD/empty.csv.gz" "$TD/in/p-$(day 2).csv.gz"
	prun run2 run "$TD/job.conf" --now "2026-10-04 02:00:00"
	rc_is 3 || return 1
	says 'check has_probes' || return 1
	versions_are "$TD/out" 2026-10-01/v1 || return 1
	exports "$TD/in" 2
	prun run3 run "$TD/job.conf" --now "2026-10-04 02:00:00"
	rc_is 0 || return 1
	versions_are "$TD/out" 2026-10-01/v1 2026-10-02/v1 2026-10-03/v1 || return 1
	ref_settle "$TD/ref" "$(day 2)" "$(exp 2)" || return 1
	same_as_ref "$TD/out" "$TD/ref" "$(day 2)"
}

# 17. The checks' overrides in a job file: a half-day export is refused by
# edge_gap until the job says max_edge_gap = "13h"; a job without pools is
# refused by the pools check until it says allow_zero_pools = true; each
# override used is in the manifest's checks and in runs.log.
t_overrides_in_a_job_file() {
	local got
	exports "$TD/in" 1 3
	zcat "$(exp 2)" | awk -F, 'NR == 1 || substr($6, 12, 2) < "12"' | gzip -1 >"$TD/in/p-$(day 2).csv.gz"
	csv_job "$TD/job.conf" "$TD/out" "$TD/in"
	prun run1 run "$TD/job.conf" --now "2026-10-03 02:00:00"
	rc_is 3 || return 1
	says 'check edge_gap' || return 1
	versions_are "$TD/out" 2026-10-01/v1 || return 1
	echo 'max_edge_gap = "13h"' >>"$TD/job.conf"
	prun run2 run "$TD/job.conf" --now "2026-10-03 02:00:00"
	rc_is 0 || return 1
	versions_are "$TD/out" 2026-10-01/v1 2026-10-02/v1 || return 1
	got=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["checks"]["edge_gap"])' "$TD/out/$(day 2)/v1/manifest.json")
	case $got in *"'max_s': 46800"*"'status': 'passed'"*) ;; *) fail "$(day 2) edge_gap: $got"; return 1 ;; esac
	[ "$(overrides_of "$TD/out" "$(day 2)")" = "max_edge_gap=46800s" ] ||
		{ fail "runs.log overrides of $(day 2): '$(overrides_of "$TD/out" "$(day 2)")'"; return 1; }
	# no pools at all
	csv_job "$TD/job0.conf" "$TD/out0" "$TD/in"
	sed -i 's/^default_pool = .*/default_pool = "0"/' "$TD/job0.conf"
	prun run3 run "$TD/job0.conf" --now "2026-10-02 02:00:00"
	rc_is 3 || return 1
	says 'check pools' || return 1
	[ -z "$(versions "$TD/out0")" ] || { fail "published $(versions "$TD/out0") with every pool 0"; return 1; }
	echo 'allow_zero_pools = true' >>"$TD/job0.conf"
	prun run4 run "$TD/job0.conf" --now "2026-10-02 02:00:00"
	rc_is 0 || return 1
	versions_are "$TD/out0" 2026-10-01/v1 || return 1
	overrides_of "$TD/out0" "$(day 1)" | grep -Eqx 'allow[-_]zero[-_]pools' ||
		{ fail "runs.log overrides of $(day 1): '$(overrides_of "$TD/out0" "$(day 1)")'"; return 1; }
	[ "$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["checks"]["pools"]["status"])' "$TD/out0/$(day 1)/v1/manifest.json")" = overridden ] ||
		{ fail "$(day 1)'s pools check is not 'overridden'"; return 1; }
}

# ------------------------------------------------------------------ PostgreSQL tests

# fresh_db NAME: a new database with payrun's schema; PGDATABASE set.
fresh_db() {
	pg_cluster_createdb "$1" >/dev/null 2>&1 && export PGDATABASE="$1" &&
		"$PAYRUN" -q db migrate --create-probe-table >"$TD/migrate.log" 2>&1 ||
		{ fail "could not create database $1: $(oneline "$TD/migrate.log")"; return 1; }
}

q() { $PSQL -Atc "$1"; }

# into_db N...: load these days' exports with backfill --into-db.
into_db() {
	local args=() n
	for n in "$@"; do args+=(--input "$(exp "$n")"); done
	prun load backfill "${args[@]}" --into-db --out "$TD/bf"
	rc_is 0
}

# pools_in_db: 1000000 in payout_pools for every stream of every day that
# probe_results has probes of: the pools the reference settles get from
# --default-pool 1000000.  A pg settle given that default pool and an empty
# payout_pools is refused (exit 3, "the pools name none of the streams that
# have probes"), although checks.h says a table listing no stream leaves
# every stream the default pool: a payrun bug, kept in pg.sh's DO NOT MERGE
# test default_pool_with_empty_payout_pools.  These pools give the same
# ledgers and keep the pools check on.
pools_in_db() {
	q "INSERT INTO payout_pools
	   SELECT DISTINCT stream_id, date_trunc('day', probe_timestamp),
	          date_trunc('day', probe_timestamp) + interval '1 day', 1000000
	   FROM probe_results ON CONFLICT DO NOTHING" >/dev/null || { fail "could not fill payout_pools"; return 1; }
}

# 2. Catch-up with a pg job over probes loaded by backfill --into-db;
# completeness is "some probe at or after the period's end".
t_pg_catch_up_three_missed_nights() {
	local ids
	fresh_db t_pg_catchup || return 1
	into_db 1 2 3 4 && pools_in_db || return 1
	pg_job "$TD/job.conf" "$TD/out" t_pg_catchup
	prun run run "$TD/job.conf" --now "2026-10-05 02:00:00"
	rc_is 0 || return 1
	versions_are "$TD/out" 2026-10-01/v1 2026-10-02/v1 2026-10-03/v1 || return 1
	says 'stopping at period 2026-10-04' || return 1
	[ "$(logged_periods "$TD/out" settled)" = "2026-10-01 2026-10-02 2026-10-03" ] ||
		{ fail "runs.log order: '$(logged_periods "$TD/out" settled)'"; return 1; }
	ids=$(q "SELECT string_agg(period_label || ':' || version, ' ' ORDER BY id) FROM payout_runs")
	[ "$ids" = "2026-10-01:1 2026-10-02:1 2026-10-03:1" ] || { fail "payout_runs in id order: '$ids'"; return 1; }
	for n in 1 2 3; do ref_settle "$TD/ref" "$(day $n)" "$(exp $n)" || return 1; done
	same_as_ref "$TD/out" "$TD/ref" 2026-10-01 2026-10-02 2026-10-03 || return 1
	# the database ledger agrees with the files
	[ "$(q "SELECT sum(l.payout_amount) FROM payout_ledger l JOIN payout_runs r ON r.id = l.run_id WHERE r.period_label = '2026-10-02'")" = \
		"$(awk -F, 'NR > 1 { s += $NF } END { print s }' "$TD/out/2026-10-02/v1/ledger.csv")" ] ||
		{ fail "payout_ledger sum differs from ledger.csv"; return 1; }
	# running again: nothing to do until data after 2026-10-04 arrives
	prun again run "$TD/job.conf" --now "2026-10-05 02:00:00"
	rc_is 0 || return 1
	versions_are "$TD/out" 2026-10-01/v1 2026-10-02/v1 2026-10-03/v1 || return 1
	[ "$(q "SELECT count(*) FROM payout_runs")" = 3 ] || { fail "second run added payout_runs rows"; return 1; }
}

# 4 (pg). No probe at or after a period's end stops the catch-up there; one
# probe exactly at the end is enough, one a microsecond before is not.
t_pg_incomplete_data_stops() {
	fresh_db t_pg_incomplete || return 1
	into_db 1 2 3 && pools_in_db || return 1
	# (the nightly waits for 2026-10-03 longer than the default max_wait)
	pg_job "$TD/job.conf" "$TD/out" t_pg_incomplete 'max_wait = "7d"'
	prun run1 run "$TD/job.conf" --now "2026-10-06 02:00:00"
	rc_is 0 || return 1
	says 'stopping at period 2026-10-03' || return 1
	versions_are "$TD/out" 2026-10-01/v1 2026-10-02/v1 || return 1
	q "INSERT INTO probe_results (id, stream_id, node_id, probe_type, success, probe_timestamp)
	   VALUES (1, 'stream-000', 'node-000001', 'stats_poll', true, '2026-10-03 23:59:59.999999+00')" || { fail "insert"; return 1; }
	prun run2 run "$TD/job.conf" --now "2026-10-06 02:00:00"
	rc_is 0 || return 1
	says 'stopping at period 2026-10-03' || return 1
	versions_are "$TD/out" 2026-10-01/v1 2026-10-02/v1 || return 1
	q "INSERT INTO probe_results (id, stream_id, node_id, probe_type, success, probe_timestamp)
	   VALUES (2, 'stream-000', 'node-000001', 'stats_poll', true, '2026-10-04 00:00:00+00')" || { fail "insert"; return 1; }
	prun run3 run "$TD/job.conf" --now "2026-10-06 02:00:00"
	rc_is 0 || return 1
	says 'stopping at period 2026-10-04' || return 1
	versions_are "$TD/out" 2026-10-01/v1 2026-10-02/v1 2026-10-03/v1 || return 1
	[ "$(q "SELECT count(*) FROM payout_runs")" = 3 ] || { fail "payout_runs: $(q "SELECT count(*) FROM payout_runs")"; return 1; }
}

# 7. backfill --into-db: the same file twice is a no-op that says so (also
# under another name); overlapping files count each probe once.
t_pg_backfill_into_db_twice_and_overlap() {
	local rows
	fresh_db t_pg_overlap || return 1
	mkdir -p "$TD/in"
	# a.csv.gz: 2026-10-01 (ids 100000..129999); b.csv.gz: the last 10000 rows
	# of a (same ids) and 20000 rows of 2026-10-02
	cp "$(exp 1)" "$TD/in/a.csv.gz"
	{ zcat "$(exp 1)" | head -n 1; zcat "$(exp 1)" | tail -n 10000;
		"$GENP" -q --rows 20000 --nodes 50 --streams 3 --day 2026-10-02 --seed 22 \
			--first-id 130000 --gzip 0 --out - | tail -n +2; } | gzip -1 >"$TD/in/b.csv.gz"
	prun l1 backfill --input "$TD/in/a.csv.gz" --into-db --out "$TD/bf"
	rc_is 0 || return 1
	prun l2 backfill --input "$TD/in/a.csv.gz" --into-db --out "$TD/bf"
	rc_is 0 || return 1
	says 'already loaded' || return 1
	cp "$TD/in/a.csv.gz" "$TD/in/a-copy.csv.gz"
	prun l3 backfill --input "$TD/in/a-copy.csv.gz" --into-db --out "$TD/bf"
	rc_is 0 || return 1
	says 'already loaded' || return 1
	[ "$(q "SELECT count(*) FROM probe_results")" = 30000 ] || { fail "after a twice: $(q "SELECT count(*) FROM probe_results") probes, want 30000"; return 1; }
	[ "$(q "SELECT count(*) FROM payout_backfill_files")" = 1 ] || { fail "payout_backfill_files rows: $(q "SELECT count(*) FROM payout_backfill_files")"; return 1; }
	prun l4 backfill --input "$TD/in/b.csv.gz" --into-db --out "$TD/bf"
	rc_is 0 || return 1
	[ "$(q "SELECT count(*) FROM probe_results")" = 50000 ] &&
		[ "$(q "SELECT count(DISTINCT id) FROM probe_results")" = 50000 ] ||
		{ fail "after b: $(q "SELECT count(*) FROM probe_results") probes, want 50000"; return 1; }
	rows=$(q "SELECT name || ':' || rows_read || ':' || rows_loaded || ':' || rows_skipped FROM payout_backfill_files ORDER BY loaded_at" | tr '\n' ' ')
	[ "$rows" = "$TD/in/a.csv.gz:30000:30000:0 $TD/in/b.csv.gz:30000:20000:10000 " ] ||
		{ fail "payout_backfill_files: '$rows'"; return 1; }
	# the probes of 2026-10-01 count once: a pg settle equals the csv settle of a alone
	pools_in_db || return 1
	prun settle settle --period 2026-10-01 --source pg --default-pool 1000000 --out "$TD/out"
	rc_is 0 || return 1
	ref_settle "$TD/ref" 2026-10-01 "$(exp 1)" || return 1
	same_as_ref "$TD/out" "$TD/ref" 2026-10-01
}

# 9 (into-db). A truncated gzip: exit 3 naming it, none of its rows and no
# record of it committed; the good file before it stays loaded.
t_pg_backfill_into_db_corrupt_gzip() {
	fresh_db t_pg_corrupt || return 1
	mkdir -p "$TD/in"
	cp "$(exp 1)" "$TD/in/p1.csv.gz"
	head -c $(($(stat -c %s "$(exp 2)") * 3 / 4)) "$(exp 2)" >"$TD/in/p2.csv.gz"
	prun load backfill --input "$TD/in/p*.csv.gz" --into-db --out "$TD/bf"
	rc_is 3 || return 1
	says "p2\.csv\.gz" || return 1
	[ "$(q "SELECT count(*) FROM probe_results WHERE probe_timestamp >= '2026-10-02'")" = 0 ] ||
		{ fail "rows of the corrupt file committed: $(q "SELECT count(*) FROM probe_results WHERE probe_timestamp >= '2026-10-02'")"; return 1; }
	[ "$(q "SELECT string_agg(name, ' ') FROM payout_backfill_files")" = "$TD/in/p1.csv.gz" ] ||
		{ fail "payout_backfill_files: '$(q "SELECT string_agg(name, ' ') FROM payout_backfill_files")'"; return 1; }
	[ "$(q "SELECT count(*) FROM probe_results")" = 30000 ] || { fail "probe_results: $(q "SELECT count(*) FROM probe_results")"; return 1; }
	[ -z "$(versions "$TD/bf")" ] || { fail "published $(versions "$TD/bf")"; return 1; }
}

# 10 (pg). Rerun after probes were deleted (and some added): v2 with the right
# adjustments, a payout_runs row superseding v1's with the reason; v1 untouched
# in the files and in the database.
t_pg_rerun_changed_data() {
	local v1id row v1db
	fresh_db t_pg_rerun || return 1
	into_db 2 && pools_in_db || return 1
	prun settle settle --period 2026-10-02 --source pg --default-pool 1000000 --out "$TD/out"
	rc_is 0 || return 1
	sha_tree "$TD/out/2026-10-02/v1" >"$TD/v1.before"
	v1id=$(q "SELECT id FROM payout_runs WHERE period_label = '2026-10-02' AND version = 1")
	v1db=$(q "SELECT count(*) || ':' || sum(payout_amount) || ':' || md5(string_agg(stream_id || node_id || payout_amount, ',' ORDER BY stream_id, node_id)) FROM payout_ledger WHERE run_id = $v1id")
	q "DELETE FROM probe_results WHERE node_id = 'node-000007' OR (node_id = 'node-000011' AND id % 2 = 0)" || { fail "delete"; return 1; }
	q "INSERT INTO probe_results (id, stream_id, node_id, probe_type, success, probe_timestamp)
	   SELECT 990000000 + i, 'stream-001', 'node-new', 'stats_poll', i % 5 <> 0,
	          '2026-10-02 00:00:00+00'::timestamptz + i * interval '7 minutes'
	   FROM generate_series(0, 39) i" || { fail "insert"; return 1; }
	$PSQL -c "\\copy (SELECT id, stream_id, node_id, probe_type, CASE WHEN success THEN 't' ELSE 'f' END, to_char(probe_timestamp AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00', error_message, response_data FROM probe_results WHERE probe_timestamp >= '2026-10-02' AND probe_timestamp < '2026-10-03' ORDER BY id) TO '$TD/new.csv' WITH (FORMAT csv)" ||
		{ fail "export"; return 1; }
	sed -i '1i id,stream_id,node_id,probe_type,success,probe_timestamp,error_message,response_data' "$TD/new.csv"
	prun rerun rerun --period 2026-10-02 --reason "coordinator purge of bad probes (OPS-7)" --source pg \
		--default-pool 1000000 --out "$TD/out"
	rc_is 0 || return 1
	versions_are "$TD/out" 2026-10-02/v1 2026-10-02/v2 || return 1
	oracle 2026-10-02 "$TD/ref-old" "$(exp 2)" || return 1
	oracle 2026-10-02 "$TD/ref-new" "$TD/new.csv" || return 1
	same_file "$TD/ref-new/ledger.csv" "$TD/out/2026-10-02/v2/ledger.csv" || return 1
	adj_check "$TD/ref-old/ledger.csv" "$TD/ref-new/ledger.csv" "$TD/out/2026-10-02/v2" || return 1
	[ "$ADJ_ROWS" -gt 3 ] || { fail "only $ADJ_ROWS adjustments"; return 1; }
	row=$(q "SELECT version || '|' || coalesce(supersedes::text, 'NULL') || '|' || coalesce(reason, 'NULL') FROM payout_runs WHERE period_label = '2026-10-02' ORDER BY version DESC LIMIT 1")
	[ "$row" = "2|$v1id|coordinator purge of bad probes (OPS-7)" ] ||
		{ fail "payout_runs v2 row: '$row', want '2|$v1id|coordinator purge of bad probes (OPS-7)'"; return 1; }
	[ "$(q "SELECT count(*) || ':' || sum(payout_amount) || ':' || md5(string_agg(stream_id || node_id || payout_amount, ',' ORDER BY stream_id, node_id)) FROM payout_ledger WHERE run_id = $v1id")" = "$v1db" ] ||
		{ fail "v1's payout_ledger rows changed"; return 1; }
	[ "$(q "SELECT sum(l.payout_amount) FROM payout_ledger l JOIN payout_runs r ON r.id = l.run_id WHERE r.period_label = '2026-10-02' AND r.version = 2")" = \
		"$(awk -F, 'NR > 1 { s += $NF } END { print s }' "$TD/out/2026-10-02/v2/ledger.csv")" ] ||
		{ fail "v2's payout_ledger differs from its ledger.csv"; return 1; }
	sha_tree "$TD/out/2026-10-02/v1" >"$TD/v1.after"
	cmp -s "$TD/v1.before" "$TD/v1.after" || { fail "v1 files changed by the rerun"; return 1; }
}

# 18 (pg). The coordinator's table lost a day: the next day's probes make it
# complete, and the job stops there with exit 3 (has_probes); with
# allow_empty = true in the job file it is settled, its pools unallocated.
# Under a session time zone that is not UTC, on the coordinator's schema.
t_pg_day_without_probes_stops_the_job() {
	fresh_db t_pg_noprobes || return 1
	q "DROP TABLE probe_results" && q "CREATE TABLE probe_results (id serial PRIMARY KEY, stream_id varchar NOT NULL,
		node_id varchar NOT NULL, probe_type varchar NOT NULL, success boolean NOT NULL, response_data text,
		error_message text, probe_timestamp timestamp without time zone)" >/dev/null || { fail "the coordinator's table"; return 1; }
	into_db 1 3 4 && pools_in_db || return 1
	q "INSERT INTO payout_pools SELECT stream_id, '2026-10-02T00:00:00Z', '2026-10-03T00:00:00Z', pool
	   FROM payout_pools WHERE period_start = '2026-10-01T00:00:00Z'" >/dev/null || { fail "pools of 2026-10-02"; return 1; }
	pg_job "$TD/job.conf" "$TD/out" t_pg_noprobes
	PGTZ=Asia/Kolkata prun run1 run "$TD/job.conf" --now "2026-10-04 02:00:00"
	rc_is 3 || return 1
	says 'check has_probes' && says "stopped at period $(day 2)" || return 1
	versions_are "$TD/out" 2026-10-01/v1 || return 1
	ref_settle "$TD/ref" "$(day 1)" "$(exp 1)" && same_as_ref "$TD/out" "$TD/ref" "$(day 1)" || return 1
	echo 'allow_empty = true' >>"$TD/job.conf"
	PGOPTIONS='-c timezone=Pacific/Kiritimati' prun run2 run "$TD/job.conf" --now "2026-10-04 02:00:00"
	rc_is 0 || return 1
	versions_are "$TD/out" 2026-10-01/v1 2026-10-02/v1 2026-10-03/v1 || return 1
	[ "$(awk -F, 'NR > 1 && $9 == $4 && $5 == 0 { n++ } END { print n + 0 }' "$TD/out/$(day 2)/v1/streams.csv")" = 3 ] ||
		{ fail "$(day 2)'s streams are not unallocated: $(oneline "$TD/out/$(day 2)/v1/streams.csv")"; return 1; }
	overrides_of "$TD/out" "$(day 2)" | grep -Eqx 'allow[-_]empty' || { fail "runs.log overrides of $(day 2): '$(overrides_of "$TD/out" "$(day 2)")'"; return 1; }
	ref_settle "$TD/ref" "$(day 3)" "$(exp 3)" && same_as_ref "$TD/out" "$TD/ref" "$(day 3)"
}

run_suite "$@"
