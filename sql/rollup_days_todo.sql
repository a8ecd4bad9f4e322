-- The UTC days whose 24 hours are rolled up and not invalidated, with no
-- daily rollups yet (epoch seconds).
SELECT date_part('epoch', d)::bigint
FROM (
    SELECT date_trunc('day', hour, 'UTC') AS d
      FROM probe_rollup_hours
     WHERE hour <> '-infinity'
     GROUP BY 1
    HAVING count(*) = 24
) full_days
WHERE NOT EXISTS (SELECT 1 FROM probe_rollup_days y WHERE y.day = d)
  AND NOT EXISTS (SELECT 1 FROM probe_rollup_invalidations i
                   WHERE i.hour >= d AND i.hour < d + interval '24 hours')
ORDER BY 1
