#!/bin/sh
# Installs the Debian packages payrun needs to build, test and benchmark,
# when they are missing.  As root it installs them (apt-get update first);
# otherwise it lists what is missing and fails.
set -eu

PACKAGES="gcc make pkg-config zlib1g-dev libcsv-dev libconfuse-dev check
libjansson-dev libssl-dev libpq-dev postgresql python3 time clang libclang-rt-14-dev"

missing=""
for p in $PACKAGES; do
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
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
