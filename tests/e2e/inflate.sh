#!/bin/sh
# tests/e2e/inflate.sh: --inflater isal (the default) against --inflater
# zlib (the reference) through payrun: the same versions from gzip days of
# many members, across files and from a pipe; the same exit status and
# error line for damaged files (a table: truncated, a wrong CRC32 or
# ISIZE, garbage after a member, reserved header flags, a header CRC);
# the option, its config and job keys, and the manifest's record of which
# inflater read each gzip input.  tests/unit/check_input.c compares the two
# on thousands of generated files through input.h; this is the same
# through the whole program.
#
#	PAYRUN=$PWD/build/payrun bash tests/e2e/inflate.sh [NAME...]

# (the t_ functions and their helpers are called by run_suite, which shellcheck cannot see)
# shellcheck disable=SC2317

if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh" inflate || exit 1

LIMIT=120
GEN=$ROOT/build/tools/gen_probes
FX=$ROOT/fixtures/probes-2026-11-01.csv.gz
DAY=2026-11-01
DATA=$W/data
POOLS=$DATA/pools.csv   # the fixture's pools and the generated days' streams

suite_setup() {
	[ -x "$PAYRUN" ] || { fail "no payrun binary at $PAYRUN"; return 1; }
	[ -x "$GEN" ] || { fail "no $GEN (make tools)"; return 1; }
	mkdir -p "$DATA" || return 1
	{ cat "$ROOT/fixtures/pools.csv" && seq -f 'stream-%03g,5000000' 0 29; } >"$POOLS" || return 1
	# a day of 300,000 rows as 9 members, and the same rows as 3 files of 4 members
	if ! "$GEN" -q --rows 300000 --nodes 3000 --streams 30 --seed 3 --members 9 --out "$DATA/day.csv.gz" ||
		! "$GEN" -q --rows 300000 --nodes 3000 --streams 30 --seed 3 --members 4 --files 3 \
			--out "$DATA/split.csv.gz"; then
		fail "gen_probes failed"
		return 1
	fi
	# with rejected rows and empty members among the members (a rejects.csv to compare)
	python3 - "$FX" "$DATA/rejects.csv.gz" <<'EOF' || { fail "could not write rejects.csv.gz"; return 1; }
import gzip, sys, zlib
text = gzip.open(sys.argv[1]).read()
lines = text.split(b"\n")
bad = b"\n".join(lines[:1] + [b"stream-x,node-1,stats_poll,maybe,2026-11-01 01:00:00+00"] * 3) + b"\n"
def member(data, level):
    c = zlib.compressobj(level, zlib.DEFLATED, 31)
    return c.compress(data) + c.flush()
out = member(b"", 6) + member(text, 9) + member(b"", 1)
out += member(b"\n".join(bad.split(b"\n")[1:]), 0)
open(sys.argv[2], "wb").write(out)
EOF
}

# settle TAG INFLATER ARGS...: the day settled into TD/TAG with that inflater ("" for none given).
settle() {
	local tag=$1 inflater=$2
	shift 2
	prun "$tag" settle --period "$DAY" --pools "$POOLS" --out "$TD/$tag" \
		${inflater:+--inflater "$inflater"} --max-reject-ratio 0.01 "$@"
}

expect_rc() {     # expect_rc WANT [TAG]
	local tag=${2:-$LAST}
	[ "$RC" = "$1" ] || { fail "$tag: exit $RC, want $1: $(oneline "$TD/$tag.err" 400)"; return 1; }
}

says() {          # says TEXT [TAG]
	local tag=${2:-$LAST}
	grep -qF -- "$1" "$TD/$tag.err" || { fail "$tag: stderr does not say '$1': $(oneline "$TD/$tag.err" 400)"; return 1; }
}

# the manifest of TAG's v1 as JSON text, with the inflater of each input and the times taken out
manifest_sans_inflater() {
	python3 - "$TD/$1/$DAY/v1/manifest.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
for i in m["inputs"]:
    i.pop("inflater", None)
for k in ("timing", "started_at", "finished_at", "outputs"):
    m.pop(k, None)
print(json.dumps({k: m[k] for k in sorted(m) if k not in ("run_id",)}, sort_keys=True))
EOF
}

inflaters_of() {  # inflaters_of TAG: the inputs' inflater fields of TAG's v1 (VERSION), one a line ("-": none)
	python3 -c 'import json, sys
for i in json.load(open(sys.argv[1]))["inputs"]:
    print(i.get("inflater", "-"))' "$TD/$1/$DAY/${VERSION:-v1}/manifest.json"
}

# same_versions A B: A's and B's v1 hold the same ledger, streams, rejects and pools, and
# manifests equal but for the inflater and the times
same_versions() {
	local f
	for f in ledger.csv streams.csv rejects.csv pools.csv; do
		same_file "$TD/$1/$DAY/v1/$f" "$TD/$2/$DAY/v1/$f" || return 1
	done
	[ "$(manifest_sans_inflater "$1")" = "$(manifest_sans_inflater "$2")" ] ||
		{ fail "the manifests of $1 and $2 differ beyond the inflater"; return 1; }
}

# both_settle INPUTS...: zlib and isal publish the same version; the manifests say which read what
both_settle() {
	local n=$#
	settle zlib zlib "${@/#/--input=}" && expect_rc 0 || return 1
	settle isal isal "${@/#/--input=}" && expect_rc 0 || return 1
	same_versions zlib isal || return 1
	if [ "$(inflaters_of zlib | sort -u)" != zlib ] || [ "$(inflaters_of isal | sort -u)" != isal ] ||
		[ "$(inflaters_of isal | wc -l)" != "$n" ]; then
		fail "manifest inflaters: zlib: $(inflaters_of zlib | tr '\n' ' '), isal: $(inflaters_of isal | tr '\n' ' ')"
		return 1
	fi
}

t_day_of_members() { both_settle "$DATA/day.csv.gz"; }
t_day_in_files() { both_settle "$DATA/split.part01.csv.gz" "$DATA/split.part02.csv.gz" "$DATA/split.part03.csv.gz"; }
t_rejects_and_empty_members() {
	both_settle "$DATA/rejects.csv.gz" || return 1
	[ "$(wc -l <"$TD/isal/$DAY/v1/rejects.csv")" -gt 1 ] || fail "no rejects: the case tests nothing"
}

t_from_a_pipe() {
	prun zlib settle --period "$DAY" --pools "$POOLS" --out "$TD/zlib" --inflater zlib --input - <"$DATA/day.csv.gz"
	expect_rc 0 || return 1
	prun isal settle --period "$DAY" --pools "$POOLS" --out "$TD/isal" --inflater isal --input - <"$DATA/day.csv.gz"
	expect_rc 0 && same_versions zlib isal
}

t_default_is_isal() {
	settle def "" --input "$FX" && expect_rc 0 || return 1
	[ "$(inflaters_of def)" = isal ] || fail "the default inflater is $(inflaters_of def)"
}

t_plain_input_has_no_inflater() {
	zcat "$FX" >"$TD/plain.csv"
	settle plain zlib --input "$TD/plain.csv" --input "$DATA/rejects.csv.gz" && expect_rc 0 || return 1
	[ "$(inflaters_of plain | tr '\n' ' ')" = "- zlib " ] || fail "inflaters: $(inflaters_of plain | tr '\n' ' ')"
}

t_invalid_inflater() {
	settle bad ISAL --input "$FX"
	expect_rc 2 && says "invalid inflater 'ISAL' (want isal or zlib)" || return 1
	printf 'inflater = "igzip"\n' >"$TD/bad.conf"
	settle badconf "" --input "$FX" --config "$TD/bad.conf"
	expect_rc 2 && says "invalid inflater 'igzip' (want isal or zlib)"
}

t_config_and_job_keys() {
	printf 'inflater = "zlib"\n' >"$TD/payrun.conf"
	settle conf "" --input "$FX" --config "$TD/payrun.conf" && expect_rc 0 || return 1
	[ "$(inflaters_of conf)" = zlib ] || { fail "config key: $(inflaters_of conf)"; return 1; }
	settle cli isal --input "$FX" --config "$TD/payrun.conf" && expect_rc 0 || return 1
	[ "$(inflaters_of cli)" = isal ] || { fail "the command line does not win: $(inflaters_of cli)"; return 1; }
	cat >"$TD/backfill.job" <<EOF
command = "backfill"
input = {"$FX"}
pools = "$POOLS"
from = "$DAY"
to = "$DAY"
out = "$TD/job"
inflater = "zlib"
EOF
	prun job run "$TD/backfill.job"
	expect_rc 0 || return 1
	[ "$(inflaters_of job)" = zlib ] || fail "job key: $(inflaters_of job)"
}

t_rerun_and_backfill_take_it() {
	settle v1 zlib --input "$FX" && expect_rc 0 || return 1
	prun rerun rerun --period "$DAY" --pools "$POOLS" --out "$TD/v1" --input "$FX" --reason test --inflater zlib
	expect_rc 0 || return 1
	[ "$(VERSION=v2 inflaters_of v1)" = zlib ] || { fail "rerun: $(VERSION=v2 inflaters_of v1)"; return 1; }
	prun backfill backfill --settle --from "$DAY" --to "$DAY" --pools "$POOLS" --out "$TD/bf" --input "$FX" --inflater zlib
	expect_rc 0 || return 1
	[ "$(inflaters_of bf)" = zlib ] || fail "backfill: $(inflaters_of bf)"
}

# ---- damaged files: the same exit status and error line from both ----

# damaged KIND FILE: writes the fixture day damaged as KIND (see the table below)
damaged() {
	python3 - "$FX" "$1" "$2" <<'EOF'
import gzip, struct, sys, zlib
text = gzip.open(sys.argv[1]).read()
kind, out = sys.argv[2], sys.argv[3]
def member(data, header=None):
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    body = c.compress(data) + c.flush()
    crc = zlib.crc32(data)
    head = header if header is not None else b"\x1f\x8b\x08\x00\0\0\0\0\0\x03"
    return head + body + struct.pack("<II", crc, len(data) & 0xffffffff)
half = len(text) // 2
cut = text.rindex(b"\n", 0, half) + 1
m1, m2 = member(text[:cut]), member(text[cut:])
f = m1 + m2
if kind == "truncated":
    f = f[:len(f) - 100]
elif kind == "truncated_trailer":
    f = f[:len(f) - 3]
elif kind == "crc":
    f = bytearray(f); f[len(m1) - 8] ^= 1
elif kind == "isize":
    f = bytearray(f); f[len(f) - 2] ^= 1
elif kind == "garbage":
    f = f + b"\n\0\0"
elif kind == "garbage_magic":
    f = m1 + b"\x1f\x8b\x07" + m2[3:]
elif kind == "reserved_flag":
    f = m1 + b"\x1f\x8b\x08\x20" + m2[4:]
elif kind == "hcrc_good" or kind == "hcrc_bad":
    h = b"\x1f\x8b\x08\x0a\0\0\0\0\0\x03" + b"probes.csv\0"
    hcrc = zlib.crc32(h) & 0xffff
    if kind == "hcrc_bad":
        hcrc ^= 0x100
    f = member(text[:cut], h + struct.pack("<H", hcrc)) + m2
open(out, "wb").write(bytes(f))
EOF
}

# damaged_case KIND RC TEXT: both exit RC, both say TEXT, and their error lines are the same
# (the "near byte N" of a corrupt stream may differ, input_diff.h says why: cut out here)
damaged_case() {
	local kind=$1 rc=$2 text=$3 z i
	damaged "$kind" "$TD/$kind.csv.gz" || { fail "could not write the $kind file"; return 1; }
	settle zlib zlib --input "$TD/$kind.csv.gz" && expect_rc "$rc" || return 1
	settle isal isal --input "$TD/$kind.csv.gz" && expect_rc "$rc" || return 1
	[ -z "$text" ] || { says "$text" zlib && says "$text" isal || return 1; }
	z=$(grep ': error: ' "$TD/zlib.err" | sed 's/^[^ ]* //; s/near byte [0-9]*/near byte N/; s#'"$TD"'/##g')
	i=$(grep ': error: ' "$TD/isal.err" | sed 's/^[^ ]* //; s/near byte [0-9]*/near byte N/; s#'"$TD"'/##g')
	[ "$z" = "$i" ] || { fail "error lines differ: zlib: $z | isal: $i"; return 1; }
	[ "$rc" != 0 ] || same_versions zlib isal
}

t_damaged_truncated() { damaged_case truncated 3 "truncated gzip stream (unexpected end of file at byte"; }
t_damaged_truncated_trailer() { damaged_case truncated_trailer 3 "truncated gzip stream (unexpected end of file at byte"; }
t_damaged_crc() { damaged_case crc 3 ": incorrect data check"; }
t_damaged_isize() { damaged_case isize 3 ": incorrect length check"; }
t_damaged_garbage() { damaged_case garbage 3 "unexpected data after gzip member 2 at byte"; }
t_damaged_garbage_magic() { damaged_case garbage_magic 3 ": unknown compression method"; }
t_damaged_reserved_flag() { damaged_case reserved_flag 3 ": unknown header flags set"; }
t_damaged_hcrc_bad() { damaged_case hcrc_bad 3 ": header crc mismatch"; }
t_header_crc_good() { damaged_case hcrc_good 0 ""; }

run_suite "$@"
