-- The first hour to roll up: that of the earliest probe (epoch seconds),
-- NULL for an empty table.
SELECT date_part('epoch', date_trunc('hour', min(probe_timestamp){tz}, 'UTC'))::bigint
FROM {probe_table}
