SELECT stream_id, node_id, total_polls, successful_polls, failed_spot_checks,
       uptime_ppm, contribution_ppm, base_amount, forfeited_amount, payout_amount
FROM payout_ledger
WHERE run_id = $1::bigint
