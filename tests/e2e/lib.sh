# tests/e2e/lib.sh: the one library of the end-to-end suites (run.sh, pg.sh,
# jobs.sh, faults.sh, install.sh).  A suite is
#
#	if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
#	. "$(dirname "$0")/lib.sh" NAME || exit 1
#	helpers ...
#	t_some_test() { ...; }          # one function per test
#	run_suite "$@"
#
# Sourcing it sets ROOT (the checkout, also the working directory), PAYRUN
# (absolute), W (the suite's temporary directory) and a hermetic environment,
# and installs the suite's only EXIT trap.  run_suite runs every t_NAME
# function of the suite's file in the order they are defined, or those whose
# NAME contains one of the arguments, each in a subshell in its own directory
# TD, and ends with "NAME: N passed, N failed" (", N skipped" with
# SUMMARY_SKIPS=1); the exit status is non-zero on any failure or when
# nothing passed.
#
# A suite may define before run_suite:
#	suite_setup      shared fixtures, run once before the first test; its
#	                 fail reason is reported as "not ok - setup: ..."
#	CLUSTER_TESTS    a case pattern ('*', 'pg_*'): the tests that need the
#	                 private PostgreSQL cluster (tests/pg/cluster.sh); it is
#	                 started before the first of them, then
#	cluster_setup    runs once (the cluster's shared databases)
#	SUMMARY_SKIPS=1  the final line counts the skipped tests
# Variables read, with the suite's NAME in capitals as prefix (E2E, PG, JOBS,
# FAULTS, INSTALL): NAME_KEEP=1 keeps W and every test's directory, NAME_TIMES=1 prints
# each test's wall time.
#
# Inside a test: fail WHY (records why, returns 1), skip WHY (the test cannot
# run here; return 0 after it), note TEXT (a "# TEXT" line before the test's
# verdict), when_finished CMD ARGS (run after the test, pass or fail),
# same_file WANT GOT, oneline FILE [BYTES], rel PATH, prun TAG ARGS.
# A test's stdout and stderr go to TD/.log, shown when it fails.

# shellcheck shell=bash source-path=SCRIPTDIR
# shellcheck disable=SC2034 # RC, LAST, PSQL, TNAME, ...: for the suites

if [ -z "${BASH_VERSION:-}" ]; then
	echo "tests/e2e/lib.sh needs bash" >&2
	exit 1
fi
set -u

SUITE=${1:?lib.sh: the suite name}
KNOB=$(printf '%s' "$SUITE" | tr '[:lower:]' '[:upper:]')
SUITE_FILE=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)/$(basename "${BASH_SOURCE[1]}")
# PAYRUN as given is relative to the directory the suite was started in.
PAYRUN=${PAYRUN:-}
case $PAYRUN in
"") ;;
/*) ;;
*) PAYRUN=$PWD/$PAYRUN ;;
esac
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd) || exit 1
cd "$ROOT" || exit 1
PAYRUN=${PAYRUN:-$ROOT/payrun}
LIMIT=120                       # seconds prun lets payrun take; suites set their own

PASS=0
FAIL=0
SKIP=0
FILTER=()
TESTS=()
CLUSTER_TESTS=
CLUSTER=down                    # down, up or failed
CLUSTER_ERROR=
SUMMARY_SKIPS=0
IN_TEST=0
TD=
TNAME=

# knob NAME DEFAULT: the suite's variable NAME, e.g. FAULTS_KEEP for faults.sh.
knob() {
	local v=${KNOB}_$1
	printf '%s' "${!v:-$2}"
}

# ------------------------------------------------------------------ hermetic
# Nothing on the host may change a result: no payrun config file (tests that
# test --config pass it, which wins), no fault from the caller's environment,
# no libpq setting (service files, passwords, host, options), no locale or
# time zone, no option-parsing or tool defaults from the environment.
export PAYRUN_CONFIG=
unset PAYRUN_FAULT
# libpq's variables are PG and a letter (PGHOST, PGSERVICEFILE, PGSSLMODE, ...);
# PG_KEEP and PG_TIMES are pg.sh's own.
for _v in $(compgen -e PG); do
	case $_v in PG[A-Z]*) unset "$_v" ;; esac
done
unset _v PG_COLOR
unset POSIXLY_CORRECT GZIP CDPATH BASH_ENV ENV
export LC_ALL=C TZ=UTC

# (faults.sh's hostile_1mb_id bounds rejects.csv lines, input path included:
# keep this name short)
W=$(mktemp -d "${TMPDIR:-/tmp}/payrun-$SUITE.XXXXXX") || exit 1
mkdir -p "$W/t" "$W/setup"
export PGPASSFILE=$W/no-pgpass  # not ~/.pgpass; libpq ignores a missing file

# ------------------------------------------------------------------ cleanup

# descendants PID...: these processes and all their descendants, parents first.
descendants() {
	local p
	for p in "$@"; do
		echo "$p"
		# shellcheck disable=SC2046
		descendants $(ps -o pid= --ppid "$p" 2>/dev/null)
	done
}

# kill_jobs: kill this shell's background jobs and whatever they started.
kill_jobs() {
	local pids
	# shellcheck disable=SC2046
	pids=$(descendants $(jobs -p))
	[ -n "$pids" ] || return 0
	# shellcheck disable=SC2086
	kill -9 $pids 2>/dev/null
	wait 2>/dev/null
	return 0
}

# The suite's only EXIT trap: background jobs, mounts left under W (faults.sh
# mounts tmpfs; each test unmounts its own), the cluster, then W itself.
suite_cleanup() {
	local m
	kill_jobs
	while IFS= read -r m; do
		umount -l "$m" 2>/dev/null
	done < <(awk -v w="$W/" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r)
	if declare -F pg_cluster_stop >/dev/null; then pg_cluster_stop; fi
	if [ "$(knob KEEP 0)" = 1 ]; then
		echo "# kept $W"
	else
		rm -rf "$W"
	fi
}
trap suite_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------ helpers
# Helpers return non-zero after recording why in $TD/.reason; tests chain
# them with ||.

# fail WHY: the test fails for this reason (the last one recorded counts).
fail() {
	printf '%s\n' "$*" >"$TD/.reason"
	return 1
}

# skip WHY: this test cannot run here.  The caller returns 0 right after; the
# test is reported "ok - NAME # SKIP WHY" and counted as skipped, never as
# passed (a skipped test that then fails is a failure).
skip() {
	printf '%s\n' "$*" >"$TD/.skip"
	return 0
}

# note TEXT: a "# TEXT" line in the output, before the test's verdict.
note() {
	if [ "$IN_TEST" = 1 ]; then
		printf '# %s\n' "$*" >>"$TD/.notes"
	else
		printf '# %s\n' "$*"
	fi
}

# when_finished CMD ARGS...: run CMD in TD after the test, whether it passed
# or not, the last registered first; if it fails, so does the test.
when_finished() {
	{
		printf '%q ' "$@"
		echo
	} >>"$TD/.finally"
}

# lib_file PATH: PATH is one of this library's files in TD, not a test's.
lib_file() {
	case $1 in
	"$TD"/.reason | "$TD"/.skip | "$TD"/.log | "$TD"/.notes | "$TD"/.finally) return 0 ;;
	esac
	return 1
}

# oneline FILE [BYTES]: a file's first bytes (300) on one line, for reasons.
oneline() {
	head -c "${2:-300}" "$1" 2>/dev/null | tr '\n\r' '  '
}

# rel PATH: PATH relative to the test's, the suite's or the checkout's directory.
rel() {
	case $1 in
	"${TD:-/nowhere}"/*) printf '%s' "${1#"$TD"/}" ;;
	"$W"/*) printf '%s' "${1#"$W"/}" ;;
	"$ROOT"/*) printf '%s' "${1#"$ROOT"/}" ;;
	*) printf '%s' "$1" ;;
	esac
}

# same_file WANT GOT: byte-identical, else say where they part.
same_file() {
	local want=$1 got=$2 where d
	[ -f "$got" ] || { fail "'$(rel "$got")' was not written"; return 1; }
	[ -f "$want" ] || { fail "'$(rel "$want")', the expected file, is missing"; return 1; }
	cmp -s -- "$want" "$got" && return 0
	where=$(cmp -- "$want" "$got" 2>&1 | head -n 1)
	case $where in
	"$want $got differ: "*) where=" at ${where#"$want $got differ: "}" ;;
	*"EOF on $got after "*) where=" ('$(rel "$got")' ends after ${where##*"EOF on $got after "})" ;;
	*"EOF on $want after "*) where=" ('$(rel "$want")' ends after ${where##*"EOF on $want after "})" ;;
	*) where="" ;;
	esac
	d=$(diff -- "$want" "$got" | head -n 4 | tr '\n' '|' | head -c 400)
	fail "'$(rel "$got")' differs from '$(rel "$want")'$where: $d"
}

# prun TAG ARGS...: payrun ARGS under the hang limit LIMIT; RC, LAST=TAG,
# $TD/TAG.out and $TD/TAG.err.  124 means it hung.
prun() {
	local tag=$1
	shift
	LAST=$tag
	# (the braces keep bash's "Killed" notice of a crash out of the report)
	{ timeout -k 5 "$LIMIT" "$PAYRUN" "$@" >"$TD/$tag.out" 2>"$TD/$tag.err"; } 2>/dev/null
	RC=$?
}

ms_now() { date +%s%3N; }

# ------------------------------------------------------------------ cluster

# cluster_up: the private PostgreSQL cluster is running (started on first
# use, then cluster_setup if the suite has one); PSQL is set.  After a failed
# start it fails at once, with CLUSTER_ERROR saying why.
cluster_up() {
	case $CLUSTER in
	up) return 0 ;;
	failed) return 1 ;;
	esac
	# shellcheck source=../pg/cluster.sh
	. "$ROOT/tests/pg/cluster.sh"
	if ! pg_cluster_start >"$W/cluster.log" 2>&1; then
		CLUSTER=failed
		CLUSTER_ERROR=$(oneline "$W/cluster.log" 400)
		pg_cluster_stop
		return 1
	fi
	CLUSTER=up
	export PGPASSFILE=$W/no-pgpass  # pg_cluster_start clears every PG variable
	PSQL="$PG_BIN/psql -X -q -v ON_ERROR_STOP=1"
	if declare -F cluster_setup >/dev/null; then
		TD=$W/setup
		rm -f "$TD/.reason"
		if ! cluster_setup >>"$W/cluster.log" 2>&1; then
			CLUSTER=failed
			CLUSTER_ERROR="cluster_setup: $(cat "$TD/.reason" 2>/dev/null || oneline "$W/cluster.log" 400)"
			return 1
		fi
	fi
}

# cluster_stop: stop it now (it is stopped at exit anyway).
cluster_stop() {
	if declare -F pg_cluster_stop >/dev/null; then pg_cluster_stop; fi
	CLUSTER=down
}

# ------------------------------------------------------------------ running

# selected NAME: no filter, or NAME contains one of its words.
selected() {
	local f
	[ "${#FILTER[@]}" = 0 ] && return 0
	for f in "${FILTER[@]}"; do
		case $1 in *"$f"*) return 0 ;; esac
	done
	return 1
}

summary() {
	[ "$SKIP" -gt 0 ] && echo "# $SKIP skipped"
	if [ "$SUMMARY_SKIPS" = 1 ]; then
		echo "$SUITE: $PASS passed, $FAIL failed, $SKIP skipped"
	else
		echo "$SUITE: $PASS passed, $FAIL failed"
	fi
}

# suite_abort WHY: the suite cannot run: "not ok - setup: WHY", the summary, exit 1.
suite_abort() {
	echo "not ok - setup: $*"
	FAIL=$((FAIL + 1))
	summary
	exit 1
}

# discover_tests: TESTS=( NAME of every t_NAME() defined at the start of a
# line of the suite's file, in that order ).  A t_ function defined any other
# way (in a loop, by eval) would be missed, so it is an error.
discover_tests() {
	local name f seen=" "
	TESTS=()
	while IFS= read -r name; do
		case $seen in *" $name "*) suite_abort "t_$name is defined twice in $(rel "$SUITE_FILE")" ;; esac
		declare -F "t_$name" >/dev/null ||
			suite_abort "'t_$name()' in $(rel "$SUITE_FILE") is not a function"
		TESTS+=("$name")
		seen="$seen$name "
	done < <(sed -n 's/^t_\([A-Za-z0-9_]*\)[[:space:]]*().*$/\1/p' "$SUITE_FILE")
	for f in $(compgen -A function t_); do
		case $seen in
		*" ${f#t_} "*) ;;
		*) suite_abort "$f is not defined as '$f() {' at the start of a line of $(rel "$SUITE_FILE"), where tests are found" ;;
		esac
	done
	[ "${#TESTS[@]}" -gt 0 ] || suite_abort "no t_NAME() function in $(rel "$SUITE_FILE")"
}

# firstbytes FILE N: FILE's first N bytes on one line, without trailing blanks.
firstbytes() {
	local s
	s=$(head -c "$2" "$1" 2>/dev/null | tr '\n\r' '  ')
	printf '%s' "${s%"${s##*[! ]}"}"
}

# verdict STATUS NAME: judge the test that ran in TD and exited STATUS.
verdict() {
	local rc=$1 name=$2 reason
	[ -f "$TD/.notes" ] && cat "$TD/.notes"
	if [ "$rc" = 0 ] && [ -f "$TD/.skip" ]; then
		echo "ok - $name # SKIP $(firstbytes "$TD/.skip" 200)"
		SKIP=$((SKIP + 1))
	elif [ "$rc" = 0 ]; then
		echo "ok - $name"
		PASS=$((PASS + 1))
	else
		reason=$(firstbytes "$TD/.reason" 900)
		echo "not ok - $name: ${reason:-failed without a reason}"
		FAIL=$((FAIL + 1))
		if [ -s "$TD/.log" ]; then
			echo "# output of $name (last lines):"
			tail -n 8 "$TD/.log" | cut -c 1-300 | sed 's/^/#   /'
		fi
	fi
}

# run_when_finished: run the test's when_finished commands, last first; false if one failed.
run_when_finished() {
	local line ok=0
	[ -f "$TD/.finally" ] || return 0
	while IFS= read -r line; do
		(cd "$TD" && eval "$line") >>"$TD/.log" 2>&1 && continue
		ok=1
		[ -f "$TD/.reason" ] || printf 'after the test: %sfailed\n' "$line" >"$TD/.reason"
	done < <(tac "$TD/.finally")
	return $ok
}

# run_test NAME: t_NAME in a subshell in TD=$W/t/NAME, then its verdict; the
# directory goes once the test is judged (kept with NAME_KEEP=1).
run_test() {
	local name=$1 rc t0
	selected "$name" || return 0
	if [ -n "$CLUSTER_TESTS" ]; then
		# shellcheck disable=SC2254
		case $name in
		$CLUSTER_TESTS)
			if ! cluster_up; then
				TD=$W/t/$name
				mkdir -p "$TD"
				fail "could not start a private PostgreSQL cluster: $CLUSTER_ERROR"
				verdict 1 "$name"
				[ "$(knob KEEP 0)" = 1 ] || rm -rf "$TD"
				return 0
			fi
			;;
		esac
	fi
	TD=$W/t/$name
	TNAME=$name
	rm -rf "$TD"
	mkdir -p "$TD"
	t0=$(ms_now)
	(
		IN_TEST=1
		trap kill_jobs EXIT
		trap 'exit 130' INT
		trap 'exit 143' TERM
		cd "$TD" || exit 1
		"t_$name"
	) >"$TD/.log" 2>&1 </dev/null
	rc=$?
	run_when_finished || rc=1
	verdict "$rc" "$name"
	[ "$(knob TIMES 0)" = 1 ] && note "$name: $(($(ms_now) - t0)) ms"
	[ "$(knob KEEP 0)" = 1 ] || rm -rf "$TD"
	return 0
}

# run_suite [NAME-SUBSTRING...]: the suite's tests, or those selected; exits.
run_suite() {
	local name reason any=0
	FILTER=("$@")
	discover_tests
	for name in "${TESTS[@]}"; do
		selected "$name" && any=1
	done
	if [ "$any" = 0 ]; then
		note "no test name contains any of: $*"
		summary
		exit 1
	fi
	[ -x "$PAYRUN" ] || suite_abort "'$PAYRUN' is not an executable (make payrun)"
	if declare -F suite_setup >/dev/null; then
		TD=$W/setup
		if ! suite_setup; then
			reason=$(firstbytes "$TD/.reason" 900)
			suite_abort "${reason:-suite_setup failed without a reason}"
		fi
	fi
	for name in "${TESTS[@]}"; do
		run_test "$name"
	done
	summary
	[ "$FAIL" = 0 ] && [ "$PASS" -gt 0 ]
	exit
}
