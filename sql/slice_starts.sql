-- The starts of the coverage slices of a period ($1 its start, epoch
-- seconds; $2 its length in seconds; $3 the slices), as the text of an
-- array of the probe column's type ({tz} turns each into the column's
-- meaning): slice k starts at the whole second start + ceil(k * length /
-- slices), so that width_bucket() in sql/settle_read.sql puts a probe in the
-- slice of its whole second.  Computed here, once, so that the read itself
-- compares the column with constants only, which postgres_fdw sends to a
-- shard as they are.
SELECT array_agg(to_timestamp($1::bigint + (k * $2::bigint + $3::bigint - 1) / $3::bigint){tz}
                 ORDER BY k)::text
FROM generate_series(0, $3::int - 1) k
