-- Pools of the period from payout_pools (used when no --pools file is given).
SELECT stream_id, pool
FROM payout_pools
WHERE period_start = $1::timestamptz
  AND period_end = $2::timestamptz
