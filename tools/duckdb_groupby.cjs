// duckdb_groupby.cjs: DuckDB's side of `make bench` (tools/bench.sh).
//
//   node tools/duckdb_groupby.cjs [--csv] DAY FILE.csv.gz...
//
// Runs, with DuckDB in memory on 2 threads, the GROUP BY that payrun's
// reducer computes over the same exports: per (stream_id, node_id), the
// stats polls, the successful ones and the failed spot checks among the
// probes taken in [DAY, DAY + 1 day), UTC.  DuckDB reads and inflates the
// files itself (read_csv, gzip found by the name).  Prints one line of
// totals, or with --csv the rows, sorted, as "stream_id,node_id,polls,
// successful_polls,failed_spot_checks" (tools/bench_duckdb_check.sh
// compares them with payrun's ledger.csv).  @duckdb/node-api is looked up
// through NODE_PATH (bench.sh installs it under bench-data/, never
// globally).  Exit status: 0 done, 1 a DuckDB error, 2 usage.
'use strict';

const { DuckDBInstance } = require('@duckdb/node-api');

function usage() {
	process.stderr.write('usage: node duckdb_groupby.cjs [--csv] YYYY-MM-DD FILE...\n');
	process.exit(2);
}

// A string as an SQL literal.
function literal(s) {
	return "'" + s.replace(/'/g, "''") + "'";
}

async function main() {
	const args = process.argv.slice(2);
	const csv = args[0] === '--csv';
	if (csv)
		args.shift();
	if (args.length < 2 || !/^\d{4}-\d{2}-\d{2}$/.test(args[0]))
		usage();
	const day = args[0];
	const files = args.slice(1);
	const start = new Date(day + 'T00:00:00Z');
	if (isNaN(start.getTime()))
		usage();
	const end = new Date(start.getTime() + 86400 * 1000).toISOString().slice(0, 10);

	// the export's columns, typed as COPY prints them (t/f, timestamptz)
	const columns = "{'id': 'BIGINT', 'stream_id': 'VARCHAR', 'node_id': 'VARCHAR', " +
		"'probe_type': 'VARCHAR', 'success': 'BOOLEAN', 'probe_timestamp': 'TIMESTAMPTZ', " +
		"'error_message': 'VARCHAR', 'response_data': 'VARCHAR'}";
	const sql = `
		SELECT stream_id, node_id,
		       count(*) FILTER (WHERE probe_type = 'stats_poll') AS polls,
		       count(*) FILTER (WHERE probe_type = 'stats_poll' AND success) AS successful_polls,
		       count(*) FILTER (WHERE probe_type = 'spot_check' AND NOT success) AS failed_spot_checks
		FROM read_csv([${files.map(literal).join(', ')}], header = true, delim = ',',
		              quote = '"', escape = '"', columns = ${columns})
		WHERE probe_timestamp >= TIMESTAMPTZ ${literal(day + ' 00:00:00+00')}
		  AND probe_timestamp < TIMESTAMPTZ ${literal(end + ' 00:00:00+00')}
		GROUP BY stream_id, node_id` + (csv ? '\n\t\tORDER BY stream_id, node_id' : '');

	const instance = await DuckDBInstance.create(':memory:');
	const con = await instance.connect();
	await con.run('SET threads = 2');
	await con.run("SET TimeZone = 'UTC'");
	const reader = await con.runAndReadAll(sql);
	const rows = reader.getRows();
	if (csv) {
		const out = ['stream_id,node_id,polls,successful_polls,failed_spot_checks'];
		for (const r of rows)
			out.push(r.map(String).join(','));
		process.stdout.write(out.join('\n') + '\n');
	} else {
		let polls = 0n, ok = 0n, failed = 0n;
		for (const r of rows) {
			polls += BigInt(r[2]);
			ok += BigInt(r[3]);
			failed += BigInt(r[4]);
		}
		process.stdout.write(`duckdb: ${rows.length} (stream, node) groups, ${polls} polls, ` +
			`${ok} successful, ${failed} failed spot checks\n`);
	}
	con.closeSync();
	instance.closeSync();
}

main().catch((e) => {
	process.stderr.write('duckdb_groupby: ' + (e && e.message ? e.message : String(e)) + '\n');
	process.exit(1);
});
