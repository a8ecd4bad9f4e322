-- Moves the watermark to $1 (epoch seconds, never back), and sets the
-- origin to $2 if none, under the lock every trigger takes shared: it waits
-- for the writers that read the old watermark to commit, and every later
-- statement logs what it changes before $1.  Returns the watermark.
WITH locked AS (
    SELECT pg_advisory_xact_lock(hashtext('payrun.rollup'), 0)
)
UPDATE payrun_rollup_state
   SET watermark = greatest(watermark, to_timestamp($1::bigint)),
       origin = coalesce(origin, to_timestamp($2::bigint))
  FROM locked
RETURNING date_part('epoch', watermark)::bigint
