-- Indexes for the probe table ({probe_table}, probes.h), applied one statement at a time with
-- CREATE INDEX CONCURRENTLY by `payrun db indexes` (no table lock).
-- When each pays off is discussed in docs/postgresql.md.
--
-- On a partitioned probe table each statement runs once per table of the
-- partition tree ({probe_table} and {index_prefix} being that table's):
-- {concurrently} is "CONCURRENTLY " on a plain table or a leaf partition,
-- and {only} "ONLY " on a partitioned one, whose index is then attached its
-- partitions' (migrate.c; docs/partitioning.md).  Otherwise both are
-- "CONCURRENTLY " and "".

-- The coordinator's covering index: per-node lookups and index-only scans
-- of one stream's probes.
CREATE INDEX {concurrently}IF NOT EXISTS "{index_prefix}_stream_node_type_ts_success"
    ON {only}{probe_table} (stream_id, node_id, probe_type, probe_timestamp, success);

-- Time-range reads: the settlement window, retention deletes.
CREATE INDEX {concurrently}IF NOT EXISTS "{index_prefix}_ts"
    ON {only}{probe_table} (probe_timestamp);

-- One node's history (operator look-ups, the old per-node pattern).
CREATE INDEX {concurrently}IF NOT EXISTS "{index_prefix}_node_ts"
    ON {only}{probe_table} (node_id, probe_timestamp);

-- Partial indexes for the two rows that carry money.
CREATE INDEX {concurrently}IF NOT EXISTS "{index_prefix}_ok_polls"
    ON {only}{probe_table} (probe_timestamp, stream_id, node_id)
    WHERE probe_type = 'stats_poll' AND success;

CREATE INDEX {concurrently}IF NOT EXISTS "{index_prefix}_failed_spots"
    ON {only}{probe_table} (probe_timestamp, stream_id, node_id)
    WHERE probe_type = 'spot_check' AND NOT success;
