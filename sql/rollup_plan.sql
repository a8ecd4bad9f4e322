-- The settle read with rollups, first step, in its snapshot: the rolled-up
-- hours it may use for the period [$1, $2) of table $3 with zone $4 (the
-- state's), with their seconds; 'day' rows: the days wholly inside it with
-- daily rollups.  Hours and days with a change logged are left out (read
-- from the probes); so is everything when the state is of another table.
-- Epoch seconds; NULL for the rows without a timestamp.
WITH st AS (
    SELECT 1 FROM payrun_rollup_state WHERE probe_table = $3 AND zone = $4
), inv AS (
    SELECT DISTINCT hour FROM probe_rollup_invalidations
)
SELECT 'hour' AS kind,
       CASE WHEN h.hour = '-infinity' THEN NULL ELSE date_part('epoch', h.hour)::bigint END,
       h.seconds::text
  FROM probe_rollup_hours h
 WHERE EXISTS (SELECT 1 FROM st)
   AND ((h.hour >= $1::timestamptz AND h.hour + interval '1 hour' <= $2::timestamptz)
        OR h.hour = '-infinity')
   AND NOT EXISTS (SELECT 1 FROM inv WHERE inv.hour = h.hour)
UNION ALL
SELECT 'day', date_part('epoch', d.day)::bigint, NULL
  FROM probe_rollup_days d
 WHERE EXISTS (SELECT 1 FROM st)
   AND d.day >= $1::timestamptz AND d.day + interval '24 hours' <= $2::timestamptz
   AND NOT EXISTS (SELECT 1 FROM inv
                    WHERE inv.hour >= d.day AND inv.hour < d.day + interval '24 hours')
ORDER BY 1, 2
