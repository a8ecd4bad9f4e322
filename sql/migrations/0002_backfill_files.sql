-- payrun schema, version 2: export files loaded into probe_results by
-- 'payrun backfill --into-db', so a file loaded once is never loaded again.
CREATE TABLE payout_backfill_files (
    sha256        text PRIMARY KEY,
    name          text NOT NULL,
    bytes         bigint NOT NULL CHECK (bytes >= 0),
    rows_read     bigint NOT NULL CHECK (rows_read >= 0),
    rows_loaded   bigint NOT NULL CHECK (rows_loaded >= 0),
    rows_skipped  bigint NOT NULL CHECK (rows_skipped >= 0),
    rows_rejected bigint NOT NULL CHECK (rows_rejected >= 0),
    loaded_at     timestamptz NOT NULL DEFAULT now()
);
