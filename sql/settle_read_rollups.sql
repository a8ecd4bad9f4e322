-- The settle read with rollups, second step, in the same snapshot: the
-- columns of sql/settle_read.sql, summed per (stream, node) over the daily
-- rollups of some days, the hourly rollups of some hours and the grouped
-- probes of the rest (sql/settle_read.sql, its filter the hours neither
-- holds), as source_rollups.c splits the period and fills in the filters.
-- The rollups have no probe times: the first and last probe and the
-- slices come from the probes read here and the rolled-up hours' seconds.
SELECT stream_id, node_id,
       sum(total_polls), sum(successful_polls), sum(failed_spot_checks),
       sum(bad_probe_type), sum(null_success), sum(null_timestamp), sum(total_rows),
       min(first_probe), max(last_probe),
       bit_or(slices_0), bit_or(slices_1), bit_or(slices_2), bit_or(slices_3)
FROM (
    SELECT stream_id, node_id, total_polls, successful_polls, failed_spot_checks,
           bad_probe_type, null_success, null_timestamp, total_rows,
           NULL::bigint AS first_probe, NULL::bigint AS last_probe,
           NULL::bigint AS slices_0, NULL::bigint AS slices_1,
           NULL::bigint AS slices_2, NULL::bigint AS slices_3
      FROM probe_rollups_daily
     WHERE {daily_where}
    UNION ALL
    SELECT stream_id, node_id, total_polls, successful_polls, failed_spot_checks,
           bad_probe_type, null_success, null_timestamp, total_rows,
           NULL, NULL, NULL, NULL, NULL, NULL
      FROM probe_rollups_hourly
     WHERE {hourly_where}
    UNION ALL
    SELECT * FROM (
{settle_read}
    ) probe_groups
) parts
GROUP BY stream_id, node_id
