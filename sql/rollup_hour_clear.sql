-- Rolling up hour $1 (a timestamptz, '-infinity' for the rows without a
-- timestamp), first step: its log rows as this snapshot sees them (a later
-- change logs again), its old rollups and those of its day go.  Returns the
-- state's generation, which a TRUNCATE of the probe table bumps.
WITH log AS (
    DELETE FROM probe_rollup_invalidations WHERE hour = $1::timestamptz
), hourly AS (
    DELETE FROM probe_rollups_hourly WHERE hour = $1::timestamptz
), hours AS (
    DELETE FROM probe_rollup_hours WHERE hour = $1::timestamptz
), daily AS (
    DELETE FROM probe_rollups_daily WHERE day = date_trunc('day', $1::timestamptz, 'UTC')
), days AS (
    DELETE FROM probe_rollup_days WHERE day = date_trunc('day', $1::timestamptz, 'UTC')
)
SELECT generation FROM payrun_rollup_state
