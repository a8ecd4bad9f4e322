-- The one read of a settlement: probe counts per (stream, node) for the
-- half-open period [$1, $2), all streams at once.  Rows the CSV path would
-- reject (an unknown probe type, a NULL success) are counted, not dropped,
-- so the caller can report them; ids are checked by the caller.
SELECT stream_id,
       node_id,
       count(*) FILTER (WHERE probe_type = 'stats_poll' AND success IS NOT NULL)
           AS total_polls,
       count(*) FILTER (WHERE probe_type = 'stats_poll' AND success)
           AS successful_polls,
       count(*) FILTER (WHERE probe_type = 'spot_check' AND NOT success)
           AS failed_spot_checks,
       count(*) FILTER (WHERE probe_type NOT IN ('stats_poll', 'spot_check'))
           AS bad_probe_type,
       count(*) FILTER (WHERE probe_type IN ('stats_poll', 'spot_check')
                          AND success IS NULL)
           AS null_success,
       count(*) AS total_rows
FROM probe_results
WHERE probe_timestamp >= $1::timestamptz
  AND probe_timestamp < $2::timestamptz
GROUP BY stream_id, node_id
