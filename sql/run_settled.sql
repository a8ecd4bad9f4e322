-- The newest settled run of a period, if any.
SELECT id, version
FROM payout_runs
WHERE period_start = $1::timestamptz
  AND period_end = $2::timestamptz
  AND status = 'settled'
ORDER BY version DESC
LIMIT 1
