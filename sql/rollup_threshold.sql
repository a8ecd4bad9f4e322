-- Moves the watermark to $1 (epoch seconds, never back), and sets the
-- origin to $2 if none, under the lock every trigger takes shared: it waits
-- for the writers that read the old watermark to commit, and every later
-- statement logs what it changes before $1 (the triggers read it from the
-- sequence, set at once).  Returns the watermark.
WITH locked AS (
    SELECT pg_advisory_xact_lock(hashtext('payrun.rollup'), 0)
), moved AS (
    UPDATE payrun_rollup_state
       SET watermark = greatest(watermark, to_timestamp($1::bigint)),
           origin = coalesce(origin, to_timestamp($2::bigint))
      FROM locked
    RETURNING date_part('epoch', watermark)::bigint AS w
)
SELECT setval('payrun_rollup_threshold', w) FROM moved
