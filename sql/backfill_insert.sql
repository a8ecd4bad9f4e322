-- Moves the staged probes into the probe table ({probe_table}: probes.h),
-- skipping ids already there (overlapping exports) and duplicates within
-- the file; the times go in with the column's meaning ({tz}: as timestamptz,
-- or converted to the local time of the zone a timestamp without time zone
-- holds).  Returns how many were inserted.
WITH inserted AS (
    INSERT INTO {probe_table} (id, stream_id, node_id, probe_type, success,
                               probe_timestamp, error_message, response_data)
    SELECT DISTINCT ON (s.id) s.id, s.stream_id, s.node_id, s.probe_type, s.success,
           s.probe_timestamp{tz}, s.error_message, s.response_data
    FROM payrun_staging s
    WHERE NOT EXISTS (SELECT 1 FROM {probe_table} p WHERE p.id = s.id)
    ORDER BY s.id
    RETURNING 1
)
SELECT count(*) FROM inserted
