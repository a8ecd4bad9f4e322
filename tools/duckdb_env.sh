# shellcheck shell=sh disable=SC2034  # sets variables for the script that sources it
# duckdb_env.sh: sourced by tools/bench.sh and tools/bench_duckdb_check.sh
# (POSIX sh).  Makes DuckDB's Node.js client, npm's @duckdb/node-api,
# ready in a private directory, never globally: bench-data/duckdb-node-
# VERSION/node_modules, installed once with npm and reused while it loads.
#
#   duckdb_env DIR   0 when DuckDB is ready: DUCKDB_NODE_PATH is the
#                    node_modules directory to give node as NODE_PATH;
#                    1 when not: DUCKDB_WHY says why, in one line
#
# DUCKDB_NODE_API (default 1.5.6-r.1) is the package's version.  Nothing
# here fails the caller: no node, no npm, no network or a package that does
# not load are reported in DUCKDB_WHY.

DUCKDB_NODE_API=${DUCKDB_NODE_API:-1.5.6-r.1}

duckdb_env() {
	DUCKDB_NODE_PATH=
	DUCKDB_WHY=
	_dir=$1/duckdb-node-$DUCKDB_NODE_API
	if ! command -v node >/dev/null 2>&1; then
		DUCKDB_WHY="node not found (Debian packages nodejs and npm)"
		return 1
	fi
	if [ -f "$_dir/installed" ] && duckdb_env_loads "$_dir"; then
		DUCKDB_NODE_PATH=$_dir/node_modules
		return 0
	fi
	if ! command -v npm >/dev/null 2>&1; then
		DUCKDB_WHY="npm not found (Debian package npm)"
		return 1
	fi
	rm -rf "$_dir"
	mkdir -p "$_dir"
	echo "installing @duckdb/node-api@$DUCKDB_NODE_API into $_dir with npm" >&2
	# --no-save: no package.json; timeout: npm retries for minutes offline
	_rc=0
	timeout 300 npm install --prefix "$_dir" --no-save --no-package-lock --no-audit \
		--no-fund --loglevel=error "@duckdb/node-api@$DUCKDB_NODE_API" >"$_dir/npm.log" 2>&1 || _rc=$?
	if [ "$_rc" -eq 124 ]; then
		DUCKDB_WHY="npm install @duckdb/node-api@$DUCKDB_NODE_API gave no answer in 300 s"
		return 1
	elif [ "$_rc" -ne 0 ]; then
		DUCKDB_WHY="npm could not install @duckdb/node-api@$DUCKDB_NODE_API: $(sed -n 's/^npm error //p' "$_dir/npm.log" | head -n 2 | tr '\n' ' ')"
		return 1
	fi
	if ! duckdb_env_loads "$_dir"; then
		DUCKDB_WHY="@duckdb/node-api@$DUCKDB_NODE_API installed but does not load: $(tail -n 1 "$_dir/load.log")"
		return 1
	fi
	: >"$_dir/installed"
	DUCKDB_NODE_PATH=$_dir/node_modules
}

# duckdb_env_loads DIR: 0 when DuckDB, in DIR/node_modules, starts and
# answers a query (what went wrong in DIR/load.log).
duckdb_env_loads() {
	NODE_PATH=$1/node_modules node -e "
		const { DuckDBInstance } = require('@duckdb/node-api');
		DuckDBInstance.create(':memory:').then((i) => i.connect()).then((c) => c.runAndReadAll('SELECT 42'))
			.then((r) => { if (r.getRows()[0][0] !== 42) process.exit(1); })
			.catch((e) => { console.error(e.message); process.exit(1); });" >"$1/load.log" 2>&1
}
