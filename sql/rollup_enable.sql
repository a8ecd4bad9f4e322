-- 'payrun db rollup --enable': the invalidation log's triggers on the probe
-- table (probes.h), in one transaction with the state row
-- (sql/rollup_state_set.sql), with payrun_schema the schema of payrun's
-- tables; the functions run as their owner (payrun's role), so a role that
-- writes probes needs no right on payrun's tables.
--
-- One row per statement and hour: a statement-level trigger sees the rows
-- it changed as a transition table.  Only hours before the watermark are
-- logged (later ones are not rolled up yet), and rows without a timestamp
-- as the hour '-infinity'.  The shared lock is the one a refresh takes
-- exclusively to move the watermark (sql/rollup_threshold.sql): a writer
-- that read the old watermark has committed before the hours it passes are
-- rolled up, so no change is missed.  The watermark is read from a
-- sequence, which no snapshot holds back.
CREATE OR REPLACE FUNCTION {payrun_schema}.payrun_rollup_log() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = {payrun_schema}, pg_temp
AS $payrun$
DECLARE
    t bigint;
    w timestamptz;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(hashtext('payrun.rollup'), 0);
    SELECT last_value INTO t FROM payrun_rollup_threshold;
    IF t < 0 THEN
        RETURN NULL;
    END IF;
    w := to_timestamp(t);
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO probe_rollup_invalidations (hour)
        SELECT DISTINCT coalesce(date_trunc('hour', probe_timestamp{tz}, 'UTC'), '-infinity')
          FROM payrun_new_rows
         WHERE probe_timestamp IS NULL OR probe_timestamp{tz} < w;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO probe_rollup_invalidations (hour)
        SELECT DISTINCT coalesce(date_trunc('hour', probe_timestamp{tz}, 'UTC'), '-infinity')
          FROM payrun_old_rows
         WHERE probe_timestamp IS NULL OR probe_timestamp{tz} < w;
    END IF;
    RETURN NULL;
END
$payrun$;

-- TRUNCATE has no transition table: it empties the rollups with the probes
-- and starts them over (the next refresh rolls up from the first probe).
CREATE OR REPLACE FUNCTION {payrun_schema}.payrun_rollup_truncated() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = {payrun_schema}, pg_temp
AS $payrun$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('payrun.rollup'), 0);
    DELETE FROM probe_rollups_hourly;
    DELETE FROM probe_rollups_daily;
    DELETE FROM probe_rollup_hours;
    DELETE FROM probe_rollup_days;
    DELETE FROM probe_rollup_invalidations;
    UPDATE payrun_rollup_state SET origin = NULL, watermark = NULL, generation = generation + 1;
    PERFORM setval('payrun_rollup_threshold', -1);
    RETURN NULL;
END
$payrun$;

DROP TRIGGER IF EXISTS payrun_rollup_insert ON {probe_table};
DROP TRIGGER IF EXISTS payrun_rollup_update ON {probe_table};
DROP TRIGGER IF EXISTS payrun_rollup_delete ON {probe_table};
DROP TRIGGER IF EXISTS payrun_rollup_truncate ON {probe_table};
CREATE TRIGGER payrun_rollup_insert AFTER INSERT ON {probe_table}
    REFERENCING NEW TABLE AS payrun_new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {payrun_schema}.payrun_rollup_log();
CREATE TRIGGER payrun_rollup_update AFTER UPDATE ON {probe_table}
    REFERENCING OLD TABLE AS payrun_old_rows NEW TABLE AS payrun_new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {payrun_schema}.payrun_rollup_log();
CREATE TRIGGER payrun_rollup_delete AFTER DELETE ON {probe_table}
    REFERENCING OLD TABLE AS payrun_old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {payrun_schema}.payrun_rollup_log();
CREATE TRIGGER payrun_rollup_truncate AFTER TRUNCATE ON {probe_table}
    FOR EACH STATEMENT EXECUTE FUNCTION {payrun_schema}.payrun_rollup_truncated();
