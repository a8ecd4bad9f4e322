-- Indexes for the probe table ({probe_table}, probes.h), applied one statement at a time with
-- CREATE INDEX CONCURRENTLY by `payrun db indexes` (no table lock).
-- When each pays off is discussed in docs/postgresql.md.

-- The coordinator's covering index: per-node lookups and index-only scans
-- of one stream's probes.
CREATE INDEX CONCURRENTLY IF NOT EXISTS "{index_prefix}_stream_node_type_ts_success"
    ON {probe_table} (stream_id, node_id, probe_type, probe_timestamp, success);

-- Time-range reads: the settlement window, retention deletes.
CREATE INDEX CONCURRENTLY IF NOT EXISTS "{index_prefix}_ts"
    ON {probe_table} (probe_timestamp);

-- One node's history (operator look-ups, the old per-node pattern).
CREATE INDEX CONCURRENTLY IF NOT EXISTS "{index_prefix}_node_ts"
    ON {probe_table} (node_id, probe_timestamp);

-- Partial indexes for the two rows that carry money.
CREATE INDEX CONCURRENTLY IF NOT EXISTS "{index_prefix}_ok_polls"
    ON {probe_table} (probe_timestamp, stream_id, node_id)
    WHERE probe_type = 'stats_poll' AND success;

CREATE INDEX CONCURRENTLY IF NOT EXISTS "{index_prefix}_failed_spots"
    ON {probe_table} (probe_timestamp, stream_id, node_id)
    WHERE probe_type = 'spot_check' AND NOT success;
