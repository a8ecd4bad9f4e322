#!/bin/sh
# tools/install.sh install BINARY | uninstall: what 'make install' and
# 'make uninstall' do, from one list of files, so that uninstall removes
# exactly what install puts there.  The Makefile passes DESTDIR, BINDIR,
# MANDIR, DOCDIR, UNITDIR and SYSCONFDIR in the environment.
#
# The files as shipped name the default paths (/usr/local/bin,
# /etc/payrun/); install rewrites them for BINDIR and SYSCONFDIR.  Nothing
# an operator edits is ever overwritten: the config and job files are
# installed as *.example beside where the real ones go, and the logrotate
# snippet (the one file installed where it takes effect) is left alone when
# an edited copy is there, and then also kept by uninstall.
set -eu

usage() {
	echo "usage: tools/install.sh install BINARY | uninstall" >&2
	exit 2
}

[ $# -ge 1 ] || usage
action=$1
: "${DESTDIR=}" "${BINDIR:?}" "${MANDIR:?}" "${DOCDIR:?}" "${UNITDIR:?}" "${SYSCONFDIR:?}"
for d in "$BINDIR" "$MANDIR" "$DOCDIR" "$UNITDIR" "$SYSCONFDIR"; do
	case $d in
	/*) ;;
	*) echo "install: '$d' is not an absolute path" >&2; exit 2 ;;
	esac
done

# files: one line per installed file: KIND SOURCE DESTINATION, where KIND is
# bin (the program), text (rewritten for the paths) or conf (text, kept
# when edited).  Sources are relative to the checkout; destinations exclude
# DESTDIR.
files() {
	echo "bin   BINARY                            $BINDIR/payrun"
	echo "text  man/payrun.1                      $MANDIR/man1/payrun.1"
	echo "text  man/payrun-jobs.5                 $MANDIR/man5/payrun-jobs.5"
	echo "text  contrib/payrun.conf               $SYSCONFDIR/payrun/payrun.conf.example"
	for j in nightly-settlement backfill rerun-example; do
		echo "text  jobs/$j.conf $SYSCONFDIR/payrun/jobs/$j.conf.example"
	done
	echo "text  cron/payrun.cron                  $DOCDIR/examples/payrun.cron"
	echo "text  contrib/logrotate/payrun          $DOCDIR/examples/logrotate.payrun"
	echo "conf  contrib/logrotate/payrun          $SYSCONFDIR/logrotate.d/payrun"
	echo "text  contrib/systemd/payrun-nightly.service $UNITDIR/payrun-nightly.service"
	echo "text  contrib/systemd/payrun-nightly.timer   $UNITDIR/payrun-nightly.timer"
}

# The directories that are payrun's own, removed by uninstall when empty
# (deepest first); the others (bin, man1, the unit directory, ...) are
# shared and stay.
own_dirs() {
	echo "$SYSCONFDIR/payrun/jobs"
	echo "$SYSCONFDIR/payrun"
	echo "$DOCDIR/examples"
	echo "$DOCDIR"
}

# esc TEXT: TEXT for the right-hand side of a sed s|||.
esc() {
	printf '%s' "$1" | sed 's/[&|\\]/\\&/g'
}

# rewrite SOURCE: the file with the installation's paths.
rewrite() {
	sed -e "s|/usr/local/bin|$(esc "$BINDIR")|g" \
	    -e "s|/etc/payrun/|$(esc "$SYSCONFDIR")/payrun/|g" "$1"
}

# put MODE DEST: DEST.new, written by the caller, becomes DEST atomically.
put() {
	chmod "$1" "$2.new"
	mv -f "$2.new" "$2"
}

do_install() {
	binary=$1
	[ -x "$binary" ] || { echo "install: '$binary' is not an executable (make payrun)" >&2; exit 2; }
	if grep -q PAYRUN_FAULT "$binary"; then
		echo "install: '$binary' has fault points (a test build): not installed" >&2
		exit 2
	fi
	files | while read -r kind src dest; do
		target=$DESTDIR$dest
		install -d "$(dirname "$target")"
		case $kind in
		bin)
			echo "install $binary $target"
			cp "$binary" "$target.new"
			put 755 "$target"
			;;
		text)
			echo "install $src $target"
			rewrite "$src" >"$target.new"
			put 644 "$target"
			;;
		conf)
			if [ -e "$target" ] && ! rewrite "$src" | cmp -s - "$target"; then
				echo "install: kept '$target', which differs from the shipped one" \
				     "($DOCDIR/examples/logrotate.payrun)"
			else
				echo "install $src $target"
				rewrite "$src" >"$target.new"
				put 644 "$target"
			fi
			;;
		esac
	done
}

do_uninstall() {
	files | while read -r kind src dest; do
		target=$DESTDIR$dest
		[ -e "$target" ] || [ -L "$target" ] || continue
		if [ "$kind" = conf ] && ! rewrite "$src" | cmp -s - "$target"; then
			echo "uninstall: kept '$target', which was edited"
			continue
		fi
		echo "rm $target"
		rm -f "$target"
	done
	own_dirs | while read -r d; do
		[ -d "$DESTDIR$d" ] || continue
		if rmdir "$DESTDIR$d" 2>/dev/null; then
			echo "rmdir $DESTDIR$d"
		else
			echo "uninstall: kept '$DESTDIR$d', which is not empty"
		fi
	done
}

case $action in
install)
	[ $# -eq 2 ] || usage
	do_install "$2"
	;;
uninstall)
	[ $# -eq 1 ] || usage
	do_uninstall
	;;
*) usage ;;
esac
