INSERT INTO payout_runs (period_label, period_start, period_end, version, status,
                         source_kind, settings, input_digest, counts, totals, timing,
                         started_at, finished_at, supersedes, reason, payrun_version,
                         pools_csv)
VALUES ($1, $2::timestamptz, $3::timestamptz, $4::integer, 'settled',
        $5, $6::jsonb, $7, $8::jsonb, $9::jsonb, $10::jsonb,
        $11::timestamptz, $12::timestamptz, $13::bigint, $14, $15, $16::bytea)
RETURNING id
