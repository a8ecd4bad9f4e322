#!/bin/bash
# tests/e2e/install.sh: end-to-end tests of issue 10's installation: 'make
# install' and 'make uninstall' (tools/install.sh), the man pages against
# the binary and the option table, the systemd units, the cron file and
# the job file's grace agreeing, the logrotate snippet, the examples.
#
#   bash tests/e2e/install.sh [NAME-SUBSTRING...]
#
# Each test prints `ok - name` or `not ok - name: reason`; the last line is
# `install: N passed, N failed, N skipped` and the exit status is non-zero
# on any failure or when nothing ran.  Tests are the t_NAME functions below,
# run in the order they are defined (tests/e2e/lib.sh).  make runs in a copy
# of the checkout (its files and the product build in build/, so nothing is
# rebuilt when that is current) inside the suite's temporary directory: the
# installs go there too, a DESTDIR one (PREFIX=/usr) and one without DESTDIR
# (PREFIX and SYSCONFDIR inside it, which rebuilds the copy for its
# compiled-in config path).  Nothing outside the temporary directory is
# written.  $PAYRUN (the binary under test) gives the --help the man page is
# checked against.  A test whose tool is missing (man, systemd-analyze,
# logrotate: tools/install-deps.sh installs them) or cannot run here is
# skipped, saying why.  INSTALL_KEEP=1 keeps the temporary directory.

# shellcheck disable=SC2317 # the t_ functions are called by run_suite (lib.sh)
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh" install || exit 1

# shellcheck disable=SC2034 # read by lib.sh
SUMMARY_SKIPS=1
LIMIT=${INSTALL_TIMEOUT:-120}    # seconds any one payrun run may take
SRC=$W/src                       # the copy make install runs in (DESTDIR install)
SRC2=$W/src2                     # the copy for the install without DESTDIR
ROOT1=$W/root                    # DESTDIR of the shared install, PREFIX=/usr
P=$W/p                           # PREFIX (and SYSCONFDIR=$P/etc) of the other
VERSION=$(sed -n 's/^VERSION *:*= *//p' "$ROOT/Makefile")

# What 'make install DESTDIR=D PREFIX=/usr' puts under D, and nothing else.
EXPECTED_FILES="/etc/logrotate.d/payrun
/etc/payrun/jobs/backfill.conf.example
/etc/payrun/jobs/nightly-settlement.conf.example
/etc/payrun/jobs/rerun-example.conf.example
/etc/payrun/payrun.conf.example
/usr/bin/payrun
/usr/lib/systemd/system/payrun-nightly.service
/usr/lib/systemd/system/payrun-nightly.timer
/usr/share/doc/payrun/examples/logrotate.payrun
/usr/share/doc/payrun/examples/payrun.cron
/usr/share/man/man1/payrun.1
/usr/share/man/man5/payrun-jobs.5"

# ------------------------------------------------------------------ helpers
# Every test runs in a subshell in TD, its own directory.  Helpers return
# non-zero after recording why (fail, lib.sh); tests chain them with ||.

# copy_tree DIR: DIR holds the checkout's files (tracked and new, not
# ignored) and its product build's top level, with their times.
copy_tree() {
	local dir=$1
	mkdir -p "$dir"
	(
		cd "$ROOT" || exit 1
		if git rev-parse --git-dir >/dev/null 2>&1; then
			git ls-files -z -co --exclude-standard |
				while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
				tar --null -T - -cf -
		else
			tar --exclude='./build*' --exclude=./payrun --exclude=./bench-data \
				--exclude=./demo-out -cf - .
		fi
	) | tar -xf - -C "$dir" || return 1
	if [ -f "$ROOT/build/payrun" ]; then
		(cd "$ROOT" && tar --exclude=build/tests --exclude=build/tools -cf - build) |
			tar -xf - -C "$dir" || return 1
	fi
}

# mk DIR TAG ARGS...: make -s -C DIR ARGS, with no make variables inherited
# from a make that runs this suite (make check B=build-san SANITIZE=...
# passes them in MAKEFLAGS, and make puts command-line variables in the
# environment of its recipes too); RC, $TD/TAG.out, $TD/TAG.err.
mk() {
	local dir=$1 tag=$2
	shift 2
	LAST=$tag
	{ env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES -u B -u SANITIZE -u FAULTS \
		-u FAULTS_B -u CFLAGS -u LDFLAGS -u CC TMPDIR="$W" \
		timeout -k 5 600 make -s -C "$dir" "$@" >"$TD/$tag.out" 2>"$TD/$tag.err"; } 2>/dev/null
	RC=$?
}

# rc_is WANT: the last prun or mk exited WANT.
rc_is() {
	[ "$RC" = "$1" ] && return 0
	fail "$LAST: exit $RC, want $1; stderr: $(oneline "$TD/$LAST.err" 500)"
}

# files_under DIR: every path under DIR that is not a directory, relative
# to it with a leading /, sorted.
files_under() {
	(cd "$1" && find . ! -type d | sed 's|^\.||' | LC_ALL=C sort)
}

# nothing_left DIR WHAT: only directories (or nothing) are left under DIR.
nothing_left() {
	local left
	left=$(files_under "$1")
	[ -z "$left" ] && return 0
	fail "$2 left files behind: $(printf '%s' "$left" | tr '\n' ' ' | head -c 400)"
}

# need TOOL: true when TOOL is installed; else skips the test (the caller
# returns 0 on false).
need() {
	command -v "$1" >/dev/null 2>&1 && return 0
	skip "$1 is not installed (tools/install-deps.sh installs it)"
	return 1
}

# render PAGE: the man page as plain text, each paragraph on one line
# (no hyphenation, .nh; lines of 1000 characters), as man shows it.
render() {
	groff -man -Tascii -P-cbou -rLL=1000n "$1" 2>/dev/null
}

# section TEXT HEADING: the lines of the rendered TEXT after the heading
# line HEADING (exactly) up to the next heading of the same level or above.
section() {
	awk -v h="$2" '
		!on && $0 == h { on = 1; lvl = match($0, /[^ ]/); next }
		on && /[^ ]/ && match($0, /[^ ]/) <= lvl { exit }
		on { print }' <<<"$1"
}

# has_word TEXT WORD: WORD (an option) in TEXT, not as part of a longer option.
has_word() {
	grep -Eq -- "(^|[^-[:alnum:]])$2([^-[:alnum:]]|$)" <<<"$1"
}

# help_commands: the commands 'payrun --help' lists.
help_commands() {
	"$PAYRUN" --help | awk '/^Commands:/ { on = 1; next } on && /^$/ { exit } on && /^  [a-z]/ { print $1 }'
}

# help_options CMD: the long options 'payrun CMD --help' lists.
help_options() {
	"$PAYRUN" "$1" --help | sed -n 's/^  \(-[a-zA-Z], \)\{0,1\}\(--[a-z][a-z-]*\).*/\2/p'
}

# help_exits CMD: the exit statuses 'payrun CMD --help' lists.
help_exits() {
	"$PAYRUN" "$1" --help | sed -n '/^Exit status:/,$p' | grep -oE '(^|[^0-9.])[0-9]( |,)' | tr -dc '0-9\n'
}

# help_actions CMD: the words after 'payrun CMD' in its usage lines (db's
# migrate and indexes), not placeholders or options.
help_actions() {
	"$PAYRUN" "$1" --help | sed -n "s/^\(Usage:\)\{0,1\} *payrun $1 \([a-z][a-z]*\).*/\2/p" | sort -u
}

# man_check PAGE: payrun(1) at PAGE documents every command of payrun --help
# (a subsection "payrun CMD" under COMMANDS), every option of each
# 'payrun CMD --help' (named in that subsection's "Options:" paragraph, or
# for -q, -v, -h under "Common options"), an entry for each option under "Command options"
# whose Commands: list names CMD, and CMD's exit statuses in its
# subsection.
man_check() {
	local text cmds cmd sec list opt entry common opts exits e a
	text=$(render "$1")
	[ -n "$text" ] || { fail "could not render '$(rel "$1")'"; return 1; }
	cmds=$(help_commands)
	[ -n "$cmds" ] || { fail "no command in 'payrun --help'"; return 1; }
	common=$(section "$(section "$text" OPTIONS)" "   Common options")
	opts=$(section "$(section "$text" OPTIONS)" "   Command options")
	for cmd in $cmds; do
		sec=$(section "$(section "$text" COMMANDS)" "   payrun $cmd")
		[ -n "$sec" ] || { fail "payrun(1) has no subsection 'payrun $cmd' under COMMANDS"; return 1; }
		list=$(grep '^       Options:' <<<"$sec")
		[ -n "$list" ] || { fail "payrun(1): the subsection 'payrun $cmd' has no Options: paragraph"; return 1; }
		for opt in $(help_options "$cmd"); do
			case $opt in
			--quiet | --verbose | --help)
				has_word "$common" "$opt" ||
					{ fail "payrun(1): $opt (payrun $cmd --help) is not under 'Common options'"; return 1; }
				continue
				;;
			esac
			has_word "$list" "$opt" ||
				{ fail "payrun(1): $opt of 'payrun $cmd --help' is not in the Options: of the subsection 'payrun $cmd'"; return 1; }
			entry=$(awk -v o="$opt" '
				on && /^       [^ ]/ { exit }
				index($0, "       " o) == 1 && substr($0, 8 + length(o), 1) ~ /^( |)$/ { on = 1 }
				on { print }' <<<"$opts")
			[ -n "$entry" ] || { fail "payrun(1) has no entry for $opt under 'Command options'"; return 1; }
			grep -Eq "Commands?: ([a-z]+, )*${cmd}[,.]" <<<"$entry" ||
				{ fail "payrun(1): the entry of $opt does not name '$cmd' in its Commands: list"; return 1; }
		done
		for a in $(help_actions "$cmd"); do
			has_word "$sec" "$a" || { fail "payrun(1): 'payrun $cmd $a' is not in the subsection 'payrun $cmd'"; return 1; }
		done
		exits=$(sed -n '/Exit status:/,$p' <<<"$sec")
		[ -n "$exits" ] || { fail "payrun(1): the subsection 'payrun $cmd' has no 'Exit status:'"; return 1; }
		for e in $(help_exits "$cmd"); do
			grep -Eq "(:|;) $e " <<<"$exits" ||
				{ fail "payrun(1): exit status $e of 'payrun $cmd --help' is not in the subsection 'payrun $cmd'"; return 1; }
		done
	done
}

# table: the option table of include/payrun/options.h, one line per option:
# key (or -), long option (or -), files bits (1 config, 2 job), default (or
# -), command bits (OPT_SETTLE ...), printed by a program compiled from the
# header itself.
table() {
	cat "$W/table.tsv"
}

# dur_s TEXT: a duration (30m, 2h, 45, 1d) in seconds.
dur_s() {
	local n=${1%[smhd]}
	case $1 in
	*m) echo $((n * 60)) ;;
	*h) echo $((n * 3600)) ;;
	*d) echo $((n * 86400)) ;;
	*) echo "$n" ;;
	esac
}

# grace_s JOBFILE: the job file's grace in seconds.
grace_s() {
	local g
	g=$(sed -n 's/^grace *= *"\{0,1\}\([0-9]*[smhd]\{0,1\}\)"\{0,1\}.*/\1/p' "$1")
	[ -n "$g" ] || { fail "no grace in '$(rel "$1")'"; return 1; }
	dur_s "$g"
}

# csv_twin JOBFILE OUT: a copy of the job file reading CSV exports from
# $TD/in (the next day's export marks a day complete) and publishing in
# $TD/out, otherwise as shipped.
csv_twin() {
	mkdir -p "$TD/in"
	sed -e 's/^source *=.*/source = "csv"/' -e '/^db *=/d' -e '/^out *=/d' "$1" >"$2"
	printf 'input = {"%s/probes-{period}.csv"}\nout = "%s/out"\n' "$TD/in" "$TD" >>"$2"
}

# settles_yesterday JOBFILE WHEN: with the job's own grace and start_period,
# a run at WHEN ("YYYY-MM-DD HH:MM:SS", UTC) settles the day before, and a
# run an hour earlier (the run before it, for an hourly schedule) does not.
settles_yesterday() {
	local job=$1 when=$2 day prev start
	day=${when%% *}
	prev=$(date -u -d "@$(($(date -u -d "$day 00:00:00 UTC" +%s) - 86400))" +%F)
	start=$(sed -n 's/^start_period *= *"\([0-9-]*\)".*/\1/p' "$job")
	[ -n "$start" ] || { fail "no start_period in '$(rel "$job")'"; return 1; }
	csv_twin "$job" "$TD/twin.conf"
	sed -i "s/^start_period *=.*/start_period = \"$prev\"/" "$TD/twin.conf"
	: >"$TD/in/probes-$day.csv"
	prun dry run "$TD/twin.conf" --dry-run --now "$when"
	rc_is 0 || return 1
	grep -qx "would settle period $prev" "$TD/dry.out" ||
		{ fail "a run at $when UTC does not settle $prev: $(oneline "$TD/dry.out") $(oneline "$TD/dry.err")"; return 1; }
	prun before run "$TD/twin.conf" --dry-run --now "$(date -u -d "@$(($(date -u -d "$when UTC" +%s) - 3600))" '+%F %T')"
	rc_is 0 || return 1
	if grep -q "would settle" "$TD/before.out"; then
		fail "a run an hour before $when already settles: the schedule is not the first to settle $prev"
		return 1
	fi
}

# analyze_ok: systemd-analyze runs here (verifying a trivial unit is
# clean); else skips the test with its message (the caller returns 0 on false).
analyze_ok() {
	need systemd-analyze || return 1
	mkdir -p "$TD/sanity"
	printf '[Unit]\nDescription=sanity\n\n[Service]\nType=oneshot\nExecStart=/bin/true\n' \
		>"$TD/sanity/payrun-sanity.service"
	if ! systemd-analyze verify "$TD/sanity/payrun-sanity.service" >"$TD/sanity.out" 2>&1 ||
		[ -s "$TD/sanity.out" ]; then
		skip "systemd-analyze cannot verify units here: $(oneline "$TD/sanity.out" 200)"
		return 1
	fi
}

suite_setup() {
	copy_tree "$SRC" || { fail "could not copy the checkout into $(rel "$SRC")"; return 1; }
	cp -a "$SRC" "$SRC2" || { fail "could not copy $(rel "$SRC")"; return 1; }
	mk "$SRC" install install DESTDIR="$ROOT1" PREFIX=/usr
	rc_is 0 || return 1
	mk "$SRC2" install2 install PREFIX="$P" SYSCONFDIR="$P/etc"
	rc_is 0 || return 1
	cat >"$TD/table.c" <<'EOF'
#include <stdio.h>
#include "payrun/options.h"
int main(void)
{
#define S(x) ((x) ? (x) : "-")
#define X(id, kind, lname, key, field, arg, def, commands, files, help) \
	{ \
		const char *k = key, *l = lname, *d = def; \
		printf("%s\t%s\t%u\t%s\t%u\n", S(k), S(l), (unsigned) (files), S(d), (unsigned) (commands)); \
	}
	PAYRUN_OPTIONS(X)
	return 0;
}
EOF
	cc -I"$ROOT/include" -o "$TD/table" "$TD/table.c" >"$TD/table.err" 2>&1 ||
		{ fail "could not compile the option table: $(oneline "$TD/table.err")"; return 1; }
	"$TD/table" >"$W/table.tsv" || { fail "the option table program failed"; return 1; }
}

# ------------------------------------------------------------------ install

t_install_puts_every_file_where_expected() {
	local got f
	got=$(files_under "$ROOT1")
	[ "$got" = "$EXPECTED_FILES" ] ||
		{ fail "installed files differ: $(diff <(echo "$EXPECTED_FILES") <(echo "$got") | grep '^[<>]' | tr '\n' ' ')"; return 1; }
	[ "$(stat -c %a "$ROOT1/usr/bin/payrun")" = 755 ] || { fail "usr/bin/payrun is not mode 755"; return 1; }
	for f in $EXPECTED_FILES; do
		[ "$f" = /usr/bin/payrun ] && continue
		[ "$(stat -c %a "$ROOT1$f")" = 644 ] || { fail "$f is not mode 644"; return 1; }
	done
	cmp -s "$SRC/build/payrun" "$ROOT1/usr/bin/payrun" ||
		{ fail "usr/bin/payrun is not the product build (build/payrun)"; return 1; }
	# the paths are the installation's
	if grep -rlI /usr/local "$ROOT1" >"$TD/local" 2>/dev/null; then
		fail "installed files name /usr/local: $(tr '\n' ' ' <"$TD/local")"
		return 1
	fi
	grep -qx 'ExecStart=/usr/bin/payrun -q run /etc/payrun/jobs/nightly-settlement.conf' \
		"$ROOT1/usr/lib/systemd/system/payrun-nightly.service" ||
		{ fail "the service's ExecStart is not /usr/bin/payrun ... /etc/payrun/jobs/nightly-settlement.conf"; return 1; }
	grep -q ' payrun  */usr/bin/payrun -q run /etc/payrun/jobs/nightly-settlement.conf ' \
		"$ROOT1/usr/share/doc/payrun/examples/payrun.cron" ||
		{ fail "the cron file does not run /usr/bin/payrun as the payrun user"; return 1; }
	grep -q '^PATH=/usr/bin:' "$ROOT1/usr/share/doc/payrun/examples/payrun.cron" ||
		{ fail "the cron file's PATH does not start with BINDIR"; return 1; }
	same_file "$ROOT/man/payrun.1" "$ROOT1/usr/share/man/man1/payrun.1" || return 1
	same_file "$ROOT/jobs/backfill.conf" "$ROOT1/etc/payrun/jobs/backfill.conf.example"
}

t_installed_binary_runs_version() {
	"$ROOT1/usr/bin/payrun" --version >"$TD/v.out" 2>"$TD/v.err" ||
		{ fail "payrun --version failed: $(oneline "$TD/v.err")"; return 1; }
	[ "$(cat "$TD/v.out")" = "payrun $VERSION" ] ||
		{ fail "payrun --version says '$(oneline "$TD/v.out")', want 'payrun $VERSION' (no fault points)"; return 1; }
	"$ROOT1/usr/bin/payrun" settle --help | grep -q '(default /etc/payrun/payrun.conf if' ||
		{ fail "the installed binary's config file is not /etc/payrun/payrun.conf"; return 1; }
}

t_uninstall_leaves_nothing() {
	mk "$SRC" install install DESTDIR="$TD/root" PREFIX=/usr
	rc_is 0 || return 1
	[ -x "$TD/root/usr/bin/payrun" ] || { fail "nothing was installed"; return 1; }
	mk "$SRC" uninstall uninstall DESTDIR="$TD/root" PREFIX=/usr
	rc_is 0 || return 1
	nothing_left "$TD/root" "make uninstall" || return 1
	if [ -e "$TD/root/etc/payrun" ] || [ -e "$TD/root/usr/share/doc/payrun" ]; then
		fail "uninstall left payrun's own directories"
		return 1
	fi
	mk "$SRC" again uninstall DESTDIR="$TD/root" PREFIX=/usr
	rc_is 0
}

t_variables_move_each_file() {
	mk "$SRC" install install DESTDIR="$TD/root" PREFIX=/opt/pr BINDIR=/opt/bin \
		MANDIR=/opt/man DOCDIR=/opt/doc UNITDIR=/opt/units
	rc_is 0 || return 1
	local want="/etc/logrotate.d/payrun
/etc/payrun/jobs/backfill.conf.example
/etc/payrun/jobs/nightly-settlement.conf.example
/etc/payrun/jobs/rerun-example.conf.example
/etc/payrun/payrun.conf.example
/opt/bin/payrun
/opt/doc/examples/logrotate.payrun
/opt/doc/examples/payrun.cron
/opt/man/man1/payrun.1
/opt/man/man5/payrun-jobs.5
/opt/units/payrun-nightly.service
/opt/units/payrun-nightly.timer"
	[ "$(files_under "$TD/root")" = "$want" ] ||
		{ fail "installed: $(files_under "$TD/root" | tr '\n' ' ')"; return 1; }
	grep -q '^ExecStart=/opt/bin/payrun ' "$TD/root/opt/units/payrun-nightly.service" ||
		{ fail "ExecStart does not follow BINDIR"; return 1; }
	mk "$SRC" uninstall uninstall DESTDIR="$TD/root" PREFIX=/opt/pr BINDIR=/opt/bin \
		MANDIR=/opt/man DOCDIR=/opt/doc UNITDIR=/opt/units
	rc_is 0 || return 1
	nothing_left "$TD/root" "make uninstall"
}

t_operator_files_are_kept() {
	local lr=$TD/root/etc/logrotate.d/payrun job=$TD/root/etc/payrun/jobs/nightly-settlement.conf
	mk "$SRC" install install DESTDIR="$TD/root" PREFIX=/usr
	rc_is 0 || return 1
	cp "$TD/root/etc/payrun/jobs/nightly-settlement.conf.example" "$job"
	echo 'grace = "40m"' >>"$job"
	echo '# rotate daily here' >>"$lr"
	cp "$lr" "$TD/lr.edited"
	echo '# stale' >>"$TD/root/etc/payrun/payrun.conf.example"
	mk "$SRC" again install DESTDIR="$TD/root" PREFIX=/usr
	rc_is 0 || return 1
	same_file "$TD/lr.edited" "$lr" || return 1
	grep -q "kept '$lr'" "$TD/again.out" || { fail "install did not say it kept the edited logrotate snippet"; return 1; }
	same_file "$ROOT/contrib/payrun.conf" "$TD/root/etc/payrun/payrun.conf.example" || return 1
	mk "$SRC" uninstall uninstall DESTDIR="$TD/root" PREFIX=/usr
	rc_is 0 || return 1
	local left
	left=$(files_under "$TD/root" | tr '\n' ' ')
	[ "$left" = "/etc/logrotate.d/payrun /etc/payrun/jobs/nightly-settlement.conf " ] ||
		{ fail "after uninstall, want only the operator's two files, got: $left"; return 1; }
	grep -q '^grace = "40m"' "$job" || { fail "the operator's job file changed"; return 1; }
}

t_install_refuses_test_builds() {
	mk "$SRC" faults install FAULTS=1 DESTDIR="$TD/root" PREFIX=/usr
	[ "$RC" != 0 ] || { fail "make install FAULTS=1 succeeded"; return 1; }
	grep -q "installs the product only" "$TD/faults.err" || { fail "no reason given: $(oneline "$TD/faults.err")"; return 1; }
	[ ! -e "$TD/root" ] || { fail "make install FAULTS=1 installed something"; return 1; }
	# and tools/install.sh itself refuses a binary with fault points
	printf '#!/bin/sh\n# PAYRUN_FAULT\n' >"$TD/fake"
	chmod +x "$TD/fake"
	(cd "$SRC" && DESTDIR="$TD/root" BINDIR=/b MANDIR=/m DOCDIR=/d UNITDIR=/u SYSCONFDIR=/e \
		sh tools/install.sh install "$TD/fake") >"$TD/fake.out" 2>&1 &&
		{ fail "tools/install.sh installed a binary with fault points"; return 1; }
	[ ! -e "$TD/root" ] || { fail "tools/install.sh installed something"; return 1; }
}

# ------------------------------------------------------------------ man pages

t_man_pages_have_no_warnings() {
	local page
	need man || return 0
	for page in "$ROOT1/usr/share/man/man1/payrun.1" "$ROOT1/usr/share/man/man5/payrun-jobs.5"; do
		man --warnings -l "$page" >/dev/null 2>"$TD/warn" || { fail "man -l $(rel "$page") failed"; return 1; }
		[ ! -s "$TD/warn" ] || { fail "man --warnings $(rel "$page"): $(oneline "$TD/warn")"; return 1; }
		groff -man -ww -z "$page" 2>"$TD/warn"
		[ ! -s "$TD/warn" ] || { fail "groff -ww $(rel "$page"): $(oneline "$TD/warn")"; return 1; }
	done
}

t_man_documents_every_command_and_option() {
	man_check "$ROOT1/usr/share/man/man1/payrun.1"
}

# The check above fails when the page lacks an option, its entry, a
# command in its Commands: list, or an exit status (shown once by hand when
# it was written; kept as a test so that it stays so).
t_man_check_catches_omissions() {
	local page=$ROOT/man/payrun.1
	sed '/^\.BR \\-\\-now ,$/d' "$page" >"$TD/no-now.1"
	(man_check "$TD/no-now.1") && { fail "man_check passed without --now in 'payrun run'"; return 1; }
	grep -q -- "--now of 'payrun run --help' is not in the Options: of the subsection 'payrun run'" "$TD/.reason" ||
		{ fail "wrong reason for a missing --now: $(cat "$TD/.reason")"; return 1; }
	awk '/^\.BI \\-\\-jobs " n"$/ { skip = 1; next } skip && /^\.TP$/ { skip = 0 } !skip' "$page" >"$TD/no-jobs.1"
	(man_check "$TD/no-jobs.1") && { fail "man_check passed without the entry of --jobs"; return 1; }
	grep -q -- "no entry for --jobs" "$TD/.reason" || { fail "wrong reason for a missing entry: $(cat "$TD/.reason")"; return 1; }
	sed '/^\.BI \\-\\-jobs " n"$/,/^\.TP$/ s/^Commands: settle, rerun, backfill\.$/Commands: settle, rerun./' \
		"$page" >"$TD/jobs-no-backfill.1"
	(man_check "$TD/jobs-no-backfill.1") && { fail "man_check passed with --jobs not naming backfill"; return 1; }
	grep -q -- "entry of --jobs does not name 'backfill'" "$TD/.reason" ||
		{ fail "wrong reason for a missing command: $(cat "$TD/.reason")"; return 1; }
	sed 's/^4 database error; 5 the version.s directory/4 database error; the version/' "$page" >"$TD/no-5.1"
	(man_check "$TD/no-5.1") && { fail "man_check passed without export's exit status 5"; return 1; }
	grep -q -- "exit status 5 of 'payrun export --help'" "$TD/.reason" ||
		{ fail "wrong reason for a missing exit status: $(cat "$TD/.reason")"; return 1; }
	rm -f "$TD/.reason"
}

t_jobs_page_documents_every_file_key() {
	local text key files def cmds entry want used bit name readers c n=0
	text=$(section "$(render "$ROOT1/usr/share/man/man5/payrun-jobs.5")" KEYS)
	# the commands that read the config file (their --help has --config)
	readers=
	for c in $(help_commands); do
		if help_options "$c" | grep -qx -- --config; then readers=$readers$c$'\n'; fi
	done
	[ -n "$text" ] || { fail "payrun-jobs(5) has no KEYS section"; return 1; }
	while IFS=$'\t' read -r key _ files def cmds; do
		if [ "$key" = - ] || [ "$files" = 0 ]; then continue; fi
		n=$((n + 1))
		entry=$(awk -v k="$key" '
			on && /^       [^ ]/ { exit }
			index($0, "       " k) == 1 && substr($0, 8 + length(k), 1) ~ /^( |)$/ { on = 1 }
			on { print }' <<<"$text")
		[ -n "$entry" ] || { fail "payrun-jobs(5) has no entry for the key '$key'"; return 1; }
		case $files in
		1) want="Files: config." ;;
		2) want="Files: job." ;;
		3) want="Files: config and job." ;;
		esac
		grep -qF "$want" <<<"$entry" || { fail "payrun-jobs(5): '$key' does not say '$want'"; return 1; }
		if [ "$def" != - ]; then
			grep -Eq "default ${def}[;.]" <<<"$entry" ||
				{ fail "payrun-jobs(5): '$key' does not say 'default $def' (the option table's)"; return 1; }
		fi
		# a config file's value reaches each command of the table's row that
		# reads the config file (its --help has --config)
		used=$(sed -n 's/.*Used by: \([^;.]*\).*/\1/p' <<<"$entry")
		[ $((files & 1)) = 0 ] && continue
		for bit in 1:settle 2:rerun 4:backfill 8:export 16:history 32:db 64:run; do
			name=${bit#*:}
			[ $((cmds & ${bit%%:*})) = 0 ] && continue
			grep -qx "$name" <<<"$readers" || continue
			has_word "$used" "$name" ||
				{ fail "payrun-jobs(5): '$key' is used by $name (the option table), not in its 'Used by: $used'"; return 1; }
		done
	done < <(table)
	[ "$n" -gt 20 ] || fail "only $n file keys in the option table?"
}

# ------------------------------------------------------------------ examples

t_config_example_is_every_config_key() {
	local ex=$ROOT1/etc/payrun/payrun.conf.example got want
	got=$(sed -n 's/^# \([a-z_]*\) *= .*/\1/p' "$ex" | sort)
	want=$(table | awk -F'\t' '$1 != "-" && ($3 == 1 || $3 == 3) { print $1 }' | sort)
	[ "$got" = "$want" ] ||
		{ fail "payrun.conf.example's keys differ from the config keys: $(diff <(echo "$want") <(echo "$got") | grep '^[<>]' | tr '\n' ' ')"; return 1; }
	# uncommented, it parses: the run gets as far as the bad --period-length
	sed 's/^# \([a-z_]* *= \)/\1/' "$ex" >"$TD/payrun.conf"
	prun parse settle --config "$TD/payrun.conf" --period-length bogus
	rc_is 2 || return 1
	grep -q "invalid period length 'bogus'" "$TD/parse.err" ||
		{ fail "payrun.conf.example does not parse: $(oneline "$TD/parse.err")"; return 1; }
}

t_job_examples_parse() {
	local ex
	for ex in "$ROOT1"/etc/payrun/jobs/*.conf.example; do
		cp "$ex" "$TD/job.conf"
		echo 'grace = "bogus"' >>"$TD/job.conf"
		prun parse run "$TD/job.conf"
		rc_is 2 || return 1
		grep -q "invalid grace 'bogus'" "$TD/parse.err" ||
			{ fail "$(basename "$ex") does not parse: $(oneline "$TD/parse.err")"; return 1; }
	done
}

# ------------------------------------------------------------------ schedule

t_timer_first_run_settles_yesterday() {
	local timer=$ROOT1/usr/lib/systemd/system/payrun-nightly.timer job spec next secs grace
	job=$ROOT1/etc/payrun/jobs/nightly-settlement.conf.example
	need systemd-analyze || return 0
	grep -qx 'Persistent=true' "$timer" || { fail "the timer is not Persistent=true"; return 1; }
	spec=$(sed -n 's/^OnCalendar=//p' "$timer")
	if [ "$(wc -l <<<"$spec")" != 1 ] || [ -z "$spec" ]; then
		fail "want one OnCalendar= in the timer, got: $spec"
		return 1
	fi
	case $spec in *" UTC") ;; *) fail "OnCalendar=$spec is not in UTC"; return 1 ;; esac
	systemd-analyze calendar --iterations=1 --base-time='2026-11-02 00:00:00 UTC' "$spec" >"$TD/cal" 2>&1 ||
		{ fail "systemd-analyze calendar '$spec': $(oneline "$TD/cal")"; return 1; }
	next=$(sed -n 's/^ *Next elapse: [A-Za-z]* \(2026-11-02 [0-9:]*\) UTC$/\1/p' "$TD/cal")
	[ -n "$next" ] || { fail "OnCalendar=$spec: no elapse on 2026-11-02 after midnight UTC: $(oneline "$TD/cal")"; return 1; }
	secs=$(($(date -u -d "$next UTC" +%s) - $(date -u -d '2026-11-02 00:00:00 UTC' +%s)))
	grace=$(grace_s "$job") || return 1
	[ "$secs" -ge "$grace" ] ||
		{ fail "the timer's first run after midnight, $next UTC, is before the job's grace ($grace s)"; return 1; }
	settles_yesterday "$job" "$next"
}

t_cron_first_run_settles_yesterday() {
	local cron=$ROOT1/usr/share/doc/payrun/examples/payrun.cron job line min hour grace
	job=$ROOT1/etc/payrun/jobs/nightly-settlement.conf.example
	line=$(grep -E '^[0-9*]' "$cron" | grep -E '[[:space:]]run[[:space:]]+[^[:space:]]*/nightly-settlement\.conf')
	if [ "$(wc -l <<<"$line")" != 1 ] || [ -z "$line" ]; then
		fail "want one cron line for the nightly job, got: $line"
		return 1
	fi
	read -r min hour _ <<<"$line"
	[[ $min =~ ^[0-9]+$ ]] || { fail "the cron line's minute '$min' is not one number"; return 1; }
	# Debian's cron ignores CRON_TZ: the line runs at the host's local time,
	# so only an hourly line has a run at :MM UTC after every midnight UTC
	# on every host
	[ "$hour" = "*" ] || { fail "the cron line runs at hour '$hour' of the host's time, not every hour"; return 1; }
	if grep -q '^CRON_TZ=' "$cron"; then fail "the cron file sets CRON_TZ, which Debian's cron ignores"; return 1; fi
	grace=$(grace_s "$job") || return 1
	[ $((min * 60)) -ge "$grace" ] ||
		{ fail "the cron line's first run after midnight, 00:$min, is before the job's grace ($grace s)"; return 1; }
	settles_yesterday "$job" "$(printf '2026-11-02 00:%02d:00' "$min")"
}

t_units_verify_clean() {
	local u=$P/lib/systemd/system
	analyze_ok || return 0
	[ -x "$P/bin/payrun" ] || { fail "the install without DESTDIR has no $(rel "$P/bin/payrun")"; return 1; }
	grep -qx "ExecStart=$P/bin/payrun -q run $P/etc/payrun/jobs/nightly-settlement.conf" "$u/payrun-nightly.service" ||
		{ fail "ExecStart does not name the installed binary and job: $(grep ExecStart "$u/payrun-nightly.service")"; return 1; }
	# Documentation=man:... is checked with the installed pages
	MANPATH=$P/share/man systemd-analyze verify "$u/payrun-nightly.service" "$u/payrun-nightly.timer" \
		>"$TD/verify" 2>&1 || { fail "systemd-analyze verify: $(oneline "$TD/verify" 600)"; return 1; }
	[ ! -s "$TD/verify" ] || fail "systemd-analyze verify: $(oneline "$TD/verify" 600)"
}

t_logrotate_rotates_without_losing_lines() {
	local conf=$TD/logrotate.conf log=$TD/log/nightly.log
	need logrotate || return 0
	mkdir -p "$TD/log"
	sed -e "s|/var/log/payrun/|$TD/log/|" -e "s/^\(\tsu\) payrun payrun$/\1 $(id -un) $(id -gn)/" \
		"$ROOT1/etc/logrotate.d/payrun" >"$conf"
	grep -q "^$TD/log/\*.log {" "$conf" || { fail "the snippet is not for /var/log/payrun/*.log"; return 1; }
	logrotate -d -s "$TD/state" "$conf" >"$TD/debug" 2>&1 || { fail "logrotate -d: $(oneline "$TD/debug" 500)"; return 1; }
	if grep -qi 'error' "$TD/debug"; then fail "logrotate -d: $(grep -i error "$TD/debug" | head -n 2 | tr '\n' ' ')"; return 1; fi
	echo "night 1" >>"$log"
	# a run still writing, as cron's '>>' does, while the log is rotated
	exec 3>>"$log"
	logrotate -f -s "$TD/state" "$conf" >"$TD/rot1" 2>&1 || { fail "logrotate: $(oneline "$TD/rot1")"; return 1; }
	echo "night 1, late line" >&3
	exec 3>&-
	echo "night 2" >>"$log"
	[ "$(cat "$log")" = "night 2" ] || { fail "after rotation nightly.log holds: $(oneline "$log")"; return 1; }
	[ "$(cat "$log.1")" = "night 1
night 1, late line" ] || { fail "nightly.log.1 holds: $(oneline "$log.1") (a line written during rotation lost?)"; return 1; }
	logrotate -f -s "$TD/state" "$conf" >"$TD/rot2" 2>&1 || { fail "logrotate: $(oneline "$TD/rot2")"; return 1; }
	if [ ! -f "$log.2.gz" ] || [ "$(gzip -dc "$log.2.gz" | head -n 1)" != "night 1" ]; then
		fail "the second rotation did not compress the first night's log"
		return 1
	fi
	[ "$(cat "$log.1" 2>/dev/null)" = "night 2" ] || fail "nightly.log.1 is not the second night's log"
}

# ------------------------------------------------------------------ no DESTDIR

# The install without DESTDIR (suite_setup: PREFIX=$P SYSCONFDIR=$P/etc) put
# every file there, compiled the config path in, and uninstall takes it all
# away.  Last: the other tests use $P.
t_install_without_destdir() {
	local want
	want=$(sed -e "s|^/usr/|$P/|" -e "s|^/etc/|$P/etc/|" <<<"$EXPECTED_FILES" | LC_ALL=C sort)
	[ "$(find "$P" ! -type d | LC_ALL=C sort)" = "$want" ] ||
		{ fail "installed under PREFIX: $(find "$P" ! -type d | tr '\n' ' ')"; return 1; }
	printf 'no_such_key = "x"\n' >"$P/etc/payrun/payrun.conf"
	(unset PAYRUN_CONFIG; "$P/bin/payrun" settle --period-length bogus) >"$TD/conf.out" 2>&1
	rm -f "$P/etc/payrun/payrun.conf"
	grep -qF "invalid config file '$P/etc/payrun/payrun.conf'" "$TD/conf.out" ||
		{ fail "the binary does not read SYSCONFDIR/payrun/payrun.conf: $(oneline "$TD/conf.out")"; return 1; }
	mk "$SRC2" uninstall uninstall PREFIX="$P" SYSCONFDIR="$P/etc"
	rc_is 0 || return 1
	nothing_left "$P" "make uninstall without DESTDIR"
}

run_suite "$@"
