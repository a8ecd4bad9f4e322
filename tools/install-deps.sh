#!/bin/sh
# Installs the Debian packages payrun needs to build, test and benchmark,
# when they are missing.  As root it installs them (apt-get update once,
# then one apt-get install, without a terminal or questions); otherwise it
# lists what is missing and fails.  Nothing is installed when nothing is
# missing.
set -eu

# to build (libc6-dev is only recommended by gcc; binutils, whose readelf
# make check uses, comes with gcc); libisal-dev is ISA-L, the default
# inflater of gzip inputs (zlib is kept as --inflater zlib)
BUILD="gcc libc6-dev make pkg-config zlib1g-dev libisal-dev libconfuse-dev libjansson-dev
libssl-dev libpq-dev"
# make check: Check, libcsv (the tests' reference reader, and the
# libcsv_only tool of make tools and make bench),
# the server for the PostgreSQL suites, python3 (oracle and checks), GNU
# time and ps (fault and job suites), clang with its sanitizer and libFuzzer
# runtimes (ThreadSanitizer pass, fuzzing), clang-format (make format-check),
# xmllint and headless Chromium with a font (report.html is validated and
# rendered by tests/e2e/report.sh)
CHECK="check libcsv-dev postgresql python3 time procps clang libclang-rt-14-dev
clang-format libxml2-utils chromium fonts-dejavu-core"
# tests/e2e/install.sh (make install): man-db for 'man --warnings' on the
# man pages (groff-base comes with it), systemd for 'systemd-analyze
# verify' and 'calendar' on the units, logrotate to rotate with the shipped
# snippet
INSTALL="man-db systemd logrotate"
# make bench: bc (tools/bench_pg.sh), libisal-dev (ISA-L, for the
# inflate_isal tool of make tools and make bench)
BENCH="bc libisal-dev"

missing=""
for p in $BUILD $CHECK $INSTALL $BENCH; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	echo "deps: all build and test packages are installed"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing Debian packages:$missing" >&2
	echo "deps: run as root, or: apt-get install$missing" >&2
	exit 1
fi

echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q </dev/null
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing </dev/null
