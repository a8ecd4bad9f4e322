#!/bin/bash
# tests/e2e/ops.sh: end-to-end tests of issue 10, operating payrun:
# 'payrun history --json', 'payrun status', the nightly job's exit 3 when the
# period it waits for is overdue (max_wait), and 'payrun verify'.
#
#   bash tests/e2e/ops.sh [NAME-SUBSTRING...]
#
# Drives ./payrun (or $PAYRUN) at the repository root; the last line is
# `ops: N passed, N failed` (tests/e2e/lib.sh).  status and the nightly job
# read the real clock, so the periods of those tests are days counted back
# from today (date -u).  Data comes from build/tools/gen_probes at run time,
# into a private temporary directory (OPS_KEEP=1 keeps it; OPS_TIMEOUT=S is
# the seconds any one payrun run may take, 120).  The tests named 'pg_*'
# use a private PostgreSQL cluster (tests/pg/cluster.sh), started when the
# first of them runs.  JSON is read with python3.

# shellcheck disable=SC2317 # the t_ functions are called by run_suite (lib.sh)
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh" ops || exit 1

GENP=$ROOT/build/tools/gen_probes
PY=${PYTHON:-python3}
LIMIT=${OPS_TIMEOUT:-120}
# shellcheck disable=SC2034 # read by lib.sh
CLUSTER_TESTS='pg_*'
FIXED=2026-10-01 # the day of the verify tests

# ------------------------------------------------------------------ helpers

# rc_is WANT: the last prun exited WANT.
rc_is() {
	[ "$RC" = "$1" ] && return 0
	fail "$LAST: exit $RC, want $1; stderr: $(oneline "$TD/$LAST.err" 500)"
}

# says PATTERN: the last prun's stdout or stderr matches the extended regex.
says() {
	cat "$TD/$LAST.out" "$TD/$LAST.err" | grep -Eq -- "$1" && return 0
	fail "$LAST: no line matching '$1'; got: $(cat "$TD/$LAST.out" "$TD/$LAST.err" | head -c 600 | tr '\n' '|')"
}

# out_has PATTERN / out_lacks PATTERN: the last prun's stdout has (no) line matching.
out_has() {
	grep -Eq -- "$1" "$TD/$LAST.out" && return 0
	fail "$LAST: stdout has no line matching '$1': $(head -c 800 "$TD/$LAST.out" | tr '\n' '|')"
}
out_lacks() {
	grep -Eq -- "$1" "$TD/$LAST.out" || return 0
	fail "$LAST: stdout has a line matching '$1': $(grep -E -- "$1" "$TD/$LAST.out" | head -c 400)"
}

# ago N: the label of the day N days before today (UTC).
ago() { date -u -d "$1 days ago" +%F; }

# exp LABEL: the shared export of that day.
exp() { printf '%s/data/p-%s.csv.gz' "$W" "$1"; }

# exports DIR LABEL...: DIR/p-LABEL.csv.gz, links to the shared exports.
exports() {
	local dir=$1 l
	shift
	mkdir -p "$dir"
	for l in "$@"; do ln -sf "$(exp "$l")" "$dir/p-$l.csv.gz"; done
}

# corrupt DIR LABEL: DIR/p-LABEL.csv.gz is a truncated gzip stream.
corrupt() {
	rm -f "$1/p-$2.csv.gz"
	head -c 2000 "$(exp "$2")" >"$1/p-$2.csv.gz"
}

# csv_job FILE OUT INDIR START [EXTRA LINE...]: a nightly csv job, grace 0.
csv_job() {
	local file=$1 out=$2 indir=$3 start=$4
	shift 4
	{
		printf 'job = "ops-nightly"\ncommand = "settle"\nsource = "csv"\n'
		printf 'input = {"%s/p-{period}.csv.gz"}\n' "$indir"
		printf 'period_length = "1d"\nstart_period = "%s"\ngrace = "0"\n' "$start"
		printf 'out = "%s"\npools = "%s"\ndefault_pool = "1000"\n' "$out" "$W/data/pools.csv"
		printf '%s\n' "$@"
	} >"$file"
}

# settle_fixed OUT: the fixed day settled from its export, with the pools.
settle_fixed() {
	prun settle -q settle --period "$FIXED" --input "$(exp "$FIXED")" --pools "$W/data/pools.csv" \
		--default-pool 1000 --out "$1"
	rc_is 0
}

# state_of FILE LABEL: the state column of LABEL's row in a status table.
state_of() {
	awk -v l="$2" '$1 == l { print $2 }' "$1"
}

# states_are FILE LABEL=STATE...: each LABEL's row in the status table has STATE.
states_are() {
	local file=$1 pair got
	shift
	for pair in "$@"; do
		got=$(state_of "$file" "${pair%%=*}")
		[ "$got" = "${pair#*=}" ] ||
			{ fail "status: period ${pair%%=*} is '$got', want '${pair#*=}': $(oneline "$file" 1200)"; return 1; }
	done
}

# edit_manifest VDIR NAME: VDIR/manifest.json's outputs entry of NAME
# rewritten with the file's present size and SHA-256.
edit_manifest() {
	"$PY" - "$1" "$2" <<'PY' || { fail "could not rewrite the manifest"; return 1; }
import hashlib, json, os, sys
vdir, name = sys.argv[1], sys.argv[2]
path = os.path.join(vdir, "manifest.json")
m = json.load(open(path))
data = open(os.path.join(vdir, name), "rb").read()
for o in m["outputs"]:
    if o["name"] == name:
        o["bytes"] = len(data)
        o["sha256"] = hashlib.sha256(data).hexdigest()
open(path, "w").write(json.dumps(m, indent=2) + "\n")
PY
}

# bump_field FILE LINE COLUMN: adds 1 to the number in COLUMN (1-based) of LINE.
bump_field() {
	awk -F, -v OFS=, -v l="$2" -v c="$3" 'NR == l { $c = $c + 1 } { print }' "$1" >"$1.new" &&
		mv "$1.new" "$1"
}

# ------------------------------------------------------------------ data
# Today's five previous days (status and the nightly job read the real
# clock) and a fixed day, 3000 probes each over 2 streams; the pools name
# both streams.
suite_setup() {
	local n l
	[ -x "$GENP" ] || { fail "'$GENP' is missing (make tools)"; return 1; }
	mkdir -p "$W/data"
	printf 'stream_id,pool\nstream-000,1000000\nstream-001,2000000\n' >"$W/data/pools.csv"
	for n in 0 1 2 3 4 5 6; do
		if [ "$n" = 0 ]; then l=$FIXED; else l=$(ago "$n"); fi
		"$GENP" -q --rows 3000 --nodes 20 --streams 2 --day "$l" --seed $((n + 1)) \
			--first-id $(((n + 1) * 100000)) --gzip 1 --out "$(exp "$l")" ||
			{ fail "could not generate the data (gen_probes)"; return 1; }
	done
}

# ------------------------------------------------------------------ history

# history --json: JSON lines, each entry as runs.log holds it, filtered by --period.
t_history_json() {
	settle_fixed "$TD/out" || return 1
	corrupt "$TD" "$(ago 1)"
	prun bad settle --period "$(ago 1)" --input "$TD/p-$(ago 1).csv.gz" --pools "$W/data/pools.csv" \
		--out "$TD/out"
	rc_is 3 || return 1
	prun hist history --out "$TD/out" --json
	rc_is 0 || return 1
	"$PY" - "$TD/out/runs.log" "$TD/hist.out" <<'PY' || { fail "history --json: $(oneline "$TD/hist.out" 600)"; return 1; }
import json, sys
log = [json.loads(l) for l in open(sys.argv[1])]
got = [json.loads(l) for l in open(sys.argv[2])]
assert got == log, (got, log)
assert [(e["command"], e["status"], e["exit"]) for e in got] == [("settle", "settled", 0), ("settle", "failed", 3)], got
assert got[0]["paid"] == str(int(got[0]["paid"])), got[0]   # amounts as decimal strings
PY
	prun histp history --out "$TD/out" --json --period "$FIXED"
	rc_is 0 || return 1
	[ "$(wc -l <"$TD/histp.out")" = 1 ] && grep -q "\"period\":\"$FIXED\"" "$TD/histp.out" ||
		{ fail "history --json --period $FIXED: $(oneline "$TD/histp.out")"; return 1; }
	prun histn history --out "$TD/out" --json --period 2026-09-30
	rc_is 0 || return 1
	[ ! -s "$TD/histn.out" ] || { fail "history --json of a period without runs printed: $(oneline "$TD/histn.out")"; return 1; }
}

# history of a directory that does not exist fails naming it; it used to say
# "no runs recorded" with exit 0.
t_history_missing_out() {
	prun h history --out "$TD/nonexistent"
	rc_is 2 || return 1
	says "output directory '$TD/nonexistent'.*No such file or directory" || return 1
	prun hj history --out "$TD/nonexistent" --json
	rc_is 2 || return 1
	: >"$TD/file"
	prun hf history --out "$TD/file"
	rc_is 2 || return 1
	says "is not a directory" || return 1
	mkdir "$TD/empty"
	prun he history --out "$TD/empty"
	rc_is 0 || return 1
	says "no runs recorded" || return 1
	# runs.log is read as it is appended: never through a symlink
	mkdir "$TD/linked" && echo '{"period":"x"}' >"$TD/elsewhere" && ln -s "$TD/elsewhere" "$TD/linked/runs.log"
	prun hl history --out "$TD/linked" --json
	rc_is 1 || return 1
	says "runs.log': it is a symlink" || return 1
}

# history --period takes only a valid label.
t_history_invalid_period() {
	mkdir "$TD/out"
	prun h history --out "$TD/out" --period 2026-13-03
	rc_is 2 || return 1
	says "period label '2026-13-03' is not a valid date" || return 1
	prun h2 history --out "$TD/out" --period 2026-02-30
	rc_is 2 || return 1
	prun h3 history --out "$TD/out" --period yesterday
	rc_is 2 || return 1
}

# ------------------------------------------------------------------ status and the nightly job

# A nightly csv job from 5 days ago: day -5 settles, day -4's export is
# corrupt (its run fails), day -3's data is complete, days -2 and -1 wait
# for the next day's export, today is open.
status_fixture() {
	exports "$TD/in" "$(ago 5)" "$(ago 3)" "$(ago 2)"
	corrupt "$TD/in" "$(ago 4)"
	csv_job "$TD/job.conf" "$TD/out" "$TD/in" "$(ago 5)" "$@"
	prun night -q run "$TD/job.conf"
	rc_is 3 || return 1
	[ -d "$TD/out/$(ago 5)/v1" ] || { fail "the nightly run did not settle $(ago 5)"; return 1; }
}

t_status_states() {
	status_fixture 'max_wait = "30d"' || return 1
	prun st status --job "$TD/job.conf"
	rc_is 0 || return 1
	states_are "$TD/st.out" "$(ago 5)=settled" "$(ago 4)=failed" "$(ago 3)=pending" \
		"$(ago 2)=waiting" "$(ago 1)=waiting" "$(date -u +%F)=open" || return 1
	grep -Eq "^$(ago 5) +settled +1 +[0-9T:Z-]+ +- +[0-9]+ +[0-9]+" "$TD/st.out" ||
		{ fail "settled row: $(grep "^$(ago 5)" "$TD/st.out")"; return 1; }
	grep -Eq "^$(ago 4) +failed .*its last run failed: nightly at .*exit 3" "$TD/st.out" ||
		{ fail "failed row: $(grep "^$(ago 4)" "$TD/st.out")"; return 1; }
	out_has '^6 periods: 1 settled, 1 pending, 2 waiting, 1 failed, 1 open$' || return 1
	out_has '^overdue: none' || return 1
	# aligned: every row's state column starts where the header's does
	[ "$(awk 'NR > 1 && NF == 0 { exit } { print index($0, $2) }' "$TD/st.out" | sort -u | wc -l)" = 1 ] ||
		{ fail "status table not aligned: $(oneline "$TD/st.out" 800)"; return 1; }
	# the same directory without the job: no completeness check, the earliest settled day first
	prun st2 status --out "$TD/out" --grace 0 --max-wait 30d
	rc_is 0 || return 1
	states_are "$TD/st2.out" "$(ago 5)=settled" "$(ago 4)=failed" "$(ago 3)=pending" \
		"$(ago 2)=pending" "$(ago 1)=pending" "$(date -u +%F)=open"
}

# max_wait: overdue (exit 3, named on stderr, also under -q) past it, exit 0 within.
t_status_overdue_exit() {
	status_fixture || return 1
	# the job's default max_wait, 24h: days -4, -3 and -2 are overdue
	prun od -q status --job "$TD/job.conf"
	rc_is 3 || return 1
	says "error: period $(ago 4) is overdue: 3d.* longer than max_wait 1d \(failed\)" || return 1
	says "error: period $(ago 3) is overdue" || return 1
	grep -q "period $(ago 1) is overdue" "$TD/od.err" && { fail "day -1 (closed today) is overdue at 24h"; return 1; }
	states_are "$TD/od.out" "$(ago 4)=failed" || return 1
	grep -Eq "^$(ago 4) +failed OVERDUE" "$TD/od.out" || { fail "no OVERDUE mark: $(oneline "$TD/od.out" 600)"; return 1; }
	out_has '^overdue: 3 closed period\(s\) have waited longer than max_wait 1d$' || return 1
	# the command line wins over the job
	prun ok status --job "$TD/job.conf" --max-wait 5d
	rc_is 0 || return 1
	prun off status --job "$TD/job.conf" --max-wait 0
	rc_is 0 || return 1
	out_has '^overdue: not checked' || return 1
	prun bad status --job "$TD/job.conf" --max-wait soon
	rc_is 2 || return 1
	says "invalid max wait 'soon'" || return 1
	# max_wait in a config file, when no job is given (its db, with source csv, is not used)
	printf 'max_wait = "2d"\ndb = "host=/nonexistent dbname=none"\n' >"$TD/payrun.conf"
	prun cf status --out "$TD/out" --grace 0 --config "$TD/payrun.conf"
	rc_is 3 || return 1
	says "period $(ago 4) is overdue" || return 1
	grep -q "period $(ago 2) is overdue" "$TD/cf.err" && { fail "day -2 overdue with max_wait 2d"; return 1; }
	return 0
}

# --json: one object, the same states as the table, the verdict.
t_status_json() {
	status_fixture || return 1
	prun tab status --job "$TD/job.conf" --max-wait 2d
	rc_is 3 || return 1
	prun js status --job "$TD/job.conf" --max-wait 2d --json
	rc_is 3 || return 1
	"$PY" - "$TD/js.out" "$TD/tab.out" "$(ago 5)" "$(ago 4)" "$(ago 3)" <<'PY' ||
import json, re, sys
j = json.load(open(sys.argv[1]))
d5, d4, d3 = sys.argv[3:6]
table = {}
for line in open(sys.argv[2]):
    f = line.split()
    if not f or not re.match(r"^\d{4}-\d{2}-\d{2}$", f[0]):
        continue
    table[f[0]] = f[1]
got = {p["period"]: p["state"] for p in j["periods"]}
assert got == table, (got, table)
assert [p["state"] for p in j["periods"]] == ["settled", "failed", "pending", "waiting", "waiting", "open"], got
assert j["overdue"] is True and j["overdue_periods"] == [d4, d3], j["overdue_periods"]
assert j["max_wait_s"] == 172800 and j["grace_s"] == 0 and j["database"] is False, j
p5 = j["periods"][0]
assert p5["version"] == 1 and int(p5["paid"]) > 0 and p5["paid"] == str(int(p5["paid"])), p5
p4 = j["periods"][1]
assert p4["overdue"] is True and p4["waited_s"] > 3 * 86400, p4
assert p4["last_run"]["status"] == "failed" and p4["last_run"]["exit"] == 3, p4
assert j["counts"] == {"settled": 1, "pending": 1, "waiting": 2, "failed": 1, "open": 1}, j["counts"]
PY
		{ fail "status --json: $(oneline "$TD/js.out" 800)"; return 1; }
	command -v jq >/dev/null 2>&1 || return 0
	[ "$(jq -r '.periods[0].state' "$TD/js.out")" = settled ] || { fail "jq cannot read status --json"; return 1; }
}

# The nightly job stops at a period waiting for its data: exit 0 within
# max_wait, exit 3 past it with an error on stderr even under -q.
t_nightly_overdue_exit_3() {
	status_fixture 'max_wait = "30d"' || return 1
	# day -4's export arrives: the run settles days -4 and -3 and waits at day -2
	exports "$TD/in" "$(ago 4)"
	prun within -q run "$TD/job.conf"
	rc_is 0 || return 1
	[ -d "$TD/out/$(ago 3)/v1" ] || { fail "days -4 and -3 were not settled"; return 1; }
	[ ! -s "$TD/within.err" ] || { fail "within max_wait, -q printed: $(oneline "$TD/within.err")"; return 1; }
	# the default max_wait, 24h: day -2 closed more than a day ago
	csv_job "$TD/job24.conf" "$TD/out" "$TD/in" "$(ago 5)"
	prun late -q run "$TD/job24.conf"
	rc_is 3 || return 1
	grep -Eq "error: job ops-nightly: period $(ago 2) is overdue: it closed at $(ago 1)T00:00:00Z and has waited 1d.*longer than max_wait 1d" "$TD/late.err" ||
		{ fail "no overdue error under -q: $(oneline "$TD/late.err" 600)"; return 1; }
	[ ! -s "$TD/late.out" ] || { fail "-q printed on stdout: $(oneline "$TD/late.out")"; return 1; }
	tail -n 1 "$TD/out/runs.log" | grep -q '"status":"waiting","exit":3' ||
		{ fail "runs.log: $(tail -n 1 "$TD/out/runs.log")"; return 1; }
	# without a job, status reads the reason of that last run in runs.log
	prun st status --out "$TD/out" --grace 0
	rc_is 3 || return 1
	states_are "$TD/st.out" "$(ago 3)=settled" "$(ago 2)=waiting" "$(ago 1)=pending" || return 1
	grep -Eq "^$(ago 2) +waiting OVERDUE .*the last nightly run stopped here" "$TD/st.out" ||
		{ fail "waiting row: $(grep "^$(ago 2)" "$TD/st.out")"; return 1; }
}

# Usage errors: no output directory, nothing to start from, a bad job file.
t_status_usage() {
	prun no status --out "$TD/nonexistent" --no-config
	rc_is 2 || return 1
	says "output directory '$TD/nonexistent'" || return 1
	mkdir "$TD/empty"
	prun empty status --out "$TD/empty" --no-config
	rc_is 2 || return 1
	says "no start_period" || return 1
	prun none status --no-config
	rc_is 2 || return 1
	printf 'command = "settle"\nstart_period = "2026-13-01"\nout = "%s"\n' "$TD/empty" >"$TD/bad.conf"
	prun badjob status --job "$TD/bad.conf"
	rc_is 2 || return 1
	says "2026-13-01" || return 1
}

# ------------------------------------------------------------------ verify

t_verify_clean() {
	settle_fixed "$TD/out" || return 1
	prun v verify --out "$TD/out" --period "$FIXED"
	rc_is 0 || return 1
	out_has "^verified: 6 files, 2 streams, $(($(wc -l <"$TD/out/$FIXED/v1/ledger.csv") - 1)) rows" || return 1
	prun v1 verify --out "$TD/out" --period "$FIXED" --version 1
	rc_is 0 || return 1
	# out from a config file; its db, with source csv, is not used
	printf 'out = "%s"\ndb = "host=/nonexistent dbname=none"\n' "$TD/out" >"$TD/payrun.conf"
	prun cf verify --period "$FIXED" --config "$TD/payrun.conf"
	rc_is 0 || return 1
	prun cfdb verify --period "$FIXED" --config "$TD/payrun.conf" --db "host=/nonexistent dbname=none"
	rc_is 4 || return 1
	prun q -q verify --out "$TD/out" --period "$FIXED"
	rc_is 0 || return 1
	[ ! -s "$TD/q.out" ] && [ ! -s "$TD/q.err" ] || { fail "-q verify printed: $(oneline "$TD/q.out")"; return 1; }
	# a rerun's version, with adjustments.csv
	prun re -q rerun --period "$FIXED" --reason "verify a v2" --input "$(exp "$FIXED")" --out "$TD/out"
	rc_is 0 || return 1
	prun v2 verify --out "$TD/out" --period "$FIXED"
	rc_is 0 || return 1
	out_has "^verified: 7 files, 2 streams, .*/$FIXED/v2'" || return 1
}

# One byte of ledger.csv changed: its SHA-256 differs from the manifest's.
t_verify_tampered_byte() {
	local v
	settle_fixed "$TD/out" || return 1
	v=$TD/out/$FIXED/v1
	# the first digit of the last field of line 3, 1 -> 2 or else -> 1
	"$PY" - "$v/ledger.csv" <<'PY' || { fail "could not tamper"; return 1; }
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
lines = b.split(b"\n")
i = lines[2].rindex(b",") + 1
lines[2][i] = ord("2") if lines[2][i] == ord("1") else ord("1")
open(p, "wb").write(b"\n".join(lines))
PY
	prun v verify --out "$TD/out" --period "$FIXED"
	rc_is 3 || return 1
	out_has '^ledger\.csv: sha256 [0-9a-f]{64}, the manifest says [0-9a-f]{64}$' || return 1
	out_has '^ledger\.csv:3: stream .*base_amount' || return 1
	says "error: '.*/$FIXED/v1' does not verify" || return 1
}

# Other ways a file differs from its manifest: a byte more, a file gone, a
# file the manifest does not list, a digest edited in the manifest.
t_verify_sha_mismatch_kinds() {
	settle_fixed "$TD/out" || return 1
	cp -a "$TD/out" "$TD/a" && printf 'x' >>"$TD/a/$FIXED/v1/rejects.csv"
	prun a verify --out "$TD/a" --period "$FIXED"
	rc_is 3 || return 1
	out_has '^rejects\.csv: [0-9]+ bytes, the manifest says [0-9]+$' || return 1
	out_has '^rejects\.csv: sha256 ' || return 1
	cp -a "$TD/out" "$TD/b" && rm "$TD/b/$FIXED/v1/streams.csv"
	prun b verify --out "$TD/b" --period "$FIXED"
	rc_is 3 || return 1
	out_has '^streams\.csv: listed in the manifest but missing$' || return 1
	cp -a "$TD/out" "$TD/c" && echo note >"$TD/c/$FIXED/v1/notes.txt"
	prun c verify --out "$TD/c" --period "$FIXED"
	rc_is 3 || return 1
	out_has '^notes\.txt: present but not listed' || return 1
	[ "$(wc -l <"$TD/c.out")" = 1 ] || { fail "an extra file gave more differences: $(oneline "$TD/c.out")"; return 1; }
	cp -a "$TD/out" "$TD/d"
	"$PY" - "$TD/d/$FIXED/v1/manifest.json" <<'PY' || { fail "could not edit the manifest"; return 1; }
import json, sys
m = json.load(open(sys.argv[1]))
[o for o in m["outputs"] if o["name"] == "pools.csv"][0]["sha256"] = "0" * 62 + "ff"
open(sys.argv[1], "w").write(json.dumps(m, indent=2) + "\n")
PY
	prun d verify --out "$TD/d" --period "$FIXED"
	rc_is 3 || return 1
	out_has '^pools\.csv: sha256 [0-9a-f]{64}, the manifest says 0{62}ff$' || return 1
}

# A ledger edited and its manifest rewritten with the new digest: the
# digests agree, and the books recomputed from the files catch it.
t_verify_invariant_with_new_sha() {
	local v
	settle_fixed "$TD/out" || return 1
	v=$TD/out/$FIXED/v1
	bump_field "$v/ledger.csv" 4 12 && edit_manifest "$v" ledger.csv || return 1
	prun v verify --out "$TD/out" --period "$FIXED"
	rc_is 3 || return 1
	out_lacks 'sha256' || return 1
	out_has '^ledger\.csv:4: stream .* node .*: base_amount [0-9]+ != payout_amount [0-9]+ \+ forfeited_amount [0-9]+$' || return 1
	out_has "^streams\.csv:[23]: stream '.*': paid [0-9]+, its rows' payouts add up to [0-9]+$" || return 1
	# a stream's unallocated changed, with its digest: paid + forfeited + unallocated != pool,
	# and the manifest's totals are no longer the sums
	settle_fixed "$TD/s2" || return 1
	v=$TD/s2/$FIXED/v1
	bump_field "$v/streams.csv" 2 9 && edit_manifest "$v" streams.csv || return 1
	prun s verify --out "$TD/s2" --period "$FIXED"
	rc_is 3 || return 1
	out_lacks 'sha256' || return 1
	out_has "^streams\.csv:2: stream 'stream-000': paid \+ forfeited \+ unallocated != pool" || return 1
	out_has '^manifest\.json: totals\.unallocated is [0-9]+, streams\.csv adds up to [0-9]+$' || return 1
}

t_verify_usage() {
	settle_fixed "$TD/out" || return 1
	prun a verify --out "$TD/out" --period 2026-10-02
	rc_is 2 || return 1
	says "period 2026-10-02 has no published version" || return 1
	prun b verify --out "$TD/out" --period "$FIXED" --version 2
	rc_is 2 || return 1
	prun c verify --out "$TD/out" --period 2026-10-32
	rc_is 2 || return 1
	prun d verify --out "$TD/nonexistent" --period "$FIXED"
	rc_is 2 || return 1
	prun e verify --out "$TD/out"
	rc_is 2 || return 1
}

# ------------------------------------------------------------------ PostgreSQL

# fresh_db NAME: a new database with payrun's schema; PGDATABASE set.
fresh_db() {
	pg_cluster_createdb "$1" >/dev/null 2>&1 && export PGDATABASE="$1" &&
		"$PAYRUN" -q db migrate --create-probe-table >"$TD/migrate.log" 2>&1 ||
		{ fail "could not create database $1: $(oneline "$TD/migrate.log")"; return 1; }
}

q() { $PSQL -Atc "$1"; }

# into_db LABEL...: these days' exports loaded into probe_results.
into_db() {
	local args=() l
	for l in "$@"; do args+=(--input "$(exp "$l")"); done
	prun load -q backfill "${args[@]}" --into-db --out "$TD/bf"
	rc_is 0
}

# verify --db: the files and the database agree; one ledger row updated in
# the database is named with the file's line.
t_pg_verify_db() {
	local line stream node
	fresh_db ops_verify || return 1
	into_db "$FIXED" || return 1
	prun settle -q settle --period "$FIXED" --source pg --pools "$W/data/pools.csv" \
		--default-pool 1000 --out "$TD/out"
	rc_is 0 || return 1
	prun v verify --out "$TD/out" --period "$FIXED" --db "dbname=ops_verify"
	rc_is 0 || return 1
	out_has '^verified: 6 files, 2 streams, [0-9]+ rows .*payout_runs id [0-9]+\)$' || return 1
	line=5
	stream=$(sed -n "${line}p" "$TD/out/$FIXED/v1/ledger.csv" | cut -d, -f3)
	node=$(sed -n "${line}p" "$TD/out/$FIXED/v1/ledger.csv" | cut -d, -f4)
	q "UPDATE payout_ledger SET payout_amount = payout_amount + 1, base_amount = base_amount + 1
	   WHERE stream_id = '$stream' AND node_id = '$node'" || { fail "update"; return 1; }
	prun m verify --out "$TD/out" --period "$FIXED" --db "dbname=ops_verify"
	rc_is 3 || return 1
	out_has "^ledger\.csv:$line: stream '$stream' node '$node': base_amount [0-9]+, payout_ledger has [0-9]+$" || return 1
	out_has "^ledger\.csv:$line: stream '$stream' node '$node': payout_amount [0-9]+, payout_ledger has [0-9]+$" || return 1
	out_lacks '^(streams\.csv|manifest\.json|ledger\.csv: sha256)' || return 1
	# the files alone still verify
	prun f verify --out "$TD/out" --period "$FIXED"
	rc_is 0 || return 1
	# a version the database does not have
	q "DELETE FROM payout_ledger; DELETE FROM payout_stream_totals; DELETE FROM payout_runs" || { fail "delete"; return 1; }
	prun n verify --out "$TD/out" --period "$FIXED" --db "dbname=ops_verify"
	rc_is 3 || return 1
	out_has "^payout_runs: no settled run of period $FIXED v1$" || return 1
	prun x verify --out "$TD/out" --period "$FIXED" --db "dbname=ops_no_such_db"
	rc_is 4 || return 1
}

# status with the database: waiting is "no probe at or after the period's
# end", and a run recorded in payout_runs is settled though its files are gone.
t_pg_status_db() {
	fresh_db ops_status || return 1
	into_db "$(ago 3)" "$(ago 2)" || return 1
	{
		printf 'job = "ops-pg"\ncommand = "settle"\nsource = "pg"\ndb = "dbname=ops_status"\n'
		printf 'start_period = "%s"\ngrace = "0"\nmax_wait = "30d"\n' "$(ago 3)"
		printf 'out = "%s"\npools = "%s"\ndefault_pool = "1000"\n' "$TD/out" "$W/data/pools.csv"
	} >"$TD/job.conf"
	prun night -q run "$TD/job.conf"
	rc_is 0 || return 1
	prun st status --job "$TD/job.conf"
	rc_is 0 || return 1
	states_are "$TD/st.out" "$(ago 3)=settled" "$(ago 2)=waiting" "$(ago 1)=waiting" \
		"$(date -u +%F)=open" || return 1
	grep -Eq "^$(ago 2) +waiting .*no probe at or after its end" "$TD/st.out" ||
		{ fail "waiting row: $(grep "^$(ago 2)" "$TD/st.out")"; return 1; }
	# the files of day -3 lost after the commit
	mv "$TD/out/$(ago 3)" "$TD/lost"
	prun st2 status --job "$TD/job.conf" --json
	rc_is 0 || return 1
	"$PY" - "$TD/st2.out" <<'PY' || { fail "status --json with the database: $(oneline "$TD/st2.out" 800)"; return 1; }
import json, sys
j = json.load(open(sys.argv[1]))
p = j["periods"][0]
assert j["database"] is True, j
assert p["state"] == "settled" and p["db_version"] == 1 and p["files_version"] == 0, p
assert "payrun export" in p["note"], p
PY
	# overdue with the database too
	prun od status --job "$TD/job.conf" --max-wait 1d
	rc_is 3 || return 1
	says "period $(ago 2) is overdue" || return 1
}

run_suite "$@"
