-- A probe table for standalone and test installations ('payrun db migrate
-- --create-probe-table'), named by the payrun.probe_table setting of this
-- transaction (the probe_table option, schema-qualified or not).  The
-- coordinator's own table has the same columns; payrun only reads it.
DO $$
DECLARE
    parts text[] := parse_ident(current_setting('payrun.probe_table'));
    name text := array_to_string(ARRAY(SELECT quote_ident(p) FROM unnest(parts) p), '.');
BEGIN
    EXECUTE format('CREATE TABLE IF NOT EXISTS %s (
        id              bigint PRIMARY KEY,
        stream_id       text NOT NULL,
        node_id         text NOT NULL,
        probe_type      text NOT NULL,
        success         boolean,
        response_data   text,
        error_message   text,
        probe_timestamp timestamptz NOT NULL
    )', name);
END
$$;
