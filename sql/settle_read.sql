-- The one read of a settlement: probe counts per (stream, node) for the
-- half-open period [$1, $2), all streams at once, from the probe table
-- ({probe_table}: probes.h).  The bounds are converted into the column's
-- meaning ({tz}: empty for timestamptz, AT TIME ZONE for a timestamp
-- without time zone), so the column is compared as stored and an index on
-- it serves, whatever the session's TimeZone.
--
-- Every row is read as a kind, in the CSV reader's order of checks: 0 an
-- unknown (or NULL) probe type, 3 a NULL success, 4 a NULL timestamp (such
-- rows belong to no period and are counted by every settle, as an export
-- holding them rejects them in every settle), 1 a valid poll, 2 a valid
-- spot check.  Ids are checked by the caller.  Per group also: the first
-- and last valid probe (epoch seconds) and which of 256 equal slices of the
-- period had one (four 64-bit masks), for the coverage checks: a probe's
-- slice is that of its whole second, as the CSV reader and the rollups'
-- seconds (sql/rollup_hour_insert.sql) count it: the slices' starts are
-- whole seconds, given as an array constant (sql/slice_starts.sql).  Every
-- expression on a row is an immutable one without text arguments, so
-- postgres_fdw sends the whole grouped query to a shard (docs/scale-out.md);
-- the first and last probe are converted to seconds after the grouping.
--
-- The rows' filter is filled in by source_pg.c: the period and the rows
-- without a timestamp, or with rollups only the hours they do not hold.
SELECT stream_id,
       node_id,
       count(*) FILTER (WHERE kind = 1) AS total_polls,
       count(*) FILTER (WHERE kind = 1 AND success) AS successful_polls,
       count(*) FILTER (WHERE kind = 2 AND NOT success) AS failed_spot_checks,
       count(*) FILTER (WHERE kind = 0) AS bad_probe_type,
       count(*) FILTER (WHERE kind = 3) AS null_success,
       count(*) FILTER (WHERE kind = 4) AS null_timestamp,
       count(*) AS total_rows,
       floor(date_part('epoch', (min(probe_timestamp) FILTER (WHERE kind IN (1, 2))){tz}
                                - timestamptz 'epoch'))::bigint
           AS first_probe,
       floor(date_part('epoch', (max(probe_timestamp) FILTER (WHERE kind IN (1, 2))){tz}
                                - timestamptz 'epoch'))::bigint
           AS last_probe,
       bit_or(1::bigint << (slice % 64)) FILTER (WHERE slice / 64 = 0) AS slices_0,
       bit_or(1::bigint << (slice % 64)) FILTER (WHERE slice / 64 = 1) AS slices_1,
       bit_or(1::bigint << (slice % 64)) FILTER (WHERE slice / 64 = 2) AS slices_2,
       bit_or(1::bigint << (slice % 64)) FILTER (WHERE slice / 64 = 3) AS slices_3
FROM (
    SELECT stream_id, node_id, success, probe_timestamp, kind,
           CASE WHEN kind IN (1, 2)
                THEN width_bucket(probe_timestamp, {slice_starts}) - 1
           END AS slice
    FROM (
        SELECT stream_id, node_id, success, probe_timestamp,
               CASE WHEN probe_type IS NULL OR probe_type NOT IN ('stats_poll', 'spot_check') THEN 0
                    WHEN success IS NULL THEN 3
                    WHEN probe_timestamp IS NULL THEN 4
                    WHEN probe_type = 'stats_poll' THEN 1
                    ELSE 2
               END AS kind
        FROM {probe_table}
        WHERE {probe_where}
    ) probes
) sliced
GROUP BY stream_id, node_id
