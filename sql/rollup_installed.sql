-- Are the rollup tables there (schema version 7, 'payrun db migrate')?
SELECT to_regclass('payrun_rollup_state') IS NOT NULL
