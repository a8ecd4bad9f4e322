-- Moves the staged probes into probe_results, skipping ids already there
-- (overlapping exports) and duplicates within the file; returns how many
-- were inserted.
WITH inserted AS (
    INSERT INTO probe_results (id, stream_id, node_id, probe_type, success,
                               probe_timestamp, error_message, response_data)
    SELECT DISTINCT ON (s.id) s.id, s.stream_id, s.node_id, s.probe_type, s.success,
           s.probe_timestamp, s.error_message, s.response_data
    FROM payrun_staging s
    WHERE NOT EXISTS (SELECT 1 FROM probe_results p WHERE p.id = s.id)
    ORDER BY s.id
    RETURNING 1
)
SELECT count(*) FROM inserted
