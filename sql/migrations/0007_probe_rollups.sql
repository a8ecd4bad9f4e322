-- payrun schema, version 7: hourly rollups of the probe table, kept by
-- 'payrun db rollup' (docs/postgresql.md, "Rollups").  They stay empty
-- until 'payrun db rollup --enable' puts the invalidation triggers on the
-- probe table (sql/rollup_enable.sql) and a refresh fills them.
--
-- An hour's rollups are the settle read's counts (sql/settle_read.sql) of
-- that hour, per (stream, node), rejects included; the hour '-infinity'
-- holds the rows without a timestamp, which every settle counts.  Ids are
-- kept as they are (NULL and '' too): the settle read rejects them by
-- group, as it does the probes'.
CREATE TABLE probe_rollups_hourly (
    hour               timestamptz NOT NULL,
    stream_id          text,
    node_id            text,
    total_polls        bigint NOT NULL,
    successful_polls   bigint NOT NULL,
    failed_spot_checks bigint NOT NULL,
    bad_probe_type     bigint NOT NULL,
    null_success       bigint NOT NULL,
    null_timestamp     bigint NOT NULL,
    total_rows         bigint NOT NULL
);
CREATE INDEX probe_rollups_hourly_hour ON probe_rollups_hourly (hour);

-- A UTC day's hourly rollups summed, once its 24 hours are rolled up: a
-- day's settle reads 1/24th of the rows.  Re-rolling an hour removes its day.
CREATE TABLE probe_rollups_daily (LIKE probe_rollups_hourly);
ALTER TABLE probe_rollups_daily RENAME COLUMN hour TO day;
CREATE INDEX probe_rollups_daily_day ON probe_rollups_daily (day);

-- The hours rolled up, each with the whole seconds in which it had a valid
-- probe (bit s: a probe in [hour + s, hour + s + 1)), from which a settle
-- gets the first and last probe and the gaps exactly.
CREATE TABLE probe_rollup_hours (
    hour      timestamptz PRIMARY KEY,
    seconds   bit(3600) NOT NULL,
    groups    bigint NOT NULL,
    rows      bigint NOT NULL,
    rolled_at timestamptz NOT NULL DEFAULT now(),
    roll_ms   double precision NOT NULL
);

-- The days whose daily rollups are in probe_rollups_daily.
CREATE TABLE probe_rollup_days (
    day       timestamptz PRIMARY KEY,
    groups    bigint NOT NULL,
    rolled_at timestamptz NOT NULL DEFAULT now()
);

-- The invalidation log: hours of rolled-up time that a statement on the
-- probe table touched (inserted, updated or deleted rows in), one row per
-- statement and hour, written by the triggers in the statement's own
-- transaction.  An hour listed here is read from the probes until a refresh
-- rolls it up again and removes its rows.
CREATE TABLE probe_rollup_invalidations (
    hour      timestamptz NOT NULL,
    logged_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX probe_rollup_invalidations_hour ON probe_rollup_invalidations (hour);

-- Whether rollups are on, and of what: one row while enabled (the probe
-- table as resolved, and the zone its timestamp without time zone holds,
-- '' for timestamptz).  Hours from the origin to the watermark are rolled
-- up, or about to be: a change to one of them is logged.  The watermark
-- moves forward only under the lock the triggers take shared
-- (sql/rollup_threshold.sql).
CREATE TABLE payrun_rollup_state (
    only_row    boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    probe_table text NOT NULL,
    zone        text NOT NULL,
    origin      timestamptz,
    watermark   timestamptz,
    generation  bigint NOT NULL DEFAULT 0, -- bumped when a TRUNCATE empties the rollups
    enabled_at  timestamptz NOT NULL DEFAULT now()
);

-- The watermark as the triggers read it, in epoch seconds (-1: nothing is
-- rolled up, log nothing).  A sequence, because its value is not bound to a
-- snapshot: a writer in a REPEATABLE READ transaction that began before the
-- watermark moved still sees where it is now.
CREATE SEQUENCE payrun_rollup_threshold MINVALUE -1 START -1;
