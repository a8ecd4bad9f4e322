-- Rolling up hour $3 (over [$1, $2); the rows without a timestamp for the
-- hour '-infinity'), second step, in one pass over its probes: the settle
-- read's own counts per (stream, node) (sql/settle_read.sql, put below, over
-- the hour's rows), so that a settle that reads them gets what it would
-- have read from the probes; then the whole seconds in which the hour had
-- a valid probe (bit s for hour + s), and its groups and rows.
WITH hour_probes AS MATERIALIZED (
    SELECT stream_id, node_id, probe_type, success, probe_timestamp
      FROM {probe_table}
     WHERE {hour_where}
), hour_groups AS (
    INSERT INTO probe_rollups_hourly
        (hour, stream_id, node_id, total_polls, successful_polls, failed_spot_checks,
         bad_probe_type, null_success, null_timestamp, total_rows)
    SELECT $3::timestamptz, stream_id, node_id, total_polls, successful_polls,
           failed_spot_checks, bad_probe_type, null_success, null_timestamp, total_rows
    FROM (
{settle_read}
    ) g
    RETURNING total_rows
)
INSERT INTO probe_rollup_hours (hour, seconds, groups, rows, roll_ms)
SELECT $3::timestamptz,
       coalesce((SELECT bit_or(set_bit(repeat('0', 3600)::bit(3600), s, 1))
                   FROM (SELECT DISTINCT floor(date_part('epoch', probe_timestamp{tz}
                                                         - $1::timestamptz))::int AS s
                           FROM hour_probes
                          WHERE probe_type IN ('stats_poll', 'spot_check')
                            AND success IS NOT NULL
                            AND probe_timestamp >= $1::timestamptz{tz}
                            AND probe_timestamp < $2::timestamptz{tz}) secs),
                repeat('0', 3600)::bit(3600)),
       (SELECT count(*) FROM hour_groups),
       (SELECT coalesce(sum(total_rows), 0) FROM hour_groups),
       0
