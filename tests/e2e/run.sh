#!/bin/sh
# tests/e2e/run.sh: end-to-end tests of `payrun settle` against fixtures and
# the independent oracle tests/oracle/settle_ref.py.
#
#   sh tests/e2e/run.sh [NAME-SUBSTRING...]
#
# Drives ./payrun (or $PAYRUN) at the repository root.  Each test prints
# `ok - name` or `not ok - name: reason`; the last line is
# `e2e: N passed, N failed` and the exit status is non-zero on any failure
# or when nothing ran.  Tests are the t_NAME functions below, run in the
# order they are defined (tests/e2e/lib.sh).  Fixtures are generated at run
# time into a private temporary directory by tests/e2e/make_fixtures.py
# (deterministic), except the hand-worked day in tests/e2e/expected/hand/ and
# the demo day in fixtures/.
# E2E_KEEP=1 keeps the temporary directory for inspection; E2E_TIMEOUT=S is
# the seconds any one payrun run may take (300).

# shellcheck shell=bash
# The suites use bash; re-exec under bash when started by sh.
# shellcheck disable=SC2317 # the t_ functions are called by run_suite (lib.sh)
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh" e2e || exit 1

PY=${PYTHON:-python3}
ORACLE="$ROOT/tests/oracle/settle_ref.py"
GEN="$ROOT/tests/e2e/make_fixtures.py"
CHECK="$ROOT/tests/e2e/check.py"
HAND="$ROOT/tests/e2e/expected/hand"
LIMIT=${E2E_TIMEOUT:-300}          # seconds any one payrun run may take

# ------------------------------------------------------------------ helpers
# Every test runs in a subshell with TD, its own directory.  Helpers return
# non-zero after recording why (fail, lib.sh); tests chain them with ||.

# settle ARGS...: run payrun settle; RC, $TD/stdout, $TD/stderr.
settle() {
	# (the braces keep bash's own "Aborted" notice of a crash out of the report)
	{ timeout "$LIMIT" "$PAYRUN" settle "$@" >"$TD/stdout" 2>"$TD/stderr"; } 2>/dev/null
	RC=$?
}

# expect_rc WANT: the last settle exited WANT.
expect_rc() {
	[ "$RC" = "$1" ] && return 0
	fail "exit $RC, want $1; stderr: $(oneline "$TD/stderr")"
}

# oracle ARGS... --out DIR: run the reference; RC_REF, $TD/ref.json.
oracle() {
	"$PY" "$ORACLE" "$@" >"$TD/ref.json" 2>"$TD/ref.err"
	RC_REF=$?
}

# no_publish OUT LABEL: nothing published for LABEL, no temporary left over.
no_publish() {
	if [ -e "$1/$2/v1" ]; then fail "$1/$2/v1 exists after a failed run"; return 1; fi
	return 0
}

# load_args FILE: ARGS=( lines of FILE ).
load_args() {
	mapfile -t ARGS <"$1"
}

# arg_value NAME: the value following NAME in ARGS.
arg_value() {
	local i
	for ((i = 0; i < ${#ARGS[@]}; i++)); do
		if [ "${ARGS[$i]}" = "$1" ]; then echo "${ARGS[$((i + 1))]}"; return; fi
	done
}

# diff_case DIR: settle with DIR/args, compare ledger.csv and streams.csv with
# the oracle byte for byte, the manifest with the oracle's counts, checks and
# probes, rejects.csv with the oracle's rejects, and the run log's line with
# the oracle's totals and overrides.  Leaves V1 set.
diff_case() {
	local dir=$1 label
	load_args "$dir/args"
	label=$(arg_value --period)
	settle "${ARGS[@]}" --out "$TD/out"
	expect_rc 0 || return 1
	oracle "${ARGS[@]}" --out "$TD/ref" --rejects "$TD/ref-rejects.csv"
	[ "$RC_REF" = 0 ] || { fail "oracle exit $RC_REF: $(oneline "$TD/ref.err")"; return 1; }
	V1=$TD/out/$label/v1
	same_file "$TD/ref/ledger.csv" "$V1/ledger.csv" || return 1
	same_file "$TD/ref/streams.csv" "$V1/streams.csv" || return 1
	check manifest "$V1" "$TD/ref.json" "$dir/args" || return 1
	check rejects "$V1/rejects.csv" "$TD/ref-rejects.csv" || return 1
	check runlog "$TD/out" "$TD/ref.json" || return 1
}

# check WHAT ARGS...: run check.py; its complaints become the reason.
check() {
	local out
	out=$("$PY" "$CHECK" "$@" 2>&1) && return 0
	fail "$1: $(printf '%s' "$out" | tr '\n' ';' | head -c 500)"
}

# gen CASE DIR [OPTIONS]: generate a fixture case.
gen() {
	local c=$1 d=$2
	shift 2
	"$PY" "$GEN" "$c" --out "$d" "$@" >/dev/null 2>"$TD/gen.err" ||
		{ fail "fixture generator '$c' failed: $(oneline "$TD/gen.err")"; return 1; }
}

# hand_args FILE EXTRA...: args file for the hand-worked fixture.
hand_args() {
	local f=$1
	shift
	printf '%s\n' --period 2026-11-01 --input "$HAND/probes.csv" --pools "$HAND/pools.csv" \
		--default-pool 5 --max-reject-ratio 0.2 "$@" >"$f"
}

stderr_names() {  # stderr_names WORD: the last stderr mentions WORD
	grep -qF -- "$1" "$TD/stderr" && return 0
	fail "stderr does not name '$1': $(oneline "$TD/stderr")"
}

# ------------------------------------------------------------------ tests

t_help() {
	timeout 20 "$PAYRUN" --help >"$TD/h1" 2>&1; RC=$?
	[ $RC = 0 ] || { fail "payrun --help exit $RC"; return 1; }
	grep -q settle "$TD/h1" || { fail "payrun --help does not mention settle"; return 1; }
	timeout 20 "$PAYRUN" settle --help >"$TD/h2" 2>&1; RC=$?
	[ $RC = 0 ] || { fail "payrun settle --help exit $RC"; return 1; }
	for o in --period --input --out --pools --default-pool --penalty-factor --max-reject-ratio --config; do
		grep -q -- "$o" "$TD/h2" || { fail "settle --help does not mention $o"; return 1; }
	done
	timeout 20 "$PAYRUN" --version >"$TD/v" 2>&1; RC=$?
	[ $RC = 0 ] || { fail "payrun --version exit $RC"; return 1; }
	grep -q '[0-9]\.[0-9]' "$TD/v" || { fail "--version prints no version: $(oneline "$TD/v")"; return 1; }
}

# The oracle itself reproduces the hand-worked files (guards the guard).
t_oracle_hand_fixture() {
	oracle --period 2026-11-01 --input "$HAND/probes.csv" --pools "$HAND/pools.csv" \
		--default-pool 5 --max-reject-ratio 0.2 --out "$TD/ref"
	[ "$RC_REF" = 0 ] || { fail "oracle exit $RC_REF: $(oneline "$TD/ref.err")"; return 1; }
	same_file "$HAND/ledger.csv" "$TD/ref/ledger.csv" || return 1
	same_file "$HAND/streams.csv" "$TD/ref/streams.csv" || return 1
}

t_hand_fixture() {
	hand_args "$TD/args"
	load_args "$TD/args"
	settle "${ARGS[@]}" --out "$TD/out"
	expect_rc 0 || return 1
	same_file "$HAND/ledger.csv" "$TD/out/2026-11-01/v1/ledger.csv" || return 1
	same_file "$HAND/streams.csv" "$TD/out/2026-11-01/v1/streams.csv" || return 1
	# Rejects of the hand fixture, worked out in expected/hand/README.md.
	cut -d, -f2-3 "$TD/out/2026-11-01/v1/rejects.csv" | sort >"$TD/rj"
	printf '%s\n' 35,bad_success 36,bad_probe_type 37,bad_timestamp 38,field_count line,reason |
		sort >"$TD/rj.want"
	cmp -s "$TD/rj" "$TD/rj.want" || { fail "rejects.csv line,reason: $(tr '\n' ' ' <"$TD/rj")"; return 1; }
}

t_manifest() {
	hand_args "$TD/args"
	load_args "$TD/args"
	settle "${ARGS[@]}" --out "$TD/out"
	expect_rc 0 || return 1
	oracle "${ARGS[@]}" --out "$TD/ref"
	check manifest "$TD/out/2026-11-01/v1" "$TD/ref.json" "$TD/args" || return 1
	check reasons "$TD/out/2026-11-01/v1" \
		'{"bad_success": 1, "bad_probe_type": 1, "bad_timestamp": 1, "field_count": 1}' || return 1
	# Hand-checked figures (expected/hand/README.md), and sha256sum itself.
	"$PY" - "$TD/out/2026-11-01/v1" >"$TD/mcheck" 2>&1 <<'EOF' || { fail "$(oneline "$TD/mcheck" 400)"; return 1; }
import json, subprocess, sys, os
v1 = sys.argv[1]
m = json.load(open(os.path.join(v1, "manifest.json")))
c, t = m["counts"], m["totals"]
want_c = {"rows_read": 36, "in_period": 28, "out_of_period": 4, "rejected": 4}
want_t = {"streams": 5, "pool": "1816", "paid": "760", "forfeited": "256", "unallocated": "800"}
errs = ["counts.%s=%r want %r" % (k, c.get(k), v) for k, v in want_c.items() if c.get(k) != v]
errs += ["totals.%s=%r want %r" % (k, t.get(k), v) for k, v in want_t.items() if t.get(k) != v]
if m["period"]["start"] != "2026-11-01T00:00:00Z" or m["period"]["end"] != "2026-11-02T00:00:00Z":
    errs.append("period %r" % m["period"])
for o in m["outputs"]:
    out = subprocess.run(["sha256sum", os.path.join(v1, o["name"])], capture_output=True, text=True).stdout
    if out.split()[0] != o["sha256"]:
        errs.append("sha256sum of %s disagrees" % o["name"])
print("; ".join(errs))
sys.exit(1 if errs else 0)
EOF
}

t_timing_report() {
	hand_args "$TD/args"
	load_args "$TD/args"
	settle "${ARGS[@]}" --out "$TD/out"
	expect_rc 0 || return 1
	grep -qi total "$TD/stdout" || { fail "no timing table with a total line on stdout: $(oneline "$TD/stdout")"; return 1; }
	# Every phase the manifest lists is in the printed table.
	"$PY" -c '
import json, sys
m = json.load(open(sys.argv[1]))
out = open(sys.argv[2]).read()
missing = [p["name"] for p in m["timing"]["phases"] if p["name"] not in out]
print(" ".join(missing)); sys.exit(1 if missing else 0)' "$TD/out/2026-11-01/v1/manifest.json" "$TD/stdout" >"$TD/miss" 2>&1 ||
		{ fail "phases missing from the stdout report: $(oneline "$TD/miss")"; return 1; }
}

t_awkward_ids() {
	gen awkward "$TD/fx" || return 1
	diff_case "$TD/fx" || return 1
	check pairs "$V1/ledger.csv" "$TD/fx/expect_pairs" || return 1
	# The awkward stream with a comma is in pools.csv too: its pool applies.
	grep -q '^[^,]*,[^,]*,"a,b",' "$V1/streams.csv" || { fail 'no "a,b" row in streams.csv'; return 1; }
}

t_id_255_ok_256_rejected() {
	gen idlen "$TD/fx" || return 1
	diff_case "$TD/fx" || return 1
	check pairs "$V1/ledger.csv" "$TD/fx/expect_pairs" || return 1
	check reasons "$V1" "$(cat "$TD/fx/expect_reasons")" || return 1
}

# Same rows, different encodings: each must settle exactly like the oracle
# on the plain LF file, and like payrun on the plain LF file.
variant_test() {
	gen variants "$TD/fx" || return 1
	diff_case "$TD/fx/$1" || return 1
	mv "$TD/out" "$TD/out-variant"
	load_args "$TD/fx/base/args"
	settle "${ARGS[@]}" --out "$TD/out-base"
	expect_rc 0 || return 1
	same_file "$TD/out-base/2026-11-01/v1/ledger.csv" "$TD/out-variant/2026-11-01/v1/ledger.csv" || return 1
	same_file "$TD/out-base/2026-11-01/v1/streams.csv" "$TD/out-variant/2026-11-01/v1/streams.csv" || return 1
}
t_plain_csv() { gen variants "$TD/fx" && diff_case "$TD/fx/base"; }
t_crlf() { variant_test crlf; }
t_shuffled_extra_columns() { variant_test shuffled; }
t_all_fields_quoted() { variant_test quoted; }
t_gzip() { variant_test gzip; }
t_multi_member_gzip() { variant_test multi; }
t_two_inputs() { variant_test two; }
t_two_plain_inputs() { variant_test two_plain; }

t_gzip_cli_header() {   # gzip(1) writes FNAME and mtime in the header
	gen variants "$TD/fx" || return 1
	gzip -9 -c "$TD/fx/base/probes.csv" >"$TD/probes.csv.gz" || { fail "gzip failed"; return 1; }
	sed "s|$TD/fx/base/probes.csv|$TD/probes.csv.gz|" "$TD/fx/base/args" >"$TD/args"
	diff_case "$TD" || return 1
}

t_boundary_day() {
	gen boundary "$TD/fx" || return 1
	diff_case "$TD/fx" || return 1
	check nodes "$V1/ledger.csv" "$TD/fx/expect_in" || return 1
}

t_boundary_hour() {
	gen boundary-hour "$TD/fx" || return 1
	diff_case "$TD/fx" || return 1
	check nodes "$V1/ledger.csv" "$TD/fx/expect_in" || return 1
	grep -q '^2026-11-01T05:00:00Z,2026-11-01T06:00:00Z,' "$V1/streams.csv" ||
		{ fail "hour bounds not 05:00:00Z..06:00:00Z: $(oneline "$V1/streams.csv")"; return 1; }
}

# Every row outside: header-only ledger, pools streams only.  A period without
# probes is refused (has_probes) unless --allow-empty says it is meant.
t_empty_period() {
	hand_args "$TD/args" --allow-empty
	sed -i 's/^2026-11-01$/2026-12-01/' "$TD/args"
	diff_case "$TD" || return 1
	[ "$(wc -l <"$V1/ledger.csv")" = 1 ] || { fail "ledger has rows"; return 1; }
	[ "$(wc -l <"$V1/streams.csv")" = 5 ] || { fail "streams.csv should list the 4 pools streams"; return 1; }
}

t_penalty_zero() {
	hand_args "$TD/args" --penalty-factor 0
	diff_case "$TD" || return 1
	check penalty "$V1/ledger.csv" 0 || return 1
}

t_penalty_one() {
	hand_args "$TD/args" --penalty-factor 1
	diff_case "$TD" || return 1
	check penalty "$V1/ledger.csv" 1 || return 1
}

t_pools() {
	gen pools "$TD/fx" || return 1
	diff_case "$TD/fx" || return 1
	cut -d, -f3- "$V1/streams.csv" >"$TD/s"
	while IFS= read -r want; do
		grep -q "^$want" "$TD/s" || { fail "streams.csv has no row starting '$want'"; return 1; }
	done <"$TD/fx/expect_streams"
	! grep -q '^[^,]*,[^,]*,s-\(unseen\|outside\),' "$V1/ledger.csv" ||
		{ fail "ledger has rows for a stream without probes in the period"; return 1; }
}

U256_MAX=115792089237316195423570985008687907853269984665640564039457584007913129639935

# The largest pool is 2^256 - 1 base units (was 2^63 - 1 when amounts were int64).
t_pool_max() {
	gen pool-max "$TD/fx" || return 1
	diff_case "$TD/fx" || return 1
	grep -q ",big,$U256_MAX," "$V1/streams.csv" || { fail "pool 2^256-1 not in streams.csv"; return 1; }
}

t_pool_int64_max() {   # the old limit, 2^63 - 1, is an ordinary pool now
	gen pool-max "$TD/fx" --pool 9223372036854775807 || return 1
	diff_case "$TD/fx" || return 1
	grep -q ',big,9223372036854775807,' "$V1/streams.csv" || { fail "pool 2^63-1 not in streams.csv"; return 1; }
}

t_default_pool_max() {
	gen pool-max "$TD/fx" || return 1
	grep -v -e '^--pools$' -e 'pools.csv$' "$TD/fx/args" >"$TD/args"
	printf '%s\n' --default-pool "$U256_MAX" >>"$TD/args"
	diff_case "$TD" || return 1
	grep -q ",big,$U256_MAX," "$V1/streams.csv" || { fail "default pool 2^256-1 not applied"; return 1; }
}

t_rejects_under_ratio() {
	gen rejects "$TD/fx" || return 1
	diff_case "$TD/fx" || return 1   # default --max-reject-ratio: 18 / 20018
	check reasons "$V1" '{"field_count": 2, "bad_quote": 2, "empty_stream_id": 2, "empty_node_id": 2,
		"stream_id_too_long": 2, "node_id_too_long": 2, "bad_probe_type": 2, "bad_success": 2,
		"bad_timestamp": 2}' || return 1
}

t_reject_ratio_at_limit() {   # 1 of 1000 = 0.001 does not exceed 0.001
	gen ratio "$TD/fx" --good 999 --bad 1 || return 1
	diff_case "$TD/fx" || return 1
}

t_reject_ratio_over() {       # 2 of 1000 exceeds 0.001: exit 3, rejects kept
	gen ratio "$TD/fx" --good 998 --bad 2 || return 1
	load_args "$TD/fx/args"
	settle "${ARGS[@]}" --out "$TD/out"
	expect_rc 3 || return 1
	no_publish "$TD/out" 2026-11-01 || return 1
	local kept
	kept=$(grep -o "[^ '\"]*failed/[^ '\"]*" "$TD/stderr" | head -1)
	[ -n "$kept" ] || { fail "message does not say where rejects were kept: $(oneline "$TD/stderr")"; return 1; }
	[ -d "$kept" ] && kept=$kept/rejects.csv
	[ -f "$kept" ] || { fail "'$kept' named in the message does not exist"; return 1; }
	case $kept in
	"$TD/out/2026-11-01/failed/"*-*/rejects.csv) ;;
	*) fail "rejects kept at '$kept', want DIR/LABEL/failed/<stamp>-<pid>/rejects.csv"; return 1 ;;
	esac
	oracle "${ARGS[@]}" --out "$TD/ref" --rejects "$TD/ref-rejects.csv"
	[ "$RC_REF" = 3 ] || { fail "oracle exit $RC_REF, want 3"; return 1; }
	check rejects "$kept" "$TD/ref-rejects.csv" || return 1
	[ ! -e "$TD/out/2026-11-01/v1" ] || { fail "v1 exists"; return 1; }
}

t_reject_ratio_option() {     # the same file passes with a larger --max-reject-ratio
	gen ratio "$TD/fx" --good 998 --bad 2 || return 1
	printf '%s\n' --max-reject-ratio 0.002 >>"$TD/fx/args"
	diff_case "$TD/fx" || return 1
}

t_reject_record_cut_1kib() {   # rejects.csv keeps the raw record cut at 1 KiB
	"$PY" -c '
import sys
src = open(sys.argv[1], "rb").read()
long = b"%s,alpha,node-a,stats_poll,maybe,2026-11-01 10:00:00,,\"{\"\"blob\"\": \"\"%s\"\"}\"\n"
out = src + long % (b"98", b"x" * 3000) + long % (b"99", b"y" * 900)
open(sys.argv[2], "wb").write(out)' "$HAND/probes.csv" "$TD/long.csv"
	# (a default pool: with every pool 0 the pools check would refuse the day)
	printf '%s\n' --period 2026-11-01 --input "$TD/long.csv" --max-reject-ratio 0.5 --default-pool 5 >"$TD/args"
	diff_case "$TD" || return 1
	"$PY" -c '
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="", encoding="latin-1")))
rec = [r[3] for r in rows[1:] if r[2] == "bad_success" and r[3].startswith(("98,", "99,"))]
ok = len(rec) == 2 and len(rec[0]) == 1024 and 1024 > len(rec[1].rstrip("\r\n")) > 900
sys.exit(0 if ok else 1)' "$V1/rejects.csv" || { fail "long records not cut at 1024 bytes: $(cut -c1-40 "$V1/rejects.csv" | tail -2 | tr '\n' ' ')"; return 1; }
}

gz_fixture() {   # gz_fixture FILE: a ~3000-row gzip export with no bad rows
	gen variants "$TD/fx" || return 1
	cp "$TD/fx/gzip/probes.csv.gz" "$1"
}

t_truncated_gzip() {
	gz_fixture "$TD/good.csv.gz" || return 1
	local size cut
	size=$(stat -c %s "$TD/good.csv.gz")
	for cut in $((size / 2)) $((size - 8)) $((size - 3)) 12; do
		head -c "$cut" "$TD/good.csv.gz" >"$TD/trunc-$cut.csv.gz"
		settle --period 2026-11-01 --input "$TD/trunc-$cut.csv.gz" --out "$TD/out"
		expect_rc 3 || { fail "cut at $cut of $size: $(cat "$TD/.reason")"; return 1; }
		stderr_names "trunc-$cut.csv.gz" || return 1
		no_publish "$TD/out" 2026-11-01 || return 1
	done
	# A complete first member followed by half of a second one.
	gz_fixture "$TD/g2.csv.gz" || return 1
	{ cat "$TD/good.csv.gz"; printf 'x,y\n' | gzip -c | head -c 15; } >"$TD/trunc-member.csv.gz"
	settle --period 2026-11-01 --input "$TD/trunc-member.csv.gz" --out "$TD/out"
	expect_rc 3 || return 1
	stderr_names "trunc-member.csv.gz" || return 1
	no_publish "$TD/out" 2026-11-01 || return 1
}

t_corrupt_gzip() {
	gz_fixture "$TD/good.csv.gz" || return 1
	local size
	size=$(stat -c %s "$TD/good.csv.gz")
	# Flip bytes in the middle of the deflate data.
	"$PY" -c '
import sys
d = bytearray(open(sys.argv[1], "rb").read())
for k in range(len(d) // 2, len(d) // 2 + 16): d[k] ^= 0x5A
open(sys.argv[2], "wb").write(d)
d = bytearray(open(sys.argv[1], "rb").read()); d[-8] ^= 0xFF          # CRC32 of the data
open(sys.argv[3], "wb").write(d)
d = bytearray(open(sys.argv[1], "rb").read()); d[-2] ^= 0x01          # ISIZE
open(sys.argv[4], "wb").write(d)' "$TD/good.csv.gz" "$TD/flip.csv.gz" "$TD/crc.csv.gz" "$TD/isize.csv.gz"
	for f in flip crc isize; do
		settle --period 2026-11-01 --input "$TD/$f.csv.gz" --out "$TD/out"
		expect_rc 3 || { fail "$f: $(cat "$TD/.reason")"; return 1; }
		stderr_names "$f.csv.gz" || return 1
		no_publish "$TD/out" 2026-11-01 || return 1
	done
}

t_missing_input() {
	settle --period 2026-11-01 --input "$TD/no-such-file.csv" --out "$TD/out"
	expect_rc 3 || return 1
	stderr_names no-such-file.csv || return 1
	no_publish "$TD/out" 2026-11-01 || return 1
	# A good input followed by a missing one: still nothing published.
	settle --period 2026-11-01 --input "$HAND/probes.csv" --input "$TD/also-missing.csv.gz" \
		--max-reject-ratio 0.5 --out "$TD/out"
	expect_rc 3 || return 1
	stderr_names also-missing.csv.gz || return 1
	no_publish "$TD/out" 2026-11-01 || return 1
}

t_unreadable_input() {
	mkdir "$TD/dir.csv"
	settle --period 2026-11-01 --input "$TD/dir.csv" --out "$TD/out"   # a directory
	expect_rc 3 || return 1
	stderr_names dir.csv || return 1
	no_publish "$TD/out" 2026-11-01 || return 1
}

t_header_missing_column() {
	local col
	for col in stream_id node_id probe_type success probe_timestamp; do
		"$PY" -c '
import sys
col = sys.argv[1]
lines = open(sys.argv[2], "rb").read().split(b"\n")
lines[0] = lines[0].replace(col.encode(), b"x_" + col.encode())
open(sys.argv[3], "wb").write(b"\n".join(lines))' "$col" "$HAND/probes.csv" "$TD/no-$col.csv"
		settle --period 2026-11-01 --input "$TD/no-$col.csv" --max-reject-ratio 0.5 --out "$TD/out"
		expect_rc 3 || { fail "without $col: $(cat "$TD/.reason")"; return 1; }
		stderr_names "no-$col.csv" || return 1
		no_publish "$TD/out" 2026-11-01 || return 1
	done
	: >"$TD/empty.csv"
	settle --period 2026-11-01 --input "$TD/empty.csv" --out "$TD/out"
	expect_rc 3 || { fail "empty file (no header): $(cat "$TD/.reason")"; return 1; }
}

t_unterminated_quote() {
	{ cat "$HAND/probes.csv"; printf '%s\n%s\n' '99,alpha,node-a,stats_poll,t,2026-11-01 10:00:00,,"{""open"": ' 'and never closed'; } >"$TD/open.csv"
	settle --period 2026-11-01 --input "$TD/open.csv" --max-reject-ratio 0.5 --out "$TD/out"
	expect_rc 3 || return 1
	stderr_names open.csv || return 1
	no_publish "$TD/out" 2026-11-01 || return 1
	gzip -c "$TD/open.csv" >"$TD/open2.csv.gz"
	settle --period 2026-11-01 --input "$TD/open2.csv.gz" --max-reject-ratio 0.5 --out "$TD/out"
	expect_rc 3 || { fail "gzip: $(cat "$TD/.reason")"; return 1; }
	stderr_names open2.csv.gz || return 1
}

t_bad_period_label() {
	local l
	for l in 2026-13-01 2026-02-29 2026-11-31 2026-11-1 20261101 2026-11-01T24 2026-11-01T5 \
		'2026-11-01 05' 2026-11-01T05:00 garbage '' 2026-11-00; do
		settle --period "$l" --input "$HAND/probes.csv" --out "$TD/out"
		expect_rc 2 || { fail "label '$l': $(cat "$TD/.reason")"; return 1; }
	done
	settle --period 2026-11-01T05 --period-length 1d --input "$HAND/probes.csv" --out "$TD/out"
	expect_rc 2 || { fail "hour label with 1d: $(cat "$TD/.reason")"; return 1; }
	settle --period 2026-11-01 --period-length 1h --input "$HAND/probes.csv" --out "$TD/out"
	expect_rc 2 || { fail "day label with 1h: $(cat "$TD/.reason")"; return 1; }
	[ ! -e "$TD/out/2026-11-01/v1" ] || { fail "published despite a usage error"; return 1; }
}

t_leap_day_period() {
	printf '%s\n' 'stream_id,node_id,probe_type,success,probe_timestamp' \
		's,n1,stats_poll,t,2028-02-29 23:59:59' 's,n2,stats_poll,t,2028-03-01 00:00:00' \
		's,n3,stats_poll,t,2028-02-28T23:59:59Z' >"$TD/leap.csv"
	# three rows at the edges, one in the period: not a day's export, so no edge_gap check
	printf '%s\n' --period 2028-02-29 --input "$TD/leap.csv" --default-pool 10 --max-edge-gap 0 >"$TD/args"
	diff_case "$TD" || return 1
	echo n1 >"$TD/want"
	check nodes "$V1/ledger.csv" "$TD/want" || return 1
}

t_unknown_option() {
	settle --period 2026-11-01 --input "$HAND/probes.csv" --out "$TD/out" --bogus
	expect_rc 2 || return 1
	timeout 20 "$PAYRUN" frobnicate >/dev/null 2>&1; RC=$?
	expect_rc 2 || { fail "unknown command: $(cat "$TD/.reason")"; return 1; }
	timeout 20 "$PAYRUN" >/dev/null 2>&1; RC=$?
	expect_rc 2 || { fail "no command: $(cat "$TD/.reason")"; return 1; }
}

t_bad_option_values() {
	local base=(--period 2026-11-01 --input "$HAND/probes.csv" --out "$TD/out")
	while IFS='|' read -r opt val; do
		settle "${base[@]}" "$opt" "$val"
		expect_rc 2 || { fail "$opt '$val': $(cat "$TD/.reason")"; return 1; }
	done <<'EOF'
--penalty-factor|1.5
--penalty-factor|0.1234567
--penalty-factor|-0.1
--penalty-factor|abc
--penalty-factor|
--period-length|2d
--period-length|1m
--default-pool|-1
--default-pool|115792089237316195423570985008687907853269984665640564039457584007913129639936
--default-pool|12abc
--default-pool|1.5
--max-reject-ratio|abc
--max-reject-ratio|-1
--token-decimals|37
--token-decimals|-1
--token-decimals|x
--token-decimals|
--max-edge-gap|-1h
--max-edge-gap|1.5h
--max-edge-gap|2w
--max-edge-gap|
--max-edge-gap|1h30m
EOF
	settle --period 2026-11-01 --input "$HAND/probes.csv"              # no --out
	expect_rc 2 || { fail "without --out: $(cat "$TD/.reason")"; return 1; }
	settle --period 2026-11-01 --out "$TD/out"                          # no --input
	expect_rc 2 || { fail "without --input: $(cat "$TD/.reason")"; return 1; }
	settle --input "$HAND/probes.csv" --out "$TD/out"                   # no --period
	expect_rc 2 || { fail "without --period: $(cat "$TD/.reason")"; return 1; }
	[ ! -e "$TD/out/2026-11-01/v1" ] || { fail "published despite a usage error"; return 1; }
}

t_existing_v1() {
	hand_args "$TD/args"
	load_args "$TD/args"
	settle "${ARGS[@]}" --out "$TD/out"
	expect_rc 0 || return 1
	local v1=$TD/out/2026-11-01/v1
	(cd "$v1" && stat -c '%n %s %y %i' . ./* && sha256sum ./*) >"$TD/before"
	settle "${ARGS[@]}" --out "$TD/out"
	expect_rc 5 || return 1
	settle --period 2026-11-01 --input "$HAND/probes.csv" --max-reject-ratio 0.5 \
		--penalty-factor 0.1 --out "$TD/out"                          # other settings
	expect_rc 5 || { fail "with other settings: $(cat "$TD/.reason")"; return 1; }
	(cd "$v1" && stat -c '%n %s %y %i' . ./* && sha256sum ./*) >"$TD/after"
	cmp -s "$TD/before" "$TD/after" || { fail "v1 changed: $(diff "$TD/before" "$TD/after" | head -3 | tr '\n' '|')"; return 1; }
	[ ! -e "$TD/out/2026-11-01/v2" ] || { fail "a v2 appeared"; return 1; }
}

big_input() {    # big_input FILE COPIES: COPIES x 10,000 rows, multi-member gzip
	"$PY" "$GEN" big --copies "$2" --out "$1" 2>"$TD/gen.err" ||
		{ fail "big input generation failed: $(oneline "$TD/gen.err")"; return 1; }
}

t_concurrent_runs() {   # two identical runs at once: one settles, the other exits 5
	big_input "$TD/big.csv.gz" 150 || return 1
	local a b ra rb
	timeout "$LIMIT" "$PAYRUN" settle --period 2026-11-01 --input "$TD/big.csv.gz" --default-pool 1000 \
		--out "$TD/out" >"$TD/a.out" 2>"$TD/a.err" &
	a=$!
	timeout "$LIMIT" "$PAYRUN" settle --period 2026-11-01 --input "$TD/big.csv.gz" --default-pool 1000 \
		--out "$TD/out" >"$TD/b.out" 2>"$TD/b.err" &
	b=$!
	wait $a; ra=$?
	wait $b; rb=$?
	case "$ra $rb" in
	"0 5" | "5 0") ;;
	*) fail "exits $ra and $rb, want 0 and 5; stderr: $(oneline "$TD/a.err" 150) / $(oneline "$TD/b.err" 150)"; return 1 ;;
	esac
	local v1=$TD/out/2026-11-01/v1
	"$PY" -c '
import json, sys
c = json.load(open(sys.argv[1]))["counts"]
sys.exit(0 if c["rows_read"] == 1500000 and c["rejected"] == 0 else 1)' "$v1/manifest.json" ||
		{ fail "published manifest counts are not 1,500,000 rows: $(oneline "$v1/manifest.json")"; return 1; }
}

t_lock_held() {   # a short run while a long one holds DIR: the short one exits 5
	big_input "$TD/big.csv.gz" 400 || return 1
	# tiny.csv covers 2026-11-02 from its first second to its last
	printf '%s\n' 'stream_id,node_id,probe_type,success,probe_timestamp' \
		's,n,stats_poll,t,2026-11-01 01:00:00' 's,n,stats_poll,t,2026-11-02 00:00:00' \
		's,n,stats_poll,t,2026-11-02 23:59:59' >"$TD/tiny.csv"
	local a ra i
	timeout "$LIMIT" "$PAYRUN" settle --period 2026-11-01 --input "$TD/big.csv.gz" --default-pool 1000 \
		--out "$TD/out" >"$TD/a.out" 2>"$TD/a.err" &
	a=$!
	# Wait until the long run has started writing into DIR (lock or temp).
	for i in $(seq 1 200); do
		[ -n "$(ls -A "$TD/out" 2>/dev/null)" ] && break
		sleep 0.01
	done
	kill -0 $a 2>/dev/null || { wait $a; fail "long run ended (exit $?) before the short one started: input too small to test the lock"; return 1; }
	settle --period 2026-11-01 --input "$TD/tiny.csv" --default-pool 1 --max-edge-gap 0 --out "$TD/out"
	local rc_short=$RC
	kill -0 $a 2>/dev/null; local still=$?
	wait $a; ra=$?
	[ "$ra" = 0 ] || { fail "long run exit $ra: $(oneline "$TD/a.err")"; return 1; }
	[ "$rc_short" = 5 ] || { fail "short run during the long one: exit $rc_short, want 5 (long run still running after it: $([ $still = 0 ] && echo yes || echo no)); stderr: $(oneline "$TD/stderr")"; return 1; }
	"$PY" -c '
import json, sys
c = json.load(open(sys.argv[1]))["counts"]
sys.exit(0 if c["rows_read"] == 4000000 else 1)' "$TD/out/2026-11-01/v1/manifest.json" ||
		{ fail "v1 is not the long run's"; return 1; }
	# Different label, same DIR, while nothing runs: fine.
	settle --period 2026-11-02 --input "$TD/tiny.csv" --default-pool 1 --out "$TD/out"
	expect_rc 0 || { fail "after the lock was released: $(cat "$TD/.reason")"; return 1; }
}

t_config_file() {
	gen pools "$TD/fx" || return 1
	cat >"$TD/payrun.conf" <<EOF
# payrun test config
period_length = "1d"
input = {"$TD/fx/probes.csv"}
pools = "$TD/fx/pools.csv"
default_pool = 4321
penalty_factor = 0.25
max_reject_ratio = 0.01
out = "$TD/cfg-out"
EOF
	# The command line wins over the config file for penalty_factor.
	settle --config "$TD/payrun.conf" --period 2026-11-01 --penalty-factor 0.75
	expect_rc 0 || return 1
	printf '%s\n' --period 2026-11-01 --period-length 1d --input "$TD/fx/probes.csv" \
		--pools "$TD/fx/pools.csv" --default-pool 4321 --penalty-factor 0.75 >"$TD/args"
	load_args "$TD/args"
	oracle "${ARGS[@]}" --out "$TD/ref"
	local v1=$TD/cfg-out/2026-11-01/v1
	same_file "$TD/ref/ledger.csv" "$v1/ledger.csv" || return 1
	same_file "$TD/ref/streams.csv" "$v1/streams.csv" || return 1
	check manifest "$v1" "$TD/ref.json" "$TD/args" || return 1
	# And without the override the config's 0.25 applies (differs from 0.75).
	settle --config "$TD/payrun.conf" --period 2026-11-01 --out "$TD/out2"
	expect_rc 0 || return 1
	sed -i 's/^0.75$/0.25/' "$TD/args"
	load_args "$TD/args"
	oracle "${ARGS[@]}" --out "$TD/ref2"
	same_file "$TD/ref2/ledger.csv" "$TD/out2/2026-11-01/v1/ledger.csv" || return 1
	cmp -s "$TD/ref/ledger.csv" "$TD/ref2/ledger.csv" && { fail "fixture does not tell 0.25 from 0.75"; return 1; }
	return 0
}

t_config_errors() {
	printf 'no_such_key = 1\n' >"$TD/bad1.conf"
	settle --config "$TD/bad1.conf" --period 2026-11-01 --input "$HAND/probes.csv" --out "$TD/out"
	expect_rc 2 || { fail "unknown key: $(cat "$TD/.reason")"; return 1; }
	printf 'penalty_factor = \n{{{\n' >"$TD/bad2.conf"
	settle --config "$TD/bad2.conf" --period 2026-11-01 --input "$HAND/probes.csv" --out "$TD/out"
	expect_rc 2 || { fail "syntax error: $(cat "$TD/.reason")"; return 1; }
	settle --config "$TD/missing.conf" --period 2026-11-01 --input "$HAND/probes.csv" --out "$TD/out"
	expect_rc 2 || { fail "missing --config file: $(cat "$TD/.reason")"; return 1; }
	printf 'penalty_factor = 3\n' >"$TD/bad3.conf"
	settle --config "$TD/bad3.conf" --period 2026-11-01 --input "$HAND/probes.csv" --out "$TD/out"
	expect_rc 2 || { fail "penalty_factor = 3: $(cat "$TD/.reason")"; return 1; }
}

# Without --config, $PAYRUN_CONFIG names the config file (lib.sh sets it
# empty, which reads none, so that no host /etc/payrun/payrun.conf changes a
# result); --config wins over it; --no-config (settle, rerun, backfill) reads
# none at all.
t_config_env() {
	hand_args "$TD/args"
	load_args "$TD/args"
	printf 'penalty_factor = 3\n' >"$TD/bad.conf"
	printf 'penalty_factor = 0.25\n' >"$TD/good.conf"
	oracle "${ARGS[@]}" --out "$TD/ref"
	[ "$RC_REF" = 0 ] || { fail "oracle exit $RC_REF: $(oneline "$TD/ref.err")"; return 1; }
	oracle "${ARGS[@]}" --penalty-factor 0.25 --out "$TD/ref-025"
	[ "$RC_REF" = 0 ] || { fail "oracle exit $RC_REF: $(oneline "$TD/ref.err")"; return 1; }
	cmp -s "$TD/ref/ledger.csv" "$TD/ref-025/ledger.csv" && { fail "fixture does not tell 0.25 from the default penalty factor"; return 1; }
	PAYRUN_CONFIG=$TD/bad.conf settle "${ARGS[@]}" --out "$TD/out-bad"
	expect_rc 2 || { fail "PAYRUN_CONFIG naming a bad file: $(cat "$TD/.reason")"; return 1; }
	stderr_names "invalid penalty factor '3'" || return 1
	PAYRUN_CONFIG=$TD/good.conf settle "${ARGS[@]}" --out "$TD/out-env"
	expect_rc 0 || { fail "PAYRUN_CONFIG naming a good file: $(cat "$TD/.reason")"; return 1; }
	same_file "$TD/ref-025/ledger.csv" "$TD/out-env/2026-11-01/v1/ledger.csv" || return 1
	PAYRUN_CONFIG=$TD/bad.conf settle --config "$TD/good.conf" "${ARGS[@]}" --out "$TD/out-cfg"
	expect_rc 0 || { fail "--config, PAYRUN_CONFIG naming a bad file: $(cat "$TD/.reason")"; return 1; }
	same_file "$TD/ref-025/ledger.csv" "$TD/out-cfg/2026-11-01/v1/ledger.csv" || return 1
	PAYRUN_CONFIG=$TD/bad.conf settle --no-config "${ARGS[@]}" --out "$TD/out"
	expect_rc 0 || { fail "--no-config, PAYRUN_CONFIG naming a bad file: $(cat "$TD/.reason")"; return 1; }
	same_file "$TD/ref/ledger.csv" "$TD/out/2026-11-01/v1/ledger.csv" || return 1
	# rerun and backfill read it too, and take --no-config
	PAYRUN_CONFIG=$TD/bad.conf prun rr rerun "${ARGS[@]}" --reason "config test" --out "$TD/out"
	[ "$RC" = 2 ] || { fail "rerun, PAYRUN_CONFIG naming a bad file: exit $RC, want 2"; return 1; }
	PAYRUN_CONFIG=$TD/bad.conf prun rr rerun --no-config "${ARGS[@]}" --reason "config test" --out "$TD/out"
	[ "$RC" = 0 ] || { fail "rerun --no-config: exit $RC, want 0: $(oneline "$TD/rr.err")"; return 1; }
	same_file "$TD/ref/ledger.csv" "$TD/out/2026-11-01/v2/ledger.csv" || return 1
	local bf=(backfill --input "$HAND/probes.csv" --settle --from 2026-11-01 --to 2026-11-01
		--pools "$HAND/pools.csv" --default-pool 5 --max-reject-ratio 0.2 --out "$TD/out-bf")
	PAYRUN_CONFIG=$TD/bad.conf prun bf "${bf[@]}"
	[ "$RC" = 2 ] || { fail "backfill, PAYRUN_CONFIG naming a bad file: exit $RC, want 2"; return 1; }
	PAYRUN_CONFIG=$TD/bad.conf prun bf "${bf[@]}" --no-config
	[ "$RC" = 0 ] || { fail "backfill --no-config: exit $RC, want 0: $(oneline "$TD/bf.err")"; return 1; }
	same_file "$TD/ref/ledger.csv" "$TD/out-bf/2026-11-01/v1/ledger.csv"
}

t_demo_fixture_day() {
	[ -f "$ROOT/fixtures/probes-2026-11-01.csv.gz" ] || { fail "fixtures/probes-2026-11-01.csv.gz missing"; return 1; }
	printf '%s\n' --period 2026-11-01 --input "$ROOT/fixtures/probes-2026-11-01.csv.gz" \
		--pools "$ROOT/fixtures/pools.csv" >"$TD/args"
	diff_case "$TD" || return 1
}

# jobs_same CASE_ARGS_FILE N: settle with --jobs 1 and --jobs N; ledger,
# streams and rejects byte-identical, the same counts in the manifests.
jobs_same() {
	load_args "$1"
	rm -rf "$TD/out1" "$TD/outN"
	settle "${ARGS[@]}" --jobs 1 --out "$TD/out1"
	expect_rc 0 || return 1
	settle "${ARGS[@]}" --jobs "$2" --out "$TD/outN" -v
	expect_rc 0 || return 1
	local label f
	label=$(arg_value --period)
	for f in ledger.csv streams.csv rejects.csv; do
		same_file "$TD/out1/$label/v1/$f" "$TD/outN/$label/v1/$f" || return 1
	done
	"$PY" -c '
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
sys.exit(0 if a["counts"] == b["counts"] and a["totals"] == b["totals"] and
         [i["sha256"] for i in a["inputs"]] == [i["sha256"] for i in b["inputs"]] else 1)' \
		"$TD/out1/$label/v1/manifest.json" "$TD/outN/$label/v1/manifest.json" ||
		{ fail "manifests differ in counts, totals or inputs"; return 1; }
}

t_jobs_three_files() {   # 3 files with rejects read at once, as if one after another
	gen random "$TD/fx" --seed 4 || return 1
	[ "$(grep -c -- --input "$TD/fx/args")" = 3 ] || { fail "seed 4 no longer makes 3 files"; return 1; }
	diff_case "$TD/fx" || return 1
	jobs_same "$TD/fx/args" 3 || return 1
	[ "$(wc -l <"$TD/out1/2026-11-01/v1/rejects.csv")" -gt 2 ] || { fail "no rejects to order"; return 1; }
}

# The corrupt middle file of three stops the run, named.  The files are
# distinct exports (part-K.csv.gz: one day each, disjoint ids): an export
# given twice would be refused before anything is read.
t_jobs_failed_file() {
	gen parts "$TD/fx" --count 6 || return 1
	local p=$TD/fx/part j
	"$PY" -c '
import sys
d = bytearray(open(sys.argv[1], "rb").read())
for k in range(len(d) // 2, len(d) // 2 + 16): d[k] ^= 0x5A
open(sys.argv[2], "wb").write(d)' "$p-1.csv.gz" "$TD/b-corrupt.csv.gz"
	for j in 1 3; do
		settle --period 2026-11-01 --input "$p-0.csv.gz" --input "$TD/b-corrupt.csv.gz" \
			--input "$p-2.csv.gz" --jobs $j --default-pool 1000 --out "$TD/out"
		expect_rc 3 || { fail "--jobs $j: $(cat "$TD/.reason")"; return 1; }
		stderr_names b-corrupt.csv.gz || return 1
		no_publish "$TD/out" 2026-11-01 || return 1
	done
	# what a failed run records (runs.log counts) is the same at any --jobs
	printf 'stream_id,node_id,probe_type,success,probe_timestamp\ns,n,stats_poll,t,2026-11-01 01:00:00\ns,n,stats_poll,maybe,2026-11-01 01:00:00\ns,"n,stats_poll,t,2026-11-01 01:00:00\n' >"$TD/unterm.csv"
	for j in 1 2; do
		settle --period 2026-11-01 --input "$TD/unterm.csv" --input "$p-0.csv.gz" --jobs $j \
			--default-pool 1000 --out "$TD/out-u$j"
		expect_rc 3 || { fail "unterminated, --jobs $j: $(cat "$TD/.reason")"; return 1; }
	done
	"$PY" -c '
import json, sys
def counts(p):
    return [{k: v for k, v in json.loads(l).items() if k in ("status", "rows_read", "rejected")}
            for l in open(p)]
a, b = counts(sys.argv[1]), counts(sys.argv[2])
sys.exit(0 if a == b and a and a[0].get("rejected") == 1 else 1)' "$TD/out-u1/runs.log" "$TD/out-u2/runs.log" ||
		{ fail "runs.log of the failed run differs: $(cat "$TD/out-u1/runs.log") vs $(cat "$TD/out-u2/runs.log")"; return 1; }
	# more files than jobs: the readers wait for the merge to move on
	local six=(--input "$p-0.csv.gz" --input "$p-2.csv.gz" --input "$p-3.csv.gz"
		--input "$TD/b-corrupt.csv.gz" --input "$p-4.csv.gz" --input "$p-5.csv.gz")
	settle --period 2026-11-01 "${six[@]}" --jobs 2 --default-pool 1000 --out "$TD/out"
	expect_rc 3 || { fail "6 files, --jobs 2: $(cat "$TD/.reason")"; return 1; }
	stderr_names b-corrupt.csv.gz || return 1
	no_publish "$TD/out" 2026-11-01 || return 1
	# and the same files with the good part-1 settle, as one after another
	printf '%s\n' --period 2026-11-01 "${six[@]/#$TD\/b-corrupt.csv.gz/$p-1.csv.gz}" \
		--default-pool 1000 >"$TD/args"
	grep -q b-corrupt "$TD/args" && { fail "args still name b-corrupt"; return 1; }
	jobs_same "$TD/args" 2 || return 1
}

# A file with over 4 MiB of rejects is read again, same result.  Three
# distinct exports: the hand day, and two copies of it with other ids (the
# hand day given twice would be refused; with its own ids, a copy would be
# duplicates), the middle one followed by 5000 long rejected rows.
t_jobs_many_rejects() {
	"$PY" -c '
import re, sys
src = open(sys.argv[1], "rb").read()
def other_ids(k):
    return re.sub(rb"(?m)^([0-9]+),", lambda m: b"%d," % (int(m.group(1)) + k), src)
bad = b"".join(b"%d,alpha,node-a,stats_poll,maybe,2026-11-01 10:00:00,,\"%s\"\n" % (i, b"z" * 1100)
               for i in range(5000))
open(sys.argv[2], "wb").write(other_ids(1000) + bad)
open(sys.argv[3], "wb").write(other_ids(2000))' "$HAND/probes.csv" "$TD/bad.csv" "$TD/again.csv"
	printf '%s\n' --period 2026-11-01 --input "$HAND/probes.csv" --input "$TD/bad.csv" \
		--input "$TD/again.csv" --pools "$HAND/pools.csv" --default-pool 5 --max-reject-ratio 1 >"$TD/args"
	jobs_same "$TD/args" 3 || return 1
	stderr_names "too many rejects to hold; reading it again" || return 1
	[ "$(grep -c ',bad_success,' "$TD/outN/2026-11-01/v1/rejects.csv")" -ge 5000 ] ||
		{ fail "the 5000 rejects are not all in rejects.csv"; return 1; }
	diff_case "$TD" || return 1
	check reasons "$V1" '{"bad_success": 5003, "bad_probe_type": 3, "bad_timestamp": 3, "field_count": 3}'
}

t_jobs_option() {   # --jobs and the jobs config key: 1..64
	local base=(--period 2026-11-01 --input "$HAND/probes.csv" --out "$TD/out")
	local v
	for v in 0 65 -1 x 1.5 ''; do
		settle "${base[@]}" --jobs "$v"
		expect_rc 2 || { fail "--jobs '$v': $(cat "$TD/.reason")"; return 1; }
	done
	printf 'jobs = "0"\n' >"$TD/bad.conf"
	settle "${base[@]}" --config "$TD/bad.conf"
	expect_rc 2 || { fail "jobs = 0 in a config file: $(cat "$TD/.reason")"; return 1; }
	printf 'jobs = "2"\n' >"$TD/good.conf"
	settle "${base[@]}" --config "$TD/good.conf" --max-reject-ratio 0.2 --default-pool 5
	expect_rc 0 || { fail "jobs = 2 in a config file: $(cat "$TD/.reason")"; return 1; }
}

# ------------------------------------------------------------------ issue 9
# Inputs given twice, duplicates, refusal checks, uint256 amounts in tokens,
# overlapping periods, the pools a version keeps.

# diff_args ARGS...: diff_case on these settle options (a fresh out and ref).
diff_args() {
	mkdir -p "$TD/c"
	printf '%s\n' "$@" >"$TD/c/args"
	rm -rf "$TD/out" "$TD/ref" "$TD/ref-rejects.csv"
	diff_case "$TD/c"
}

# ref_is KEY VALUE: the oracle's last JSON has KEY (a Python expression on r) == VALUE.
ref_is() {
	local got
	got=$("$PY" -c 'import json, sys; r = json.load(open(sys.argv[1])); print(json.dumps(eval(sys.argv[2])))' \
		"$TD/ref.json" "$1" 2>&1)
	[ "$got" = "$2" ] && return 0
	fail "oracle: $1 is $got, want $2"
}

# manifest_is V1 KEY VALUE: manifest.json of V1 has KEY (an expression on m) == VALUE (JSON).
manifest_is() {
	local got
	got=$("$PY" -c 'import json, sys; m = json.load(open(sys.argv[1])); print(json.dumps(eval(sys.argv[2])))' \
		"$1/manifest.json" "$2" 2>&1)
	[ "$got" = "$3" ] && return 0
	fail "manifest: $2 is $got, want $3"
}

# last_log OUT KEY VALUE: the last line of OUT/runs.log has KEY (an expression on l) == VALUE.
last_log() {
	local got
	got=$("$PY" -c 'import json, sys; l = json.loads(open(sys.argv[1]).read().splitlines()[-1]); print(json.dumps(eval(sys.argv[2])))' \
		"$1/runs.log" "$2" 2>&1)
	[ "$got" = "$3" ] && return 0
	fail "runs.log: $2 is $got, want $3"
}

# refused_by CHECK OVERRIDE ARGS...: payrun refuses the period of ARGS with
# exit 3, its message naming the check and its override; nothing is
# published, the rejects are kept in OUT/LABEL/failed/<stamp>-<pid>/, the run
# log says failed; the oracle refuses it with the same check.
refused_by() {
	local chk=$1 ovr=$2 label kept
	shift 2
	ARGS=("$@")
	label=$(arg_value --period)
	rm -rf "$TD/out"
	settle "$@" --out "$TD/out"
	expect_rc 3 || return 1
	stderr_names "check $chk" || return 1
	stderr_names "$ovr" || return 1
	no_publish "$TD/out" "$label" || return 1
	kept=$(find "$TD/out/$label/failed" -path "*/failed/*-*/rejects.csv" 2>/dev/null | head -n 1)
	[ -n "$kept" ] || { fail "no rejects kept under $label/failed/<stamp>-<pid>/"; return 1; }
	last_log "$TD/out" '[l["status"], l["exit"]]' '["failed", 3]' || return 1
	oracle "$@" --out "$TD/ref" --rejects "$TD/ref-rejects.csv"
	[ "$RC_REF" = 3 ] || { fail "oracle exit $RC_REF, want 3 (refused by $chk)"; return 1; }
	ref_is 'r["refused"]' "\"$chk\"" || return 1
	check rejects "$kept" "$TD/ref-rejects.csv"
}

# same_ledger DIR1 DIR2: ledger.csv and streams.csv byte-identical.
same_ledger() {
	same_file "$1/ledger.csv" "$2/ledger.csv" && same_file "$1/streams.csv" "$2/streams.csv"
}

# The same export twice, under any two names, is refused before anything is
# read (a corrupt first input is not even opened), or once read when two
# files hold the same bytes: exit 3 naming both, nothing published.
t_same_input_twice() {
	cp "$HAND/probes.csv" "$TD/h.csv"
	cp "$TD/h.csv" "$TD/copy.csv"
	ln -s h.csv "$TD/link.csv"
	ln "$TD/h.csv" "$TD/hard.csv"
	mkdir "$TD/sub"
	printf 'not a gzip stream' | gzip -c | head -c 20 >"$TD/corrupt.csv.gz"
	local pair a b rest=(--pools "$HAND/pools.csv" --default-pool 5 --max-reject-ratio 0.2)
	for pair in "h.csv h.csv" "h.csv ./h.csv" "h.csv $TD/h.csv" "./h.csv sub/../h.csv" \
		"h.csv link.csv" "hard.csv h.csv" "h.csv copy.csv" "copy.csv $HAND/probes.csv"; do
		read -r a b <<<"$pair"
		settle --period 2026-11-01 --input "$a" --input "$b" "${rest[@]}" --out "$TD/out"
		expect_rc 3 || { fail "'$a' and '$b': $(cat "$TD/.reason")"; return 1; }
		if ! stderr_names "'$a'" || ! stderr_names "'$b'"; then
			fail "'$a' and '$b': $(cat "$TD/.reason")"
			return 1
		fi
		no_publish "$TD/out" 2026-11-01 || return 1
		oracle --period 2026-11-01 --input "$a" --input "$b" "${rest[@]}" --out "$TD/ref"
		[ "$RC_REF" = 3 ] || { fail "oracle on '$a' and '$b': exit $RC_REF, want 3"; return 1; }
	done
	grep -q "same bytes" "$TD/stderr" || { fail "a copy is not refused for its bytes: $(oneline "$TD/stderr")"; return 1; }
	# by inode, before reading: the corrupt first input is never read
	settle --period 2026-11-01 --input corrupt.csv.gz --input h.csv --input link.csv "${rest[@]}" --out "$TD/out"
	expect_rc 3 || return 1
	stderr_names "'link.csv'" || return 1
	! grep -q "corrupt.csv.gz" "$TD/stderr" || { fail "the inputs were read before the same file was refused: $(oneline "$TD/stderr")"; return 1; }
	no_publish "$TD/out" 2026-11-01 || return 1
	# the same rows in another encoding are not the same bytes: each id counts once
	gzip -c "$TD/h.csv" >"$TD/h.csv.gz"
	diff_args --period 2026-11-01 --input "$TD/h.csv" --input "$TD/h.csv.gz" "${rest[@]}" || return 1
	same_file "$HAND/ledger.csv" "$V1/ledger.csv" || return 1
	manifest_is "$V1" 'm["counts"]["duplicate"]' 32   # the gzip copy's 28 + 4 valid rows; its 4 rejects are rejects again
}

# Overlapping exports (two files sharing part of their ids) settle exactly
# as the single complete export: each id counts once, in input order.
t_overlapping_exports() {
	gen overlap "$TD/fx" || return 1
	local fx=$TD/fx common=(--period 2026-11-01 --pools "$TD/fx/pools.csv" --max-reject-ratio 0.05)
	diff_args "${common[@]}" --input "$fx/full.csv.gz" || return 1
	mv "$V1" "$TD/full"
	manifest_is "$TD/full" 'm["counts"]["duplicate"]' 0 || return 1
	diff_args "${common[@]}" --input "$fx/part-a.csv" --input "$fx/part-b.csv.gz" || return 1
	same_ledger "$TD/full" "$V1" || return 1
	manifest_is "$V1" 'm["counts"]["duplicate"]' "$(cat "$fx/expect_dup_ab")" || return 1
	jobs_same "$TD/c/args" 2 || return 1
	diff_args "${common[@]}" --input "$fx/part-a.csv" --input "$fx/part-b.csv.gz" --input "$fx/part-c.csv" || return 1
	same_ledger "$TD/full" "$V1" || return 1
	manifest_is "$V1" 'm["counts"]["duplicate"]' "$(cat "$fx/expect_dup_abc")" || return 1
	diff_args "${common[@]}" --input "$fx/part-c.csv" --input "$fx/part-a.csv" --input "$fx/part-b.csv.gz" || return 1
	same_ledger "$TD/full" "$V1" || return 1
	manifest_is "$V1" 'm["counts"]["duplicate"]' "$(cat "$fx/expect_dup_abc")" || return 1
	jobs_same "$TD/c/args" 3 || return 1
	# b first: its changed copy of a shared probe counts, a's is the duplicate
	diff_args "${common[@]}" --input "$fx/part-b.csv.gz" --input "$fx/part-a.csv" || return 1
	grep -q ',node-from-b,' "$V1/ledger.csv" || { fail "b's copy of the shared probe does not count when b comes first"; return 1; }
	cmp -s "$TD/full/ledger.csv" "$V1/ledger.csv" && { fail "b then a settles as a then b: the changed row tests nothing"; return 1; }
	jobs_same "$TD/c/args" 2 || return 1
	# full plus a part of it: every row of the part is a duplicate
	diff_args "${common[@]}" --input "$fx/full.csv.gz" --input "$fx/part-c.csv" --input "$fx/part-b.csv.gz" || return 1
	same_ledger "$TD/full" "$V1" || return 1
	ref_is 'r["duplicate"] == r["rows_read"] - 3000 - (r["rejected"] - 12)' true
}

# backfill --settle counts each id once too: the day from overlapping
# exports is the day of the complete one, at --jobs 1 and 2.
t_backfill_overlapping_exports() {
	gen overlap "$TD/fx" || return 1
	local fx=$TD/fx j
	oracle --period 2026-11-01 --input "$fx/full.csv.gz" --pools "$fx/pools.csv" --max-reject-ratio 0.05 --out "$TD/ref"
	[ "$RC_REF" = 0 ] || { fail "oracle exit $RC_REF: $(oneline "$TD/ref.err")"; return 1; }
	for j in 1 2; do
		prun "bf$j" backfill --input "$fx/part-a.csv" --input "$fx/part-b.csv.gz" --input "$fx/part-c.csv" \
			--pools "$fx/pools.csv" --max-reject-ratio 0.05 --settle --from 2026-11-01 --to 2026-11-01 \
			--jobs "$j" --out "$TD/out$j"
		[ "$RC" = 0 ] || { fail "backfill --jobs $j: exit $RC: $(oneline "$TD/bf$j.err")"; return 1; }
		same_ledger "$TD/ref" "$TD/out$j/2026-11-01/v1" || return 1
	done
}

# Duplicates count in input order in a backfill as in a settle: given b then
# a, b's changed copy of the probe they share counts (settle and the oracle
# say so), whatever the files' names.
t_backfill_input_order() {
	gen overlap "$TD/fx" || return 1
	local fx=$TD/fx ba
	ba=(--input "$fx/part-b.csv.gz" --input "$fx/part-a.csv" --pools "$fx/pools.csv" --max-reject-ratio 0.05)
	diff_args --period 2026-11-01 "${ba[@]}" || return 1
	grep -q ',node-from-b,' "$V1/ledger.csv" || { fail "settle b, a: b's copy does not count"; return 1; }
	prun bf backfill "${ba[@]}" --settle --from 2026-11-01 --to 2026-11-01 --out "$TD/out-bf"
	[ "$RC" = 0 ] || { fail "backfill b, a: exit $RC: $(oneline "$TD/bf.err")"; return 1; }
	manifest_is "$TD/out-bf/2026-11-01/v1" '[i["path"].split("/")[-1] for i in m["inputs"]]' '["part-b.csv.gz", "part-a.csv"]' || return 1
	same_ledger "$V1" "$TD/out-bf/2026-11-01/v1"
}

# A later file that repeats earlier ids and holds more rejects than can be
# held, read at once with the others: the result of reading them in turn.
t_jobs_duplicates_and_rejects() {
	"$PY" -c '
import re, sys
src = open(sys.argv[1], "rb").read()
bad = b"".join(b"%d,alpha,node-a,stats_poll,maybe,2026-11-01 10:00:00,,\"%s\"\n" % (i, b"z" * 1100)
               for i in range(5000))
open(sys.argv[2], "wb").write(src + bad)                        # the hand ids again, then rejects
open(sys.argv[3], "wb").write(re.sub(rb"(?m)^([0-9]+),", lambda m: b"%d," % (int(m.group(1)) + 18), src))
' "$HAND/probes.csv" "$TD/again-bad.csv" "$TD/half.csv"
	printf '%s\n' --period 2026-11-01 --input "$HAND/probes.csv" --input "$TD/again-bad.csv" \
		--input "$TD/half.csv" --pools "$HAND/pools.csv" --default-pool 5 --max-reject-ratio 1 >"$TD/args"
	diff_case "$TD" || return 1
	ref_is '[r["duplicate"], r["rejected"]]' '[46, 5012]' || return 1
	jobs_same "$TD/args" 3
}

# bad_id: in an export with an id column, a row valid otherwise whose id is
# not a whole number 0..2^63-1; a repeated id, after a rejected row with it.
t_bad_id() {
	gen badid "$TD/fx" || return 1
	diff_case "$TD/fx" || return 1
	check reasons "$V1" "$(cat "$TD/fx/expect_reasons")" || return 1
	ref_is 'r["duplicate"]' 1 || return 1   # 000123 and 123
	manifest_is "$V1" '[i["rows"] for i in m["inputs"]]' "$(ref_is_json '[i["rows"] for i in r["inputs"]]')" || return 1
	jobs_same "$TD/fx/args" 2
}

# Two globs matching one export are that export given twice: refused, as
# docs/operations.md ("When payrun refuses to publish": "two globs matching
# one file") says and as settle refuses a path given twice.
t_backfill_two_globs_one_file() {
	mkdir "$TD/ex"
	cp "$DEMO" "$TD/ex/probes-2026-11-01.csv.gz"
	local bf=(backfill --pools "$DEMO_POOLS" --settle --from 2026-11-01 --to 2026-11-01)
	prun bf "${bf[@]}" --input "$TD/ex/*.csv.gz" --input "$TD/ex/probes-2026-11-01.*" --out "$TD/out"
	[ "$RC" = 3 ] || { fail "two globs matching one file: exit $RC, want 3: $(oneline "$TD/bf.err")"; return 1; }
	no_publish "$TD/out" 2026-11-01 || return 1
	prun bf "${bf[@]}" --input "$TD/ex/probes-2026-11-01.csv.gz" --input "$TD/ex/probes-2026-11-01.csv.gz" --out "$TD/out"
	[ "$RC" = 3 ] || { fail "one path given twice: exit $RC, want 3: $(oneline "$TD/bf.err")"; return 1; }
	no_publish "$TD/out" 2026-11-01
}

# The run log lists the overrides used as issue 9 (and include/payrun/checks.h)
# spell them: allow_empty, max_edge_gap=0, allow_zero_pools; the manifest's
# checks name the options (--allow-empty).
t_overrides_spelling() {
	printf 'id,stream_id,node_id,probe_type,success,probe_timestamp\n' >"$TD/empty.csv"
	settle --period 2026-11-01 --input "$TD/empty.csv" --allow-empty --allow-zero-pools --max-edge-gap 0 --out "$TD/out"
	expect_rc 0 || return 1
	last_log "$TD/out" 'l["overrides"]' '["allow_empty", "max_edge_gap=0", "allow_zero_pools"]'
}

# Ids are kept as bitmaps of ranges of 32,768 ids: 16,384 such ranges are
# fine (settled as the oracle, the one repeated id a duplicate), one more is
# refused with exit 3 naming the file and line, as docs/operations.md says.
t_ids_spread() {
	local n
	for n in 16384 16385; do
		"$PY" -c '
import sys
n = int(sys.argv[1])
out = [b"id,stream_id,node_id,probe_type,success,probe_timestamp\n"]
for i in range(n):
    out.append(b"%d,s,n%d,stats_poll,t,2026-11-01 %02d:%02d:00\n" % (i * 32768, i % 50, i * 24 // n, i * 7 % 60))
out.append(b"0,s,n,stats_poll,t,2026-11-01 23:59:59\n")
open(sys.argv[2], "wb").write(b"".join(out))' "$n" "$TD/spread-$n.csv"
	done
	diff_args --period 2026-11-01 --input "$TD/spread-16384.csv" --default-pool 1000 || return 1
	manifest_is "$V1" 'm["counts"]["duplicate"]' 1 || return 1
	rm -rf "$TD/out"
	settle --period 2026-11-01 --input "$TD/spread-16385.csv" --default-pool 1000 --out "$TD/out"
	expect_rc 3 || return 1
	stderr_names "spread-16385.csv:16386" || return 1
	no_publish "$TD/out" 2026-11-01
}

# An id is a whole number whatever its length: zero-padded to 25 characters
# and more it still spells the id it spells (here a duplicate of id 7), as up
# to 24 characters it does.
t_bad_id_zero_padded() {
	"$PY" -c '
import sys
out = [b"id,stream_id,node_id,probe_type,success,probe_timestamp\n"]
for i in range(1, 97):
    out.append(b"%d,s,n%d,stats_poll,t,2026-11-01 %02d:%02d:00\n" % (i, i % 5, (i - 1) // 4, (i - 1) % 4 * 15))
for k in (22, 23, 24, 30, 300):
    out.append(b"%s7,s,padded-%d,stats_poll,t,2026-11-01 12:00:00\n" % (b"0" * k, k + 1))
out.append(b"000000000000000000000000000000000000009223372036854775808,s,over,stats_poll,t,2026-11-01 12:00:00\n")
open(sys.argv[1], "wb").write(b"".join(out))' "$TD/padded.csv"
	diff_args --period 2026-11-01 --input "$TD/padded.csv" --default-pool 100 --max-reject-ratio 0.5 || return 1
	manifest_is "$V1" '[m["counts"]["duplicate"], m["counts"]["rejected"]]' '[5, 1]'
}

ref_is_json() {   # ref_is_json EXPR: the oracle's value of EXPR, as JSON
	"$PY" -c 'import json, sys; r = json.load(open(sys.argv[1])); print(json.dumps(eval(sys.argv[2])))' "$TD/ref.json" "$1"
}

DEMO=$ROOT/fixtures/probes-2026-11-01.csv.gz
DEMO_POOLS=$ROOT/fixtures/pools.csv

# The wrong day's export: 2026-11-01's (with a few minutes either side)
# settled as 2026-11-02 or 2026-10-31 is refused by edge_gap; --max-edge-gap
# 0 (off) or one long enough settles it, recorded in the manifest and the
# run log.
t_wrong_day_export() {
	local day
	for day in 2026-11-02 2026-10-31; do
		refused_by edge_gap --max-edge-gap --period "$day" --input "$DEMO" --pools "$DEMO_POOLS" ||
			{ fail "$day: $(cat "$TD/.reason")"; return 1; }
	done
	stderr_names "from its start" || return 1
	diff_args --period 2026-11-02 --input "$DEMO" --pools "$DEMO_POOLS" --max-edge-gap 0 || return 1
	manifest_is "$V1" 'm["checks"]["edge_gap"]["status"]' '"off"' || return 1
	last_log "$TD/out" 'l["overrides"]' '["max_edge_gap=0"]' || return 1
	diff_args --period 2026-10-31 --input "$DEMO" --pools "$DEMO_POOLS" --max-edge-gap 24h || return 1
	manifest_is "$V1" '[m["checks"]["edge_gap"][k] for k in ("status", "max_s")]' '["passed", 86400]' || return 1
	last_log "$TD/out" 'l["overrides"]' '["max_edge_gap=86400s"]' || return 1
	# the right day passes the check with its default, and records no override
	diff_args --period 2026-11-01 --input "$DEMO" --pools "$DEMO_POOLS" || return 1
	manifest_is "$V1" 'm["checks"]["edge_gap"]["status"]' '"passed"' || return 1
	last_log "$TD/out" 'l.get("overrides", [])' '[]'
}

# A day without a probe (another day's export, or an empty one) is refused by
# has_probes; --allow-empty settles it: every pool unallocated.
t_empty_day() {
	refused_by has_probes --allow-empty --period 2026-11-05 --input "$DEMO" --pools "$DEMO_POOLS" || return 1
	stderr_names "no valid probe" || return 1
	diff_args --period 2026-11-05 --input "$DEMO" --pools "$DEMO_POOLS" --allow-empty || return 1
	[ "$(wc -l <"$V1/ledger.csv")" = 1 ] || { fail "ledger has rows"; return 1; }
	manifest_is "$V1" '[m["checks"][c]["status"] for c in ("has_probes", "edge_gap", "pools")]' \
		'["overridden", "not applicable", "passed"]' || return 1
	manifest_is "$V1" '[m["probes"]["first"], m["totals"]["paid"], m["totals"]["unallocated"]]' \
		'[null, "0", "1372777778"]' || return 1
	last_log "$TD/out" 'l["overrides"]' '["allow_empty"]' || return 1
	# an export with a header and nothing else
	printf 'id,stream_id,node_id,probe_type,success,probe_timestamp\n' >"$TD/empty.csv"
	refused_by has_probes --allow-empty --period 2026-11-01 --input "$TD/empty.csv" --pools "$DEMO_POOLS" || return 1
	# without pools nothing is to pay either: both overrides
	refused_by pools --allow-zero-pools --period 2026-11-01 --input "$TD/empty.csv" --default-pool 10 --allow-empty || return 1
	diff_args --period 2026-11-01 --input "$TD/empty.csv" --default-pool 10 --allow-empty --allow-zero-pools || return 1
	[ "$(wc -l <"$V1/streams.csv")" = 1 ] || { fail "streams.csv has rows"; return 1; }
}

# All pools 0, or a pools file that names none of the probed streams (the
# wrong pools file, even with a default pool): refused by pools;
# --allow-zero-pools settles it.
t_zero_pools() {
	local h=(--period 2026-11-01 --input "$HAND/probes.csv" --max-reject-ratio 0.2)
	printf 'stream_id,pool\nalpha,0\n"b,eta",0\ngamma,0\n' >"$TD/zero.csv"
	refused_by pools --allow-zero-pools "${h[@]}" --pools "$TD/zero.csv" || return 1
	stderr_names "every pool is 0" || return 1
	refused_by pools --allow-zero-pools "${h[@]}" || return 1      # no pools, default 0
	diff_args "${h[@]}" --pools "$TD/zero.csv" --allow-zero-pools || return 1
	manifest_is "$V1" 'm["checks"]["pools"]["status"]' '"overridden"' || return 1
	last_log "$TD/out" 'l["overrides"]' '["allow_zero_pools"]' || return 1
	printf 'stream_id,pool\nsomeone-else,1000\nnobody,5\n' >"$TD/wrong.csv"
	refused_by pools --allow-zero-pools "${h[@]}" --pools "$TD/wrong.csv" --default-pool 7 || return 1
	stderr_names "name none of the streams" || return 1
	printf 'stream_id,pool\n' >"$TD/header-only.csv"
	refused_by pools --allow-zero-pools "${h[@]}" --pools "$TD/header-only.csv" --default-pool 7 || return 1
	diff_args "${h[@]}" --pools "$TD/wrong.csv" --default-pool 7 --allow-zero-pools || return 1
	manifest_is "$V1" '[m["checks"]["pools"][k] for k in ("status", "names_a_probed_stream")]' '["overridden", false]' || return 1
	# 7 for alpha, b,eta, delta and epsilon, 1005 listed; paid: alpha 5, b,eta 3 (penalties), epsilon 7
	manifest_is "$V1" '[m["totals"]["pool"], m["totals"]["paid"]]' '["1033", "15"]' || return 1
	# one probed stream named, even with 0, and a pool elsewhere: fine
	printf 'stream_id,pool\nalpha,0\nnobody,5\n' >"$TD/one.csv"
	diff_args "${h[@]}" --pools "$TD/one.csv" || return 1
	manifest_is "$V1" 'm["checks"]["pools"]["status"]' '"passed"' || return 1
	# --allow-zero-pools when the pools are fine overrides nothing
	diff_args "${h[@]}" --pools "$HAND/pools.csv" --allow-zero-pools || return 1
	last_log "$TD/out" 'l.get("overrides", [])' '[]'
}

# edge_times FILE TIME...: a one-stream export with a probe at each TIME.
edge_times() {
	local f=$1 t
	shift
	{
		echo stream_id,node_id,probe_type,success,probe_timestamp
		for t in "$@"; do echo "s,n,stats_poll,t,$t"; done
	} >"$f"
}

# edge_gap at its bounds: lead = first - start, trail = end - 1 - last, whole
# seconds, at most max_edge_gap (1h for a day).
t_edge_gap_day_bounds() {
	local d=(--period 2026-11-01 --default-pool 100)
	edge_times "$TD/e.csv" "2026-11-01 01:00:00" "2026-11-01 12:00:00" "2026-11-01 22:59:59"
	diff_args "${d[@]}" --input "$TD/e.csv" || return 1
	manifest_is "$V1" '[m["checks"]["edge_gap"][k] for k in ("lead_s", "trail_s")]' '[3600, 3600]' || return 1
	manifest_is "$V1" 'm["probes"]' '{"first": "2026-11-01T01:00:00Z", "last": "2026-11-01T22:59:59Z", "longest_gap_s": 39599, "gap_resolution_s": 1}' || return 1
	# fractions of the edge seconds, and offsets, change nothing
	edge_times "$TD/f.csv" "2026-11-01 02:00:00.999999+01" "2026-11-01T22:59:59.5Z" "2026-11-01 12:00:00"
	diff_args "${d[@]}" --input "$TD/f.csv" || return 1
	manifest_is "$V1" '[m["checks"]["edge_gap"][k] for k in ("lead_s", "trail_s")]' '[3600, 3600]' || return 1
	edge_times "$TD/g.csv" "2026-11-01 01:00:01" "2026-11-01 22:59:59"
	refused_by edge_gap --max-edge-gap "${d[@]}" --input "$TD/g.csv" || return 1
	edge_times "$TD/g.csv" "2026-11-01 01:00:00" "2026-11-01 22:59:58.999999999"
	refused_by edge_gap --max-edge-gap "${d[@]}" --input "$TD/g.csv" || return 1
	stderr_names "from its end" || return 1
	# other spellings of the gap
	edge_times "$TD/h.csv" "2026-11-01 00:45:00" "2026-11-01 23:14:59"
	refused_by edge_gap --max-edge-gap "${d[@]}" --input "$TD/h.csv" --max-edge-gap 2699s || return 1
	diff_args "${d[@]}" --input "$TD/h.csv" --max-edge-gap 45m || return 1
	diff_args "${d[@]}" --input "$TD/h.csv" --max-edge-gap 2700s || return 1
}

# An hour's default edge gap is 5 minutes, not the day's hour.
t_edge_gap_hour_default() {
	local hr=(--period 2026-11-01T05 --default-pool 100)
	edge_times "$TD/e.csv" "2026-11-01 05:05:00" "2026-11-01 05:30:00" "2026-11-01 05:30:00.9" \
		"2026-11-01 05:30:02" "2026-11-01 05:54:59"
	diff_args "${hr[@]}" --input "$TD/e.csv" || return 1
	manifest_is "$V1" '[m["checks"]["edge_gap"][k] for k in ("max_s", "lead_s", "trail_s")]' '[300, 300, 300]' || return 1
	manifest_is "$V1" 'm["probes"]["longest_gap_s"]' 1499 || return 1
	edge_times "$TD/f.csv" "2026-11-01 05:05:01" "2026-11-01 05:54:59"
	refused_by edge_gap --max-edge-gap "${hr[@]}" --input "$TD/f.csv" || return 1
	edge_times "$TD/f.csv" "2026-11-01 05:10:00" "2026-11-01 05:59:59"
	refused_by edge_gap --max-edge-gap "${hr[@]}" --input "$TD/f.csv" || return 1
	diff_args "${hr[@]}" --input "$TD/f.csv" --max-edge-gap 1h || return 1
	edge_times "$TD/g.csv" "2026-11-01 05:00:00" "2026-11-01 05:54:58"
	refused_by edge_gap --max-edge-gap "${hr[@]}" --input "$TD/g.csv" --period-length 1h || return 1
}

# 18-decimal tokens: pools 42, 2500000.123456789012345678 and 4.2e+1 tokens
# and a default pool of 0.5 settle, in base units, exactly as the oracle and
# exactly as the same pools written in base units with no decimals.
t_token_decimals_18() {
	gen tokens "$TD/fx" || return 1
	diff_case "$TD/fx/base" || return 1
	mv "$V1" "$TD/base"
	rm -rf "$TD/out"
	diff_case "$TD/fx" || return 1
	same_ledger "$TD/base" "$V1" || return 1
	local p
	for p in 42000000000000000000 2500000123456789012345678 500000000000000000; do
		grep -q "^[^,]*,[^,]*,[^,]*,$p," "$V1/streams.csv" || { fail "no stream with pool $p in streams.csv"; return 1; }
	done
	manifest_is "$V1" '[m["settings"]["token_decimals"], m["settings"]["default_pool"]]' '[18, "500000000000000000"]'
}

# Pools near 2^256: three pools past 2^64 adding up to 2^256 - 2, then to
# exactly 2^256 - 1; one more base unit (from the pools, or a default pool
# for an unlisted stream) is refused, nothing published.
t_pools_near_2_256() {
	gen huge "$TD/fx" || return 1
	diff_case "$TD/fx" || return 1
	manifest_is "$V1" 'm["totals"]["pool"]' "\"$("$PY" -c 'print(2**256 - 2)')\"" || return 1
	ref_is 'r["paid"] > 2**64 and r["forfeited"] > 2**64' true || return 1
	local p=(--period 2026-11-01 --input "$TD/fx/probes.csv.gz")
	diff_args "${p[@]}" --pools "$TD/fx/pools-max.csv" || return 1
	manifest_is "$V1" 'm["totals"]["pool"]' "\"$U256_MAX\"" || return 1
	diff_args "${p[@]}" --pools "$TD/fx/pools-one.csv" || return 1   # 2^256 - 1 + 0 + a default of 0
	local over
	for over in "--pools $TD/fx/pools-over.csv" "--pools $TD/fx/pools-one.csv --default-pool 1"; do
		rm -rf "$TD/out"
		# shellcheck disable=SC2086 # the options split on purpose
		settle "${p[@]}" $over --out "$TD/out"
		expect_rc 3 || { fail "$(rel "${over#--pools }"): $(cat "$TD/.reason")"; return 1; }
		stderr_names "2^256 - 1" || return 1
		no_publish "$TD/out" 2026-11-01 || return 1
		# shellcheck disable=SC2086
		oracle "${p[@]}" $over --out "$TD/ref"
		[ "$RC_REF" = 3 ] || { fail "oracle exit $RC_REF on $over, want 3"; return 1; }
	done
}

# More fractional digits than the token has (other than zeros) names the
# stream and the value: exit 3 in the pools file, 2 for --default-pool; and
# 2^256 - 1 base units in 36-decimal tokens, and one more.
t_too_many_decimals() {
	local d=(--period 2026-11-01 --input "$HAND/probes.csv" --max-reject-ratio 0.2) cs dec val rc
	while IFS='|' read -r dec val rc; do
		printf 'stream_id,pool\nalpha,0\n"b,eta",%s\n' "$val" >"$TD/pools.csv"
		rm -rf "$TD/out"
		settle "${d[@]}" --pools "$TD/pools.csv" --token-decimals "$dec" --out "$TD/out"
		expect_rc "$rc" || { fail "'$val' with $dec decimals: $(cat "$TD/.reason")"; return 1; }
		oracle "${d[@]}" --pools "$TD/pools.csv" --token-decimals "$dec" --out "$TD/ref"
		[ "$RC_REF" = "$rc" ] || { fail "oracle: '$val' with $dec decimals: exit $RC_REF, want $rc"; return 1; }
		[ "$rc" = 0 ] && { same_ledger "$TD/ref" "$TD/out/2026-11-01/v1" || return 1; continue; }
		if ! stderr_names "'b,eta'" || ! stderr_names "'$val'"; then
			fail "'$val' with $dec decimals: $(cat "$TD/.reason")"
			return 1
		fi
		no_publish "$TD/out" 2026-11-01 || return 1
	done <<'EOF_CASES'
0|1.5|3
0|1.0|0
0|15e-1|3
0|1.5e1|0
6|0.1234567|3
6|0.1234560|0
6|4.2e-7|3
6|4.2e-5|0
18|0.0000000000000000001|3
18|1e-18|0
36|0.0000000000000000000000000000000000001|3
36|115792089237316195423570985008687907853269.984665640564039457584007913129639935|0
36|115792089237316195423570985008687907853269.984665640564039457584007913129639936|3
36|1.15792089237316195423570985008687907853269984665640564039457584007913129639935e41|0
EOF_CASES
	for cs in "0 0.5" "0 1e-1" "6 1.1234567" "18 1e-19"; do
		read -r dec val <<<"$cs"
		settle "${d[@]}" --token-decimals "$dec" --default-pool "$val" --out "$TD/out"
		expect_rc 2 || { fail "--default-pool '$val' with $dec decimals: $(cat "$TD/.reason")"; return 1; }
		stderr_names "'$val'" || return 1
		oracle "${d[@]}" --token-decimals "$dec" --default-pool "$val" --out "$TD/ref"
		[ "$RC_REF" = 2 ] || { fail "oracle: --default-pool '$val' with $dec decimals: exit $RC_REF, want 2"; return 1; }
	done
}

# dirs_of OUT: the period directories and versions in OUT, one per line.
dirs_of() {
	(cd "$1" && find . -mindepth 1 -maxdepth 2 -type d ! -name failed | sort)
}

# A probe is paid once: with the day settled, one of its hours is refused
# (exit 5, naming the day), and backfilling the day's hours skips them all.
t_day_then_hour() {
	local d=(--input "$DEMO" --pools "$DEMO_POOLS")
	settle --period 2026-11-01 "${d[@]}" --out "$TD/out"
	expect_rc 0 || return 1
	settle --period 2026-11-01T05 "${d[@]}" --out "$TD/out"
	expect_rc 5 || return 1
	grep -Eq "'?2026-11-01'?([^T0-9]|$)" "$TD/stderr" || { fail "exit 5 does not name the settled day: $(oneline "$TD/stderr")"; return 1; }
	no_publish "$TD/out" 2026-11-01T05 || return 1
	dirs_of "$TD/out" >"$TD/before"
	cp "$TD/out/runs.log" "$TD/runs.before"
	prun bf backfill "${d[@]}" --settle --from 2026-11-01T00 --to 2026-11-01T23 --out "$TD/out"
	[ "$RC" = 0 ] || { fail "backfill of the settled day's hours: exit $RC, want 0: $(oneline "$TD/bf.err")"; return 1; }
	dirs_of "$TD/out" >"$TD/after"
	same_file "$TD/before" "$TD/after" || return 1
	! grep -v -x -F -f "$TD/runs.before" "$TD/out/runs.log" | grep -q '"settled"' ||
		{ fail "the backfill settled something: $(tail -n 1 "$TD/out/runs.log")"; return 1; }
	# the day itself is rerun as usual
	prun rr rerun --period 2026-11-01 "${d[@]}" --reason "still works" --out "$TD/out"
	[ "$RC" = 0 ] || { fail "rerun of the day: exit $RC: $(oneline "$TD/rr.err")"; return 1; }
	same_ledger "$TD/out/2026-11-01/v1" "$TD/out/2026-11-01/v2"
}

# The other order: with an hour settled its day is refused (naming the
# hour); backfilling the day skips it, the neighbouring hours are settled.
t_hour_then_day() {
	local d=(--input "$DEMO" --pools "$DEMO_POOLS")
	diff_args --period 2026-11-01T05 "${d[@]}" || return 1
	settle --period 2026-11-01 "${d[@]}" --out "$TD/out"
	expect_rc 5 || return 1
	stderr_names 2026-11-01T05 || return 1
	no_publish "$TD/out" 2026-11-01 || return 1
	dirs_of "$TD/out" >"$TD/before"
	prun bf backfill "${d[@]}" --settle --from 2026-11-01 --to 2026-11-01 --out "$TD/out"
	[ "$RC" = 0 ] || { fail "backfill of the day: exit $RC, want 0: $(oneline "$TD/bf.err")"; return 1; }
	dirs_of "$TD/out" >"$TD/after"
	same_file "$TD/before" "$TD/after" || return 1
	prun bf backfill "${d[@]}" --settle --from 2026-11-01T04 --to 2026-11-01T06 --out "$TD/out"
	[ "$RC" = 0 ] || { fail "backfill of T04..T06: exit $RC, want 0: $(oneline "$TD/bf.err")"; return 1; }
	if [ ! -d "$TD/out/2026-11-01T04/v1" ] || [ ! -d "$TD/out/2026-11-01T06/v1" ] || [ -e "$TD/out/2026-11-01T05/v2" ]; then
		fail "backfill T04..T06 left: $(dirs_of "$TD/out" | tr '\n' ' ')"
		return 1
	fi
	oracle --period 2026-11-01T06 "${d[@]}" --out "$TD/ref6"
	same_ledger "$TD/ref6" "$TD/out/2026-11-01T06/v1" || return 1
	settle --period 2026-11-01 "${d[@]}" --out "$TD/out"
	expect_rc 5
}

# A version keeps the pools it used: a rerun without --pools, from another
# directory, after the pools file was edited, takes v1's pools.csv and
# changes nothing; a rerun with --pools says which streams' pools change.
t_rerun_pools_copy() {
	local h=(--period 2026-11-01 --input "$HAND/probes.csv" --default-pool 5 --max-reject-ratio 0.2)
	cp "$HAND/pools.csv" "$TD/pools.csv"
	settle "${h[@]}" --pools pools.csv --out out            # a relative path, from TD
	expect_rc 0 || return 1
	local v=$TD/out/2026-11-01
	same_file "$HAND/pools.csv" "$v/v1/pools.csv" || return 1
	printf 'stream_id,pool\nalpha,2002\n"b,eta",10\ngamma,7\nnewone,3\n' >"$TD/pools.csv"   # edited since
	mkdir "$TD/elsewhere"
	cd "$TD/elsewhere" || return 1
	prun r2 rerun "${h[@]}" --reason "unchanged (OPS-1)" --out "$TD/out"
	cd "$TD" || return 1
	[ "$RC" = 0 ] || { fail "rerun without --pools: exit $RC: $(oneline "$TD/r2.err")"; return 1; }
	grep -q "pools from v1's pools.csv" "$TD/r2.err" "$TD/r2.out" || { fail "the rerun does not say it took v1's pools.csv: $(oneline "$TD/r2.err")"; return 1; }
	grep -q "no change" "$TD/r2.err" "$TD/r2.out" || { fail "the rerun does not say 'no change'"; return 1; }
	same_ledger "$v/v1" "$v/v2" || return 1
	same_file "$HAND/pools.csv" "$v/v2/pools.csv" || return 1
	[ "$(wc -l <"$v/v2/adjustments.csv")" = 1 ] || { fail "adjustments.csv of an unchanged rerun has rows"; return 1; }
	manifest_is "$v/v2" 'm["settings"]["pools"]["sha256"]' "\"$(sha256sum "$HAND/pools.csv" | cut -d' ' -f1)\"" || return 1
	# new pools: what changes is said, the adjustments are the ledgers' difference
	prun r3 rerun "${h[@]}" --reason "new pools (OPS-2)" --pools "$TD/pools.csv" --out "$TD/out"
	[ "$RC" = 0 ] || { fail "rerun with --pools: exit $RC: $(oneline "$TD/r3.err")"; return 1; }
	local want
	for want in "stream 'alpha': pool 1001 -> 2002 base units" "stream 'gamma': pool 500 -> 7 base units" \
		"stream 'delta': pool" "stream 'newone': pool"; do
		grep -qF "$want" "$TD/r3.err" || { fail "the rerun does not say \"$want\": $(oneline "$TD/r3.err" 600)"; return 1; }
	done
	! grep -qF "stream 'b,eta': pool" "$TD/r3.err" || { fail "the rerun says b,eta's pool changed"; return 1; }
	oracle "${h[@]}" --pools "$TD/pools.csv" --out "$TD/ref"
	same_ledger "$TD/ref" "$v/v3" || return 1
	same_file "$TD/pools.csv" "$v/v3/pools.csv" || return 1
	check adjustments "$v/v2/ledger.csv" "$v/v3/ledger.csv" "$v/v3/adjustments.csv" || return 1
	manifest_is "$v/v3" '[m["rerun"][k] for k in ("previously_paid", "now_due", "delta")]' '["760", "1510", "750"]' || return 1
	last_log "$TD/out" '[l["command"], l["version"], l["delta"], l["paid"]]' '["rerun", 3, "750", "1510"]'
}

# The manifest lists pools.csv, the pools file's own bytes (CRLF, quoted ids,
# tokens), with its size and SHA-256 as sha256sum(1) computes them.
t_manifest_pools_copy() {
	printf 'stream_id,pool\r\n"alpha",1.001e3\r\n"b,eta",10.000\r\ngamma,0.5e3\r\ndelta,300\r\n' >"$TD/pools.csv"
	diff_args --period 2026-11-01 --input "$HAND/probes.csv" --pools "$TD/pools.csv" --default-pool 5 \
		--max-reject-ratio 0.2 --token-decimals 0 || return 1
	same_ledger "$HAND" "$V1" || return 1        # the hand pools, spelt otherwise
	same_file "$TD/pools.csv" "$V1/pools.csv" || return 1
	local sum size
	sum=$(sha256sum "$TD/pools.csv" | cut -d' ' -f1)
	size=$(stat -c %s "$TD/pools.csv")
	manifest_is "$V1" '[[o["bytes"], o["sha256"]] for o in m["outputs"] if o["name"] == "pools.csv"]' "[[$size, \"$sum\"]]" || return 1
	manifest_is "$V1" 'm["settings"]["pools"]' "{\"origin\": \"file\", \"path\": \"$TD/pools.csv\", \"copy\": \"pools.csv\", \"sha256\": \"$sum\"}"
}

random_case() {
	gen random "$TD/fx" --seed "$1" || return 1
	diff_case "$TD/fx" || { fail "seed $1 ($(tr '\n' ' ' <"$TD/fx/args" | sed "s|$TD/fx/||g")): $(cat "$TD/.reason")"; return 1; }
}

# Twelve generated days (make_fixtures.py random --seed N), each its own test.
t_random_seed_1() { random_case 1; }
t_random_seed_2() { random_case 2; }
t_random_seed_3() { random_case 3; }
t_random_seed_4() { random_case 4; }
t_random_seed_5() { random_case 5; }
t_random_seed_6() { random_case 6; }
t_random_seed_7() { random_case 7; }
t_random_seed_8() { random_case 8; }
t_random_seed_9() { random_case 9; }
t_random_seed_10() { random_case 10; }
t_random_seed_11() { random_case 11; }
t_random_seed_12() { random_case 12; }

run_suite "$@"
