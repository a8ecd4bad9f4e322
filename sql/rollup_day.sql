-- Day $1's daily rollups: its 24 hours' rollups summed per (stream, node).
-- Returns the groups written.
WITH ins AS (
    INSERT INTO probe_rollups_daily
        (day, stream_id, node_id, total_polls, successful_polls, failed_spot_checks,
         bad_probe_type, null_success, null_timestamp, total_rows)
    SELECT $1::timestamptz, stream_id, node_id, sum(total_polls), sum(successful_polls),
           sum(failed_spot_checks), sum(bad_probe_type), sum(null_success),
           sum(null_timestamp), sum(total_rows)
      FROM probe_rollups_hourly
     WHERE hour >= $1::timestamptz AND hour < $1::timestamptz + interval '24 hours'
     GROUP BY stream_id, node_id
    RETURNING 1
)
INSERT INTO probe_rollup_days (day, groups)
SELECT $1::timestamptz, count(*) FROM ins
RETURNING groups
