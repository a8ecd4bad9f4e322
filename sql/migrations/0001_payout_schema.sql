-- payrun schema, version 1: settlement runs, ledgers, stream totals, pools.
-- The probe table is the coordinator's: payrun only reads it, and never
-- creates it here.  (This migration once also created a
-- probe_results when none was visible; a role whose own schema comes first
-- on the search path then got an empty second table.  'payrun db migrate
-- --create-probe-table' creates one, for standalone and test
-- installations: sql/probe_table_create.sql.)

CREATE TABLE payout_runs (
    id            bigserial PRIMARY KEY,
    period_label  text NOT NULL,
    period_start  timestamptz NOT NULL,
    period_end    timestamptz NOT NULL,
    version       integer NOT NULL CHECK (version >= 1),
    status        text NOT NULL CHECK (status IN ('settled')),
    source_kind   text NOT NULL CHECK (source_kind IN ('csv', 'pg')),
    settings      jsonb NOT NULL,
    input_digest  text NOT NULL,
    counts        jsonb NOT NULL,
    totals        jsonb NOT NULL,
    timing        jsonb NOT NULL,
    started_at    timestamptz NOT NULL,
    finished_at   timestamptz NOT NULL,
    supersedes    bigint REFERENCES payout_runs (id),
    reason        text,
    payrun_version text NOT NULL,
    UNIQUE (period_start, period_end, version)
);

CREATE TABLE payout_ledger (
    run_id             bigint NOT NULL REFERENCES payout_runs (id),
    stream_id          text NOT NULL,
    node_id            text NOT NULL,
    total_polls        bigint NOT NULL CHECK (total_polls >= 0),
    successful_polls   bigint NOT NULL CHECK (successful_polls >= 0),
    failed_spot_checks bigint NOT NULL CHECK (failed_spot_checks >= 0),
    uptime_ppm         integer NOT NULL CHECK (uptime_ppm BETWEEN 0 AND 1000000),
    contribution_ppm   integer NOT NULL CHECK (contribution_ppm BETWEEN 0 AND 1000000),
    base_amount        bigint NOT NULL CHECK (base_amount >= 0),
    forfeited_amount   bigint NOT NULL CHECK (forfeited_amount >= 0),
    payout_amount      bigint NOT NULL CHECK (payout_amount >= 0),
    PRIMARY KEY (run_id, stream_id, node_id),
    CHECK (base_amount = forfeited_amount + payout_amount)
);

CREATE TABLE payout_stream_totals (
    run_id                 bigint NOT NULL REFERENCES payout_runs (id),
    stream_id              text NOT NULL,
    pool                   bigint NOT NULL CHECK (pool >= 0),
    nodes                  bigint NOT NULL CHECK (nodes >= 0),
    total_successful_polls bigint NOT NULL CHECK (total_successful_polls >= 0),
    paid                   bigint NOT NULL CHECK (paid >= 0),
    forfeited              bigint NOT NULL CHECK (forfeited >= 0),
    unallocated            bigint NOT NULL CHECK (unallocated >= 0),
    PRIMARY KEY (run_id, stream_id),
    CHECK (paid + forfeited + unallocated = pool)
);

CREATE TABLE payout_pools (
    stream_id    text NOT NULL,
    period_start timestamptz NOT NULL,
    period_end   timestamptz NOT NULL,
    pool         bigint NOT NULL CHECK (pool >= 0),
    PRIMARY KEY (stream_id, period_start, period_end)
);
