-- The first staged value that does not fit the probe table's columns: an id
-- outside [$1, $2] (the id column's range), a stream or node id longer than
-- $3 or $4 characters (their varchar limits; 0: none).  NULL where all fit.
SELECT (SELECT id::text FROM payrun_staging
         WHERE id < $1::numeric OR id > $2::numeric ORDER BY id LIMIT 1),
       (SELECT stream_id FROM payrun_staging
         WHERE $3::int > 0 AND length(stream_id) > $3::int LIMIT 1),
       (SELECT node_id FROM payrun_staging
         WHERE $4::int > 0 AND length(node_id) > $4::int LIMIT 1)
