-- Was this file (by content) loaded before?
SELECT name, rows_loaded, to_char(loaded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS"Z"')
FROM payout_backfill_files
WHERE sha256 = $1
