-- The hours a refresh rolls up, in order (epoch seconds; NULL for the rows
-- without a timestamp): those from the origin to the watermark never rolled
-- up, those invalidated, and the rows without a timestamp if never rolled up.
WITH s AS (SELECT origin, watermark FROM payrun_rollup_state)
SELECT CASE WHEN hour = '-infinity' THEN NULL ELSE date_part('epoch', hour)::bigint END
FROM (
    SELECT h AS hour
      FROM s, generate_series(s.origin, s.watermark - interval '1 hour', interval '1 hour') h
     WHERE NOT EXISTS (SELECT 1 FROM probe_rollup_hours r WHERE r.hour = h)
    UNION
    SELECT i.hour FROM probe_rollup_invalidations i, s WHERE i.hour < s.watermark
    UNION
    SELECT '-infinity'::timestamptz
     WHERE NOT EXISTS (SELECT 1 FROM probe_rollup_hours r WHERE r.hour = '-infinity')
) todo
ORDER BY hour
