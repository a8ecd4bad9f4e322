-- The run to export: the given version of the period, or its newest.
SELECT id, version, source_kind, settings::text, input_digest, counts::text,
       totals::text, timing::text,
       to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
       to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
       payrun_version, pools_csv
FROM payout_runs
WHERE period_start = $1::timestamptz
  AND period_end = $2::timestamptz
  AND status = 'settled'
  AND ($3::integer IS NULL OR version = $3::integer)
ORDER BY version DESC
LIMIT 1
