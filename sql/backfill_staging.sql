-- A staging table for one file, gone at commit.  Its types are fixed, not
-- the probe table's: ids are staged as bigint and times with their offsets
-- (timestamptz), so an id that does not fit the probe table's id column is
-- found and named (backfill_check.sql) before the insert converts them.
CREATE TEMPORARY TABLE payrun_staging (
    id              bigint,
    stream_id       text,
    node_id         text,
    probe_type      text,
    success         boolean,
    probe_timestamp timestamptz,
    error_message   text,
    response_data   text
) ON COMMIT DROP
