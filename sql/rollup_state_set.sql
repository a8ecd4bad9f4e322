-- 'payrun db rollup --enable': the state row for table $1 with zone $2
-- (its timestamp without time zone's, '' for timestamptz).  Enabling again
-- for the same table and zone keeps what is rolled up.
INSERT INTO payrun_rollup_state (probe_table, zone) VALUES ($1, $2)
ON CONFLICT (only_row) DO NOTHING
RETURNING probe_table
