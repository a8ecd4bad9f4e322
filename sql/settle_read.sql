-- The one read of a settlement: probe counts per (stream, node) for the
-- half-open period [$1, $2), all streams at once.  Rows the CSV path would
-- reject (unknown probe type, NULL success) are counted in "invalid", so
-- nothing is dropped silently; ids are checked by the caller.
SELECT stream_id,
       node_id,
       count(*) FILTER (WHERE probe_type = 'stats_poll' AND success IS NOT NULL)
           AS total_polls,
       count(*) FILTER (WHERE probe_type = 'stats_poll' AND success)
           AS successful_polls,
       count(*) FILTER (WHERE probe_type = 'spot_check' AND NOT success)
           AS failed_spot_checks,
       count(*) FILTER (WHERE probe_type NOT IN ('stats_poll', 'spot_check')
                           OR success IS NULL)
           AS invalid,
       count(*) AS total_rows
FROM probe_results
WHERE probe_timestamp >= $1::timestamptz
  AND probe_timestamp < $2::timestamptz
GROUP BY stream_id, node_id
