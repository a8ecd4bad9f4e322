-- The newest settled version of every period of one length ($2, seconds)
-- that starts at or after $1: what 'payrun status' reads from the database.
SELECT DISTINCT ON (period_start)
       period_label, version,
       to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
       totals->>'paid', totals->>'forfeited'
FROM payout_runs
WHERE status = 'settled'
  AND period_start >= $1::timestamptz
  AND extract(epoch FROM period_end - period_start) = $2::bigint
ORDER BY period_start, version DESC
