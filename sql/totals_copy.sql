COPY payout_stream_totals (run_id, stream_id, pool, nodes, total_successful_polls,
                           paid, forfeited, unallocated)
FROM STDIN WITH (FORMAT csv)
