-- 'payrun db rollup --disable': the triggers and their functions go, the
-- rollups and the invalidation log are emptied, the state row removed.  The
-- empty tables stay: they are schema version 7.  The probe table may be
-- gone (dropped with its triggers): the caller then leaves out the DROP
-- TRIGGER statements it puts first (rollup.c).
{drop_triggers}
DROP FUNCTION IF EXISTS payrun_rollup_log();
DROP FUNCTION IF EXISTS payrun_rollup_truncated();
TRUNCATE probe_rollups_hourly, probe_rollups_daily, probe_rollup_hours, probe_rollup_days,
    probe_rollup_invalidations;
DELETE FROM payrun_rollup_state;
SELECT setval('payrun_rollup_threshold', -1);
