-- Indexes for probe_results, applied one statement at a time with
-- CREATE INDEX CONCURRENTLY by `payrun db indexes` (no table lock).
-- When each pays off is discussed in docs/postgresql.md.

-- The coordinator's covering index: per-node lookups and index-only scans
-- of one stream's probes.
CREATE INDEX CONCURRENTLY IF NOT EXISTS probe_results_stream_node_type_ts_success
    ON probe_results (stream_id, node_id, probe_type, probe_timestamp, success);

-- Time-range reads: the settlement window, retention deletes.
CREATE INDEX CONCURRENTLY IF NOT EXISTS probe_results_ts
    ON probe_results (probe_timestamp);

-- One node's history (operator look-ups, the old per-node pattern).
CREATE INDEX CONCURRENTLY IF NOT EXISTS probe_results_node_ts
    ON probe_results (node_id, probe_timestamp);

-- Partial indexes for the two rows that carry money.
CREATE INDEX CONCURRENTLY IF NOT EXISTS probe_results_ok_polls
    ON probe_results (probe_timestamp, stream_id, node_id)
    WHERE probe_type = 'stats_poll' AND success;

CREATE INDEX CONCURRENTLY IF NOT EXISTS probe_results_failed_spots
    ON probe_results (probe_timestamp, stream_id, node_id)
    WHERE probe_type = 'spot_check' AND NOT success;
