COPY payrun_staging (id, stream_id, node_id, probe_type, success, probe_timestamp,
                     error_message, response_data)
FROM STDIN WITH (FORMAT csv)
