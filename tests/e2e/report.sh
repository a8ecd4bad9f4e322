#!/bin/sh
# tests/e2e/report.sh: end-to-end tests of report.html, the page of each
# published version (src/report_html.c).
#
#   sh tests/e2e/report.sh [NAME-SUBSTRING...]
#
# Drives ./payrun (or $PAYRUN) at the repository root.  Each test prints
# `ok - name` or `not ok - name: reason`; the last line is
# `report: N passed, N failed` and the exit status is non-zero on any
# failure or when nothing ran.  Tests are the t_NAME functions below, run in
# the order they are defined (tests/e2e/lib.sh).  Fixtures are generated at
# run time by tests/e2e/report_fixtures.py and tests/e2e/make_fixtures.py
# (deterministic), except the hand-worked day in tests/e2e/expected/hand/.
#
# Each page is validated with xmllint --html (any output is a failure),
# rendered by headless Chromium into a PNG whose pixels are counted, and
# its figures compared with the version's CSV files and manifest.json by
# tests/e2e/check_report.py.  xmllint (libxml2-utils) and chromium are
# required: a test that needs one that is missing fails, saying so (make
# deps installs both).  The pg_ tests use a private PostgreSQL cluster.
# REPORT_KEEP=1 keeps the temporary directory; REPORT_TIMEOUT=S is the
# seconds any one payrun or Chromium run may take (120).

# shellcheck shell=bash
# The suites use bash; re-exec under bash when started by sh.
# shellcheck disable=SC2317 # the t_ functions are called by run_suite (lib.sh)
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh" report || exit 1

PY=${PYTHON:-python3}
GEN="$ROOT/tests/e2e/make_fixtures.py"
RGEN="$ROOT/tests/e2e/report_fixtures.py"
CHECK="$ROOT/tests/e2e/check_report.py"
HAND="$ROOT/tests/e2e/expected/hand"
LIMIT=${REPORT_TIMEOUT:-120}
# shellcheck disable=SC2034 # read by lib.sh
CLUSTER_TESTS='pg_*'

# ------------------------------------------------------------------ helpers
# Every test runs in a subshell with TD, its own directory.  Helpers return
# non-zero after recording why (fail, lib.sh); tests chain them with ||.

# settle ARGS...: run payrun settle; RC, $TD/stdout, $TD/stderr.
settle() {
	prun settle settle "$@"
}

# expect_rc WANT: the last payrun run exited WANT.
expect_rc() {
	[ "$RC" = "$1" ] && return 0
	fail "$LAST: exit $RC, want $1; stderr: $(oneline "$TD/$LAST.err")"
}

# fixture CASE DIR: a case of report_fixtures.py; ARGS=( its settle arguments ).
fixture() {
	"$PY" "$RGEN" "$1" --out "$2" >/dev/null 2>"$TD/gen.err" ||
		{ fail "report_fixtures.py $1 failed: $(oneline "$TD/gen.err")"; return 1; }
	mapfile -t ARGS <"$2/args"
}

# gen CASE DIR: a case of make_fixtures.py (run.sh's); ARGS=( its arguments ).
gen() {
	"$PY" "$GEN" "$1" --out "$2" >/dev/null 2>"$TD/gen.err" ||
		{ fail "make_fixtures.py $1 failed: $(oneline "$TD/gen.err")"; return 1; }
	mapfile -t ARGS <"$2/args"
}

# check WHAT ARGS...: check_report.py; its complaints become the reason.
check() {
	local out
	out=$("$PY" "$CHECK" "$@" 2>&1) && return 0
	fail "check_report.py $1: $(printf '%s' "$out" | tr '\n' ';' | head -c 600)"
}

# valid_html FILE: xmllint's HTML parser reads it, exit 0, and says nothing
# but that the inline SVG's elements are not HTML 4 tags (libxml2's parser
# is HTML 4; each such error is three lines: the message, the text, a caret).
valid_html() {
	local rc
	command -v xmllint >/dev/null 2>&1 ||
		{ fail "xmllint is not installed (Debian package libxml2-utils; make deps installs it): report.html cannot be validated"; return 1; }
	timeout -k 5 "$LIMIT" xmllint --html --noout "$1" >"$TD/xmllint.out" 2>&1
	rc=$?
	awk '
		skip > 0 { skip--; next }
		/HTML parser error : Tag (svg|g|rect|line|text|title|path|polyline) invalid$/ { skip = 2; next }
		{ print; bad = 1 }
		END { exit bad }' "$TD/xmllint.out" >"$TD/xmllint.rest"
	[ "$rc" = 0 ] && [ ! -s "$TD/xmllint.rest" ] && return 0
	fail "xmllint --html --noout $(rel "$1"): exit $rc: $(oneline "$TD/xmllint.rest" 400)"
}

# no_external FILE: nothing a browser would fetch, nothing it would run.
no_external() {
	local what page=$TD/no-xmlns.html
	# the inline charts' namespace name is a name, not a reference
	sed 's#<svg xmlns="http://www.w3.org/2000/svg" #<svg #g' "$1" >"$page"
	for what in 'http:' 'https:' '<script' '<link' '<iframe' '<object' '<embed' '<img' '@import' 'url(' ' src='; do
		if grep -qiF -- "$what" "$page"; then
			fail "$(rel "$1") has '$what': $(grep -oiF -- "$what" "$page" | head -n 1)"
			return 1
		fi
	done
	if grep -oE 'href="[^"#]' "$page" | grep -q .; then
		fail "$(rel "$1") has an href that is not an anchor in the page"
		return 1
	fi
	grep -q '<svg xmlns="http://www.w3.org/2000/svg" ' "$1" || { fail "$(rel "$1") has no inline SVG chart"; return 1; }
}

# render VDIR [--no-bars]: VDIR/report.html in headless Chromium, screenshot
# $TD/shot.png, whose pixels must show the page and (unless --no-bars) the
# bars of its charts.
render() {
	local chrome rc
	chrome=$(command -v chromium || command -v chromium-browser) ||
		{ fail "chromium is not installed (Debian package chromium; make deps installs it): report.html cannot be rendered"; return 1; }
	rm -f "$TD/shot.png"
	mkdir -p "$TD/chrome-home"
	# Root needs --no-sandbox; a private profile and HOME, no network
	# services, no first-run work, a bounded time.
	HOME=$TD/chrome-home XDG_CONFIG_HOME=$TD/chrome-home XDG_CACHE_HOME=$TD/chrome-home \
		timeout -k 5 "$LIMIT" "$chrome" --headless --no-sandbox --disable-gpu \
		--user-data-dir="$TD/chrome-profile" --no-first-run --no-default-browser-check \
		--disable-extensions --disable-background-networking --disable-sync \
		--disable-component-update --disable-default-apps --mute-audio --hide-scrollbars \
		--window-size=1200,2000 --screenshot="$TD/shot.png" "file://$1/report.html" \
		>"$TD/chrome.log" 2>&1 </dev/null
	rc=$?
	if [ "$rc" != 0 ] || [ ! -s "$TD/shot.png" ]; then
		fail "chromium exit $rc, no screenshot: $(tail -n 3 "$TD/chrome.log" | tr '\n' ' ' | head -c 400)"
		return 1
	fi
	check pixels "$TD/shot.png" "${@:2}"
}

# report_ok VDIR [--no-bars]: the page of a version is valid, self-contained,
# agrees with the version's files, and renders.
report_ok() {
	[ -f "$1/report.html" ] || { fail "$(rel "$1")/report.html was not written"; return 1; }
	valid_html "$1/report.html" && check all "$1" && render "$@"
}

# ------------------------------------------------------------------ tests

t_hand_fixture() {
	settle --period 2026-11-01 --input "$HAND/probes.csv" --pools "$HAND/pools.csv" \
		--default-pool 5 --max-reject-ratio 0.2 --out "$TD/out"
	expect_rc 0 || return 1
	local v=$TD/out/2026-11-01/v1
	report_ok "$v" && no_external "$v/report.html" || return 1
	check contains "$v" 'b,eta' 'ü-node' 'field_count' 'bad_timestamp' 'has_probes' || return 1
	# payrun verify checks the page against the manifest with the other files
	prun verify verify --out "$TD/out" --period 2026-11-01
	expect_rc 0 || return 1
	echo >>"$v/report.html"
	prun verify2 verify --out "$TD/out" --period 2026-11-01
	expect_rc 3 || return 1
	grep -q 'report.html' "$TD/verify2.err" "$TD/verify2.out" ||
		{ fail "verify does not name a changed report.html: $(oneline "$TD/verify2.err")"; return 1; }
}

# Ids that are not valid UTF-8, markup, quotes, controls: shown escaped,
# and the page stays valid UTF-8 and valid HTML.
t_non_utf8_ids() {
	fixture hostile "$TD/fx" || return 1
	settle "${ARGS[@]}" --out "$TD/out"
	expect_rc 0 || return 1
	local v=$TD/out/2026-11-01/v1
	report_ok "$v" && no_external "$v/report.html" || return 1
	"$PY" -c 'import sys; open(sys.argv[1], "rb").read().decode("utf-8")' "$v/report.html" 2>"$TD/utf8.err" ||
		{ fail "report.html is not valid UTF-8: $(oneline "$TD/utf8.err")"; return 1; }
	# each as the page's text shows it (html.parser undoes the entities)
	check contains "$v" 's-\xFF\xFE' 'relay-\xC3(' 'relay-\x80' '\xED\xA0\x80surrogate' '\xE2\x82' \
		'nl\x0Anode' 'tab\x09node' 'del\x7F' 'back\slash' 'node "q" '"'s'" \
		'b\\s-\xFF' 'a&b<script>alert(1)</script>' '<b>bold</b>' 'nœud-ß' 'ümlaut-流' || return 1
	# and in the file as entities and escapes, never as markup or raw bytes
	grep -qF 'a&amp;b&lt;script&gt;alert(1)&lt;/script&gt;' "$v/report.html" ||
		{ fail "the markup in a stream id is not escaped as entities"; return 1; }
	if LC_ALL=C grep -q $'\xff' "$v/report.html"; then
		fail "report.html has a raw 0xff byte"
		return 1
	fi
	check contains "$v" 'bad_success' 'bad_timestamp' || return 1
}

# The awkward (valid) ids of run.sh's fixture.
t_awkward_ids() {
	gen awkward "$TD/fx" || return 1
	settle "${ARGS[@]}" --out "$TD/out"
	expect_rc 0 || return 1
	valid_html "$TD/out/2026-11-01/v1/report.html" && check all "$TD/out/2026-11-01/v1"
}

# Every reject kind of run.sh's fixture, counted by reason.
t_rejects_by_reason() {
	gen rejects "$TD/fx" || return 1
	settle "${ARGS[@]}" --out "$TD/out"
	expect_rc 0 || return 1
	valid_html "$TD/out/2026-11-01/v1/report.html" && check all "$TD/out/2026-11-01/v1" || return 1
	check contains "$TD/out/2026-11-01/v1" field_count bad_quote empty_stream_id empty_node_id \
		stream_id_too_long node_id_too_long bad_probe_type bad_success bad_timestamp
}

# 1,200 nodes over 1,100 streams: the chart shows 25, the tables 1,000
# rows each, with notes of how many are not shown; the file stays small.
t_many_nodes_capped() {
	fixture many "$TD/fx" || return 1
	settle "${ARGS[@]}" --out "$TD/out"
	expect_rc 0 || return 1
	local v=$TD/out/2026-11-01/v1 size
	report_ok "$v" || return 1
	check contains "$v" '1175 nodes are not shown' '200 more nodes' '100 more streams' || return 1
	size=$(stat -c %s "$v/report.html")
	[ "$size" -lt 2000000 ] || { fail "report.html is $size bytes"; return 1; }
}

# A period without probes, settled with the overrides: an empty ledger
# still has a valid page, which shows the checks overridden.
t_empty_period() {
	printf 'id,stream_id,node_id,probe_type,success,probe_timestamp\n' >"$TD/empty.csv"
	settle --period 2026-11-01 --input "$TD/empty.csv" --allow-empty --allow-zero-pools --out "$TD/out"
	expect_rc 0 || return 1
	local v=$TD/out/2026-11-01/v1
	report_ok "$v" --no-bars && no_external "$v/report.html" || return 1
	check contains "$v" 'overridden' 'No record was rejected.' || return 1
	grep -q 'data-check="has_probes" data-status="overridden"' "$v/report.html" ||
		{ fail "the page does not show has_probes overridden"; return 1; }
}

# A rerun's version has its own page, with what it supersedes.
t_rerun() {
	fixture hostile "$TD/fx" || return 1
	settle "${ARGS[@]}" --out "$TD/out"
	expect_rc 0 || return 1
	prun rerun rerun --period 2026-11-01 --input "$TD/fx/probes.csv" --pools "$TD/fx/pools.csv" \
		--default-pool 1000 --penalty-factor 0.5 --max-reject-ratio 0.1 \
		--reason "a <new> penalty" --out "$TD/out"
	expect_rc 0 || return 1
	local v=$TD/out/2026-11-01/v2
	report_ok "$v" || return 1
	check contains "$v" 'a <new> penalty' 'supersedes_version' 'version 2' || return 1
	cmp -s "$TD/out/2026-11-01/v1/report.html" "$v/report.html" &&
		{ fail "v2's page is v1's"; return 1; }
	return 0
}

# backfill --settle publishes a page in every version.
t_backfill() {
	fixture days "$TD/fx" || return 1
	prun backfill backfill "${ARGS[@]}" --settle --from 2026-11-01 --to 2026-11-02 --jobs 1 --out "$TD/out"
	expect_rc 0 || return 1
	local d
	for d in 2026-11-01 2026-11-02; do
		valid_html "$TD/out/$d/v1/report.html" && check all "$TD/out/$d/v1" || return 1
		check contains "$TD/out/$d/v1" "Period $d, version 1" || return 1
	done
}

t_settle_help_names_it() {
	prun help settle --help
	expect_rc 0 || return 1
	grep -qF report.html "$TD/help.out" || { fail "settle --help does not name report.html"; return 1; }
}

# payrun export rebuilds the page with the rest from the database.
t_pg_export_rebuilds_the_page() {
	local cols v
	fixture utf8 "$TD/fx" || return 1
	pg_cluster_createdb t_report >"$TD/migrate.log" 2>&1 ||
		{ fail "could not create database t_report: $(oneline "$TD/migrate.log")"; return 1; }
	export PGDATABASE=t_report
	"$PAYRUN" -q db migrate --create-probe-table >"$TD/migrate.log" 2>&1 ||
		{ fail "could not create payrun's schema in t_report: $(oneline "$TD/migrate.log")"; return 1; }
	cols=$(head -n 1 "$TD/fx/probes.csv")
	$PSQL -c "\\copy probe_results ($cols) FROM '$TD/fx/probes.csv' WITH (FORMAT csv, HEADER)" >"$TD/copy.log" 2>&1 ||
		{ fail "could not load the fixture: $(oneline "$TD/copy.log")"; return 1; }
	settle --period 2026-11-01 --source pg --pools "$TD/fx/pools.csv" --default-pool 1000 \
		--penalty-factor 0.25 --out "$TD/out"
	expect_rc 0 || return 1
	report_ok "$TD/out/2026-11-01/v1" || return 1
	prun export export --period 2026-11-01 --out "$TD/exp"
	expect_rc 0 || return 1
	v=$TD/exp/2026-11-01/v1
	# (a node id of the fixture says http://: text, not a reference; check all looks)
	report_ok "$v" || return 1
	check contains "$v" 'rebuilt by payrun export' 'a&b<script>alert(1)</script>' || return 1
	same_file "$TD/out/2026-11-01/v1/streams.csv" "$v/streams.csv"
}

run_suite "$@"
