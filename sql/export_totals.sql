SELECT stream_id, pool, nodes, total_successful_polls, paid, forfeited, unallocated
FROM payout_stream_totals
WHERE run_id = $1::bigint
