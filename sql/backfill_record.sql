INSERT INTO payout_backfill_files (sha256, name, bytes, rows_read, rows_loaded,
                                   rows_skipped, rows_rejected)
VALUES ($1, $2, $3::bigint, $4::bigint, $5::bigint, $6::bigint, $7::bigint)
