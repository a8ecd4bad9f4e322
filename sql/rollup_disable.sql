-- 'payrun db rollup --disable': the triggers (on the probe table and on any
-- of its partitions) and their functions go, the rollups and the
-- invalidation log are emptied, the state row removed.  The empty tables
-- stay: they are schema version 7.
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN
        SELECT g.tgrelid::regclass AS rel, g.tgname
          FROM pg_trigger g
         WHERE g.tgfoid IN (SELECT p.oid FROM pg_proc p
                             WHERE p.proname IN ('payrun_rollup_log', 'payrun_rollup_truncated')
                               AND p.pronamespace = (SELECT relnamespace FROM pg_class
                                                      WHERE oid = 'payrun_rollup_state'::regclass))
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', t.tgname, t.rel);
    END LOOP;
END
$$;
DROP FUNCTION IF EXISTS payrun_rollup_log();
DROP FUNCTION IF EXISTS payrun_rollup_truncated();
TRUNCATE probe_rollups_hourly, probe_rollups_daily, probe_rollup_hours, probe_rollup_days,
    probe_rollup_invalidations;
DELETE FROM payrun_rollup_state;
SELECT setval('payrun_rollup_threshold', -1);
