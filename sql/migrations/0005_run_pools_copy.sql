-- payrun schema, version 5: each run keeps the pools it used, as the
-- pools.csv its version publishes (a file's own bytes, or the rows the
-- database returned), so that 'payrun export' can rebuild that file too and
-- a rerun is computed from what was paid, not from what a file or a table
-- holds now (bytea: a file may hold any byte).  NULL: the run had no pools
-- (the default pool only).
ALTER TABLE payout_runs ADD COLUMN pools_csv bytea;
