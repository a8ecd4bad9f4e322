# Sourced by tests and benchmarks: a private PostgreSQL cluster for one run.
#   . tests/pg/cluster.sh
#   pg_cluster_start      # sets PGHOST, PGPORT, PGUSER, PGDATABASE
#   ...
#   pg_cluster_stop
# initdb in a temporary directory, Unix socket only (no TCP listener),
# fsync off, time zone UTC.  As root the server runs as the postgres user, as
# PostgreSQL refuses to run as root.  It installs no trap: the caller owns its
# EXIT trap and calls pg_cluster_stop from it (safe after a failed or partial
# start, and when nothing was started).
#
# More clusters beside it, for what needs several servers (tests/e2e/shards.sh,
# tools/bench_shards.sh: a coordinator and its shards):
#   pg_cluster_start_extra VAR   # one more, configured the same; VAR is set to
#                                # its directory, also its socket directory
#                                # (host), port 5432
#   pg_cluster_stop_extra        # stops every extra cluster and removes it
# pg_cluster_stop stops them too.  An extra cluster is registered before it
# starts, so a failed or partial start is cleaned up as well.
# shellcheck shell=bash

# The extra clusters' directories, space-separated (mktemp's names have no
# blanks): never taken from the environment, kept if this file is sourced again.
if ! declare -F pg_cluster_stop_extra >/dev/null; then
	PG_EXTRA_DIRS=
fi

pg_cluster_bindir() {
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
		if [ -x "$d/initdb" ]; then
			echo "$d"
			return 0
		fi
	done
	command -v initdb >/dev/null 2>&1 && dirname "$(command -v initdb)" && return 0
	echo "pg_cluster: no PostgreSQL server binaries (initdb) found; install 'postgresql'" >&2
	return 1
}

# (as postgres from /: the checkout may be a directory postgres cannot
# enter, and every path given is absolute)
pg_cluster_run() {
	if [ "$(id -u)" -eq 0 ]; then
		(cd / && runuser -u postgres -- "$@")
	else
		"$@"
	fi
}

# pg_cluster_create DIR: initdb in DIR/data, configured as above, started,
# its socket in DIR (pg_cluster_start, pg_cluster_start_extra).
pg_cluster_create() {
	local dir=$1
	chmod 755 "$dir"
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres "$dir"
	fi
	if ! pg_cluster_run "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust \
		-E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1; then
		cat "$dir/initdb.log" >&2
		return 1
	fi
	cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir'
port = 5432
fsync = off
synchronous_commit = off
full_page_writes = off
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = all
max_connections = 40
timezone = 'UTC'
log_timezone = 'UTC'
CONF
	if ! pg_cluster_run "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" \
		-w -t 60 start >/dev/null; then
		cat "$dir/server.log" >&2
		return 1
	fi
}

pg_cluster_start() {
	local v
	# the host's libpq settings (service files, passwords, host, options)
	# must reach neither pg_ctl nor the cluster's clients
	for v in $(compgen -e PG); do
		case $v in PG[A-Z]*) unset "$v" ;; esac     # libpq's: PG and a letter
	done
	PG_BIN=$(pg_cluster_bindir) || return 1
	PG_CLUSTER_DIR=$(mktemp -d /tmp/payrun-cluster.XXXXXX) || return 1
	pg_cluster_create "$PG_CLUSTER_DIR" || return 1
	export PGHOST="$PG_CLUSTER_DIR" PGPORT=5432 PGUSER=postgres PGDATABASE=postgres
}

pg_cluster_start_extra() {
	local pg_extra_dir
	if [ -z "${PG_BIN:-}" ]; then
		PG_BIN=$(pg_cluster_bindir) || return 1
	fi
	pg_extra_dir=$(mktemp -d /tmp/payrun-cluster.XXXXXX) || return 1
	PG_EXTRA_DIRS="$PG_EXTRA_DIRS $pg_extra_dir"
	pg_cluster_create "$pg_extra_dir" || return 1
	printf -v "$1" '%s' "$pg_extra_dir"
}

pg_cluster_stop_extra() {
	local d
	for d in $PG_EXTRA_DIRS; do
		if [ -d "$d" ]; then
			pg_cluster_run "$PG_BIN/pg_ctl" -D "$d/data" -m immediate -w stop >/dev/null 2>&1 || true
			rm -rf "$d"
		fi
	done
	PG_EXTRA_DIRS=
}

pg_cluster_stop() {
	pg_cluster_stop_extra
	if [ -n "${PG_CLUSTER_DIR:-}" ] && [ -d "$PG_CLUSTER_DIR" ]; then
		pg_cluster_run "$PG_BIN/pg_ctl" -D "$PG_CLUSTER_DIR/data" -m immediate -w stop \
			>/dev/null 2>&1 || true
		rm -rf "$PG_CLUSTER_DIR"
	fi
	PG_CLUSTER_DIR=
}

# A fresh database for one test: pg_cluster_createdb NAME
pg_cluster_createdb() {
	PGOPTIONS="-c client_min_messages=warning" "$PG_BIN/psql" -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$1\"" -c "CREATE DATABASE \"$1\"" >/dev/null
}

# pg_cluster_bench_settings: the benchmarks' settings for the main cluster
# (sized for this 2-core, 24 GiB machine), applied by a restart.
pg_cluster_bench_settings() {
	cat >>"$PG_CLUSTER_DIR/data/postgresql.conf" <<CONF
shared_buffers = '4GB'
work_mem = '256MB'
max_parallel_workers_per_gather = 2
CONF
	pg_cluster_run "$PG_BIN/pg_ctl" -D "$PG_CLUSTER_DIR/data" -w restart >/dev/null
}
