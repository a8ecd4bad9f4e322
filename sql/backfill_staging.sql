-- A staging table for one file, gone at commit.
CREATE TEMPORARY TABLE payrun_staging (LIKE probe_results INCLUDING DEFAULTS) ON COMMIT DROP
