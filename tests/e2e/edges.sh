#!/bin/sh
# tests/e2e/edges.sh: the sharp edges an operator or an adversary finds
# (issue 10): options given in part, line numbers of CR-only files, a gzip
# member header split across reads, standard input and pipes, FIFOs and
# devices where files belong, symlinks planted under OUT, secrets in argv
# and messages, names that are not UTF-8, signals, log lines, -q, dry runs
# and reruns of jobs, config files, progress, the timing report.
#
#	PAYRUN=$PWD/build/payrun bash tests/e2e/edges.sh [NAME...]
#
# The PostgreSQL tests (pg_*) run against the suite's private cluster.

if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh" edges || exit 1

CLUSTER_TESTS='pg_*'
LIMIT=60
FX=$ROOT/fixtures/probes-2026-11-01.csv.gz
POOLS=$ROOT/fixtures/pools.csv
DAY=2026-11-01
REF=$W/ref

suite_setup() {
	[ -x "$PAYRUN" ] || { fail "no payrun binary at $PAYRUN"; return 1; }
	"$PAYRUN" -q settle --period "$DAY" --input "$FX" --pools "$POOLS" --out "$REF" ||
		{ fail "the reference settle of $(rel "$FX") failed"; return 1; }
}

# settle TAG ARGS...: payrun settle of the fixture day with the fixture pools.
settle() {
	local tag=$1
	shift
	prun "$tag" settle --period "$DAY" --pools "$POOLS" "$@"
}

# expect_rc WANT [TAG]: the last prun exited WANT.
expect_rc() {
	local tag=${2:-$LAST}
	[ "$RC" = "$1" ] || { fail "$tag: exit $RC, want $1: $(oneline "$TD/$tag.err" 400)"; return 1; }
}

# says TEXT [TAG]: the last prun's stderr says TEXT.
says() {
	local tag=${2:-$LAST}
	grep -qF -- "$1" "$TD/$tag.err" || { fail "$tag: stderr does not say '$1': $(oneline "$TD/$tag.err" 400)"; return 1; }
}

# same_ledger DIR: DIR/DAY/v1 has the reference ledger and streams.
same_ledger() {
	same_file "$REF/$DAY/v1/ledger.csv" "$1/$DAY/v1/ledger.csv" &&
		same_file "$REF/$DAY/v1/streams.csv" "$1/$DAY/v1/streams.csv"
}

# json_get FILE EXPR: a python expression over the JSON object j of FILE.
json_get() {
	python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# no_tmp DIR: no temporary directory of a run is left in DIR.
no_tmp() {
	! compgen -G "$1/.tmp-*" >/dev/null || { fail "a temporary directory is left: $(ls -a "$1" | tr '\n' ' ')"; return 1; }
}

# ------------------------------------------------------------------ options

t_options_are_given_in_full() {
	settle max --input "$FX" --out "$TD/out" --max 1
	expect_rc 2 && says "option '--max' is not given in full" && says "--max-reject-ratio" &&
		says "--max-edge-gap" || return 1
	settle pen --input "$FX" --out "$TD/out" --pen 0.5
	expect_rc 2 && says "option '--pen' is not given in full (it could mean --penalty-factor)" || return 1
	settle eq --input "$FX" --out "$TD/out" --penalty=0.5
	expect_rc 2 && says "'--penalty'" || return 1
	[ ! -e "$TD/out" ] || { fail "a refused command line made '$(rel "$TD/out")'"; return 1; }
	# given in full, the same options work
	settle ok --input "$FX" --out "$TD/out" --max-reject-ratio=1 --penalty-factor 0.5
	expect_rc 0
}

# ------------------------------------------------------------------ inputs

# Rejects of a file whose lines end in CR alone are reported at their lines.
t_cr_only_line_numbers() {
	{ zcat "$FX" | head -n 1; zcat "$FX" | sed -n '2001,2011p'; } |
		awk -F, -v OFS=, 'NR == 5 || NR == 9 { $4 = "bogus" } { print }' | tr '\n' '\r' >"$TD/cr.csv"
	settle cr --input "$TD/cr.csv" --out "$TD/out" --max-reject-ratio 1 --max-edge-gap 0 --allow-zero-pools
	expect_rc 0 || return 1
	local lines
	lines=$(awk -F, 'NR > 1 { print $2 }' "$TD/out/$DAY/v1/rejects.csv" | tr '\n' ' ')
	[ "$lines" = "5 9 " ] || { fail "rejects at lines '$lines', want '5 9 '"; return 1; }
}

# A gzip member ending one byte before the reader's 256 KiB buffer does, the
# next member's first byte in the buffer and a full read after it: the two
# members are read whole (a heap overflow by one byte once, caught by ASan
# in the sanitizer build of make check).
t_gzip_member_header_split_across_reads() {
	python3 - "$FX" "$TD/split.csv.gz" "$TD/plain.csv" <<'EOF' || { fail "could not craft the file"; return 1; }
import gzip, sys, zlib
text = gzip.open(sys.argv[1]).read()
READ = 256 * 1024
def member(data):          # stored blocks: the size follows the data exactly
    c = zlib.compressobj(0, zlib.DEFLATED, 31)
    return c.compress(data) + c.flush()
# the first member: as much of the text as makes it READ - 1 bytes long
lo, hi = 0, len(text)
while lo < hi:
    mid = (lo + hi + 1) // 2
    if len(member(text[:mid])) <= READ - 1: lo = mid
    else: hi = mid - 1
n = lo
while n > 0 and len(member(text[:n])) != READ - 1:
    n -= 1
m1 = member(text[:n])
assert len(m1) == READ - 1, len(m1)
m2 = member(text[n:])
assert len(m2) > READ + 2
open(sys.argv[2], "wb").write(m1 + m2)
open(sys.argv[3], "wb").write(text)
EOF
	settle split --input "$TD/split.csv.gz" --out "$TD/out"
	expect_rc 0 || return 1
	same_ledger "$TD/out" || return 1
	[ "$(json_get "$TD/out/$DAY/v1/manifest.json" 'j["inputs"][0]["rows"]')" = \
		"$(json_get "$REF/$DAY/v1/manifest.json" 'j["inputs"][0]["rows"]')" ] || { fail "not every row was read"; return 1; }
}

t_standard_input_and_process_substitution() {
	local sha bytes
	prun stdin_gz settle --period "$DAY" --pools "$POOLS" --out "$TD/gz" --input - <"$FX"
	expect_rc 0 && same_ledger "$TD/gz" || return 1
	zcat "$FX" >"$TD/plain.csv"
	sha=$(sha256sum <"$TD/plain.csv" | cut -d' ' -f1)
	bytes=$(wc -c <"$TD/plain.csv")
	{ timeout -k 5 "$LIMIT" "$PAYRUN" settle --period "$DAY" --pools "$POOLS" --out "$TD/pipe" --input - \
		< <(cat "$TD/plain.csv") >"$TD/pipe.out" 2>"$TD/pipe.err"; } 2>/dev/null
	RC=$? LAST=pipe
	expect_rc 0 && same_ledger "$TD/pipe" || return 1
	[ "$(json_get "$TD/pipe/$DAY/v1/manifest.json" 'j["inputs"][0]["path"], j["inputs"][0]["bytes"], j["inputs"][0]["sha256"]')" = \
		"('-', $bytes, '$sha')" ] ||
		{ fail "the manifest records $(json_get "$TD/pipe/$DAY/v1/manifest.json" 'j["inputs"][0]'), want '-', $bytes bytes, sha256 $sha"; return 1; }
	# process substitution: /dev/fd/N, a pipe
	{ timeout -k 5 "$LIMIT" "$PAYRUN" settle --period "$DAY" --pools "$POOLS" --out "$TD/subst" \
		--input <(zcat "$FX") >"$TD/subst.out" 2>"$TD/subst.err"; } 2>/dev/null
	RC=$? LAST=subst
	expect_rc 0 && same_ledger "$TD/subst" || return 1
	prun twice settle --period "$DAY" --pools "$POOLS" --out "$TD/twice" --input - --input - <"$FX"
	expect_rc 3 && says "'-' (standard input) is given twice" || return 1
}

# A FIFO, a device or a directory where a file belongs is refused at once,
# naming it, and the lock is not left held.
t_fifos_devices_directories_refused_at_once() {
	local t0 el
	mkfifo "$TD/fifo"
	t0=$(ms_now)
	settle fifo --input "$TD/fifo" --out "$TD/out"
	expect_rc 3 && says "could not read '$TD/fifo': it is a FIFO" && says "--input - <" || return 1
	settle zero --input /dev/zero --out "$TD/out"
	expect_rc 3 && says "could not read '/dev/zero': it is a device" || return 1
	settle dir --input "$TD" --out "$TD/out"
	expect_rc 3 && says "it is a directory" || return 1
	prun pools settle --period "$DAY" --input "$FX" --pools "$TD/fifo" --out "$TD/out"
	expect_rc 3 && says "pools file '$TD/fifo': it is a FIFO" || return 1
	prun config settle --period "$DAY" --input "$FX" --pools "$POOLS" --config "$TD/fifo" --out "$TD/out"
	expect_rc 2 && says "config file '$TD/fifo': it is a FIFO" || return 1
	prun configdir settle --period "$DAY" --input "$FX" --pools "$POOLS" --config "$TD" --out "$TD/out"
	expect_rc 2 && says "it is a directory" || return 1
	mkfifo "$TD/fifojob"
	prun job run "$TD/fifojob"
	expect_rc 2 && says "it is a FIFO" || return 1
	el=$(($(ms_now) - t0))
	[ "$el" -lt 20000 ] || { fail "the refusals took ${el}ms: something waited"; return 1; }
	# nothing held the lock: a settle now works
	settle after --input "$FX" --out "$TD/out"
	expect_rc 0
}

t_input_globs() {
	mkdir -p "$TD/in"
	zcat "$FX" | head -n 1 >"$TD/in/a-1.csv"
	zcat "$FX" | sed -n '2,12000p' >>"$TD/in/a-1.csv"
	{ zcat "$FX" | head -n 1; zcat "$FX" | sed -n '12001,$p'; } >"$TD/in/a-2.csv"
	settle glob --input "$TD/in/a-*.csv" --out "$TD/out"
	expect_rc 0 && same_ledger "$TD/out" || return 1
	[ "$(json_get "$TD/out/$DAY/v1/manifest.json" '[i["path"] for i in j["inputs"]]')" = \
		"['$TD/in/a-1.csv', '$TD/in/a-2.csv']" ] || { fail "inputs: $(json_get "$TD/out/$DAY/v1/manifest.json" 'j["inputs"]')"; return 1; }
	settle none --input "$TD/in/b-*.csv" --out "$TD/out2"
	expect_rc 3 && says "no file matches '$TD/in/b-*.csv'" || return 1
	settle nodir --input "$TD/nowhere/*.csv" --out "$TD/out2"
	expect_rc 3 && says "no file matches" || return 1
}

# ------------------------------------------------------------------ OUT

t_out_parents_created() {
	settle deep --input "$FX" --out "$TD/a/b/c/out"
	expect_rc 0 && same_ledger "$TD/a/b/c/out"
}

t_fifo_at_runs_log_refused_at_once() {
	mkdir -p "$TD/out" && mkfifo "$TD/out/runs.log"
	settle run --input "$FX" --out "$TD/out"
	[ "$RC" != 124 ] || { fail "the run hung on the FIFO at runs.log"; return 1; }
	expect_rc 0 && says "runs.log': it is a FIFO" && same_ledger "$TD/out" || return 1
	settle again --input "$FX" --out "$TD/out"
	expect_rc 5 || return 1
	[ -p "$TD/out/runs.log" ] || { fail "runs.log is no longer the FIFO"; return 1; }
}

t_fifo_at_lock_refused_at_once() {
	mkdir -p "$TD/out" && mkfifo "$TD/out/.payrun.lock"
	settle run --input "$FX" --out "$TD/out"
	expect_rc 1 && says ".payrun.lock': it is a FIFO" || return 1
	[ ! -e "$TD/out/$DAY" ] || { fail "a version was published without the lock"; return 1; }
}

t_backfill_symlink_not_written_through() {
	mkdir -p "$TD/out" "$TD/elsewhere"
	ln -s "$TD/elsewhere" "$TD/out/backfill"
	{ zcat "$FX"; printf 'x,y\n'; } >"$TD/bad.csv"
	prun bf backfill --settle --from "$DAY" --to "$DAY" --input "$TD/bad.csv" --pools "$POOLS" \
		--out "$TD/out" --max-reject-ratio 1
	expect_rc 1 && says "out/backfill': it is not a directory (a symlink is not followed)" || return 1
	[ -z "$(ls -A "$TD/elsewhere")" ] || { fail "backfill wrote through the symlink: $(ls -A "$TD/elsewhere")"; return 1; }
}

# ------------------------------------------------------------------ names

# Paths and a reason that are not UTF-8 are kept, escaped, in the manifest
# and the run log; nothing is dropped and the run does not fail.
t_names_not_utf8_kept_escaped() {
	local in pools reason
	in=$TD/$(printf 'in\377put.csv.gz')
	pools=$TD/$(printf 'po\376ols.csv')
	reason=$(printf 'fix \303\050 back\\slash')
	cp "$FX" "$in" && cp "$POOLS" "$pools"
	prun v1 settle --period "$DAY" --input "$in" --pools "$pools" --out "$TD/out"
	expect_rc 0 || return 1
	[ "$(json_get "$TD/out/$DAY/v1/manifest.json" 'j["inputs"][0]["path"].rsplit("/", 1)[1], j["settings"]["pools"]["path"].rsplit("/", 1)[1]')" = \
		"('in\\\\xFFput.csv.gz', 'po\\\\xFEols.csv')" ] ||
		{ fail "manifest inputs $(json_get "$TD/out/$DAY/v1/manifest.json" 'j["inputs"]')"; return 1; }
	prun v2 rerun --period "$DAY" --input "$in" --reason "$reason" --out "$TD/out"
	expect_rc 0 || return 1
	[ "$(json_get "$TD/out/$DAY/v2/manifest.json" 'j["rerun"]["reason"]')" = 'fix \xC3( back\\slash' ] ||
		{ fail "rerun reason in the manifest: $(json_get "$TD/out/$DAY/v2/manifest.json" 'j.get("rerun")')"; return 1; }
	tail -n 1 "$TD/out/runs.log" | grep -qF '"note":"fix \\xC3( back\\\\slash"' ||
		{ fail "run log: $(tail -n 1 "$TD/out/runs.log")"; return 1; }
}

# ------------------------------------------------------------------ signals

# SIGTERM and SIGINT while reading a stalled pipe: the run stops at once,
# exits 143 or 130, removes its temporary directory and logs 'interrupted'.
signal_case() {     # signal_case SIG WANT
	local pid rc i
	mkfifo "$TD/feed-$1"
	( zcat "$FX" | head -n 5000; sleep 30 ) >"$TD/feed-$1" &
	"$PAYRUN" settle --period "$DAY" --pools "$POOLS" --out "$TD/out-$1" --input - <"$TD/feed-$1" \
		>"$TD/$1.out" 2>"$TD/$1.err" &
	pid=$!
	for i in $(seq 50); do
		compgen -G "$TD/out-$1/.tmp-*" >/dev/null && break
		sleep 0.1
	done
	compgen -G "$TD/out-$1/.tmp-*" >/dev/null || { fail "$1: the run never started its work: $(oneline "$TD/$1.err")"; return 1; }
	sleep 0.5
	kill -"$1" "$pid"
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -9 "$pid"
		fail "$1: the run did not stop within 5 s"
		return 1
	fi
	wait "$pid"
	rc=$?
	kill_jobs
	[ "$rc" = "$2" ] || { fail "$1: exit $rc, want $2: $(oneline "$TD/$1.err")"; return 1; }
	grep -q "interrupted by $1: nothing published" "$TD/$1.err" || { fail "$1: stderr: $(oneline "$TD/$1.err")"; return 1; }
	no_tmp "$TD/out-$1" || return 1
	[ ! -e "$TD/out-$1/$DAY" ] || { fail "$1: something was published"; return 1; }
	grep -q "\"status\":\"interrupted\",\"exit\":$2" "$TD/out-$1/runs.log" ||
		{ fail "$1: run log: $(cat "$TD/out-$1/runs.log")"; return 1; }
}

t_sigterm_stops_at_a_safe_point() { signal_case SIGTERM 143; }
t_sigint_stops_at_a_safe_point() { signal_case SIGINT 130; }

# ------------------------------------------------------------------ logs

t_log_lines_time_level_job() {
	settle bad --input "$TD/missing.csv" --out "$TD/out"
	expect_rc 3 || return 1
	grep -qE '^20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]Z payrun: error: ' "$TD/bad.err" ||
		{ fail "no ISO-8601 UTC time and level: $(oneline "$TD/bad.err")"; return 1; }
	cat >"$TD/job.conf" <<EOF
job = "nightly-x"
command = "settle"
input = "$TD/none-{period}.csv.gz"
out = "$TD/jout"
start_period = "$DAY"
require_complete = false
max_periods = 1
EOF
	prun job run "$TD/job.conf"
	expect_rc 3 || return 1
	grep -qE 'Z payrun\[nightly-x\]: error: ' "$TD/job.err" || { fail "no job name in the lines: $(oneline "$TD/job.err")"; return 1; }
	# journald's priority prefix, when stderr is the journal's stream
	: >"$TD/journal.err"
	JOURNAL_STREAM=$(stat -c '%d:%i' "$TD/journal.err") "$PAYRUN" settle --period "$DAY" --input "$TD/missing.csv" \
		--out "$TD/out" 2>>"$TD/journal.err"
	grep -q '^<3>20.*Z payrun: error: ' "$TD/journal.err" || { fail "no <3> prefix: $(oneline "$TD/journal.err")"; return 1; }
	# and not when JOURNAL_STREAM names another stream
	JOURNAL_STREAM=1:1 "$PAYRUN" settle --period "$DAY" --input "$TD/missing.csv" --out "$TD/out" 2>"$TD/other.err"
	! grep -q '^<' "$TD/other.err" || { fail "a priority prefix for a stream that is not the journal"; return 1; }
}

# A failed run's line in the run log keeps its first error, and status shows it.
t_run_log_keeps_the_error() {
	settle first --input "$FX" --out "$TD/out"
	expect_rc 0 || return 1
	settle wrong --input "$FX" --out "$TD/out" --period 2026-11-02
	expect_rc 3 || return 1
	tail -n 1 "$TD/out/runs.log" | grep -qF '"error":"refusing to publish period 2026-11-02: its probes run from' ||
		{ fail "run log: $(tail -n 1 "$TD/out/runs.log")"; return 1; }
	prun st status --out "$TD/out" --max-wait 0
	grep -q '^2026-11-02 .*error: refusing to publish period 2026-11-02' "$TD/st.out" ||
		{ fail "status does not show the error: $(grep 2026-11-02 "$TD/st.out")"; return 1; }
}

# -q shows errors only; a non-zero exit always says why.
t_quiet_never_hides_the_reason() {
	prun bf -q backfill --settle --from 2026-10-01 --to 2026-10-02 --input "$FX" --pools "$POOLS" --out "$TD/out"
	expect_rc 3 && says "have no probe rows in these files and were not settled" || return 1
	prun ok -q settle --period "$DAY" --input "$FX" --pools "$POOLS" --out "$TD/out2"
	expect_rc 0 || return 1
	[ ! -s "$TD/ok.err" ] && [ ! -s "$TD/ok.out" ] || { fail "-q printed: $(oneline "$TD/ok.err") $(oneline "$TD/ok.out")"; return 1; }
}

t_timing_report_on_stdout() {
	settle s --input "$FX" --out "$TD/out"
	expect_rc 0 && grep -q '^total ' "$TD/s.out" || { fail "settle: no timing report on stdout"; return 1; }
	prun b backfill --settle --from "$DAY" --to "$DAY" --input "$FX" --pools "$POOLS" --out "$TD/bout"
	expect_rc 0 && grep -q '^total ' "$TD/b.out" || { fail "backfill: no timing report on stdout: $(oneline "$TD/b.out")"; return 1; }
	cat >"$TD/job.conf" <<EOF
command = "settle"
input = "$TD/in-{period}.csv.gz"
pools = "$POOLS"
out = "$TD/jout"
start_period = "$DAY"
require_complete = false
max_periods = 1
EOF
	cp "$FX" "$TD/in-$DAY.csv.gz"
	prun j run "$TD/job.conf" --now "2026-11-03 00:00:00"
	expect_rc 0 && grep -q '^total ' "$TD/j.out" || { fail "run: no timing report on stdout: $(oneline "$TD/j.out")"; return 1; }
}

# A progress line on a terminal: percent, ETA, and "done".
t_progress_on_a_terminal() {
	PAYRUN_PROGRESS_AFTER=0 python3 - "$PAYRUN" "$FX" "$POOLS" "$TD/out" "$DAY" >"$TD/tty.txt" <<'EOF' || { fail "could not run under a pty"; return 1; }
import os, pty, sys
payrun, fx, pools, out, day = sys.argv[1:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(payrun, [payrun, "settle", "--period", day, "--input", fx, "--pools", pools, "--out", out])
data = b""
while True:
    try:
        d = os.read(fd, 65536)
    except OSError:
        break
    if not d:
        break
    data += d
_, status = os.waitpid(pid, 0)
sys.stdout.write(data.decode("utf-8", "replace"))
sys.exit(os.waitstatus_to_exitcode(status))
EOF
	grep -qE '% of [0-9]+ MB, ETA [0-9]+ s, [0-9]+ rows' "$TD/tty.txt" && grep -q ' done' "$TD/tty.txt" ||
		{ fail "no progress line with percent and ETA: $(oneline "$TD/tty.txt")"; return 1; }
	# and none when stderr is not a terminal
	PAYRUN_PROGRESS_AFTER=0 "$PAYRUN" settle --period "$DAY" --input "$FX" --pools "$POOLS" --out "$TD/out2" 2>"$TD/notty.err" >/dev/null
	! grep -q 'ETA' "$TD/notty.err" || { fail "a progress line on a file"; return 1; }
}

# ------------------------------------------------------------------ jobs

t_job_file_errors() {
	printf '# a comment\n# another\n\ncommand = "settle"\ngrace = "bogus"\n' >"$TD/g.conf"
	prun g run "$TD/g.conf"
	expect_rc 2 && says "invalid grace 'bogus'" || return 1
	printf '# one\n# two\n# three\ncommand = "settle"\nno_such_key = 1\n' >"$TD/k.conf"
	prun k run "$TD/k.conf"
	expect_rc 2 && says ":5:" || { fail "the unknown key is not reported at line 5: $(oneline "$TD/k.err")"; return 1; }
}

t_rerun_job_runs_once() {
	settle v1 --input "$FX" --out "$TD/out"
	expect_rc 0 || return 1
	cat >"$TD/rerun.conf" <<EOF
job = "rerun-x"
command = "rerun"
period = "$DAY"
input = "$FX"
out = "$TD/out"
reason = "ticket 42"
EOF
	prun r1 run "$TD/rerun.conf"
	expect_rc 0 || return 1
	prun r2 run "$TD/rerun.conf"
	expect_rc 0 && says "nothing to do: period $DAY is already rerun for this reason as v2" || return 1
	[ "$(ls "$TD/out/$DAY" | grep -c '^v')" = 2 ] || { fail "versions: $(ls "$TD/out/$DAY" | tr '\n' ' ')"; return 1; }
	sed -i 's/ticket 42/ticket 43/' "$TD/rerun.conf"
	prun r3 run "$TD/rerun.conf"
	expect_rc 0 && [ -d "$TD/out/$DAY/v3" ] || { fail "another reason did not rerun"; return 1; }
}

# The dry run refuses what the real run refuses: an overlapping hour settled.
t_job_dry_run_as_the_real_run() {
	settle hour --input "$FX" --out "$TD/out" --period-length 1h --period "${DAY}T05" --max-edge-gap 0
	expect_rc 0 || return 1
	cp "$FX" "$TD/in-$DAY.csv.gz"
	cat >"$TD/job.conf" <<EOF
command = "settle"
input = "$TD/in-{period}.csv.gz"
pools = "$POOLS"
out = "$TD/out"
start_period = "$DAY"
require_complete = false
max_periods = 1
EOF
	prun dry run "$TD/job.conf" --dry-run --now "2026-11-03 00:00:00"
	expect_rc 5 && says "overlaps period ${DAY}T05" || return 1
	! grep -q 'would settle' "$TD/dry.out" || { fail "the dry run says it would settle"; return 1; }
	prun real run "$TD/job.conf" --now "2026-11-03 00:00:00"
	expect_rc 5 && says "overlaps period ${DAY}T05"
}

# ------------------------------------------------------------------ config

# A config file's db and source = "pg" do not break a CSV settle; history,
# export and db take its out and db.
t_config_file_for_every_command() {
	cat >"$TD/payrun.conf" <<EOF
source = "pg"
db = "host=$TD/nosocket dbname=none"
pools_query = "SELECT 1"
out = "$TD/out"
EOF
	prun s settle --config "$TD/payrun.conf" --period "$DAY" --input "$FX" --pools "$POOLS"
	expect_rc 0 && same_ledger "$TD/out" || return 1
	prun h history --config "$TD/payrun.conf"
	expect_rc 0 && grep -q "settle   $DAY" "$TD/h.out" || { fail "history did not read the config's out: $(oneline "$TD/h.out")"; return 1; }
	PAYRUN_CONFIG=$TD/payrun.conf prun e export --period "$DAY"
	expect_rc 4 && says "$TD/nosocket" || { fail "export did not use the config's db: $(oneline "$TD/e.err")"; return 1; }
	prun d db migrate --config "$TD/payrun.conf"
	expect_rc 4 && says "$TD/nosocket" || return 1
	# the command line still wins, and a --db on it with a CSV settle is refused
	prun c settle --config "$TD/payrun.conf" --period "$DAY" --input "$FX" --pools "$POOLS" --out "$TD/o2" --db "dbname=x"
	expect_rc 2 && says "--db goes with --source pg"
}

# ------------------------------------------------------------------ export

# ------------------------------------------------------------------ secrets

# A fake server that accepts and never answers keeps payrun connecting for
# a while: long enough to read its /proc/PID/cmdline.
secret_case() {     # secret_case TAG CONNINFO SECRET
	local pid i cmd
	"$PAYRUN" settle --period "$DAY" --source pg --db "$2" --out "$TD/out-$1" \
		>"$TD/$1.out" 2>"$TD/$1.err" &
	pid=$!
	for i in $(seq 30); do
		[ -r "/proc/$pid/cmdline" ] && grep -q -- '--db' "/proc/$pid/cmdline" 2>/dev/null && break
		sleep 0.1
	done
	sleep 0.3
	cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)
	wait "$pid"
	[ -n "$cmd" ] || { fail "$1: payrun ended before its command line could be read"; return 1; }
	case $cmd in *"$3"*) fail "$1: the password shows in /proc/PID/cmdline: $cmd"; return 1 ;; esac
	case $cmd in *"--db "*) ;; *) fail "$1: no --db in the command line read: $cmd"; return 1 ;; esac
	! grep -rqF -- "$3" "$TD/$1.err" "$TD/$1.out" || { fail "$1: the password shows in stderr: $(oneline "$TD/$1.err")"; return 1; }
}

t_secrets_never_leave_the_process() {
	local sock=$TD/sock
	mkdir -p "$sock"
	python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1] + "/.s.PGSQL.5432")
s.listen(16)
conns = []
end = time.time() + 40
while time.time() < end:
    s.settimeout(1)
    try:
        conns.append(s.accept()[0])
    except OSError:
        pass
' "$sock" &
	for _ in $(seq 30); do [ -S "$sock/.s.PGSQL.5432" ] && break; sleep 0.1; done
	secret_case plain "host=$sock connect_timeout=2 dbname=x password=Pw1Secret" Pw1Secret || return 1
	secret_case quoted "host=$sock connect_timeout=2 dbname=x password='Pw 2Se\\'cret'" "2Se" || return 1
	secret_case escaped "host=$sock connect_timeout=2 dbname=x password=Pw\\ 3Secret" 3Secret || return 1
	secret_case uri "postgresql://u:Pw%404Secret@/x?host=$sock&connect_timeout=2" 4Secret || return 1
	secret_case query "postgresql:///x?host=$sock&password=Pw%205Secret&connect_timeout=2" 5Secret || return 1
	kill_jobs
	# a parse error says what is wrong, not the value
	prun bad settle --period "$DAY" --source pg --db "postgresql://u:Pw%zz6Secret@/x" --out "$TD/o"
	expect_rc 4 && says "invalid percent-encoded token" || return 1
	! grep -q 6Secret "$TD/bad.err" || { fail "the parse error shows the password: $(oneline "$TD/bad.err")"; return 1; }
}

# With a real server (trust authentication: the password is given and
# unused), the password is in no file payrun writes.
t_pg_secrets_in_no_file() {
	local f
	pg_cluster_createdb t_edges_secret && export PGDATABASE=t_edges_secret &&
		"$PAYRUN" -q db migrate --create-probe-table &&
		"$PAYRUN" -q backfill --into-db --input "$FX" --out "$TD/load" || { fail "could not load the fixture"; return 1; }
	prun s settle --period "$DAY" --source pg --pools "$POOLS" --db "dbname=t_edges_secret password='Pw 7Se\\'cret'" --out "$TD/out"
	expect_rc 0 || return 1
	same_ledger "$TD/out" || return 1
	for f in "$TD"/s.err "$TD"/s.out "$TD"/out/runs.log "$TD"/out/"$DAY"/v1/*; do
		! grep -qF 7Se "$f" || { fail "the password shows in '$(rel "$f")'"; return 1; }
	done
	[ "$($PSQL -d t_edges_secret -Atc "SELECT count(*) FROM payout_runs r WHERE row_to_json(r)::text LIKE '%7Se%'")" = 0 ] ||
		{ fail "the password is in payout_runs"; return 1; }
	# the fetch counts the bytes it received (the report's MB column)
	[ "$(json_get "$TD/out/$DAY/v1/manifest.json" '[p["bytes"] > 1000 for p in j["timing"]["phases"] if p["name"] == "fetch"]')" = "[True]" ] ||
		{ fail "fetch bytes: $(json_get "$TD/out/$DAY/v1/manifest.json" 'j["timing"]["phases"]')"; return 1; }
}

# SIGINT while the settle query waits on a lock: the query is cancelled, the
# run exits 130 at once, nothing is published and no backend is left.
t_pg_sigint_cancels_the_query() {
	local pid rc i locker
	pg_cluster_createdb t_edges_sig && export PGDATABASE=t_edges_sig &&
		"$PAYRUN" -q db migrate --create-probe-table &&
		"$PAYRUN" -q backfill --into-db --input "$FX" --out "$TD/load" || { fail "could not load the fixture"; return 1; }
	$PSQL -c "BEGIN; LOCK TABLE probe_results IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(30); COMMIT" >/dev/null 2>&1 &
	locker=$!
	sleep 0.5
	"$PAYRUN" settle --period "$DAY" --source pg --pools "$POOLS" --out "$TD/out" >"$TD/sig.out" 2>"$TD/sig.err" &
	pid=$!
	for i in $(seq 50); do
		[ "$($PSQL -Atc "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'payrun settle' AND wait_event_type = 'Lock'")" = 1 ] && break
		sleep 0.1
	done
	kill -INT "$pid"
	for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; kill "$locker"; fail "the run did not stop within 5 s of SIGINT"; return 1; fi
	wait "$pid"
	rc=$?
	[ "$rc" = 130 ] || { kill "$locker"; fail "exit $rc, want 130: $(oneline "$TD/sig.err")"; return 1; }
	[ "$($PSQL -Atc "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'payrun settle'")" = 0 ] ||
		{ kill "$locker"; fail "a payrun backend is left"; return 1; }
	kill "$locker" 2>/dev/null
	wait "$locker" 2>/dev/null
	[ ! -e "$TD/out/$DAY" ] && no_tmp "$TD/out" || { fail "something was published"; return 1; }
	grep -q '"status":"interrupted","exit":130' "$TD/out/runs.log" || { fail "run log: $(cat "$TD/out/runs.log")"; return 1; }
}

# export's refusals are its own: v2 into a directory without v1.
t_pg_export_says_export() {
	pg_cluster_createdb t_edges_export && export PGDATABASE=t_edges_export &&
		"$PAYRUN" -q db migrate --create-probe-table &&
		"$PAYRUN" -q backfill --into-db --input "$FX" --out "$TD/load" || { fail "could not load the fixture"; return 1; }
	prun v1 settle --period "$DAY" --source pg --pools "$POOLS" --out "$TD/out"
	expect_rc 0 || return 1
	prun v2 rerun --period "$DAY" --source pg --reason "test" --out "$TD/out"
	expect_rc 0 || return 1
	prun e export --period "$DAY" --version 2 --out "$TD/empty"
	expect_rc 5 && says "cannot export period $DAY v2" && says "export v1 first" || return 1
	! grep -q 'rerun' "$TD/e.err" || { fail "export speaks of reruns: $(oneline "$TD/e.err")"; return 1; }
}

run_suite "$@"
